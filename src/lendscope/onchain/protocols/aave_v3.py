"""Aave v3 family (Aave v3 markets, SparkLend and other v3 forks): reserve debt x AaveOracle.

Debt per reserve is ``AaveProtocolDataProvider.getReserveData(asset)``'s totalStableDebt +
totalVariableDebt, which the data provider reads as the debt tokens' ``totalSupply()``
(scaled supply x the normalized debt index at the block, so interest accrues to the block).
Price: ``AaveOracle.getAssetPrice(asset)`` in ``BASE_CURRENCY_UNIT`` (USD, 8 decimals).
Registry addresses: ``pool``, ``data_provider``, ``oracle``. Config: ``exclude_assets``
(address -> reason) for debt counted elsewhere (GHO is counted once, under GHO).
"""

from __future__ import annotations

from dataclasses import dataclass

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import MarketRow, Snapshot
from lendscope.onchain.registry import Deployment

VERSION = "1"

RESERVE_DATA_V3 = ("uint256",) * 12  # unbacked, accruedToTreasury, totalAToken, stable, variable..
RESERVE_DATA_V2 = ("uint256",) * 10  # availableLiquidity, stable, variable, ...
CONFIG_DATA = ("uint256",) * 5 + ("bool",) * 5


@dataclass(frozen=True)
class Layout:
    """Where a version's data provider puts the debt fields, and how prices are quoted."""

    reserve_data: tuple[str, ...]
    stable_at: int
    variable_at: int
    base_unit_call: bool  # oracle has BASE_CURRENCY_UNIT() (v3); v2 quotes in ETH wei


V3 = Layout(RESERVE_DATA_V3, 3, 4, True)
V2 = Layout(RESERVE_DATA_V2, 1, 2, False)


def read_reserves(reader: Reader, dep: Deployment, block: int, layout: Layout) -> Snapshot:
    """Two rounds: reserve list (+ oracle unit), then debt, decimals, tokens, price per reserve."""
    dp, oracle = dep.addr("data_provider"), dep.addr("oracle")
    dpl, orl = dep.label("data_provider"), dep.label("oracle")
    first = [Call(dp, "getAllReservesTokens()", out=("(string,address)[]",), label=dpl)]
    if layout.base_unit_call:
        first.append(Call(oracle, "BASE_CURRENCY_UNIT()", label=orl))
    else:  # v2 on Ethereum quotes in ETH: convert with a Chainlink ETH/USD feed
        first.append(Call(dep.addr("eth_usd_feed"), "latestAnswer()", out=("int256",)))
    got = reader.read(block, first)
    if got[0] is None:
        raise RuntimeError(f"{dep.id}: getAllReservesTokens() failed at block {block}")
    tokens = [(str(sym), addr) for sym, addr in got[0][0]]
    if layout.base_unit_call:
        unit, mult, price_src = int(got[1][0]) if got[1] else 10**8, 1, f"{orl}.getAssetPrice"
    else:
        eth_usd = int(got[1][0]) if got[1] else None
        unit, mult = 10**18 * 10**8, eth_usd
        price_src = f"{orl}.getAssetPrice (ETH) x {dep.addr('eth_usd_feed')}.latestAnswer"
    calls = []
    for _, a in tokens:
        calls += [
            Call(dp, "getReserveData(address)", (a,), layout.reserve_data, dpl),
            Call(dp, "getReserveConfigurationData(address)", (a,), CONFIG_DATA, dpl),
            Call(dp, "getReserveTokensAddresses(address)", (a,), ("address",) * 3, dpl),
            Call(oracle, "getAssetPrice(address)", (a,), label=orl),
        ]
    res = reader.read(block, calls)
    exclude = {k.lower(): v for k, v in dep.config.get("exclude_assets", {}).items()}
    rows = []
    for i, (sym, a) in enumerate(tokens):
        data, conf, toks, price = res[4 * i : 4 * i + 4]
        if data is None or conf is None:
            raise RuntimeError(f"{dep.id}: getReserveData({a}) failed at block {block}")
        debt = int(data[layout.stable_at]) + int(data[layout.variable_at])
        p = int(price[0]) * mult if price and price[0] and mult else None
        reason = exclude.get(a.lower())
        rows.append(
            MarketRow(
                market=a.lower(),
                asset=a.lower(),
                symbol=sym,
                decimals=int(conf[0]),
                debt_raw=debt,
                price_raw=p,
                price_unit=unit,
                contract=(toks[2] if toks else a).lower(),
                call=f"{dpl}.getReserveData(asset): totalStableDebt+totalVariableDebt",
                price_source=price_src,
                counted=reason is None,
                note=reason or "",
            )
        )
    return Snapshot(
        dep,
        block,
        VERSION,
        dep.addr("pool"),
        f"sum over reserves of debt token totalSupply() via {dpl}.getReserveData x {orl} price",
        price_src,
        rows,
    )


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every reserve's debt and oracle price at ``block``."""
    return read_reserves(reader, dep, block, V3)


def user_reserves(
    reader: Reader, dep: Deployment, block: int, users: list[str]
) -> dict[str, dict[str, tuple[int, int]]]:
    """``{user: {asset: (aToken balance, debt)}}`` via ``getUserReserveData`` (two rounds)."""
    dp = dep.addr("data_provider")
    (lst,) = reader.read(block, [Call(dp, "getAllReservesTokens()", out=("(string,address)[]",))])
    assets = [a.lower() for _, a in (lst[0] if lst else [])]
    calls = [
        Call(
            dp, "getUserReserveData(address,address)", (a, u), ("uint256",) * 7 + ("uint40", "bool")
        )
        for u in users
        for a in assets
    ]
    res = reader.read(block, calls)
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for k, r in enumerate(res):
        if r is None:
            continue
        u, a = users[k // len(assets)], assets[k % len(assets)]
        if r[0] or r[1] or r[2]:
            out.setdefault(u.lower(), {})[a] = (int(r[0]), int(r[1]) + int(r[2]))
    return out

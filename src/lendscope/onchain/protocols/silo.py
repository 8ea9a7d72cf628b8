"""Silo v2: silos from each SiloFactory's ``NewSilo`` logs, debt = ``Silo.getDebtAssets()``.

Sources (silo-finance/silo-contracts-v2): ``SiloFactory.createSilo`` emits ``NewSilo(address
indexed implementation, address indexed token0, address indexed token1, address silo0, address
silo1, address siloConfig)`` (silo-core/contracts/SiloFactory.sol); each of the pair's two silos
lends one token (silo0 lends token0). ``Silo.getDebtAssets()`` (silo-core/contracts/lib/Views.sol)
is the total debt with interest accrued to the block by the silo's interest rate model.

A factory upgrade leaves the older factory's silos live: each factory is its own registry
entry (address ``factory``, log scans from ``start_block``, ``log_chunk`` as for Morpho Blue), so
an entry is "not deployed" only before its own factory exists. Price: the registry's USD
``price_oracle`` (AaveOracle-style ``getAssetPrice``); a silo's own solvency oracle quotes in its
pair's token, not USD. Config ``exclude_silos`` (silo -> reason) shows a silo but leaves it out
of the total (bad debt unlikely to be repaid). Rounds: the log scan, then one batch of debt,
decimals, symbol and price per silo.
"""

from __future__ import annotations

from eth_abi import decode
from eth_utils import keccak

from lendscope.chain import get_logs
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import MarketRow, Snapshot, symbol_of
from lendscope.onchain.registry import Deployment

VERSION = "1"
NEW_SILO = "0x" + keccak(text="NewSilo(address,address,address,address,address,address)").hex()


def discover(reader: Reader, dep: Deployment, block: int) -> dict[str, tuple[str, str]]:
    """``{silo: (token, siloConfig)}`` for every silo the factory created up to ``block``."""
    start = int(dep.config.get("start_block", 0))
    chunk = int(dep.config.get("log_chunk", 0) or 0)
    logs = get_logs(
        reader.client, dep.addr("factory"), [NEW_SILO], start, block, initial_range=chunk
    )
    out: dict[str, tuple[str, str]] = {}
    for log in logs:
        t0, t1 = ("0x" + t[-40:].lower() for t in log["topics"][2:4])
        s0, s1, cfg = (
            a.lower()
            for a in decode(["address"] * 3, bytes.fromhex(log["data"].removeprefix("0x")))
        )
        out[s0], out[s1] = (t0, cfg), (t1, cfg)
    return out


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every silo's debt with interest, valued with the USD oracle's price of its token."""
    silos = discover(reader, dep, block)
    oracle, orl = dep.addr("price_oracle"), dep.label("price_oracle")
    calls = [Call(oracle, "BASE_CURRENCY_UNIT()", label=orl)]
    for s, (token, _cfg) in silos.items():
        calls += [
            Call(s, "getDebtAssets()", label="Silo"),
            Call(token, "decimals()", out=("uint8",)),
            Call(token, "symbol()", out=("string",)),
            Call(oracle, "getAssetPrice(address)", (token,), label=orl),
        ]
    res = reader.read(block, calls)
    unit = int(res[0][0]) if res[0] else 10**8
    skip = {k.lower(): v for k, v in dep.config.get("exclude_silos", {}).items()}
    rows = []
    for i, (s, (token, _cfg)) in enumerate(silos.items()):
        debt, dec, sym, price = res[1 + 4 * i : 5 + 4 * i]
        if debt is None or dec is None:
            raise RuntimeError(f"{dep.id}: Silo {s} views failed at block {block}")
        p = int(price[0]) if price and price[0] else None
        why = skip.get(s) or ("" if p else "token has no USD oracle price")
        rows.append(
            MarketRow(
                market=s,
                asset=token,
                symbol=symbol_of(sym),
                decimals=int(dec[0]),
                debt_raw=int(debt[0]),
                price_raw=p,
                price_unit=unit,
                contract=s,
                call="Silo.getDebtAssets()",
                price_source=f"{orl}.getAssetPrice(token)",
                counted=p is not None and s not in skip,
                note=why,
            )
        )
    return Snapshot(
        dep,
        block,
        VERSION,
        dep.addr("factory"),
        "sum over NewSilo silos of Silo.getDebtAssets() x USD price of the silo's token",
        f"{orl}.getAssetPrice(token)",
        rows,
    )

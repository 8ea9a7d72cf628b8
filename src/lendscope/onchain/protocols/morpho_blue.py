"""Morpho Blue: markets from ``CreateMarket`` logs, debt = ``market(id).totalBorrowAssets``.

``totalBorrowAssets`` is the stored value at the market's last accrual (as DefiLlama reads it);
interest since then is not added. Morpho's own oracles price collateral in loan-token units, so
the loan token's USD price comes from the USD oracle named ``price_oracle`` in the registry (an
AaveOracle-style ``getAssetPrice``); markets whose loan token it cannot price are left out, as
are all markets of a deployment without ``price_oracle`` (a chain with no such USD oracle).
Config: ``start_block`` (Morpho's deployment block), ``log_chunk`` (blocks asked for in the
first eth_getLogs, 0 = the whole range; :func:`lendscope.chain.get_logs` halves the range when
the node says a query is too big and doubles it after each success).
"""

from __future__ import annotations

from eth_abi import decode
from eth_utils import keccak

from lendscope.chain import get_logs
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import MarketRow, Snapshot, symbol_of
from lendscope.onchain.registry import Deployment

VERSION = "1"
CREATE_MARKET = (
    "0x" + keccak(text="CreateMarket(bytes32,(address,address,address,address,uint256))").hex()
)
PARAMS = ("(address,address,address,address,uint256)",)


def read_logs(reader: Reader, dep: Deployment, topic: str, block: int) -> list[dict]:
    """Morpho's logs with ``topic`` from ``start_block`` to ``block``, in adaptive ranges."""
    start = int(dep.config.get("start_block", 0))
    chunk = int(dep.config.get("log_chunk", 0) or 0)
    return get_logs(reader.client, dep.addr("morpho"), [topic], start, block, initial_range=chunk)


def discover(reader: Reader, dep: Deployment, block: int) -> dict[str, tuple]:
    """``{market id: (loanToken, collateralToken, oracle, irm, lltv)}`` created up to ``block``."""
    out: dict[str, tuple] = {}
    for log in read_logs(reader, dep, CREATE_MARKET, block):
        (params,) = decode(PARAMS, bytes.fromhex(log["data"].removeprefix("0x")))
        out[log["topics"][1].lower()] = tuple(
            p.lower() if isinstance(p, str) else p for p in params
        )
    return out


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every market's total borrow assets, valued with the USD oracle's loan-token price."""
    markets = discover(reader, dep, block)
    morpho = dep.addr("morpho")
    priced = "price_oracle" in dep.addresses  # else no USD oracle on the chain: all unpriced
    oracle = dep.addr("price_oracle") if priced else ""
    orl = dep.label("price_oracle") if priced else ""
    src = f"{orl}.getAssetPrice(loanToken)" if priced else "none: no USD oracle on this chain"
    calls = [Call(oracle, "BASE_CURRENCY_UNIT()", label=orl)] if priced else []
    for mid, (loan, *_rest) in markets.items():
        calls += [
            Call(morpho, "market(bytes32)", (bytes.fromhex(mid[2:]),), ("uint128",) * 6, "Morpho"),
            Call(loan, "decimals()", out=("uint8",)),
            Call(loan, "symbol()", out=("string",)),
        ]
        if priced:
            calls.append(Call(oracle, "getAssetPrice(address)", (loan,), label=orl))
    res = reader.read(block, calls) if calls else []
    head, step = (1, 4) if priced else (0, 3)
    unit = int(res[0][0]) if priced and res[0] else 10**8
    rows = []
    for i, (mid, (loan, coll, _o, _irm, lltv)) in enumerate(markets.items()):
        mk, dec, sym = res[head + step * i : head + step * i + 3]
        price = res[head + step * i + 3] if priced else None
        if mk is None or dec is None:
            raise RuntimeError(f"{dep.id}: market({mid}) failed at block {block}")
        p = int(price[0]) if price and price[0] else None
        rows.append(
            MarketRow(
                market=mid,
                asset=loan,
                symbol=symbol_of(sym),
                decimals=int(dec[0]),
                debt_raw=int(mk[2]),
                price_raw=p,
                price_unit=unit,
                contract=morpho.lower(),
                call="Morpho.market(id).totalBorrowAssets",
                price_source=src,
                note="" if p else "loan token has no USD oracle price" if priced else src,
                counted=p is not None,
            )
        )
        del coll, lltv
    return Snapshot(
        dep,
        block,
        VERSION,
        morpho.lower(),
        "sum over CreateMarket markets of Morpho.market(id).totalBorrowAssets x USD price",
        src,
        rows,
    )


def borrowers(reader: Reader, dep: Deployment, block: int) -> dict[str, set[str]]:
    """``{market id: {borrower}}`` from ``Borrow`` logs up to ``block`` (for positions)."""
    topic = "0x" + keccak(text="Borrow(bytes32,address,address,address,uint256,uint256)").hex()
    out: dict[str, set[str]] = {}
    for log in read_logs(reader, dep, topic, block):
        out.setdefault(log["topics"][1].lower(), set()).add("0x" + log["topics"][2][-40:].lower())
    return out

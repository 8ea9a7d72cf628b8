"""crvUSD: debt per controller = ``Controller.total_debt()`` (initial debt x rate multiplier).

Controllers come from ``ControllerFactory.controllers(i)`` for i < ``n_collaterals()``, asked
speculatively up to ``max_markets`` in the first round so a snapshot stays two rounds. Price:
the crvUSD ``PriceAggregator.price()`` (18 decimals) when the registry names one, else the peg.
"""

from __future__ import annotations

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import PEG, MarketRow, Snapshot
from lendscope.onchain.registry import Deployment

VERSION = "1"


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Round 1: count, controllers, price; round 2: each controller's debt and collateral."""
    f = dep.addr("factory")
    k = int(dep.config.get("max_markets", 32))
    first = [Call(f, "n_collaterals()")]
    first += [Call(f, "controllers(uint256)", (i,), ("address",)) for i in range(k)]
    agg = dep.addresses.get("price_aggregator")
    if agg:
        first.append(Call(agg.address, "price()"))
    r1 = reader.read(block, first)
    n = int(r1[0][0])
    if n > k:
        raise RuntimeError(f"{dep.id}: {n} controllers > max_markets {k}; raise it in the registry")
    ctrls = [r1[1 + i][0].lower() for i in range(n)]
    price, unit, src = 1, 1, PEG
    if agg and r1[-1]:
        price, unit, src = int(r1[-1][0]), 10**18, "PriceAggregator.price()"
    calls = []
    for a in ctrls:
        calls += [Call(a, "total_debt()"), Call(a, "collateral_token()", out=("address",))]
    r2 = reader.read(block, calls)
    coin = dep.addr("coin").lower()
    rows = [
        MarketRow(
            a,
            coin,
            "crvUSD",
            18,
            int(r2[2 * i][0]),
            price,
            unit,
            a,
            "Controller.total_debt()",
            src,
            note=f"collateral {r2[2 * i + 1][0].lower()}" if r2[2 * i + 1] else "",
        )
        for i, a in enumerate(ctrls)
    ]
    return Snapshot(
        dep, block, VERSION, f.lower(), "sum over controllers of Controller.total_debt()", src, rows
    )

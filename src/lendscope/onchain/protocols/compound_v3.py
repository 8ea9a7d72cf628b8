"""Compound v3 (Comet): debt = ``Comet.totalBorrow()`` of the base token, priced by the Comet.

``totalBorrow()`` applies the borrow index accrued to the block. Price: ``Comet.getPrice(
baseTokenPriceFeed())`` (8 decimals). Comets quoted in ETH (cWETHv3) set ``price_quote = "ETH"``
and name a Chainlink ``eth_usd_feed``. Registry addresses: one ``comet_<name>`` per market.
"""

from __future__ import annotations

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import MarketRow, Snapshot, symbol_of
from lendscope.onchain.registry import Deployment

VERSION = "1"


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Round 1: base token, feed, totalBorrow, decimals; round 2: price and symbol."""
    comets = [k for k in dep.addresses if k.startswith("comet")]
    first = []
    for k in comets:
        c = dep.addr(k)
        first += [
            Call(c, "baseToken()", out=("address",)),
            Call(c, "baseTokenPriceFeed()", out=("address",)),
            Call(c, "totalBorrow()"),
            Call(c, "decimals()", out=("uint8",)),
        ]
    r1 = reader.read(block, first)
    quotes = dep.config.get("price_quote", {})
    feed = dep.addresses.get("eth_usd_feed")
    second = []
    for i, k in enumerate(comets):
        base, pfeed = r1[4 * i][0], r1[4 * i + 1][0]
        second += [
            Call(dep.addr(k), "getPrice(address)", (pfeed,)),
            Call(base, "symbol()", out=("string",)),
        ]
    if feed:
        second.append(Call(feed.address, "latestAnswer()", out=("int256",)))
    r2 = reader.read(block, second)
    eth_usd = int(r2[-1][0]) if feed and r2[-1] else None
    rows = []
    for i, k in enumerate(comets):
        base, _, debt, dec = (x[0] if x else None for x in r1[4 * i : 4 * i + 4])
        price = int(r2[2 * i][0]) if r2[2 * i] else None
        in_eth = quotes.get(k) == "ETH"
        unit = 10**8 * (10**8 if in_eth else 1)
        if in_eth:
            price = price * eth_usd if price is not None and eth_usd else None
        src = f"{dep.label(k)}.getPrice(baseTokenPriceFeed)" + (" x ETH/USD" if in_eth else "")
        rows.append(
            MarketRow(
                market=dep.addr(k),
                asset=base.lower(),
                symbol=symbol_of(r2[2 * i + 1]),
                decimals=int(dec),
                debt_raw=int(debt),
                price_raw=price,
                price_unit=unit,
                contract=dep.addr(k),
                call=f"{dep.label(k)}.totalBorrow()",
                price_source=src,
            )
        )
    return Snapshot(
        dep, block, VERSION, dep.addr(comets[0]), "sum over comets of Comet.totalBorrow() x "
        "Comet.getPrice(baseTokenPriceFeed)", "Comet.getPrice(baseTokenPriceFeed)", rows,
    )  # fmt: skip

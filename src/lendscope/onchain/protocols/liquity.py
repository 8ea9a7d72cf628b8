"""Liquity (v1 and forks): debt = ``TroveManager.getEntireSystemDebt()``.

Active + default pool debt, including v1's 200 LUSD gas-compensation reserve per trove. The
coin is valued at its 1 USD peg (Liquity's ``PriceFeed`` prices the collateral, not LUSD).
"""

from __future__ import annotations

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import PEG, MarketRow, Snapshot
from lendscope.onchain.registry import Deployment

VERSION = "1"


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """One round: system debt."""
    tm = dep.addr("trove_manager")
    (debt,) = reader.read(block, [Call(tm, "getEntireSystemDebt()")])
    if debt is None:
        raise RuntimeError(f"{dep.id}: getEntireSystemDebt() failed at block {block}")
    coin = dep.addr("coin").lower()
    call = f"{dep.label('trove_manager')}.getEntireSystemDebt()"
    row = MarketRow(
        coin, coin, dep.config.get("symbol", "LUSD"), 18, int(debt[0]), 1, 1, tm.lower(), call, PEG
    )
    return Snapshot(dep, block, VERSION, tm.lower(), call, PEG, [row])

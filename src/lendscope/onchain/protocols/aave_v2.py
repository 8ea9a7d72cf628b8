"""Aave v2 family (Aave v2 markets and forks): the v3 reader with v2's data-provider layout.

``ProtocolDataProvider.getReserveData`` returns (availableLiquidity, totalStableDebt,
totalVariableDebt, ...); the Ethereum v2 ``AaveOracle`` quotes in ETH (18 decimals), so prices
are converted with the Chainlink ETH/USD feed in the registry (``eth_usd_feed``).
"""

from __future__ import annotations

from lendscope.onchain.abi import Reader
from lendscope.onchain.protocols import Snapshot
from lendscope.onchain.protocols.aave_v3 import V2, read_reserves
from lendscope.onchain.registry import Deployment

VERSION = "1"


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every reserve's debt (stable + variable) and ETH-quoted oracle price in USD."""
    snap = read_reserves(reader, dep, block, V2)
    snap.adapter_version = VERSION
    return snap

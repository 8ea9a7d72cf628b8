"""Aave v2 family (Aave v2 markets and forks): the v3 reader with v2's data-provider layout.

``ProtocolDataProvider.getReserveData`` returns (availableLiquidity, totalStableDebt,
totalVariableDebt, ...); the Ethereum v2 ``AaveOracle`` quotes in ETH (18 decimals), so prices
are converted with the Chainlink ETH/USD feed in the registry (``eth_usd_feed``).
Forks whose AaveOracle quotes USD and has ``BASE_CURRENCY_UNIT`` (Radiant v2:
radiant-capital/v2 contracts/lending/AaveOracle.sol) set ``oracle_quote = "USD"`` instead.
"""

from __future__ import annotations

from lendscope.onchain.abi import Reader
from lendscope.onchain.protocols import Snapshot
from lendscope.onchain.protocols.aave_v3 import RESERVE_DATA_V2, V2, Layout, read_reserves
from lendscope.onchain.registry import Deployment

VERSION = "1"
#: v2 data-provider layout with a USD AaveOracle (``BASE_CURRENCY_UNIT``), e.g. Radiant v2.
V2_USD = Layout(RESERVE_DATA_V2, 1, 2, True)


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every reserve's debt (stable + variable) and oracle price in USD (ETH-quoted or USD)."""
    layout = V2_USD if dep.config.get("oracle_quote") == "USD" else V2
    snap = read_reserves(reader, dep, block, layout)
    snap.adapter_version = VERSION
    return snap

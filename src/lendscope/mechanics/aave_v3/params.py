"""Aave v3 reserve and e-mode parameters, plus a small registry of fork markets.

Fields mirror ``ReserveConfiguration.sol`` (bps for ltv/threshold/bonus/fees, as stored on
chain) and ``DataTypes.EModeCategory``. Spark (SparkLend) is an Aave v3.0 fork; the same model
runs it with its own parameters and ``version="3.0"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lendscope.mechanics.aave_v3.math import RateParams


@dataclass(frozen=True)
class ReserveParams:
    """One reserve's configuration (bps: 8000 = 80%; bonus 10500 = +5%)."""

    symbol: str
    decimals: int
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    reserve_factor: int
    rates: RateParams
    liquidation_protocol_fee: int = 0
    emode_category: int = 0  # v3.0 only: the single category the asset belongs to
    borrowing_enabled: bool = True


@dataclass(frozen=True)
class EModeCategory:
    """An e-mode category.

    ``collateral``/``borrowable`` are reserve symbols; in v3.0 both are the assets whose
    ``emode_category`` equals the id (v3.2+ keeps two bitmaps).
    """

    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    collateral: frozenset[str] = frozenset()
    borrowable: frozenset[str] = frozenset()
    ltvzero: frozenset[str] = frozenset()  # v3.2+ ``ltvzeroBitmap``


@dataclass(frozen=True)
class ForkMarket:
    """A named market: which code version it runs and where its numbers come from."""

    name: str
    version: str
    reserves: tuple[ReserveParams, ...]
    source: str


# SparkLend Ethereum WETH (Spark is Aave v3.0.x code). Numbers as configured by the Spark
# spells through 2024 (LTV 82.5%, LT 83%, bonus 5%, RF 5%, curve kink 90%, slope1 ≈ 2.8%,
# slope2 120%); check the live values before relying on them:
# https://github.com/marsfoundation/sparklend-deployments (market config) and
# https://docs.spark.fi/dev/sparklend/ (parameter pages).
SPARK_ETH_WETH = ReserveParams(
    symbol="WETH",
    decimals=18,
    ltv=8250,
    liquidation_threshold=8300,
    liquidation_bonus=10500,
    reserve_factor=500,
    rates=RateParams(
        optimal_usage_ratio=9 * 10**26,
        base_variable_borrow_rate=0,
        variable_rate_slope1=28 * 10**24,
        variable_rate_slope2=12 * 10**26,
    ),
    liquidation_protocol_fee=1000,
)

# Aave v3 Ethereum launch parameters (Gauntlet, late 2022; shared/notes/risk.md §1.6):
# https://governance.aave.com/t/arc-aave-v3-ethereum-deployment-assets-and-configurations/10238/22
AAVE_ETH_WETH = ReserveParams(
    symbol="WETH",
    decimals=18,
    ltv=8250,
    liquidation_threshold=8600,
    liquidation_bonus=10520,
    reserve_factor=1500,
    rates=RateParams.from_bps(8000, 0, 380, 8000),
    liquidation_protocol_fee=1000,
)
AAVE_ETH_USDC = ReserveParams(
    symbol="USDC",
    decimals=6,
    ltv=8650,
    liquidation_threshold=8850,
    liquidation_bonus=10480,
    reserve_factor=1000,
    rates=RateParams.from_bps(9000, 0, 350, 6000),
    liquidation_protocol_fee=1000,
)

FORKS: dict[str, ForkMarket] = {
    "aave-v3-ethereum": ForkMarket(
        "Aave v3 Ethereum (launch params)",
        "3.6",
        (AAVE_ETH_WETH, AAVE_ETH_USDC),
        "https://governance.aave.com/t/arc-aave-v3-ethereum-deployment-assets-and-configurations/10238/22",
    ),
    "spark-ethereum": ForkMarket(
        "SparkLend Ethereum",
        "3.0",
        (SPARK_ETH_WETH,),
        "https://github.com/marsfoundation/sparklend-deployments",
    ),
}

"""Aave v3 (v3.0 and v3.6, and forks such as SparkLend): the pool, liquidation and float twins.

Modules: :mod:`.math` (version-dependent rounding, interest, rate strategies), :mod:`.params`
(reserve and e-mode configuration, fork registry), :mod:`.state` (storage records, reverts),
:mod:`.pool` (:class:`AaveMarket`: supply, withdraw, borrow, repay, account data),
:mod:`.liquidation` (``liquidationCall``) and :mod:`.twin` (vectorised float64 twins). This
package exports the names the risk engine and the command line use; everything else is imported
from its module.
"""

from lendscope.mechanics.aave_v3.liquidation import LiquidationResult, liquidate
from lendscope.mechanics.aave_v3.math import RateParams
from lendscope.mechanics.aave_v3.params import FORKS, EModeCategory, ReserveParams
from lendscope.mechanics.aave_v3.pool import AaveMarket
from lendscope.mechanics.aave_v3.state import AaveRevert
from lendscope.mechanics.aave_v3.twin import (
    bad_debt_after_liquidation_vec,
    health_factor_vec,
    liquidatable_debt_vec,
    seized_collateral_vec,
)

__all__ = [
    "FORKS",
    "AaveMarket",
    "AaveRevert",
    "EModeCategory",
    "LiquidationResult",
    "RateParams",
    "ReserveParams",
    "bad_debt_after_liquidation_vec",
    "health_factor_vec",
    "liquidatable_debt_vec",
    "liquidate",
    "seized_collateral_vec",
]

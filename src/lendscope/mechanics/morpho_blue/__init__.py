"""Morpho Blue (v1.0.0) and its AdaptiveCurveIrm, with the contracts' integer math, and float twins.

Modules: :mod:`.math` (constants, ``MathLib``, ``SharesMathLib``, ``UtilsLib``), :mod:`.market`
(market records and pure accrual, health and liquidation functions), :mod:`.blue`
(:class:`MorphoBlue`: the ``Morpho.sol`` entry points), :mod:`.irm` (AdaptiveCurveIrm) and
:mod:`.twin` (vectorised float64 twins). This package exports the names the risk engine and the
on-chain readers use; everything else is imported from its module.
"""

from lendscope.mechanics.morpho_blue.blue import MorphoBlue
from lendscope.mechanics.morpho_blue.irm import AdaptiveCurveIrm
from lendscope.mechanics.morpho_blue.market import Market, MarketParams, Position
from lendscope.mechanics.morpho_blue.math import MorphoRevert, to_assets_up
from lendscope.mechanics.morpho_blue.twin import (
    full_liquidation_vec,
    health_factor_vec,
    seized_for_repaid_shares_vec,
)

__all__ = [
    "AdaptiveCurveIrm",
    "Market",
    "MarketParams",
    "MorphoBlue",
    "MorphoRevert",
    "Position",
    "full_liquidation_vec",
    "health_factor_vec",
    "seized_for_repaid_shares_vec",
    "to_assets_up",
]

"""Compound v3 (Comet): the base market, its integer math and configuration, and float twins.

Modules: :mod:`.math` (constants, safe casts, present/principal values, kinked rate),
:mod:`.config` (asset and market configuration, account records), :mod:`.comet`
(:class:`Comet`: supply, withdraw, ``absorb``, ``buyCollateral``) and :mod:`.twin` (vectorised
float64 twins). This package exports the names the risk engine uses; everything else is imported
from its module.
"""

from lendscope.mechanics.compound_v3.comet import Comet
from lendscope.mechanics.compound_v3.config import AssetConfig, CometConfig
from lendscope.mechanics.compound_v3.math import FACTOR_SCALE, CometRevert
from lendscope.mechanics.compound_v3.twin import absorb_vec, health_ratio_vec, liquidatable_vec

__all__ = [
    "FACTOR_SCALE",
    "AssetConfig",
    "Comet",
    "CometConfig",
    "CometRevert",
    "absorb_vec",
    "health_ratio_vec",
    "liquidatable_vec",
]

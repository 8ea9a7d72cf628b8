"""Maker/Sky dss: Vat, Jug, Spotter, Dog and Clipper with the contracts' integer math, and twins.

Modules: :mod:`.math` (``RAD``/``BLN``, checked uint256, ``wmul``/``rmul``/``rdiv``/``rpow``),
:mod:`.dss` (Vat, Jug, Spotter), :mod:`.abaci` (auction price curves), :mod:`.clip` (Dog ``bark``,
Clipper ``take``) and :mod:`.twin` (vectorised float64 twins). This package exports the names the
risk engine uses; everything else is imported from its module.
"""

from lendscope.mechanics.maker.clip import Clipper, Dog
from lendscope.mechanics.maker.dss import Jug, Spotter, Vat
from lendscope.mechanics.maker.math import MakerRevert
from lendscope.mechanics.maker.twin import (
    collateralisation_ratio_vec,
    expected_auction_proceeds_vec,
    unsafe_vec,
)

__all__ = [
    "Clipper",
    "Dog",
    "Jug",
    "MakerRevert",
    "Spotter",
    "Vat",
    "collateralisation_ratio_vec",
    "expected_auction_proceeds_vec",
    "unsafe_vec",
]

"""Vectorised float64 twins of the Maker/Sky dss math, in contract units, for large books.

Same formulas as :meth:`.dss.Vat.safe` / ``Dog.bark``'s trigger (:mod:`.dss`, :mod:`.clip`), the
abaci price curves (:mod:`.abaci`) and ``bark`` followed by one ``take`` (:mod:`.clip`), without
integer rounding. Ported from ``makerdao/dss`` ``src/vat.sol``, ``src/dog.sol``, ``src/clip.sol``
and ``src/abaci.sol`` (commit fa4f663).
"""

from __future__ import annotations

import numpy as np

from lendscope.mechanics.intmath import RAY, WAD
from lendscope.mechanics.maker.abaci import (
    Abacus,
    ExponentialDecrease,
    LinearDecrease,
    StairstepExponentialDecrease,
)


def collateralisation_ratio_vec(
    ink: np.ndarray, art: np.ndarray, rate: np.ndarray | float, price: np.ndarray | float
) -> np.ndarray:
    """``ink * price / (art * rate)`` per vault; ``ink``/``art`` [wad], ``rate``/``price`` [ray].

    ``price`` is the par-adjusted feed price ``val * 1e9 / par``; ``inf`` where ``art == 0``.
    """
    num = np.asarray(ink, float) * np.asarray(price, float)
    den = np.asarray(art, float) * np.asarray(rate, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.inf)


def unsafe_vec(
    ink: np.ndarray, art: np.ndarray, rate: np.ndarray | float, spot: np.ndarray | float
) -> np.ndarray:
    """``Dog.bark``'s trigger ``ink * spot < art * rate`` for arrays (``spot`` [ray] > 0)."""
    return collateralisation_ratio_vec(ink, art, rate, spot) < 1.0


def clip_price_vec(calc: Abacus, top: np.ndarray, dur: np.ndarray) -> np.ndarray:
    """The abaci curves for arrays of ``top`` [ray] and ``dur`` [s] (float, no rounding)."""
    top, dur = np.asarray(top, float), np.asarray(dur, float)
    if isinstance(calc, LinearDecrease):
        return np.where(dur >= calc.tau, 0.0, top * (calc.tau - dur) / calc.tau)
    if isinstance(calc, StairstepExponentialDecrease):
        return top * (calc.cut / RAY) ** np.floor(dur / calc.step)
    if isinstance(calc, ExponentialDecrease):
        return top * (calc.cut / RAY) ** dur
    raise TypeError(f"unknown abacus {calc!r}")


def expected_auction_proceeds_vec(
    ink: np.ndarray,
    art: np.ndarray,
    rate: np.ndarray | float,
    chop: np.ndarray | float,
    take_price: np.ndarray | float,
) -> dict[str, np.ndarray]:
    """Full ``bark`` followed by one ``take`` of the whole lot at ``take_price`` [ray].

    ``ink``/``art`` [wad], ``rate`` [ray], ``chop`` [wad]. Returns ``tab`` [rad], ``proceeds``
    = min(tab, lot * price) [rad], ``sold`` and ``returned`` collateral [wad] (leftover goes back
    to the urn), and ``shortfall`` = tab - proceeds [rad], uncovered debt plus penalty.
    """
    ink = np.asarray(ink, float)
    tab = np.asarray(art, float) * np.asarray(rate, float) * np.asarray(chop, float) / WAD
    price = np.asarray(take_price, float)
    value = ink * price
    proceeds = np.minimum(tab, value)
    with np.errstate(divide="ignore", invalid="ignore"):
        sold = np.where(value > tab, tab / price, ink)
    return {
        "tab": tab,
        "proceeds": proceeds,
        "sold": sold,
        "returned": ink - sold,
        "shortfall": tab - proceeds,
    }

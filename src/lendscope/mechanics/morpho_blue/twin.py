"""NumPy float64 twins of Morpho Blue health and liquidation for large books.

Approximations of :func:`~lendscope.mechanics.morpho_blue.market.health_factor`,
:func:`~lendscope.mechanics.morpho_blue.market.liquidation_amounts` and
:func:`~lendscope.mechanics.morpho_blue.market.full_liquidation` (v1.0.0) without integer rounding.
"""

from __future__ import annotations

import numpy as np

from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.morpho_blue.math import (
    ORACLE_PRICE_SCALE,
    VIRTUAL_ASSETS,
    VIRTUAL_SHARES,
    liquidation_incentive_factor,
)


def _borrowed(borrow_shares, total_borrow_assets, total_borrow_shares) -> np.ndarray:
    return (
        np.asarray(borrow_shares, dtype=np.float64)
        * (float(total_borrow_assets) + VIRTUAL_ASSETS)
        / (float(total_borrow_shares) + VIRTUAL_SHARES)
    )


def health_factor_vec(
    collateral, borrow_shares, total_borrow_assets: int, total_borrow_shares: int, price, lltv: int
) -> np.ndarray:
    """Float twin of :func:`~.market.health_factor` / 1e18 per position (inf without debt)."""
    coll = np.asarray(collateral, dtype=np.float64)
    debt = _borrowed(borrow_shares, total_borrow_assets, total_borrow_shares)
    power = coll * (np.asarray(price, dtype=np.float64) / ORACLE_PRICE_SCALE) * (lltv / WAD)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(debt > 0, power / debt, np.inf)


def seized_for_repaid_shares_vec(
    repaid_shares, total_borrow_assets: int, total_borrow_shares: int, price, lltv: int
) -> np.ndarray:
    """Float twin of :func:`~.market.liquidation_amounts` by repaid shares: collateral seized."""
    lif = liquidation_incentive_factor(lltv) / WAD
    repaid = _borrowed(repaid_shares, total_borrow_assets, total_borrow_shares)
    return repaid * lif * ORACLE_PRICE_SCALE / np.asarray(price, dtype=np.float64)


def full_liquidation_vec(
    collateral, borrow_shares, total_borrow_assets: int, total_borrow_shares: int, price, lltv: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Twin of :func:`~.market.full_liquidation`: ``(seized, repaid_assets, bad_debt_assets)``.

    Unhealthy positions lose ``min(collateral, debt * LIF / price)``; the repayment is the seized
    value divided by LIF; what stays unpaid when all collateral goes is bad debt.
    """
    coll = np.asarray(collateral, dtype=np.float64)
    px = np.asarray(price, dtype=np.float64) / ORACLE_PRICE_SCALE
    lif = liquidation_incentive_factor(lltv) / WAD
    debt = _borrowed(borrow_shares, total_borrow_assets, total_borrow_shares)
    bad = coll * px * (lltv / WAD) < debt
    seize_all = debt * lif / px
    seized = np.where(bad, np.minimum(coll, seize_all), 0.0)
    repaid = np.where(bad, np.minimum(debt, coll * px / lif), 0.0)
    bad_debt = np.where(bad & (seize_all >= coll), debt - repaid, 0.0)
    return seized, repaid, bad_debt

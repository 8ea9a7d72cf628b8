"""Vectorised float64 twins of Compound v3 (Comet) solvency and ``absorb`` for large books.

Same formulas as :meth:`lendscope.mechanics.compound_v3.comet.Comet.liquidity` and
``_absorb_one`` without integer truncation; arrays broadcast over accounts (n) and collateral
assets (k).
"""

from __future__ import annotations

import numpy as np

from lendscope.mechanics.compound_v3.math import FACTOR_SCALE


def health_ratio_vec(
    debt: np.ndarray,
    collateral: np.ndarray,
    prices: np.ndarray,
    scales: np.ndarray,
    factors: np.ndarray,
    base_price: float,
    base_scale: float,
) -> np.ndarray:
    """Risk-adjusted collateral value over debt value, per account (``inf`` without debt).

    ``debt`` (n,) is the present borrow balance in base wei, ``collateral`` (n, k) token wei,
    ``prices``/``scales``/``factors`` (k,) 8-decimal prices, ``10**decimals`` and 1e18-scaled
    factors. With liquidateCollateralFactor this is < 1 exactly when ``isLiquidatable`` (up to
    integer truncation at the boundary).
    """
    coll = np.asarray(collateral, float) * (np.asarray(prices, float) / np.asarray(scales, float))
    coll_value = coll @ (np.asarray(factors, float) / FACTOR_SCALE)
    debt_value = np.asarray(debt, float) * (base_price / base_scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(debt_value > 0, coll_value / debt_value, np.inf)


def liquidatable_vec(
    debt: np.ndarray,
    collateral: np.ndarray,
    prices: np.ndarray,
    scales: np.ndarray,
    liquidate_factors: np.ndarray,
    base_price: float,
    base_scale: float,
) -> np.ndarray:
    """``isLiquidatable`` for arrays: ``health_ratio_vec(...) < 1``."""
    args = (debt, collateral, prices, scales, liquidate_factors, base_price, base_scale)
    return health_ratio_vec(*args) < 1.0


def absorb_vec(
    debt: np.ndarray,
    collateral: np.ndarray,
    prices: np.ndarray,
    scales: np.ndarray,
    liquidation_factors: np.ndarray,
    base_price: float,
    base_scale: float,
) -> dict[str, np.ndarray]:
    """``absorbInternal`` for arrays of borrowers (base wei, float64).

    Returns ``credited`` (collateral value at liquidationFactor, in base), ``new_balance``
    (residual supply credited to the user), ``base_paid_out`` (= max(debt, credited): what the
    base reserves lose) and ``shortfall`` (= max(debt - credited, 0): the uncovered deficit).
    """
    coll = np.asarray(collateral, float) * (np.asarray(prices, float) / np.asarray(scales, float))
    value = coll @ (np.asarray(liquidation_factors, float) / FACTOR_SCALE)
    credited = value * base_scale / base_price
    debt = np.asarray(debt, float)
    return {
        "credited": credited,
        "new_balance": np.maximum(credited - debt, 0.0),
        "base_paid_out": np.maximum(debt, credited),
        "shortfall": np.maximum(debt - credited, 0.0),
    }

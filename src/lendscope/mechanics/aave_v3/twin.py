"""Vectorised (NumPy float64) twins of the Aave v3 position math, for books of positions.

Each position has one collateral and one debt reserve. Amounts are in token units (floats),
prices in base currency per whole token, bps as stored on chain. They mirror the exact
integer functions in :mod:`.pool` and :mod:`.liquidation` without the truncations, so they agree
to float precision (≈1e-12 relative) away from the close-factor and dust thresholds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lendscope.mechanics.aave_v3.liquidation import (
    CLOSE_FACTOR_HF_THRESHOLD,
    MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD,
)

_HF_CUT = CLOSE_FACTOR_HF_THRESHOLD / 1e18
_MIN_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD / 1e8

Arr = NDArray[np.float64]


def _f(x: ArrayLike) -> Arr:
    return np.asarray(x, dtype=np.float64)


def health_factor_vec(
    collateral: ArrayLike,
    collateral_price: ArrayLike,
    debt: ArrayLike,
    debt_price: ArrayLike,
    liquidation_threshold_bps: ArrayLike,
) -> Arr:
    """``C·P_c·LT / (D·P_d)``; ``inf`` where there is no debt (the contract returns uint max)."""
    num = np.multiply(_f(collateral), _f(collateral_price))
    num *= _f(liquidation_threshold_bps)
    num *= 1e-4
    den = np.multiply(_f(debt), _f(debt_price))
    out = np.full(num.shape, np.inf)
    # in-place passes with no temporaries: this runs over whole-market books
    return np.divide(num, den, out=out, where=den > 0)


def liquidatable_debt_vec(
    version: str,
    health: ArrayLike,
    collateral: ArrayLike,
    collateral_price: ArrayLike,
    debt: ArrayLike,
    debt_price: ArrayLike,
) -> Arr:
    """Close-factor maximum repay (debt units); 0 where HF ≥ 1.

    v3.0: 50% if HF > 0.95 else 100%. v3.6 (single debt reserve, so its value equals the total
    debt): 50% only when collateral and debt are both ≥ $2,000 and HF > 0.95.
    """
    hf, d = _f(health), _f(debt)
    half = hf > _HF_CUT
    if version != "3.0":
        big = (_f(collateral) * _f(collateral_price) >= _MIN_BASE) & (
            d * _f(debt_price) >= _MIN_BASE
        )
        half = half & big
    return np.where(hf < 1.0, np.where(half, 0.5 * d, d), 0.0)


def seized_collateral_vec(
    repay: ArrayLike,
    collateral: ArrayLike,
    collateral_price: ArrayLike,
    debt_price: ArrayLike,
    bonus_bps: ArrayLike,
    protocol_fee_bps: ArrayLike,
) -> tuple[Arr, Arr, Arr]:
    """For a repay of ``repay`` debt units: (collateral to liquidator, debt repaid, protocol fee).

    Seize ``repay·P_d/P_c·bonus``, capped at the collateral balance (then the repay shrinks to
    ``C·P_c/P_d/bonus``); the fee is ``fee·(seized - seized/bonus)`` out of the seized amount.
    """
    b = _f(bonus_bps) / 1e4
    c = _f(collateral)
    want = _f(repay) * _f(debt_price) / _f(collateral_price) * b
    capped = want > c
    amount = np.where(capped, c, want)
    repaid = np.where(capped, c * _f(collateral_price) / _f(debt_price) / b, _f(repay))
    fee = (amount - amount / b) * _f(protocol_fee_bps) / 1e4
    return amount - fee, repaid, fee


def bad_debt_after_liquidation_vec(
    version: str,
    collateral: ArrayLike,
    collateral_price: ArrayLike,
    debt: ArrayLike,
    debt_price: ArrayLike,
    liquidation_threshold_bps: ArrayLike,
    bonus_bps: ArrayLike,
) -> Arr:
    """Debt (units) left with no collateral after one maximal liquidation.

    v3.3+ books it as ``deficit``, v3.0 leaves it on the account; 0 where the collateral is
    not exhausted.
    """
    hf = health_factor_vec(
        collateral, collateral_price, debt, debt_price, liquidation_threshold_bps
    )
    cap = liquidatable_debt_vec(version, hf, collateral, collateral_price, debt, debt_price)
    want = cap * _f(debt_price) / _f(collateral_price) * _f(bonus_bps) / 1e4
    exhausted = (want > _f(collateral)) & (cap > 0)
    repaid = _f(collateral) * _f(collateral_price) / _f(debt_price) / (_f(bonus_bps) / 1e4)
    return np.where(exhausted, np.maximum(_f(debt) - repaid, 0.0), 0.0)

"""Morpho's AdaptiveCurveIrm with the contract's exact signed-integer math.

Ported from ``morpho-org/morpho-blue-irm`` ``src/adaptive-curve-irm/`` (the deployed v1 IRM,
solc 0.8.19): ``AdaptiveCurveIrm.sol`` (``_borrowRate``, ``_curve``, ``_newRateAtTarget``),
``libraries/ExpLib.sol`` (``wExp``), ``libraries/MathLib.sol`` (``wMulToZero``, ``wDivToZero``)
and ``libraries/ConstantsLib.sol``. Solidity's signed ``/`` truncates toward zero, Python's ``//``
floors, so every signed division goes through :func:`_tdiv`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.morpho_blue.market import Market
from lendscope.mechanics.morpho_blue.math import w_div_down

SECONDS_PER_YEAR = 365 * 86400
# ConstantsLib.sol: per-second values, truncated exactly as the Solidity constant expressions.
CURVE_STEEPNESS = 4 * WAD
ADJUSTMENT_SPEED = 50 * WAD // SECONDS_PER_YEAR
TARGET_UTILIZATION = 9 * 10**17
INITIAL_RATE_AT_TARGET = 4 * 10**16 // SECONDS_PER_YEAR
MIN_RATE_AT_TARGET = 10**15 // SECONDS_PER_YEAR
MAX_RATE_AT_TARGET = 2 * WAD // SECONDS_PER_YEAR
# ExpLib.sol
LN_2_INT = 693147180559945309
LN_WEI_INT = -41446531673892822312
WEXP_UPPER_BOUND = 93859467695000404319
WEXP_UPPER_VALUE = 57716089161558943949701069502944508345128422502756744429568


def _tdiv(a: int, b: int) -> int:
    """Solidity signed division: truncation toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def w_mul_to_zero(x: int, y: int) -> int:
    """``MathLib.wMulToZero`` (morpho-blue-irm adaptive-curve-irm)."""
    return _tdiv(x * y, WAD)


def w_div_to_zero(x: int, y: int) -> int:
    """``MathLib.wDivToZero`` (morpho-blue-irm adaptive-curve-irm)."""
    return _tdiv(x * WAD, y)


def w_exp(x: int) -> int:
    """``ExpLib.wExp``: ``e^x`` in wad via ``x = q ln2 + r`` and a 2nd-order Taylor ``e^r``."""
    if x < LN_WEI_INT:
        return 0
    if x >= WEXP_UPPER_BOUND:
        return WEXP_UPPER_VALUE
    half = LN_2_INT // 2
    q = _tdiv(x + (-half if x < 0 else half), LN_2_INT)  # x / ln2 rounded half toward zero
    r = x - q * LN_2_INT
    exp_r = WAD + r + r * r // WAD // 2  # r*r >= 0, so floor == truncation
    return exp_r << q if q >= 0 else exp_r >> -q  # exp_r > 0: arithmetic shift == Solidity's


def _curve(rate_at_target: int, err: int) -> int:
    """``AdaptiveCurveIrm._curve``: ``((1-1/C) err + 1) r`` if err < 0, else ``((C-1) err + 1) r``.

    ``C`` is CURVE_STEEPNESS and ``err`` the normalised distance to the target utilization.
    """
    coeff = WAD - w_div_to_zero(WAD, CURVE_STEEPNESS) if err < 0 else CURVE_STEEPNESS - WAD
    return w_mul_to_zero(w_mul_to_zero(coeff, err) + WAD, rate_at_target)


def _new_rate_at_target(start: int, linear_adaptation: int) -> int:
    """``AdaptiveCurveIrm._newRateAtTarget``: ``start e^adaptation`` bounded to [MIN, MAX]."""
    r = w_mul_to_zero(start, w_exp(linear_adaptation))
    return min(max(r, MIN_RATE_AT_TARGET), MAX_RATE_AT_TARGET)


def utilization(market: Market) -> int:
    """``totalBorrowAssets.wDivDown(totalSupplyAssets)``, 0 on an empty market (``_borrowRate``)."""
    if market.total_supply_assets == 0:
        return 0
    return w_div_down(market.total_borrow_assets, market.total_supply_assets)


def borrow_rate_from_utilization(
    util: int, start_rate_at_target: int, elapsed: int
) -> tuple[int, int]:
    """``AdaptiveCurveIrm._borrowRate`` on a utilization: ``(avgBorrowRate, endRateAtTarget)``.

    The average over the elapsed period is the trapezoidal rule with two intervals on the
    exponentially adapting rate at target (the contract's N = 2 comment).
    """
    norm = WAD - TARGET_UTILIZATION if util > TARGET_UTILIZATION else TARGET_UTILIZATION
    err = w_div_to_zero(util - TARGET_UTILIZATION, norm)
    if start_rate_at_target == 0:  # first interaction
        avg_rat = end_rat = INITIAL_RATE_AT_TARGET
    else:
        # Speed is held constant over the period although interest moves utilization: the
        # contract accepts the underestimate.
        linear = w_mul_to_zero(ADJUSTMENT_SPEED, err) * elapsed
        if linear == 0:
            avg_rat = end_rat = start_rate_at_target
        else:
            end_rat = _new_rate_at_target(start_rate_at_target, linear)
            mid_rat = _new_rate_at_target(start_rate_at_target, _tdiv(linear, 2))
            avg_rat = (start_rate_at_target + end_rat + 2 * mid_rat) // 4  # all >= 0
    return _curve(avg_rat, err), end_rat


def borrow_rate(market: Market, rate_at_target: int, now: int) -> tuple[int, int]:
    """``AdaptiveCurveIrm.borrowRate`` at block time ``now``: ``(avgRate, endRateAtTarget)``."""
    return borrow_rate_from_utilization(
        utilization(market), rate_at_target, now - market.last_update
    )


@dataclass
class AdaptiveCurveIrm:
    """Stateful IRM for :class:`~lendscope.mechanics.morpho_blue.blue.MorphoBlue` (one market).

    Calling it is ``AdaptiveCurveIrm.borrowRate``: it returns the average rate and stores the end
    rate at target (``rateAtTarget[id]``), which ``MorphoBlue`` restores on a revert.
    """

    rate_at_target: int = 0

    def __call__(self, market: Market, now: int) -> int:
        """Return the average per-second rate since ``market.last_update``; update the state."""
        avg, self.rate_at_target = borrow_rate(market, self.rate_at_target, now)
        return avg

"""Aave v3 integer math that differs between v3.0 and v3.6: interest, rounding, rate curves.

Half-up helpers come from :mod:`lendscope.mechanics.intmath`. The directed (floor/ceil) variants
below are ported from aave-v3-origin 3.6.0 ``src/contracts/protocol/libraries/math/
WadRayMath.sol`` (``rayMulFloor/Ceil``, ``rayDivFloor/Ceil``), ``PercentageMath.sol``
(``percentMulFloor/Ceil``, ``percentDivCeil``), ``MathUtils.sol`` (``mulDivCeil``) and
``helpers/TokenMath.sol`` (v3.5 "rounding in favour of the protocol"). v3.0 means
``@aave/core-v3`` 1.19.3 (aave-v3-core v3.0.2), where every conversion rounds half up.
"""

from __future__ import annotations

from dataclasses import dataclass

from lendscope.mechanics.errors import MathOverflow
from lendscope.mechanics.intmath import (
    PERCENTAGE_FACTOR,
    RAY,
    percent_mul,
    ray_div,
    ray_mul,
    u256,
    wad_to_ray,
)

SECONDS_PER_YEAR = 365 * 86400
VERSIONS = ("3.0", "3.6")


def check_version(version: str) -> str:
    """Return ``version`` if it is a modelled Aave version, else raise ``ValueError``."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Aave version {version!r}; expected one of {VERSIONS}")
    return version


# ------------------------------------------------------------------ directed rounding (v3.5+)
def ray_mul_floor(a: int, b: int) -> int:
    """``WadRayMath.rayMulFloor`` (origin 3.6): ``a * b / RAY`` rounded down."""
    return u256(a * b) // RAY


def ray_mul_ceil(a: int, b: int) -> int:
    """``WadRayMath.rayMulCeil`` (origin 3.6): ``a * b / RAY`` rounded up."""
    return -(-u256(a * b) // RAY)


def ray_div_floor(a: int, b: int) -> int:
    """``WadRayMath.rayDivFloor`` (origin 3.6)."""
    if b == 0:
        raise MathOverflow("division by zero")
    return u256(a * RAY) // b


def ray_div_ceil(a: int, b: int) -> int:
    """``WadRayMath.rayDivCeil`` (origin 3.6)."""
    if b == 0:
        raise MathOverflow("division by zero")
    return -(-u256(a * RAY) // b)


def percent_mul_floor(value: int, pct: int) -> int:
    """``PercentageMath.percentMulFloor`` (origin 3.6)."""
    return u256(value * pct) // PERCENTAGE_FACTOR


def percent_div_ceil(value: int, pct: int) -> int:
    """``PercentageMath.percentDivCeil`` (origin 3.6)."""
    if pct == 0:
        raise MathOverflow("division by zero")
    return -(-u256(value * PERCENTAGE_FACTOR) // pct)


def mul_div_ceil(a: int, b: int, c: int) -> int:
    """``MathUtils.mulDivCeil`` (origin 3.6)."""
    if c == 0:
        raise MathOverflow("division by zero")
    return -(-u256(a * b) // c)


# ------------------------------------------------------------------ scaled balances (TokenMath)
def a_mint_scaled(version: str, amount: int, index: int) -> int:
    """Scaled aTokens minted on supply.

    v3.0 ``ScaledBalanceTokenBase._mintScaled``: ``amount.rayDiv(index)``;
    v3.6 ``TokenMath.getATokenMintScaledAmount``: floor.
    """
    return ray_div(amount, index) if version == "3.0" else ray_div_floor(amount, index)


def a_burn_scaled(version: str, amount: int, index: int) -> int:
    """Scaled aTokens burned on withdraw/liquidation.

    v3.0 ``_burnScaled``: rayDiv; v3.6 ``TokenMath.getATokenBurnScaledAmount``: ceil.
    """
    return ray_div(amount, index) if version == "3.0" else ray_div_ceil(amount, index)


def a_transfer_scaled(version: str, amount: int, index: int) -> int:
    """Scaled aTokens moved.

    v3.0 ``AToken._transfer``: rayDiv; v3.6 ``getATokenTransferScaledAmount``: ceil.
    """
    return ray_div(amount, index) if version == "3.0" else ray_div_ceil(amount, index)


def a_balance(version: str, scaled: int, index: int) -> int:
    """AToken balance: v3.0 ``AToken.balanceOf`` rayMul; v3.6 ``getATokenBalance`` floor."""
    return ray_mul(scaled, index) if version == "3.0" else ray_mul_floor(scaled, index)


def v_mint_scaled(version: str, amount: int, index: int) -> int:
    """Scaled debt minted on borrow: v3.0 rayDiv; v3.6 ``getVTokenMintScaledAmount`` (ceil)."""
    return ray_div(amount, index) if version == "3.0" else ray_div_ceil(amount, index)


def v_burn_scaled(version: str, amount: int, index: int) -> int:
    """Scaled debt burned on repay/liquidation.

    v3.0 rayDiv; v3.6 ``getVTokenBurnScaledAmount``: floor.
    """
    return ray_div(amount, index) if version == "3.0" else ray_div_floor(amount, index)


def v_balance(version: str, scaled: int, index: int) -> int:
    """Debt balance: v3.0 ``VariableDebtToken.balanceOf`` rayMul; v3.6 ``getVTokenBalance`` ceil."""
    return ray_mul(scaled, index) if version == "3.0" else ray_mul_ceil(scaled, index)


# ------------------------------------------------------------------ interest (MathUtils)
def linear_interest(rate: int, dt: int) -> int:
    """``MathUtils.calculateLinearInterest`` (same in v3.0 and v3.6): ``RAY + rate*dt/SPY``."""
    return RAY + u256(rate * dt) // SECONDS_PER_YEAR


def compounded_interest_v30(rate: int, dt: int) -> int:
    """Aave v3.0 (aave-v3-core) ``MathUtils.calculateCompoundedInterest``.

    Binomial expansion to the third term,
    ``RAY + r·n/SPY + n(n-1)b²/2 + n(n-1)(n-2)b³/6``, the per-second powers computed as
    ``rayMul(r, r)/SPY²`` and ``rayMul(b², r)/SPY`` (each truncated).
    """
    if dt == 0:
        return RAY
    e1 = dt - 1
    e2 = dt - 2 if dt > 2 else 0
    b2 = ray_mul(rate, rate) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    b3 = ray_mul(b2, rate) // SECONDS_PER_YEAR
    second = u256(dt * e1 * b2) // 2
    third = u256(dt * e1 * e2 * b3) // 6
    return RAY + u256(rate * dt) // SECONDS_PER_YEAR + second + third


def compounded_interest_v36(rate: int, dt: int) -> int:
    """Aave v3.6 (aave-v3-origin) ``MathUtils.calculateCompoundedInterest``.

    ``x = r·n/SPY``, then
    ``RAY + x + x.rayMul(x/2 + x.rayMul(x/6))`` (Taylor in the whole-period rate; in an
    ``unchecked`` block, so no overflow revert).
    """
    if dt == 0:
        return RAY
    x = rate * dt // SECONDS_PER_YEAR
    return RAY + x + ray_mul(x, x // 2 + ray_mul(x, x // 6))


def compounded_interest(version: str, rate: int, dt: int) -> int:
    """Version switch over :func:`compounded_interest_v30` / :func:`compounded_interest_v36`."""
    if version == "3.0":
        return compounded_interest_v30(rate, dt)
    return compounded_interest_v36(rate, dt)


# ------------------------------------------------------------------ rate strategies
@dataclass(frozen=True)
class RateParams:
    """Variable-rate curve in ray.

    v3.0 ``DefaultReserveInterestRateStrategy`` takes these as constructor args; v3.2+
    ``DefaultReserveInterestRateStrategyV2`` stores them in bps (see :meth:`from_bps`).

    The v3.0 stable-rate part is not modelled: stable borrowing is disabled in v3.0 markets
    we model (and removed since v3.2), so total stable debt is 0 and the liquidity rate is the
    variable rate weighted as in ``_getOverallBorrowRate``.
    """

    optimal_usage_ratio: int
    base_variable_borrow_rate: int
    variable_rate_slope1: int
    variable_rate_slope2: int

    @classmethod
    def from_bps(cls, optimal: int, base: int, slope1: int, slope2: int) -> RateParams:
        """``DefaultReserveInterestRateStrategyV2._bpsToRay``: ``n * 1e23``."""
        return cls(optimal * 10**23, base * 10**23, slope1 * 10**23, slope2 * 10**23)


def _variable_rate(p: RateParams, usage: int) -> int:
    if usage > p.optimal_usage_ratio:
        excess = ray_div(usage - p.optimal_usage_ratio, RAY - p.optimal_usage_ratio)
        return (
            p.base_variable_borrow_rate
            + p.variable_rate_slope1
            + ray_mul(p.variable_rate_slope2, excess)
        )
    return p.base_variable_borrow_rate + ray_div(
        ray_mul(p.variable_rate_slope1, usage), p.optimal_usage_ratio
    )


def interest_rates_v30(
    p: RateParams, available: int, total_var_debt: int, reserve_factor: int, unbacked: int = 0
) -> tuple[int, int]:
    """v3.0 ``DefaultReserveInterestRateStrategy.calculateInterestRates`` (no stable debt).

    ``available`` is ``balanceOf(aToken) + liquidityAdded - liquidityTaken``. Returns
    ``(liquidityRate, variableBorrowRate)`` in ray. With debt 0 the variable rate is the base.
    """
    if available < 0:
        raise MathOverflow("available liquidity underflow")
    usage = supply_usage = 0
    if total_var_debt != 0:
        usage = ray_div(total_var_debt, available + total_var_debt)
        supply_usage = ray_div(total_var_debt, available + total_var_debt + unbacked)
    vr = _variable_rate(p, usage)
    overall = 0
    if total_var_debt != 0:  # _getOverallBorrowRate: wadToRay-weighted average, rounded
        d = wad_to_ray(total_var_debt)
        overall = ray_div(ray_mul(d, vr), d)
    lr = percent_mul(ray_mul(overall, supply_usage), PERCENTAGE_FACTOR - reserve_factor)
    return lr, vr


def interest_rates_v36(
    p: RateParams, virtual_balance: int, total_var_debt: int, reserve_factor: int, unbacked: int
) -> tuple[int, int]:
    """v3.2+ ``DefaultReserveInterestRateStrategyV2.calculateInterestRates``.

    ``virtual_balance`` is ``virtualUnderlyingBalance + liquidityAdded - liquidityTaken``;
    ``unbacked`` is ``reserve.deficit`` (v3.3+ passes the deficit there).
    """
    if total_var_debt == 0:
        return 0, p.base_variable_borrow_rate
    if virtual_balance < 0:
        raise MathOverflow("virtual balance underflow")
    total = virtual_balance + total_var_debt
    usage = ray_div(total_var_debt, total)
    supply_usage = ray_div(total_var_debt, total + unbacked)
    vr = _variable_rate(p, usage)
    lr = percent_mul(ray_mul(vr, supply_usage), PERCENTAGE_FACTOR - reserve_factor)
    return lr, vr


def interest_rates(
    version: str,
    p: RateParams,
    available: int,
    total_var_debt: int,
    reserve_factor: int,
    unbacked: int = 0,
) -> tuple[int, int]:
    """Version switch over :func:`interest_rates_v30` / :func:`interest_rates_v36`."""
    if version == "3.0":
        return interest_rates_v30(p, available, total_var_debt, reserve_factor, unbacked)
    return interest_rates_v36(p, available, total_var_debt, reserve_factor, unbacked)

"""Aave v3 liquidation: close factor, bonus, protocol fee, v3.3+ dust rules and deficit.

Ported from ``LiquidationLogic.sol``: ``@aave/core-v3`` 1.19.3 (v3.0: ``_calculateDebt``,
``_calculateAvailableCollateralToLiquidate``, ``executeLiquidationCall``) and
``@aave-dao/aave-v3-origin`` 3.6.0 (``executeLiquidationCall``, ``_burnDebtTokens``,
``_burnBadDebt``, ``MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD``, ``MIN_LEFTOVER_BASE``). Only
``receiveAToken = false`` is modelled (the liquidator takes the underlying).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.aave_v3.pool import AaveMarket, atomic
from lendscope.mechanics.aave_v3.state import (
    HEALTH_FACTOR_LIQUIDATION_THRESHOLD,
    ReserveCache,
    require,
)
from lendscope.mechanics.intmath import percent_div, percent_mul

DEFAULT_LIQUIDATION_CLOSE_FACTOR = 5000
MAX_LIQUIDATION_CLOSE_FACTOR = 10000
CLOSE_FACTOR_HF_THRESHOLD = 95 * 10**16
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000 * 10**8  # v3.3+, $2,000 in 8-decimal base
MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD // 2  # v3.3+, $1,000


@dataclass(frozen=True)
class LiquidationResult:
    """What ``liquidationCall`` moved (token units) and the v3.3+ deficit it booked per reserve."""

    debt_repaid: int
    collateral_seized: int  # to the liquidator, net of the protocol fee
    protocol_fee: int  # aTokens to the treasury
    deficit: dict[int, int] = field(default_factory=dict)


def max_liquidatable_debt(
    version: str,
    health_factor: int,
    borrower_debt: int,
    debt_price: int,
    debt_unit: int,
    borrower_collateral_base: int = 0,
    total_debt_base: int = 0,
) -> int:
    """Close-factor cap on the debt a liquidator may repay in one call.

    v3.0 ``_calculateDebt``: ``percentMul(debt, 50% if HF > 0.95 else 100%)``.
    v3.6: all of it, unless the reserve's collateral and debt are both ≥ $2,000 and HF > 0.95
    and this debt is worth more than half the user's total debt, then half the total debt
    (in base) converted back to debt units, truncated.
    """
    if version == "3.0":
        cf = (
            DEFAULT_LIQUIDATION_CLOSE_FACTOR
            if health_factor > CLOSE_FACTOR_HF_THRESHOLD
            else MAX_LIQUIDATION_CLOSE_FACTOR
        )
        return percent_mul(borrower_debt, cf)
    debt_base = am.mul_div_ceil(borrower_debt, debt_price, debt_unit)
    if (
        borrower_collateral_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
        and debt_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
        and health_factor > CLOSE_FACTOR_HF_THRESHOLD
    ):
        half = percent_mul(total_debt_base, DEFAULT_LIQUIDATION_CLOSE_FACTOR)
        if debt_base > half:
            return half * debt_unit // debt_price
    return borrower_debt


def collateral_to_liquidate(
    version: str,
    collateral_price: int,
    collateral_unit: int,
    debt_price: int,
    debt_unit: int,
    debt_to_cover: int,
    borrower_collateral: int,
    liquidation_bonus: int,
    protocol_fee_bps: int,
) -> tuple[int, int, int, int]:
    """``_calculateAvailableCollateralToLiquidate``.

    Returns (collateral to liquidator, debt needed, protocol fee, collateral value in base).

    Base collateral = ``debtPrice·debt·collUnit / (collPrice·debtUnit)`` (truncated), times the
    bonus (``percentMul``); capped at the balance, in which case the debt needed is the balance's
    value divided by the bonus (v3.0 ``percentDiv`` half-up, v3.6 ``percentDivCeil``). The fee is
    ``percentMul(amount - percentDiv(amount, bonus), fee)`` and comes out of the seized amount.
    """
    base = debt_price * debt_to_cover * collateral_unit // (collateral_price * debt_unit)
    max_coll = percent_mul(base, liquidation_bonus)
    if max_coll > borrower_collateral:
        amount = borrower_collateral
        raw = collateral_price * amount * debt_unit // (debt_price * collateral_unit)
        div = percent_div if version == "3.0" else am.percent_div_ceil
        needed = div(raw, liquidation_bonus)
    else:
        amount, needed = max_coll, debt_to_cover
    in_base = amount * collateral_price // collateral_unit
    fee = 0
    if protocol_fee_bps:
        fee = percent_mul(amount - percent_div(amount, liquidation_bonus), protocol_fee_bps)
    return amount - fee, needed, fee, in_base


@atomic
def liquidate(
    m: AaveMarket,
    borrower: str,
    coll: int,
    debt_i: int,
    debt_to_cover: int,
    now: int,
    treasury: str,
) -> LiquidationResult:
    """``Pool.liquidationCall(collateral, debt, borrower, debtToCover, false)`` at ``now``.

    Follows the contract's order of state updates, so rates read the cash/virtual balance at
    the same moment (e.g. in v3.0 the collateral rate is set before the repaid debt arrives).
    """
    v36, ver = m.v36, m.version
    u = m.user(borrower)
    dc = m.cache(debt_i)
    cc = m.cache(coll) if v36 else None
    m.update_state(debt_i, dc, now)
    if cc is not None:
        m.update_state(coll, cc, now)
    acct = m.account_data(borrower, now)
    hf = acct.health_factor
    c_idx = m.normalized_income(coll, now)
    coll_bal = am.a_balance(ver, u.a_scaled[coll], c_idx)
    user_debt = am.v_balance(ver, u.v_scaled[debt_i], dc.next_variable_index)
    require(hf < HEALTH_FACTOR_LIQUIDATION_THRESHOLD, "HEALTH_FACTOR_NOT_BELOW_THRESHOLD")
    cp = m.params[coll]
    require(u.collateral[coll] and cp.liquidation_threshold != 0, "COLLATERAL_CANNOT_BE_LIQUIDATED")
    require(user_debt != 0, "SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER")
    bonus = cp.liquidation_bonus
    if m.emode_has(u.emode, coll):
        bonus = m.emodes[u.emode].liquidation_bonus
    c_price, d_price = m.prices[coll], m.prices[debt_i]
    c_unit, d_unit = 10**cp.decimals, 10 ** m.params[debt_i].decimals
    coll_base = coll_bal * c_price // c_unit
    cap = max_liquidatable_debt(
        ver, hf, user_debt, d_price, d_unit, coll_base, acct.total_debt_base
    )
    actual = min(debt_to_cover, cap)
    seized, actual, fee, seized_base = collateral_to_liquidate(
        ver, c_price, c_unit, d_price, d_unit, actual, coll_bal, bonus, cp.liquidation_protocol_fee
    )
    if v36 and actual < user_debt and seized + fee < coll_bal:  # dust rule (v3.3+)
        debt_left = am.mul_div_ceil(user_debt - actual, d_price, d_unit)
        coll_left = (coll_bal - seized - fee) * c_price // c_unit
        require(
            debt_left >= MIN_LEFTOVER_BASE and coll_left >= MIN_LEFTOVER_BASE, "MustNotLeaveDust"
        )
    if not v36 and user_debt == actual:
        u.borrowing[debt_i] = False
    if seized + fee == coll_bal:
        u.collateral[coll] = False
    deficit: dict[int, int] = {}
    no_coll_left = v36 and acct.total_collateral_base == seized_base
    _burn_debt(m, dc, borrower, debt_i, user_debt, actual, no_coll_left, deficit)
    # collateral side: burn the borrower's aTokens, underlying to the liquidator
    if cc is None:
        cc = m.cache(coll)  # v3.0 re-caches (after the debt side) and updates again
        m.update_state(coll, cc, now)
    elif coll == debt_i:
        cc.next_scaled_debt = dc.next_scaled_debt
    m.update_rates(coll, cc, 0, seized)
    m._burn_a(u, coll, am.a_burn_scaled(ver, seized, cc.next_liquidity_index))
    m._pay_out(coll, seized)
    if fee:
        idx = cc.next_liquidity_index
        scaled_fee = am.a_transfer_scaled(ver, fee, idx)
        if scaled_fee > u.a_scaled[coll]:
            scaled_fee = u.a_scaled[coll]
            fee = am.a_balance(ver, scaled_fee, idx)
        if not v36:
            scaled_fee = am.a_transfer_scaled(ver, fee, idx)
        require(scaled_fee <= u.a_scaled[coll], "transfer exceeds balance")
        u.a_scaled[coll] -= scaled_fee
        m.user(treasury).a_scaled[coll] += scaled_fee
    if no_coll_left and any(u.borrowing):  # _burnBadDebt
        for j, borrowing in enumerate(list(u.borrowing)):
            if borrowing:
                jc = m.cache(j)
                m.update_state(j, jc, now)
                full = am.v_balance(ver, u.v_scaled[j], jc.next_variable_index)
                _burn_debt(m, jc, borrower, j, full, 0, True, deficit)
    m.reserves[debt_i].cash += actual
    return LiquidationResult(actual, seized, fee, deficit)


def _burn_debt(
    m: AaveMarket,
    c: ReserveCache,
    borrower: str,
    i: int,
    user_debt: int,
    actual: int,
    no_coll_left: bool,
    deficit: dict[int, int],
) -> None:
    """v3.0 ``_burnDebtTokens`` + rate update; v3.6 ``_burnDebtTokens`` with deficit booking."""
    u = m.user(borrower)
    if m.v36:
        none_left = True
        if user_debt != 0:
            amount = user_debt if no_coll_left else actual
            none_left = m._burn_v(u, i, am.v_burn_scaled("3.6", amount, c.next_variable_index))
            c.next_scaled_debt = m.reserves[i].scaled_v_supply
        if no_coll_left and user_debt - actual:
            m.reserves[i].deficit += user_debt - actual
            deficit[i] = deficit.get(i, 0) + user_debt - actual
        if none_left:
            u.borrowing[i] = False
    else:
        m._burn_v(u, i, am.v_burn_scaled("3.0", actual, c.next_variable_index))
        c.next_scaled_debt = m.reserves[i].scaled_v_supply
    m.update_rates(i, c, actual, 0)


# ---------------------------------------------------------------- closed forms (float)
def repay_to_restore_hf(
    collateral: float, debt: float, liquidation_threshold: float, bonus: float
) -> float:
    """Debt to repay so that HF returns to exactly 1: ``(D - LT·C)/(1 - LT·(1+b))``.

    Repaying ``r`` seizes ``r(1+b)`` of collateral (same units), so
    ``LT·(C - r(1+b)) = D - r``. Valid when ``LT·(1+b) < 1`` (otherwise no repay restores HF).
    ``bonus`` is ``b`` (0.05 for a stored 10500).
    """
    denom = 1.0 - liquidation_threshold * (1.0 + bonus)
    if denom <= 0:
        raise ValueError("LT·(1+b) ≥ 1: liquidation cannot restore HF = 1")
    return (debt - liquidation_threshold * collateral) / denom


def is_toxic(loan_to_value: float, bonus: float) -> bool:
    """Warmuz et al. (arXiv 2212.07306): a liquidation raises LTV iff ``LTV > 1/(1+b)``."""
    return loan_to_value > 1.0 / (1.0 + bonus)

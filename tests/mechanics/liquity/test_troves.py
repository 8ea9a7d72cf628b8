"""Liquity v1 troves.

No bytecode for Liquity is available on the registries; vectors here are derived by hand from
liquity/dev packages/contracts/contracts/TroveManager.sol, Dependencies/LiquityMath.sol and
Dependencies/LiquityBase.sol (commit 39f1f7f), plus BorrowerOperations.openTrove for the fee and
StabilityPool.getMaxAmountToOffset (1 LUSD left in the pool). Each test names the functions whose
lines were evaluated by hand; the rest are closed forms and hypothesis properties.
"""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lendscope.mechanics.liquity.troves import (
    BORROWING_FEE_FLOOR,
    CCR,
    DECIMAL_PRECISION,
    LUSD_GAS_COMPENSATION,
    MCR,
    MINUTE_DECAY_FACTOR,
    LiquityRevert,
    TroveManager,
    compute_cr,
    dec_mul,
    dec_pow,
)

E = 10**18


def book(sp: int = 0) -> TroveManager:
    """A: 100 ETH / 10,000 LUSD, B: 20 ETH / 2,000, C: 12 ETH / 1,800, opened at ETH = 200.

    openTrove: fee = 0.5% floor (baseRate 0); composite debt = amount + fee + 200:
    A 10,250, B 2,210, C 2,009.
    """
    tm = TroveManager(sp_deposits=sp)
    for owner, coll, amount in (("A", 100, 10_000), ("B", 20, 2_000), ("C", 12, 1_800)):
        tm.open_trove(owner, coll * E, amount * E, price=200 * E, now=0)
    return tm


def test_dec_pow_by_hand():
    """LiquityMath._decPow(1.5e18, 3): n odd -> y = 1.5, x = 2.25, n = 1; decMul(2.25, 1.5)."""
    assert dec_pow(15 * 10**17, 3) == 3375 * 10**15
    assert dec_pow(MINUTE_DECAY_FACTOR, 0) == E
    assert dec_pow(MINUTE_DECAY_FACTOR, 1) == MINUTE_DECAY_FACTOR
    assert dec_mul(1, E // 2) == 1  # half up: (0.5e18 + 0.5e18) / 1e18
    assert dec_pow(MINUTE_DECAY_FACTOR, 10**12) == dec_pow(MINUTE_DECAY_FACTOR, 525_600_000)


def test_half_life_is_twelve_hours():
    """MINUTE_DECAY_FACTOR = (1/2)^(1/720): 720 minutes halve the base rate."""
    assert dec_pow(MINUTE_DECAY_FACTOR, 720) == pytest.approx(E / 2, rel=1e-9)


@given(st.integers(9 * 10**17, E), st.integers(0, 100_000))
def test_dec_pow_closed_form(base, minutes):
    expected = E * math.exp(minutes * math.log(base / E))
    assert dec_pow(base, minutes) == pytest.approx(expected, rel=1e-9, abs=1e4)


def test_open_trove_fee_icr_and_tcr_by_hand():
    """openTrove: debts 10,250 / 2,210 / 2,009; ICR = coll * price / debt; TCR over the pools."""
    tm = book()
    assert [tm.troves[o].debt for o in "ABC"] == [10_250 * E, 2_210 * E, 2_009 * E]
    assert tm.current_icr("C", 200 * E) == 12 * E * 200 * E // (2_009 * E)
    assert tm.tcr(200 * E) == 132 * E * 200 * E // (14_469 * E)
    assert not tm.recovery_mode(200 * E)
    assert tm.active() == ["C", "B", "A"]  # lowest ICR first
    with pytest.raises(LiquityRevert, match="net debt"):
        tm.open_trove("D", 100 * E, 1_790 * E, price=200 * E, now=0)  # 1790 + 8.95 < 1800
    with pytest.raises(LiquityRevert, match="ICR < MCR"):
        tm.open_trove("D", 11 * E, 2_000 * E, price=200 * E, now=0)


def test_normal_mode_liquidation_offset_then_redistribution_by_hand():
    """_liquidateNormalMode + _getOffsetAndRedistributionVals + _redistributeDebtAndColl.

    ETH 180: C's ICR = 2160 / 2009 < 1.1. Gas comp = 12 / 200 = 0.06 ETH; 11.94 ETH liquidated.
    SP holds 1001 LUSD -> 1000 for offsets: debtToOffset = 1000, collToSP = 11.94e18 * 1000 / 2009
    = 5_943_255_350_920_856_147; redistribute 1009 LUSD and 5_996_744_649_079_143_853 wei over
    stakes 120 ETH: L_ETH += 49_972_872_075_659_532, L_LUSDDebt += 8_408_333_333_333_333_333.
    """
    tm = book(sp=1_001 * E)
    with pytest.raises(LiquityRevert, match="nothing to liquidate"):
        tm.batch_liquidate(["A", "B", "C"], price=200 * E)
    t = tm.batch_liquidate(["A", "B", "C"], price=180 * E)
    assert t.coll_gas_compensation == 6 * 10**16 and t.lusd_gas_compensation == 200 * E
    assert (t.debt_to_offset, t.coll_to_sp) == (1_000 * E, 5_943_255_350_920_856_147)
    assert t.debt_to_redistribute == 1_009 * E
    assert t.coll_to_redistribute == 5_996_744_649_079_143_853
    assert (tm.L_ETH, tm.L_LUSDDebt) == (49_972_872_075_659_532, 8_408_333_333_333_333_333)
    assert (tm.err_eth, tm.err_debt) == (13 * E, 40 * E)
    _, _, pd, pe = tm.entire_debt_and_coll("A")
    assert (pd, pe) == (840_833_333_333_333_333_300, 4_997_287_207_565_953_200)
    assert tm.sp_deposits == E and tm.sp_eth == 5_943_255_350_920_856_147
    assert tm.troves["C"].status == "closedByLiquidation"


def test_recovery_mode_capped_offset_by_hand():
    """_liquidateRecoveryMode, case MCR <= ICR < TCR with SP covering the debt.

    B: 30 ETH / 3,215 debt, A: 15 ETH / 2,210. At ETH 165: TCR = 7425 / 5425 = 1.369 < CCR;
    ICR(A) = 2475 / 2210 = 1.1199. _getCappedOffsetVals: capped = 2210e18 * 1.1e18 / 165e18 =
    14_733_333_333_333_333_333; gas comp = capped / 200 = 73_666_666_666_666_666;
    collToSP = 14_659_666_666_666_666_667; surplus = 15e18 - capped = 266_666_666_666_666_667.
    """
    tm = TroveManager(sp_deposits=5_001 * E)
    tm.open_trove("B", 30 * E, 3_000 * E, price=200 * E, now=0)
    tm.open_trove("A", 15 * E, 2_000 * E, price=200 * E, now=0)
    assert tm.recovery_mode(165 * E) and MCR <= tm.current_icr("A", 165 * E) < CCR
    t = tm.batch_liquidate(["A", "B"], price=165 * E)
    assert t.debt_to_offset == 2_210 * E and t.debt_to_redistribute == 0
    assert t.coll_gas_compensation == 73_666_666_666_666_666
    assert t.coll_to_sp == 14_659_666_666_666_666_667
    assert t.coll_surplus == tm.coll_surplus["A"] == 266_666_666_666_666_667
    assert tm.troves["B"].status == "active"  # ICR 1.54 >= TCR: left alone; last trove anyway


def test_recovery_mode_below_100pct_redistributes_everything():
    tm = TroveManager(sp_deposits=10**6 * E)
    tm.open_trove("B", 30 * E, 3_000 * E, price=200 * E, now=0)
    tm.open_trove("A", 15 * E, 2_000 * E, price=200 * E, now=0)
    t = tm.batch_liquidate(["A"], price=140 * E)  # ICR(A) = 2100 / 2210 < 1
    assert t.debt_to_offset == 0 and t.debt_to_redistribute == 2_210 * E
    assert t.coll_to_redistribute == 15 * E - 15 * E // 200


def test_redemption_ordering_fee_and_base_rate_by_hand():
    """redeemCollateral at ETH 200, lowest ICR >= MCR first (C, then B).

    C: lot = 2009 - 200 = 1809 LUSD for 1809e18 * 1e18 / 200e18 = 9.045 ETH; C closes, its
    2.955 ETH goes to the surplus pool. B's partial would leave net debt 2010 - 1000 < 1800:
    cancelledPartial stops the loop. _updateBaseRateFromRedemption: fraction = 9.045e18 * 200e18 /
    14469e18 = 125_025_917_478_747_667; baseRate = fraction / 2 = 62_512_958_739_373_833;
    fee = (0.005e18 + baseRate) * 9.045e18 / 1e18 = 610_654_711_797_636_319.
    """
    tm = book()
    with pytest.raises(LiquityRevert, match="Unable to redeem"):
        tm.redeem_collateral(1_000 * E, price=200 * E, now=0)  # C alone would be left < min
    r = tm.redeem_collateral(2_809 * E, price=200 * E, now=0)
    assert r.troves == ["C"] and r.lusd_redeemed == 1_809 * E
    assert r.eth_drawn == 9_045 * 10**15
    assert r.base_rate == 62_512_958_739_373_833 == tm.base_rate
    assert r.eth_fee == 610_654_711_797_636_319
    assert tm.coll_surplus["C"] == 2_955 * 10**15
    assert tm.active_debt == 14_469 * E - 1_809 * E - LUSD_GAS_COMPENSATION


def test_base_rate_decay_and_minute_granularity():
    """_calcDecayedBaseRate uses whole minutes; _updateLastFeeOpTime moves only after >= 60 s."""
    tm = book()
    tm.base_rate, tm.last_fee_op_time = E // 10, 1_000
    assert tm.decayed_base_rate(1_059) == E // 10
    assert tm.decayed_base_rate(1_060) == E // 10 * MINUTE_DECAY_FACTOR // E
    assert tm.decayed_base_rate(1_000 + 720 * 60) == pytest.approx(E / 20, rel=1e-9)
    tm._touch_fee_time(1_030)
    assert tm.last_fee_op_time == 1_000


def coll_for(icr_pct: int, amount: int) -> int:
    """Collateral (wei) for a trove drawing ``amount`` LUSD at ``icr_pct``% ICR at ETH = 200.

    openTrove's composite debt: amount + 0.5% fee (baseRate stays 0) + 200 LUSD gas reserve.
    """
    debt = amount * E + amount * BORROWING_FEE_FLOOR + LUSD_GAS_COMPENSATION
    return icr_pct * debt // (100 * 200) + 1


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(111, 300), st.integers(1_800, 20_000)), min_size=3, max_size=12),
    st.integers(0, 30_000),
    st.data(),
)
def test_liquidation_conserves_collateral_and_debt(troves, sp, data):
    """Troves opened at ICR 111-300% (safest first, so TCR stays >= CCR), then a price drop.

    The price is drawn below the riskiest open trove's liquidation price, so a liquidation
    happens; the few draws where the batch still reverts are rejected.
    """
    tm = TroveManager(sp_deposits=sp * E)
    for i, (icr, amount) in enumerate(sorted(troves, reverse=True)):
        with contextlib.suppress(LiquityRevert):  # a late low-ICR trove may still break CCR
            tm.open_trove(f"t{i}", coll_for(icr, amount), amount * E, price=200 * E, now=0)
    owners = list(tm.troves)
    assume(len(owners) >= 2)  # Liquity never liquidates the last trove
    riskiest = tm.troves[tm.active()[0]]  # lowest nominal ICR: ICR < MCR iff 10 C p < 11 D
    top = (11 * riskiest.debt - 1) // (10 * riskiest.coll)
    price = data.draw(st.integers(90, max(90, top)), label="price")
    coll0 = tm.active_coll + tm.default_coll
    debt0 = tm.active_debt + tm.default_debt
    try:
        t = tm.batch_liquidate(owners, price=price * E)
    except LiquityRevert:
        assume(False)  # nothing liquidatable, or it would close the last trove
    assert t.debt_to_offset + t.debt_to_redistribute == t.entire_debt
    assert (
        tm.active_coll
        + tm.default_coll
        + tm.sp_eth
        + t.coll_gas_compensation
        + sum(tm.coll_surplus.values())
        == coll0
    )
    assert tm.active_debt + tm.default_debt + t.debt_to_offset == debt0
    # pending rewards never exceed what was redistributed (floor + error feedback)
    pend = [tm.entire_debt_and_coll(o)[2:] for o in owners if tm.troves[o].status == "active"]
    assert sum(p[0] for p in pend) <= tm.default_debt
    assert sum(p[1] for p in pend) <= tm.default_coll
    assert tm.default_debt - sum(p[0] for p in pend) <= tm.total_stakes // E + len(pend) + 1


@given(st.integers(1, 10**30), st.integers(1, 10**30), st.integers(1, 10**24))
def test_compute_cr_matches_definition(coll, debt, price):
    assert compute_cr(coll, debt, price) == coll * price // debt
    assert compute_cr(coll, 0, price) == 2**256 - 1
    assert DECIMAL_PRECISION == E

"""Morpho Blue port: closed forms, the notes' on-chain vector, rounding, reverts, NumPy twins."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.fixed import UINT256_MAX, WAD
from lendscope.mechanics.morpho_blue import (
    Market,
    MarketParams,
    MorphoBlue,
    MorphoRevert,
    Position,
    full_liquidation,
    full_liquidation_np,
    health_factor,
    health_factor_np,
    liquidation_amounts,
    liquidation_incentive_factor,
    seized_for_repaid_shares_np,
    w_div_down,
    w_taylor_compounded,
)
from lendscope.mechanics.morpho_irm import (
    INITIAL_RATE_AT_TARGET,
    LN_2_INT,
    MAX_RATE_AT_TARGET,
    MIN_RATE_AT_TARGET,
    TARGET_UTILIZATION,
    AdaptiveCurveIrm,
    borrow_rate_from_utilization,
    w_exp,
)

LLTV = 86 * 10**16
DAY = 86400


def irm_mock(market: Market, now: int) -> int:
    """``IrmMock.borrowRateView`` (morpho-blue 1.0.0 src/mocks): utilization / 365 days."""
    if market.total_supply_assets == 0:
        return 0
    return w_div_down(market.total_borrow_assets, market.total_supply_assets) // (365 * DAY)


def new_market(irm=irm_mock, fee: int = 0, lltv: int = LLTV, t0: int = 1_000) -> MorphoBlue:
    mb = MorphoBlue.create(MarketParams("L", "C", "O", "I", lltv), t0, irm, fee_recipient="F")
    if fee:
        mb.set_fee(t0, fee)
    return mb


# ------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("lltv", [0.385, 0.5, 0.625, 0.77, 0.86, 0.915, 0.945, 0.965, 0.98])
def test_lif_closed_form(lltv: float) -> None:
    exact = liquidation_incentive_factor(round(lltv * 1e18)) / 1e18
    assert exact == pytest.approx(min(1.15, 1 / (1 - 0.3 * (1 - lltv))), rel=1e-15)


def test_lif_known_values() -> None:
    assert liquidation_incentive_factor(LLTV) == 1043841336116910229  # chain and blue-sdk
    assert liquidation_incentive_factor(385 * 10**15) == 115 * 10**16  # capped
    assert round(liquidation_incentive_factor(77 * 10**16) / 1e14) == 10741  # risk.md §1.6


def test_w_taylor_compounded_vector() -> None:
    # local-evm.md Appendix G: IrmMock rate at 800/1e6 utilization, 30 days.
    rate = 800 * WAD * WAD // (10**6 * WAD) // (365 * DAY)
    assert rate == 25367833
    assert w_taylor_compounded(rate, 30 * DAY) == 65755584939707


def test_known_chain_vector() -> None:
    """local-evm.md §3.1 scenario (real Morpho on anvil), reproduced wei for wei."""
    mb = new_market(fee=10**17)
    t = 1_001
    mb.supply(t, 10**6 * WAD, 0, "S")
    mb.supply_collateral(t + 1, 1000 * WAD, "B")
    mb.borrow(t + 2, 800 * WAD, 0, "B")
    mb.accrue_interest(t + 2 + 30 * DAY)
    assert mb.market.total_borrow_assets == 800052604467951765600
    assert mb.position("F").supply_shares == 5260446546125867427111
    mb.price = 9 * 10**35
    assert not mb._healthy("B")
    res = mb.liquidate(t + 3 + 30 * DAY, "B", 100 * WAD, 0)
    assert res.repaid_assets == 86220000000000000055
    assert res.seized_assets == 100 * WAD and res.bad_debt_assets == 0


# ------------------------------------------------------------------------- share rounding


def _book(seed_assets: int, borrow_bps: int, days: int) -> MorphoBlue:
    """A market with interest accrued, so that share prices are not round."""
    mb = new_market(fee=10**17)
    mb.supply(1_000, seed_assets, 0, "S0")
    mb.supply_collateral(1_000, 10**38, "B0")
    mb.borrow(1_000, max(seed_assets * borrow_bps // 10_000, 1), 0, "B0")
    mb.accrue_interest(1_000 + days * DAY)
    return mb


books = st.builds(_book, st.integers(10**6, 10**30), st.integers(1, 9_000), st.integers(0, 3650))


@settings(max_examples=200, deadline=None)
@given(mb=books, assets=st.integers(1, 10**30), by_shares=st.booleans())
def test_no_free_value_supply_withdraw(mb: MorphoBlue, assets: int, by_shares: bool) -> None:
    now = mb.market.last_update
    if by_shares:
        paid, shares = mb.supply(now, 0, assets, "U")
    else:
        paid, shares = mb.supply(now, assets, 0, "U")
    if shares == 0:
        return
    got, burnt = mb.withdraw(now, 0, shares, "U")
    assert burnt == shares and got <= paid


@settings(max_examples=200, deadline=None)
@given(mb=books, bps=st.integers(1, 10_000))
def test_no_free_value_borrow_repay(mb: MorphoBlue, bps: int) -> None:
    now = mb.market.last_update
    m = mb.market
    amount = max((m.total_supply_assets - m.total_borrow_assets) * bps // 10_000, 1)
    mb.supply_collateral(now, 10**38, "U")
    got, shares = mb.borrow(now, amount, 0, "U")
    paid, _ = mb.repay(now, 0, shares, "U")
    assert got == amount and paid >= got


# ------------------------------------------------------------------------- reverts


def test_reverts_leave_state_untouched() -> None:
    mb = _book(10**24, 5_000, 30)
    snap = (replace(mb.market), {u: replace(p) for u, p in mb.positions.items()})
    held = mb.position("F")  # references stay valid across a revert
    now = mb.market.last_update + DAY
    for call, reason in [
        (lambda: mb.borrow(now, WAD, 0, "nobody"), "insufficient collateral"),
        (lambda: mb.supply(now, 1, 1, "U"), "inconsistent input"),
        (lambda: mb.withdraw(now, 10**30, 0, "S0"), "arithmetic underflow or overflow"),
        (lambda: mb.liquidate(now, "B0", 1, 0), "position is healthy"),
        (lambda: mb.supply_collateral(now, 0, "U"), "zero assets"),
        (lambda: mb.set_fee(now, 3 * 10**17), "max fee exceeded"),
    ]:
        with pytest.raises(MorphoRevert) as e:
            call()
        assert e.value.reason == reason
        assert mb.market == snap[0] and mb.positions == snap[1]
        assert held is mb.position("F")


def test_withdraw_beyond_liquidity_reverts() -> None:
    mb = _book(10**24, 9_000, 0)
    with pytest.raises(MorphoRevert, match="insufficient liquidity"):
        mb.withdraw(mb.market.last_update, 2 * 10**23, 0, "S0")


def test_bad_debt_socialised() -> None:
    mb = new_market()
    mb.supply(1_000, 10**6 * WAD, 0, "S")
    mb.supply_collateral(1_000, 1000 * WAD, "B")
    mb.borrow(1_000, 800 * WAD, 0, "B")
    mb.price = 5 * 10**35  # collateral now worth 500 < 800 debt
    tsa = mb.market.total_supply_assets
    res = mb.liquidate(1_000, "B", 1000 * WAD, 0)
    p = mb.position("B")
    assert p.collateral == 0 and p.borrow_shares == 0 and res.bad_debt_assets > 0
    assert mb.market.total_borrow_shares == 0 and mb.market.total_borrow_assets == 0
    assert mb.market.total_supply_assets == tsa - res.bad_debt_assets
    assert res.repaid_assets + res.bad_debt_assets == 800 * WAD


# ------------------------------------------------------------------------- AdaptiveCurveIrm


def test_w_exp_anchors() -> None:
    assert w_exp(0) == WAD
    assert abs(w_exp(LN_2_INT) - 2 * WAD) <= 2
    assert w_exp(-(10**30)) == 0
    for x in (-5 * WAD, -WAD // 3, WAD // 7, 3 * WAD, 20 * WAD):
        # 2nd-order Taylor on |r| <= ln2/2: at most ~0.7% off e^x (ExpLib accepts that)
        assert w_exp(x) / 1e18 == pytest.approx(np.exp(x / 1e18), rel=8e-3)


def test_irm_curve_shape() -> None:
    r = INITIAL_RATE_AT_TARGET
    assert borrow_rate_from_utilization(TARGET_UTILIZATION, r, 0) == (r, r)
    assert borrow_rate_from_utilization(WAD, r, 0)[0] == 4 * r  # CURVE_STEEPNESS
    assert borrow_rate_from_utilization(0, r, 0)[0] == r // 4
    assert borrow_rate_from_utilization(5 * 10**17, 0, 999) == (
        borrow_rate_from_utilization(5 * 10**17, r, 0)[0],
        r,
    )  # first interaction
    up = borrow_rate_from_utilization(WAD, r, 30 * DAY)[1]
    down = borrow_rate_from_utilization(0, r, 30 * DAY)[1]
    assert down < r < up
    assert borrow_rate_from_utilization(WAD, r, 100 * 365 * DAY)[1] == MAX_RATE_AT_TARGET
    assert borrow_rate_from_utilization(0, r, 100 * 365 * DAY)[1] == MIN_RATE_AT_TARGET


def test_irm_state_in_market_and_rollback() -> None:
    irm = AdaptiveCurveIrm()
    mb = new_market(irm=irm)
    assert irm.rate_at_target == INITIAL_RATE_AT_TARGET  # createMarket initialises it
    mb.supply(1_000, 100 * WAD, 0, "S")
    mb.supply_collateral(1_000, 10**6 * WAD, "B")
    mb.borrow(1_000, 95 * WAD, 0, "B")
    mb.accrue_interest(1_000 + 10 * DAY)
    rat = irm.rate_at_target
    assert rat > INITIAL_RATE_AT_TARGET  # 95% > 90% target: the curve moves up
    with pytest.raises(MorphoRevert):
        mb.borrow(1_000 + 20 * DAY, 10**9 * WAD, 0, "B")
    assert irm.rate_at_target == rat and mb.market.last_update == 1_000 + 10 * DAY


# ------------------------------------------------------------------------- NumPy twins


def random_book(seed: int, n: int = 2_000):
    rng = np.random.default_rng(seed)
    tba = int(10 ** rng.uniform(20, 27))
    tbs = tba * int(rng.uniform(1.0, 1.5) * 10**6)
    m = Market(tba * 2, tbs * 2, tba, tbs, 0, 0)
    price = int(10 ** rng.uniform(33, 39))
    lltv = int(rng.choice([385, 625, 770, 860, 915, 945, 980])) * 10**15
    shares = [int(tbs * f) for f in 10 ** rng.uniform(-6, -1, n)]
    hf = rng.uniform(0.2, 2.0, n)
    # collateral so that the health factor is roughly ``hf``.
    coll = [
        max(int(s * (tba / tbs) * h / (lltv / 1e18) * 1e36 / price), 1)
        for s, h in zip(shares, hf, strict=True)
    ]
    return m, price, lltv, shares, coll


@pytest.mark.parametrize("seed", range(5))
def test_numpy_twins_match_exact(seed: int) -> None:
    m, price, lltv, shares, coll = random_book(seed)
    tba, tbs = m.total_borrow_assets, m.total_borrow_shares
    hf_np = health_factor_np(coll, shares, tba, tbs, price, lltv)
    seized_np = seized_for_repaid_shares_np(shares, tba, tbs, price, lltv)
    s_np, r_np, bd_np = full_liquidation_np(coll, shares, tba, tbs, price, lltv)
    n_bad = 0
    for k, (s, c) in enumerate(zip(shares, coll, strict=True)):
        p = Position(0, s, c)
        hf = health_factor(p, m, lltv, price)
        assert hf != UINT256_MAX
        assert hf_np[k] == pytest.approx(hf / 1e18, rel=1e-9)
        assert seized_np[k] == pytest.approx(liquidation_amounts(m, lltv, price, 0, s)[0], rel=1e-9)
        res = full_liquidation(p, m, lltv, price)
        debt = s * (tba + 1) / (tbs + 10**6)
        scale_c, scale_d = max(c, 1), max(debt, 1)  # bad debt cancels: compare on the debt scale
        assert abs(s_np[k] - res.seized_assets) <= 1e-9 * scale_c
        assert abs(r_np[k] - res.repaid_assets) <= 1e-9 * scale_d
        assert abs(bd_np[k] - res.bad_debt_assets) <= 1e-9 * scale_d
        n_bad += res.bad_debt_assets > 0
    assert 0 < n_bad < len(shares)  # both branches exercised
    assert np.isinf(health_factor_np([1], [0], tba, tbs, price, lltv)[0])

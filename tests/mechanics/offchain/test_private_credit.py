"""On-chain private-credit pool: share accounting, loss waterfall, withdrawal queue, twins."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.offchain.decimal_math import EXACT
from lendscope.mechanics.offchain.private_credit import (
    CreditState,
    PrivateCreditPool,
    share_price_after_loss,
)
from lendscope.mechanics.offchain.twin import lender_loss_vec, share_price_after_loss_vec

TIGHT = D("1e-40")


@pytest.fixture(autouse=True)
def _exact_context():
    with localcontext(EXACT):
        yield


def funded_pool() -> PrivateCreditPool:
    # sponsor posts 100,000 first-loss cover; A deposits 1,000,000 at price 1
    pool = PrivateCreditPool(first_loss_cover=100_000)
    assert pool.deposit("A", 1_000_000) == 1_000_000
    pool.fund_loan("acme", 800_000, "0.10", 365)
    pool.advance(73)  # 800,000 * 0.10 * 73/365 = 16,000 of interest
    # NAV = 200,000 cash + 816,000 loan = 1,016,000; price 1.016
    assert pool.nav == 1_016_000 and pool.share_price == D("1.016")
    # B buys at 1.016: 508,000 / 1.016 = 500,000 shares
    assert pool.deposit("B", 508_000) == 500_000
    assert pool.nav == 1_524_000 and pool.total_shares == 1_500_000
    return pool


def test_loss_beyond_cover_hits_share_price():
    pool = funded_pool()
    # mark 816,000 down to 616,000: loss 200,000, cover takes 100,000, lenders 100,000
    change = pool.impair("acme", 616_000)
    assert change == -100_000
    assert pool.cover_free == 0 and pool.cover == 100_000  # committed, not yet paid
    # price = (1,524,000 - 100,000) / 1,500,000; falls by (loss - cover)/shares
    assert pool.share_price == share_price_after_loss(1_524_000, 1_500_000, 100_000, 200_000)
    assert abs(D("1.016") - pool.share_price - D(100_000) / 1_500_000) < TIGHT
    assert pool.loans["acme"].state is CreditState.IMPAIRED


def test_cover_absorbs_first_then_recovery_reverses_lenders_first():
    pool = funded_pool()
    assert pool.impair("acme", 766_000) == 0  # 50,000 loss, all within cover
    assert pool.share_price == D("1.016") and pool.cover_free == 50_000
    assert pool.default("acme", 616_000) == -100_000  # 150,000 more: 50,000 cover, 100,000 lenders
    assert pool.loans["acme"].state is CreditState.DEFAULTED
    # re-mark up 100,000: lenders are made whole first, cover stays committed
    assert pool.impair("acme", 716_000) == 100_000
    assert pool.share_price == D("1.016") and pool.cover_free == 0
    # next 50,000 goes back to the cover; lender NAV does not move
    assert pool.impair("acme", 766_000) == 0 and pool.cover_free == 50_000
    pool.advance(30)  # impaired loans do not accrue
    assert pool.loans["acme"].carrying == 766_000


def test_write_down_then_late_recovery():
    pool = funded_pool()
    pool.default("acme", 616_000)
    # write down for 500,000 cash: a further 116,000 loss, cover already used up
    assert pool.write_down("acme", 500_000) == -116_000
    # cash: 200,000 + 508,000 + 500,000 recovered + 100,000 cover paid in = 1,308,000
    assert pool.cash == 1_308_000 and pool.nav == 1_308_000 and pool.cover == 0
    loan = pool.loans["acme"]
    assert (loan.state, loan.lender_loss, loan.cover_used) == (
        CreditState.WRITTEN_OFF,
        216_000,
        100_000,
    )
    # 250,000 arrives later: 216,000 restores lenders, 34,000 refunds the sponsor
    assert pool.recover("acme", 250_000) == 216_000
    assert pool.nav == 1_524_000 and pool.cover == 34_000 and pool.share_price == D("1.016")


def test_repayment_interest_first_then_principal():
    pool = funded_pool()
    pool.repay("acme", 20_000)  # 16,000 interest + 4,000 principal
    loan = pool.loans["acme"]
    assert (loan.interest, loan.principal) == (0, 796_000)
    pool.repay("acme", 796_000)
    assert loan.state is CreditState.REPAID and pool.cash == 1_524_000 == pool.nav


def test_withdrawals_are_limited_by_idle_liquidity():
    pool = PrivateCreditPool()
    pool.deposit("A", 1_000_000)
    pool.deposit("B", 500_000)
    pool.fund_loan("acme", 1_300_000, "0.10", 365)  # 200,000 idle
    pool.request_withdrawal("A", 150_000)
    pool.request_withdrawal("B", 100_000)
    paid = pool.process_withdrawals()
    # A is paid in full, B gets the remaining 50,000 and keeps 50,000 shares queued
    assert [(r.lender, r.shares, r.amount) for r in paid] == [
        ("A", 150_000, 150_000),
        ("B", 50_000, 50_000),
    ]
    assert pool.cash == 0 and list(pool.queue) == [("B", 50_000)]
    assert pool.process_withdrawals() == []
    pool.repay("acme", 100_000)
    assert [r.amount for r in pool.process_withdrawals()] == [50_000]
    assert not pool.queue and pool.share_price == 1


def test_partial_fill_rounds_down_and_keeps_price():
    pool = PrivateCreditPool(asset_quantum="0.01")
    pool.deposit("A", 1_000)
    pool.fund_loan("x", 700, "0.12", 30)
    pool.advance(10)  # interest 700 * 0.12 * 10/365 = 2.3013...
    price = pool.share_price
    pool.request_withdrawal("A", 500)
    (r,) = pool.process_withdrawals()
    assert r.amount <= 300 and r.shares * price >= r.amount
    assert pool.share_price >= price  # rounding dust stays with remaining lenders


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.deposit("A", -5), "amount must be > 0"),
        (lambda p: p.fund_loan("z", 2_000_000, "0.1", 30), "exceeds idle liquidity"),
        (lambda p: p.fund_loan("z", 1, "-0.1", 30), "apr must be >= 0"),
        (lambda p: p.fund_loan("z", 1, "0.1", 0), "term_days must be > 0"),
        (lambda p: p.fund_loan("acme", 1, "0.1", 30), "already has an open loan"),
        (lambda p: p.request_withdrawal("A", 2_000_000), "exceed A's unqueued balance"),
        (lambda p: p.impair("nobody", 0), "unknown borrower"),
        (lambda p: p.impair("acme", 900_000), "recovery_estimate .* exceeds outstanding"),
        (lambda p: p.impair("acme", -1), "recovery_estimate must be >= 0"),
        (lambda p: p.recover("acme", 1), "expected one of"),
        (lambda p: p.repay("acme", 10**9), "exceeds outstanding"),
        (lambda p: p.advance(-1), "days must be >= 0"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call(funded_pool())


def test_repay_requires_performing_loan():
    pool = funded_pool()
    pool.impair("acme", 500_000)
    with pytest.raises(ValueError, match="impaired"):
        pool.repay("acme", 1)


# ---- properties --------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=1_000_000, places=2)


@given(money, st.lists(money, min_size=1, max_size=8), money)
def test_waterfall_depends_only_on_net_loss(cover, marks, final_cash):
    pool = PrivateCreditPool(first_loss_cover=cover)
    pool.deposit("A", 1_000_000)
    pool.fund_loan("x", 1_000_000, 0, 365)
    for m in marks:  # any path of marks down and up
        pool.impair("x", m)
    loan = pool.loans["x"]
    net = 1_000_000 - marks[-1]
    assert loan.cover_used == min(net, cover)
    assert loan.lender_loss == max(0, net - cover)
    assert pool.nav == 1_000_000 - loan.lender_loss
    # and after write-down plus any late recovery the split is the waterfall of the net loss
    written = min(final_cash, marks[-1])
    pool.write_down("x", written)
    if final_cash > 0:
        pool.recover("x", final_cash)
    recovered = written + final_cash
    net = max(0, 1_000_000 - recovered)
    assert loan.lender_loss == max(0, net - cover)
    assert loan.cover_used == min(net, cover) and pool.cover == cover - loan.cover_used
    assert pool.cash + pool.cover == cover + recovered  # no value created or lost


@given(st.lists(st.tuples(st.sampled_from("ABC"), money.filter(lambda x: x > 0)), max_size=10))
def test_deposits_never_dilute(deposits):
    pool = PrivateCreditPool(first_loss_cover=1_000)
    pool.deposit("seed", 10_000)
    pool.fund_loan("x", 9_000, "0.15", 90)
    pool.advance(17)
    price = pool.share_price
    for lender, amount in deposits:
        pool.deposit(lender, amount)
        assert pool.share_price >= price  # minted shares round down
        assert pool.share_price - price < D("1e-17")
        price = pool.share_price


# ---- float64 twins -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_share_price_twin_matches_pool(seed):
    rng = np.random.default_rng(seed)
    n = 40
    cover = rng.uniform(0, 2e5, n)
    deposit = rng.lognormal(13, 1, n)
    frac = rng.uniform(0.1, 1.0, n)
    apr, t = rng.uniform(0, 0.2, n), rng.uniform(0, 300, n)
    recovery = rng.uniform(0, 1, n)
    navs, shares, free, losses, exact_prices = [], [], [], [], []
    for i in range(n):
        pool = PrivateCreditPool(first_loss_cover=cover[i])
        pool.deposit("A", deposit[i])
        pool.fund_loan("x", deposit[i] * frac[i], apr[i], 365)
        pool.advance(t[i])
        navs.append(float(pool.nav))
        shares.append(float(pool.total_shares))
        free.append(float(pool.cover_free))
        carrying = pool.loans["x"].carrying
        loss = carrying - carrying * D(recovery[i])
        losses.append(float(loss))
        pool.impair("x", carrying - loss)
        exact_prices.append(pool.share_price)
    vec = share_price_after_loss_vec(navs, shares, free, losses)
    got = np.array([float(p) for p in exact_prices])
    assert np.all(np.abs(vec - got) <= 1e-9 * np.abs(got))
    exact_loss = [max(D(0), D(x) - D(c)) for x, c in zip(losses, free, strict=True)]
    scale = np.asarray(losses)
    assert np.all(
        np.abs(lender_loss_vec(losses, free) - [float(x) for x in exact_loss]) <= 1e-9 * scale
    )

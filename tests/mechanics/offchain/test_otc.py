"""OTC loans: hand examples, closed forms, properties, twins."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lendscope.mechanics.offchain.decimal_math import EXACT
from lendscope.mechanics.offchain.otc import Compounding, LoanStatus, LtvLadder, OtcLoan
from lendscope.mechanics.offchain.twin import (
    accrued_interest_vec,
    liquidation_vec,
    ltv_vec,
    partial_sale_vec,
    status_vec,
    top_up_vec,
)

LEDN = LtvLadder("0.5", "0.7", "0.8")  # Ledn: initial 50%, margin call 70%, forced sale 80%
TIGHT = D("1e-40")  # exact maths carries 50 digits; identities hold far below this


@pytest.fixture(autouse=True)
def _exact_context():
    """Test-side Decimal arithmetic (expected values) at the library's 50 digits."""
    with localcontext(EXACT):
        yield


def ledn_loan(**kw) -> OtcLoan:
    # $50,000 against 2 BTC, 12% APR, 12 months: LTV 50% at $50,000/BTC.
    args = dict(principal=50_000, apr="0.12", tenor_days=365, collateral_asset="BTC")
    args |= dict(collateral_amount=2, ladder=LEDN) | kw
    return OtcLoan(**args)


def assert_close(vec, exact, scale=None) -> None:
    """|vec - exact| <= 1e-9 * max(|exact|, scale): relative, with a floor for values near 0."""
    vec = np.asarray(vec, dtype=float)
    ex = np.asarray([float(x) for x in exact])
    floor = np.abs(ex) if scale is None else np.maximum(np.abs(ex), np.asarray(scale, float))
    assert np.all(np.abs(vec - ex) <= 1e-9 * floor), np.max(np.abs(vec - ex) / floor)


# ---- OTC: hand-computed ------------------------------------------------------------------------


def test_interest_simple_and_daily_compounding():
    loan = ledn_loan()
    # 50,000 * 0.12 * 73/365 = 50,000 * 0.12 * 0.2 = 1,200
    assert loan.accrued_interest(73) == 1200
    assert loan.debt(73) == 51_200
    daily = ledn_loan(compounding=Compounding.DAILY)
    # 50,000 * ((1 + 0.12/365)**365 - 1) = 50,000 * 0.1274746... = 6,373.73
    assert abs(daily.accrued_interest(365) - D("6373.7308")) < D("0.0001")
    # one day: daily compounding equals simple interest
    assert abs(daily.accrued_interest(1) - loan.accrued_interest(1)) < TIGHT


def test_ltv_and_status_along_the_ladder():
    loan = ledn_loan()
    assert loan.ltv(50_000) == D("0.5")  # 50,000 / (2 * 50,000)
    assert loan.status(50_000) is LoanStatus.HEALTHY
    # 50,000 / (2 * 35,000) = 0.714... >= 0.70
    assert loan.status(35_000) is LoanStatus.MARGIN_CALL
    # 50,000 / (2 * 31,250) = 0.80 exactly: the boundary is liquidation
    assert loan.ltv(31_250) == D("0.8")
    assert loan.status(31_250) is LoanStatus.LIQUIDATION
    assert loan.status(31_251) is LoanStatus.MARGIN_CALL
    assert loan.trigger_price(LEDN.liquidation) == 31_250  # 50,000 / (2 * 0.8)
    assert loan.trigger_price(LEDN.margin_call) * 2 * D("0.7") == 50_000


def test_top_up_restores_initial_ltv_exactly():
    loan = ledn_loan()
    # 50,000 / (0.5 * 35,000) - 2 = 2.857142... - 2 = 6/7 BTC
    x = loan.top_up(35_000)
    assert abs(x - D(6) / D(7)) < TIGHT
    assert abs(ledn_loan(collateral_amount=2 + x).ltv(35_000) - D("0.5")) < TIGHT
    # rounded up to a satoshi: 0.857142857... -> 0.85714286, LTV just below 50%
    sats = loan.top_up(35_000, quantum="1e-8")
    assert sats == D("0.85714286")
    assert ledn_loan(collateral_amount=2 + sats).ltv(35_000) <= D("0.5")
    assert ledn_loan(collateral_amount=2 + sats - D("1e-8")).ltv(35_000) > D("0.5")
    assert loan.top_up(60_000) == 0  # already below initial LTV


def test_partial_sale_hand_examples():
    loan = ledn_loan()
    # s = (D - L0*C*p) / (p*(1 - L0)) = (50,000 - 35,000) / (35,000 * 0.5) = 6/7 BTC
    sale = loan.partial_sale(35_000)
    assert abs(sale.collateral_sold - D(6) / 7) < TIGHT
    assert abs(sale.proceeds - 30_000) < TIGHT  # 6/7 * 35,000
    assert abs(sale.debt_after - 20_000) < TIGHT
    assert abs(sale.ltv_after - D("0.5")) < TIGHT  # 20,000 / (8/7 * 35,000)
    # 2% slippage: s = 15,000 / (35,000 * 0.48) = 25/28; proceeds 25/28 * 34,300 = 30,625
    sale = loan.partial_sale(35_000, slippage="0.02")
    assert abs(sale.collateral_sold - D(25) / 28) < TIGHT
    assert abs(sale.debt_after - 19_375) < TIGHT
    assert abs(sale.ltv_after - D("0.5")) < TIGHT  # 19,375 / (31/28 * 35,000) = 19,375 / 38,750
    assert loan.partial_sale(60_000).collateral_sold == 0


def test_partial_sale_that_cannot_cure_raises():
    loan = ledn_loan()
    with pytest.raises(ValueError, match="slippage"):  # 1 - 0.5 <= L0: each sale adds LTV
        loan.partial_sale(35_000, slippage="0.5")
    # at 20,000: s = 30,000 / (20,000 * 0.5) = 3 BTC > 2 BTC posted
    with pytest.raises(ValueError, match="liquidate"):
        loan.partial_sale(20_000)


def test_liquidation_gap_shortfall_and_surplus():
    loan = ledn_loan()
    # gapped from 31,250 to 20,000, 5% slippage: proceeds 2 * 20,000 * 0.95 = 38,000
    liq = loan.liquidate(20_000, slippage="0.05")
    assert (liq.proceeds, liq.recovered, liq.shortfall, liq.surplus) == (38_000, 38_000, 12_000, 0)
    assert liq.lgd == D("0.24")  # 12,000 / 50,000
    # above the trigger: 80,000 proceeds repay 50,000 and return 30,000
    liq = loan.liquidate(40_000)
    assert (liq.recovered, liq.shortfall, liq.surplus, liq.lgd) == (50_000, 0, 30_000, 0)
    assert loan.exposure(20_000, haircut="0.1") == 14_000  # 50,000 - 2 * 20,000 * 0.9


def test_unsecured_loan_is_flagged():
    loan = OtcLoan(principal=1_000_000, apr="0.08", tenor_days=90)
    assert loan.unsecured
    assert loan.status(1) is LoanStatus.UNSECURED
    assert loan.ltv(1) == D("Infinity")
    liq = loan.liquidate(1)
    assert liq.shortfall == loan.debt() and liq.lgd == 1
    with pytest.raises(ValueError, match="unsecured"):
        loan.top_up(1)
    assert not loan.is_matured(89) and loan.is_matured(90)
    assert not ledn_loan(tenor_days=None).is_matured(10_000)  # open-term


# ---- OTC: bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ladder", "message"),
    [
        (("0.7", "0.5", "0.8"), "initial LTV .* below margin-call LTV"),
        (("0.5", "0.8", "0.8"), "margin-call LTV .* below liquidation LTV"),
        (("0.5", "0.7", "1.2"), "liquidation LTV must be <= 1"),
        (("-0.1", "0.7", "0.8"), "initial LTV must be > 0"),
        (("0.5", "nan", "0.8"), "margin-call LTV must be finite"),
        (("0.5", "x", "0.8"), "margin-call LTV is not a number"),
    ],
)
def test_ladder_out_of_order(ladder, message):
    with pytest.raises(ValueError, match=message):
        LtvLadder(*ladder)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(principal=-1), "principal must be > 0"),
        (dict(apr=-0.01), "apr must be >= 0"),
        (dict(collateral_amount=-2), "collateral_amount must be >= 0"),
        (dict(tenor_days=0), "tenor_days must be > 0"),
        (dict(ladder=None), "ladder is required"),
        (dict(collateral_asset=None), "collateral_asset is required"),
    ],
)
def test_loan_bad_input(kw, message):
    with pytest.raises(ValueError, match=message):
        ledn_loan(**kw)


@pytest.mark.parametrize("price", [0, -5, "inf"])
def test_price_must_be_positive(price):
    loan = ledn_loan()
    for call in (loan.ltv, loan.status, loan.top_up, loan.partial_sale, loan.liquidate):
        with pytest.raises(ValueError, match="price must be"):
            call(price)
    with pytest.raises(TypeError, match="price must be a number"):
        loan.ltv(True)
    with pytest.raises(ValueError, match="slippage \\+ haircut must be <= 1"):
        loan.liquidate(1, slippage="0.6", haircut="0.6")


# ---- OTC: properties ---------------------------------------------------------------------------

amounts = st.decimals(min_value="0.01", max_value="1e9", places=2)


ltvs = st.decimals(min_value="0.05", max_value="0.95", places=4)


@st.composite
def loans(draw) -> OtcLoan:
    a, b, c = sorted(draw(st.lists(ltvs, min_size=3, max_size=3, unique=True)))
    return OtcLoan(
        principal=draw(amounts),
        apr=draw(st.decimals(min_value=0, max_value="0.5", places=4)),
        tenor_days=365,
        collateral_asset="ETH",
        collateral_amount=draw(st.decimals(min_value="0.001", max_value="1e6", places=6)),
        ladder=LtvLadder(a, b, c),
        compounding=draw(st.sampled_from(list(Compounding))),
    )


prices = st.decimals(min_value="0.01", max_value="1e6", places=2)


days = st.integers(0, 730)


@given(loans(), prices, days)
def test_top_up_property(loan, price, t):
    x = loan.top_up(price, t)
    ltv_after = OtcLoan(**{**loan.__dict__, "collateral_amount": loan.collateral_amount + x}).ltv(
        price, t
    )
    if x > 0:
        assert abs(ltv_after / loan.ladder.initial - 1) < TIGHT
    else:
        assert loan.ltv(price, t) <= loan.ladder.initial


@given(loans(), prices, days, st.decimals(min_value=0, max_value="0.04", places=3))
def test_partial_sale_property(loan, price, t, slip):
    try:
        sale = loan.partial_sale(price, t, slippage=slip)
    except ValueError:
        # infeasible only when even selling everything cannot cure
        excess = loan.debt(t) - loan.ladder.initial * loan.collateral_amount * price
        assert 1 - slip <= loan.ladder.initial or excess >= loan.collateral_amount * price * (
            1 - slip - loan.ladder.initial
        )
        return
    assert sale.ltv_after <= loan.ladder.initial * (1 + TIGHT)
    if sale.collateral_sold > 0:
        assert abs(sale.ltv_after / loan.ladder.initial - 1) < TIGHT


@given(loans(), prices, prices, days)
def test_status_monotone_in_price(loan, p1, p2, t):
    order = [LoanStatus.HEALTHY, LoanStatus.MARGIN_CALL, LoanStatus.LIQUIDATION]
    lo, hi = sorted((p1, p2))
    assert order.index(loan.status(lo, t)) >= order.index(loan.status(hi, t))


@given(loans(), prices, days, st.decimals(0, "0.5", places=3), st.decimals(0, "0.5", places=3))
def test_liquidation_accounting(loan, price, t, slip, cut):
    liq = loan.liquidate(price, t, slippage=slip, haircut=cut)
    ead = loan.debt(t)
    assert liq.recovered + liq.shortfall == ead
    assert liq.recovered + liq.surplus == liq.proceeds
    assert 0 <= liq.lgd <= 1
    # risk.md 4.4: LGD = max(0, EAD - C*p*(1 - slippage - haircut)) / EAD
    assert liq.lgd == max(0, ead - loan.collateral_amount * price * (1 - slip - cut)) / ead


@given(loans(), days)
def test_trigger_price_is_the_status_boundary(loan, t):
    p = loan.trigger_price(loan.ladder.liquidation, t)
    assume(p > D("1e-20"))
    assert loan.status(p * (1 - D("1e-30")), t) is LoanStatus.LIQUIDATION
    assert loan.status(p * (1 + D("1e-30")), t) is not LoanStatus.LIQUIDATION


# ---- OTC: float64 twins on random books --------------------------------------------------------


def random_book(seed: int, n: int = 150):
    rng = np.random.default_rng(seed)
    principal = rng.lognormal(11, 2, n)
    apr = rng.uniform(0, 0.3, n)
    t = rng.uniform(0, 730, n)
    coll = rng.lognormal(3, 2, n)
    ini = rng.uniform(0.2, 0.6, n)
    call = ini + rng.uniform(0.05, 0.2, n)
    liq = np.minimum(call + rng.uniform(0.01, 0.2, n), 1.0)
    # price around the loan's own initial-LTV price so every ladder state occurs
    price = principal / (coll * ini) * rng.uniform(0.3, 2.0, n)
    slip = rng.uniform(0, 0.1, n)
    return principal, apr, t, coll, ini, call, liq, price, slip


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["simple", "daily"]))
def test_otc_twins_match_exact(seed, compounding):
    principal, apr, t, coll, ini, call, liq, price, slip = random_book(seed)
    book = [
        OtcLoan(p, r, None, "BTC", c, LtvLadder(a, b, d), Compounding(compounding))
        for p, r, c, a, b, d in zip(principal, apr, coll, ini, call, liq, strict=True)
    ]
    interest = accrued_interest_vec(principal, apr, t, compounding)
    assert_close(interest, [ln.accrued_interest(x) for ln, x in zip(book, t, strict=True)])
    debt = principal + interest
    exact_debt = [ln.debt(x) for ln, x in zip(book, t, strict=True)]
    assert_close(debt, exact_debt)
    rows = list(zip(book, price, t, slip, strict=True))
    ltv = ltv_vec(debt, coll, price)
    exact_ltv = [ln.ltv(p, x) for ln, p, x, _ in rows]
    assert_close(ltv, exact_ltv)
    codes = {LoanStatus.HEALTHY: 0, LoanStatus.MARGIN_CALL: 1, LoanStatus.LIQUIDATION: 2}
    exact_status = np.array([codes[ln.status(p, x)] for ln, p, x, _ in rows])
    away = (np.abs(ltv / call - 1) > 1e-9) & (np.abs(ltv / liq - 1) > 1e-9)
    assert np.array_equal(status_vec(ltv, call, liq)[away], exact_status[away])
    assert_close(
        top_up_vec(debt, coll, price, ini), [ln.top_up(p, x) for ln, p, x, _ in rows], coll
    )
    sold = partial_sale_vec(debt, coll, price, ini, slip)
    for i, (ln, p, x, h) in enumerate(rows):
        try:
            exact_sold = ln.partial_sale(p, x, slippage=h).collateral_sold
        except ValueError:
            assert np.isinf(sold[i]) or abs(sold[i] / coll[i] - 1) < 1e-9
            continue
        assert_close(sold[i : i + 1], [exact_sold], coll[i])
    shortfall, lgd = liquidation_vec(debt, coll, price, slip, 0.01)
    exact_liq = [ln.liquidate(p, x, slippage=h, haircut=0.01) for ln, p, x, h in rows]
    assert_close(shortfall, [q.shortfall for q in exact_liq], debt)
    assert_close(lgd, [q.lgd for q in exact_liq], 1.0)

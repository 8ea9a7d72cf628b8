"""Isolated-margin perpetuals: liquidation closed forms, funding, PnL, float64 twins."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.offchain.decimal_math import EXACT
from lendscope.mechanics.offchain.perps import PerpPosition, Side
from lendscope.mechanics.offchain.twin import (
    funding_payment_vec,
    liquidated_vec,
    liquidation_price_vec,
)

TIGHT = D("1e-40")


@pytest.fixture(autouse=True)
def _exact_context():
    with localcontext(EXACT):
        yield


def btc(side: Side = Side.LONG, **kw) -> PerpPosition:
    # 2 BTC at $50,000, 10x, 0.5% maintenance: margin 100,000 / 10 = 10,000
    return PerpPosition(side, D(2), D(50_000), D(10), D("0.005"), **kw)


def test_long_liquidation_price_closed_form():
    pos = btc()
    assert pos.margin == 10_000 and pos.initial_margin_ratio == D("0.1")
    # E*(1 - 1/L)/(1 - mmr) = 50,000 * 0.9 / 0.995 = 45,226.13...
    p = pos.liquidation_price()
    assert abs(p - D(45_000) / D("0.995")) < TIGHT
    # at p: equity 10,000 + 2*(p - 50,000) = 0.005 * 2 * p = 452.26 (maintenance margin)
    assert abs(pos.equity(p) - D("0.005") * pos.notional(p)) < TIGHT
    assert pos.is_liquidated(p - D("0.01")) and not pos.is_liquidated(p + D("0.01"))


def test_short_liquidation_price_closed_form():
    pos = btc(Side.SHORT)
    # E*(1 + 1/L)/(1 + mmr) = 55,000 / 1.005 = 54,726.37...
    p = pos.liquidation_price()
    assert abs(p - D(55_000) / D("1.005")) < TIGHT
    assert pos.is_liquidated(p + D("0.01")) and not pos.is_liquidated(p - D("0.01"))


def test_fees_move_liquidation_price_closer():
    pos = btc(open_fee_rate="0.0005", close_fee_rate="0.0005")
    # margin 10,000 - 0.0005 * 100,000 = 9,950; m = 4,975 per BTC
    assert pos.margin == 9_950
    # long: (E - m)/(1 - mmr - f_c) = 45,025 / 0.9945
    assert abs(pos.liquidation_price() - D(45_025) / D("0.9945")) < TIGHT
    short = btc(Side.SHORT, open_fee_rate="0.0005", close_fee_rate="0.0005")
    # short: (E + m)/(1 + mmr + f_c) = 54,975 / 1.0055
    assert abs(short.liquidation_price() - D(54_975) / D("1.0055")) < TIGHT
    assert pos.liquidation_price() > btc().liquidation_price()


def test_funding_pnl_and_margin_ratio():
    pos = btc()
    # 0.01% per 8h, 3 periods, at 50,000: long pays 0.0001 * 100,000 * 3 = 30
    assert pos.funding_payment("0.0001", 50_000, 3) == 30
    assert btc(Side.SHORT).funding_payment("0.0001", 50_000, 3) == -30
    paid = pos.apply_funding("0.0001", 50_000, 3)
    assert paid.margin == 9_970
    # m = 4,985: (50,000 - 4,985) / 0.995
    assert abs(paid.liquidation_price() - D(45_015) / D("0.995")) < TIGHT
    # 2 * (0.0001*50,000 - 0.00005*49,000 + 0.0002*51,000) = 2 * (5 - 2.45 + 10.2) = 25.5
    total = pos.funding_over_path(["0.0001", "-0.00005", "0.0002"], [50_000, 49_000, 51_000])
    assert total == D("25.5")
    assert pos.pnl(55_000) == 10_000 and btc(Side.SHORT).pnl(55_000) == -10_000
    # (10,000 + 10,000) / 110,000
    assert pos.margin_ratio(55_000) == D(20_000) / D(110_000)


def test_unlevered_long_cannot_be_liquidated():
    pos = PerpPosition(Side.LONG, D(1), D(100), D(1), D("0.01"))
    assert pos.liquidation_price() == 0
    assert not pos.liquidated_on_path([D("0.0001"), 50, 1])


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(size=0), "size must be > 0"),
        (dict(size=-1), "size must be > 0"),
        (dict(entry_price=0), "entry_price must be > 0"),
        (dict(leverage="0.5"), "leverage must be >= 1"),
        (dict(mmr="0.2"), "mmr .* must be below the initial margin ratio"),
        (dict(mmr=-1), "mmr must be >= 0"),
        (dict(close_fee_rate="1.5"), "close_fee_rate must be <= 1"),
    ],
)
def test_bad_input(kw, message):
    args = dict(side=Side.LONG, size=2, entry_price=50_000, leverage=10, mmr="0.005") | kw
    with pytest.raises(ValueError, match=message):
        PerpPosition(**args)


@pytest.mark.parametrize("price", [0, -1, "nan"])
def test_price_must_be_positive(price):
    with pytest.raises(ValueError, match="price must be"):
        btc().pnl(price)
    with pytest.raises(ValueError, match="same length"):
        btc().funding_over_path([1], [1, 2])


# ---- properties --------------------------------------------------------------------------------

leverages = st.decimals(min_value="1.5", max_value=100, places=2)


@st.composite
def positions(draw, fees: bool = True) -> PerpPosition:
    lev = draw(leverages)
    rate = st.decimals(min_value=0, max_value="0.001", places=5)
    return PerpPosition(
        draw(st.sampled_from(list(Side))),
        draw(st.decimals(min_value="0.001", max_value=10_000, places=3)),
        draw(st.decimals(min_value="0.01", max_value=100_000, places=2)),
        lev,
        draw(st.decimals(min_value=0, max_value=0.9, places=4)) / lev,
        draw(rate) if fees else D(0),
        draw(rate) if fees else D(0),
    )


@given(positions(fees=False))
def test_no_fee_closed_form(pos):
    e, lev, mmr = pos.entry_price, pos.leverage, pos.mmr
    want = e * (1 - 1 / lev) / (1 - mmr) if pos.side is Side.LONG else e * (1 + 1 / lev) / (1 + mmr)
    assert abs(pos.liquidation_price() / want - 1) < TIGHT


@given(positions())
def test_liquidation_price_is_the_boundary(pos):
    p = pos.liquidation_price()
    if p == 0:
        return
    # at p: equity - close fee == maintenance margin
    gap = pos.equity(p) - pos.close_fee_rate * pos.notional(p) - pos.mmr * pos.notional(p)
    assert abs(gap) <= TIGHT * pos.notional(p)
    worse, better = (p * D("0.999999"), p * D("1.000001"))
    if pos.side is Side.SHORT:
        worse, better = better, worse
    assert pos.is_liquidated(worse) and not pos.is_liquidated(better)
    # between entry and liquidation the position is alive
    assert not pos.is_liquidated(pos.entry_price)


# ---- float64 twins on random books -------------------------------------------------------------


def random_book(seed: int, n: int = 80):
    rng = np.random.default_rng(seed)
    side = rng.choice([1, -1], n)
    size = rng.lognormal(0, 2, n)
    entry = rng.lognormal(8, 2, n)
    lev = rng.uniform(1, 50, n)
    mmr = rng.uniform(0, 0.9, n) / lev
    fo, fc = rng.uniform(0, 1e-3, n), rng.uniform(0, 1e-3, n)
    return side, size, entry, lev, mmr, fo, fc


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_liquidation_twins_match_exact(seed):
    rng = np.random.default_rng(seed + 1)
    side, size, entry, lev, mmr, fo, fc = random_book(seed)
    rates, marks = rng.normal(0, 1e-4, len(side)), entry * rng.uniform(0.8, 1.2, len(side))
    book = [
        PerpPosition(Side(int(s)), *map(D, row))
        for s, *row in zip(side, size, entry, lev, mmr, fo, fc, strict=True)
    ]
    pay = funding_payment_vec(side, size, rates, marks, 3.0)
    exact_pay = [p.funding_payment(r, m, 3) for p, r, m in zip(book, rates, marks, strict=True)]
    assert np.allclose(pay, [float(x) for x in exact_pay], rtol=1e-9, atol=0)
    book = [p.apply_funding(r, m, 3) for p, r, m in zip(book, rates, marks, strict=True)]
    liq = liquidation_price_vec(side, size, entry, lev, mmr, fo, fc, pay)
    exact = np.array([float(p.liquidation_price()) for p in book])
    assert np.all(np.abs(liq - exact) <= 1e-9 * entry)  # entry scale: long p_liq may be ~0
    assert np.all(np.abs(liq - exact) <= 1e-9 * np.abs(exact) + 1e-12 * entry)
    # GBM paths: vectorised min/max test vs checking every mark exactly
    steps = 40
    shocks = rng.normal(0, 0.05, (len(side), steps)).cumsum(axis=1)
    paths = entry[:, None] * np.exp(shocks)
    hit = liquidated_vec(side, liq, paths.min(axis=1), paths.max(axis=1))
    for i, pos in enumerate(book):
        extreme = paths[i].min() if side[i] > 0 else paths[i].max()
        if exact[i] > 0 and abs(extreme / exact[i] - 1) < 1e-9:
            continue  # within float noise of the boundary
        assert hit[i] == pos.liquidated_on_path(paths[i]), i

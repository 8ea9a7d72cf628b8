"""Prime-brokerage margin accounts: hand examples, bad input, twins."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.offchain.decimal_math import EXACT
from lendscope.mechanics.offchain.prime_brokerage import AssetMargin, MarginAccount, MarginStatus
from lendscope.mechanics.offchain.twin import (
    forced_close_fraction_vec,
    margin_vec,
)

TIGHT = D("1e-40")  # exact maths carries 50 digits; identities hold far below this


@pytest.fixture(autouse=True)
def _exact_context():
    """Test-side Decimal arithmetic (expected values) at the library's 50 digits."""
    with localcontext(EXACT):
        yield


def assert_close(vec, exact, scale=None) -> None:
    """|vec - exact| <= 1e-9 * max(|exact|, scale): relative, with a floor for values near 0."""
    vec = np.asarray(vec, dtype=float)
    ex = np.asarray([float(x) for x in exact])
    floor = np.abs(ex) if scale is None else np.maximum(np.abs(ex), np.asarray(scale, float))
    assert np.all(np.abs(vec - ex) <= 1e-9 * floor), np.max(np.abs(vec - ex) / floor)


# ---- prime brokerage ---------------------------------------------------------------------------

TERMS = {
    "BTC": AssetMargin("0.2", "0.1"),
    "ETH": AssetMargin("0.3", "0.15"),
    "SOL": AssetMargin("0.5", "0.25"),
}


def pb_account() -> MarginAccount:
    # borrowed $40,000 from the broker; long 1 BTC and 10 ETH, short 100 SOL
    return MarginAccount(D(-40_000), {"BTC": D(1), "ETH": D(10), "SOL": D(-100)}, TERMS)


def test_margin_account_hand_example():
    acct = pb_account()
    # equity = -40,000 + 60,000 + 30,000 - 15,000 = 35,000; IM = 12,000 + 9,000 + 7,500 = 28,500
    snap = acct.mark({"BTC": 60_000, "ETH": 3_000, "SOL": 150})
    assert (snap.equity, snap.gross, snap.initial, snap.maintenance) == (
        35_000,
        105_000,
        28_500,
        14_250,
    )
    assert snap.status is MarginStatus.HEALTHY and snap.call_amount == 0
    # crash: equity = -40,000 + 40,000 + 20,000 - 16,000 = 4,000
    crash = {"BTC": 40_000, "ETH": 2_000, "SOL": 160}
    snap = acct.mark(crash)
    # gross 76,000; IM = 8,000 + 6,000 + 8,000 = 22,000; MM = 4,000 + 3,000 + 4,000 = 11,000
    assert (snap.equity, snap.gross, snap.initial, snap.maintenance) == (
        4_000,
        76_000,
        22_000,
        11_000,
    )
    assert snap.status is MarginStatus.MARGIN_CALL
    assert snap.call_amount == 18_000  # back to initial margin: 22,000 - 4,000
    # forced close with 1% slippage: f = (22,000 - 4,000) / (22,000 - 0.01 * 76,000) = 50/59
    fc = acct.forced_close(crash, slippage="0.01")
    assert abs(fc.fraction - D(50) / 59) < TIGHT and not fc.full_close
    # equity after = 4,000 - 50/59 * 760 = 198,000/59 = IM after = 9/59 * 22,000
    after = fc.account.mark(crash)
    assert abs(fc.equity_after - D(198_000) / 59) < TIGHT
    assert abs(after.equity - after.initial) < TIGHT and fc.deficit == 0


def test_margin_account_deficit_and_full_close():
    acct = pb_account()
    # equity = -40,000 + 25,000 + 15,000 - 20,000 = -20,000
    gap = {"BTC": 25_000, "ETH": 1_500, "SOL": 200}
    assert acct.mark(gap).status is MarginStatus.DEFICIT
    fc = acct.forced_close(gap, slippage="0.01")
    # full close: gross 60,000 costs 600 of slippage; deficit 20,600
    assert fc.full_close and fc.fraction == 1
    assert fc.deficit == 20_600 and fc.account.cash == -20_600
    assert all(q == 0 for q in fc.account.positions.values())
    healthy = {"BTC": 60_000, "ETH": 3_000, "SOL": 150}
    assert acct.forced_close(healthy).fraction == 0
    assert acct.forced_close(healthy, full=True).account.cash == 35_000


def test_margin_account_bad_input():
    with pytest.raises(ValueError, match=r"maintenance haircut .* must not exceed initial"):
        AssetMargin("0.1", "0.2")
    with pytest.raises(ValueError, match="initial haircut must be <= 1"):
        AssetMargin("1.5", "0.2")
    with pytest.raises(ValueError, match="no margin terms for asset"):
        MarginAccount(D(0), {"DOGE": D(1)}, TERMS)
    with pytest.raises(ValueError, match="no price for asset"):
        pb_account().mark({"BTC": 1})
    with pytest.raises(ValueError, match="price of BTC must be > 0"):
        pb_account().mark({"BTC": 0, "ETH": 1, "SOL": 1})


def random_accounts(seed: int, n: int = 60, k: int = 4):
    rng = np.random.default_rng(seed)
    qty = rng.normal(0, 100, (n, k))
    prices = rng.lognormal(5, 2, k)
    maint = rng.uniform(0.02, 0.3, k)
    init = maint * rng.uniform(1.0, 2.5, k)
    cash = -(qty * prices).sum(axis=1) * rng.uniform(0.5, 1.1, n)
    slip = rng.uniform(0, 0.03, n)
    return qty, prices, init, maint, cash, slip


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_margin_twins_match_exact(seed):
    qty, prices, init, maint, cash, slip = random_accounts(seed)
    names = [f"A{j}" for j in range(len(prices))]
    terms = {a: AssetMargin(i, m) for a, i, m in zip(names, init, maint, strict=True)}
    px = dict(zip(names, prices, strict=True))
    eq, gross, im, mm = margin_vec(cash, qty, prices, init, maint)
    frac = forced_close_fraction_vec(eq, gross, im, mm, slip)
    for r in range(len(cash)):
        acct = MarginAccount(cash[r], dict(zip(names, qty[r], strict=True)), terms)
        snap = acct.mark(px)
        scale = gross[r]  # equity is a difference of large values: compare on the book's scale
        assert_close([eq[r], gross[r], im[r], mm[r]], snap.__dict__.values(), scale)
        if abs(eq[r] - mm[r]) > 1e-8 * scale:
            fc = acct.forced_close(px, slippage=slip[r])
            assert_close([frac[r]], [fc.fraction], 1.0)
            if 0 < fc.fraction < 1:  # partial close lands exactly on initial margin
                post = fc.account.mark(px)
                assert abs(post.equity - post.initial) <= TIGHT * D(scale)

"""Maker/Sky vectorised float twins against the exact Vat, abaci and bark + take."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.intmath import RAY, WAD
from lendscope.mechanics.maker.abaci import (
    ExponentialDecrease,
    LinearDecrease,
    StairstepExponentialDecrease,
)
from lendscope.mechanics.maker.twin import (
    clip_price_vec,
    collateralisation_ratio_vec,
    expected_auction_proceeds_vec,
    unsafe_vec,
)
from tests.mechanics.maker.system import CHOP, ILK, make_system


# --- vectorised twins --------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_ratio_and_unsafe_match_exact(seed):
    rng = np.random.default_rng(seed)
    n = 200
    ink = [int(x) for x in rng.uniform(0.1, 1000, n) * WAD]
    art = [int(x) for x in rng.uniform(0, 1e6, n) * WAD]
    art[:5] = [0] * 5
    rate = int(RAY * rng.uniform(1.0, 1.5))
    spot = int(RAY * rng.uniform(100, 3000))
    ratio = collateralisation_ratio_vec(np.array(ink, float), np.array(art, float), rate, spot)
    flags = unsafe_vec(np.array(ink, float), np.array(art, float), rate, spot)
    for i in range(n):
        exact_unsafe = ink[i] * spot < art[i] * rate
        if art[i] == 0:
            assert np.isinf(ratio[i]) and not flags[i] and not exact_unsafe
            continue
        exact = Fraction(ink[i] * spot, art[i] * rate)
        assert ratio[i] == pytest.approx(float(exact), rel=1e-9)
        if abs(exact - 1) > Fraction(1, 10**9):
            assert flags[i] == exact_unsafe


@pytest.mark.parametrize(
    "calc",
    [
        LinearDecrease(7200),
        StairstepExponentialDecrease(99 * 10**25, 90),
        ExponentialDecrease(999_900_000_000_000_000_000_000_000),
    ],
)
def test_vectorised_clip_price_matches_exact(calc):
    rng = np.random.default_rng(3)
    top = [int(x) for x in rng.uniform(1, 1e5, 300) * RAY]
    dur = [int(x) for x in rng.integers(0, 7199, 300)]
    vec = clip_price_vec(calc, np.array(top, float), np.array(dur, float))
    for i in range(300):
        assert vec[i] == pytest.approx(calc.price(top[i], dur[i]), rel=1e-9)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_auction_proceeds_match_bark_and_take(seed):
    rng = np.random.default_rng(seed)
    n = 25
    vat, spot, dog, clip = make_system(
        calc=ExponentialDecrease(999_500_000_000_000_000_000_000_000)
    )
    vat.ilks[ILK].rate = int(RAY * rng.uniform(1.0, 1.3))
    ink = [int(x) for x in rng.uniform(1, 100, n) * WAD]
    art = [int(i * 1300 / (vat.ilks[ILK].rate / RAY) * rng.uniform(0.4, 0.99)) for i in ink]
    for k in range(n):
        vat.slip(ILK, f"u{k}", ink[k])
        vat.frob(ILK, f"u{k}", ink[k], art[k])
    spot.set_price(ILK, int(WAD * rng.uniform(500, 1200)))
    spot.poke(ILK)
    rate = vat.ilks[ILK].rate
    idx = [k for k in range(n) if ink[k] * vat.ilks[ILK].spot < art[k] * rate]
    prices, proceeds, sold, returned = [], [], [], []
    for k in idx:
        u = f"u{k}"
        sid = dog.bark(ILK, u, "kpr", now=0).id
        t = int(rng.integers(0, 3000))
        price = clip.get_status(sid, t)[1]
        r = clip.take(sid, ink[k], price, "keeper", now=t)
        prices.append(price)
        proceeds.append(r.owe)
        sold.append(r.slice)
        returned.append(vat.gem[(ILK, u)])
    out = expected_auction_proceeds_vec(
        np.array([ink[k] for k in idx], float),
        np.array([art[k] for k in idx], float),
        float(rate),
        float(CHOP),
        np.array(prices, float),
    )
    np.testing.assert_allclose(out["proceeds"], np.array(proceeds, float), rtol=1e-9)
    np.testing.assert_allclose(out["sold"], np.array(sold, float), rtol=1e-9)
    np.testing.assert_allclose(
        out["returned"], np.array(returned, float), rtol=1e-9, atol=1e-7 * WAD
    )
    assert len(idx) > 0

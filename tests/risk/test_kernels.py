import tracemalloc

import numba
import numpy as np
import pytest

from lendscope.risk.executors import cascade_bytes_per_path, cascade_mc, estimate_cascade_bytes
from lendscope.risk.kernels import (
    CascadeBook,
    CascadeParams,
    ThresholdBook,
    cascade,
    cascade_reference,
    evar99,
    expected_tail,
    lar95,
    var95,
    var_kernel,
    var_reference,
)
from lendscope.risk.montecarlo import BLOCK, GBMModel, plan_chunk, simulate


def int_book(n=500, k=4, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, n)
    c = rng.integers(1, 100, n).astype(float)
    d = rng.integers(0, 100, n).astype(float)
    lt = rng.choice([0.5, 0.75, 1.0], n)  # dyadic: c·S·LT stays exact
    return a, c, d, lt


def brute(a, c, d, lt, shocks):
    bad = np.array(
        [sum(max(0.0, di - ci * s[ai]) for ai, ci, di in zip(a, c, d, strict=True)) for s in shocks]
    )
    liq = np.array(
        [
            sum(di for ai, ci, di, li in zip(a, c, d, lt, strict=True) if ci * s[ai] * li < di)
            for s in shocks
        ]
    )
    return bad, liq


def test_var_kernel_exact_on_integer_book():
    a, c, d, lt = int_book()
    shocks = np.random.default_rng(1).integers(0, 9, (77, 4)) / 4  # dyadic shocks, 0 included
    exp_bad, exp_liq = brute(a, c, d, lt, shocks)
    for fn in (var_kernel, var_reference):
        bad, liq = fn(a, c, d, lt, shocks)
        assert np.array_equal(bad, exp_bad) and np.array_equal(liq, exp_liq)


def test_var_kernel_float_book_matches_reference():
    rng = np.random.default_rng(2)
    n, m, k = 3000, 200, 14
    a = rng.integers(0, k, n)
    c = rng.lognormal(8, 1.5, n)
    d = c * rng.uniform(0.2, 0.9, n)
    lt = rng.uniform(0.7, 0.9, n)
    shocks = np.exp(rng.normal(-0.2, 0.4, (m, k)))
    bad, liq = var_kernel(a, c, d, lt, shocks)
    rb, rl = var_reference(a, c, d, lt, shocks)
    np.testing.assert_allclose(bad, rb, rtol=1e-12)
    np.testing.assert_allclose(liq, rl, rtol=1e-12)
    tb, tl = ThresholdBook.build(a, c, d, lt, k).var(shocks)
    np.testing.assert_allclose(tb, rb, rtol=0, atol=1e-12 * d.sum())
    np.testing.assert_allclose(tl, rl, rtol=0, atol=1e-12 * d.sum())


def test_threshold_book_exact_on_integer_book():
    a, c, d, lt = int_book(seed=3)
    shocks = np.random.default_rng(4).integers(0, 9, (50, 4)) / 4
    tb, tl = ThresholdBook.build(a, c, d, lt, 4).var(shocks)
    eb, el = brute(a, c, d, lt, shocks)
    np.testing.assert_allclose(tb, eb, atol=1e-9)
    np.testing.assert_array_equal(tl, el)


def test_var_kernel_deterministic_across_thread_counts():
    rng = np.random.default_rng(5)
    a, c, d = rng.integers(0, 3, 5000), rng.random(5000), rng.random(5000)
    shocks = rng.random((300, 3))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = var_kernel(a, c, d, np.full(5000, 0.8), shocks)
        numba.set_num_threads(before)
        many = var_kernel(a, c, d, np.full(5000, 0.8), shocks)
    finally:
        numba.set_num_threads(before)
    assert all(np.array_equal(x, y) for x, y in zip(one, many, strict=True))


def test_var_kernel_validates_inputs():
    with pytest.raises(ValueError, match="asset ids"):
        var_kernel([5], [1.0], [1.0], [0.8], np.ones((2, 3)))
    with pytest.raises(ValueError, match="one length"):
        var_kernel([0, 1], [1.0], [1.0], [0.8], np.ones((2, 3)))


def test_metrics_on_known_distributions():
    x = np.arange(101.0)  # linear quantiles are exact on 0..100
    assert var95(x) == 95.0 and evar99(x) == 99.0 and lar95(x) == 95.0
    assert expected_tail(np.arange(1000.0), 0.99) == 994.5  # mean of 990..999
    z = np.random.default_rng(0).standard_normal(2_000_000)
    assert var95(z) == pytest.approx(1.6449, abs=0.01)
    assert evar99(z) == pytest.approx(2.3263, abs=0.01)
    assert expected_tail(z, 0.99) == pytest.approx(2.6652, abs=0.02)  # φ(z99)/0.01
    u = np.random.default_rng(1).exponential(1.0, 1_000_000)  # ES of Exp(1) = q + 1
    assert expected_tail(u, 0.95) == pytest.approx(-np.log(0.05) + 1, abs=0.03)


def float_book(n, k, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, n)
    c = rng.lognormal(3, 1, n)
    d = c * rng.uniform(0.2, 0.95, n)
    lt = np.array([0.8, 0.86, 0.7][:k])[a]
    return a, c, d, lt


@pytest.mark.parametrize(
    "params",
    [
        CascadeParams(close_factor=1.0, bonus=0.05),
        CascadeParams(
            close_factor=0.5, bonus=0.1, kind=[1, 2, 0], a=[0.3, 0, 0], b=[3000, 2000, 1]
        ),
        CascadeParams(
            close_factor=1.0, bonus=0.08, kind=[2, 1, 1], a=[0, 1.0, 0.5], b=[500, 800, 900]
        ),
    ],
)
def test_cascade_matches_brute_force(params):
    a, c, d, lt = float_book(300, 3, 6)
    m = GBMModel(("A", "B", "C"), [0, 0, 0], [1.0, 1.5, 2.0], np.eye(3), dt=1 / 365)
    paths = simulate(m, 40, 24, seed=8)
    fast = cascade(paths, CascadeBook.build(a, c, d, lt, 3), params)
    ref = cascade_reference(paths, a, c, d, lt, params)
    scale = d.sum()
    assert fast.liquidated.sum() > 0.01 * scale and fast.bad_debt.sum() > 0
    for x, y in ((fast.liquidated, ref.liquidated), (fast.bad_debt, ref.bad_debt)):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(fast.impact, ref.impact, rtol=1e-9)


def test_cascade_single_step_without_impact_is_the_threshold_formula():
    a, c, d, lt = float_book(1000, 1, 7)
    s = np.array([1.0, 0.6])
    r = cascade(s[None, :, None], CascadeBook.build(a, c, d, lt, 1), CascadeParams(1.0, 0.05))
    hit = c * 0.6 * lt < d
    out = hit & (c * 0.6 < d * 1.05)
    liq = (c[out] * 0.6 / 1.05).sum() + d[hit & ~out].sum()
    assert r.liquidated[0, 0] == pytest.approx(liq, rel=1e-12)
    assert r.bad_debt[0, 0] == pytest.approx((d[out] - c[out] * 0.6 / 1.05).sum(), rel=1e-12)


def test_impact_makes_cascades_worse():
    a, c, d, lt = float_book(2000, 1, 9)
    paths = np.array([1.0, 0.9, 0.85, 0.85])[None, :, None]
    book = CascadeBook.build(a, c, d, lt, 1)
    calm = cascade(paths, book, CascadeParams(0.5, 0.05))
    thin = cascade(paths, book, CascadeParams(0.5, 0.05, kind=[2], a=[0], b=[c.sum()]))
    assert thin.liquidated.sum() > calm.liquidated.sum() and thin.impact[0, 0] < 1


def test_cascade_requires_one_lt_per_asset():
    with pytest.raises(ValueError, match="one liquidation threshold"):
        CascadeBook.build([0, 0], [1.0, 1.0], [0.5, 0.5], [0.8, 0.7], 1)


def test_chunk_plan_bounds_memory_for_1e6_positions_by_1e4_paths():
    steps, k, budget = 24, 1, 256 << 20
    chunk = plan_chunk(budget, cascade_bytes_per_path(steps, k))
    assert chunk % BLOCK == 0 and chunk * cascade_bytes_per_path(steps, k) <= budget
    assert estimate_cascade_bytes(10**6, 10**4, steps, k, chunk) < 4 << 30
    # a tiny budget still makes progress with one block
    assert plan_chunk(1, 10**6) == BLOCK


def test_cascade_mc_peak_memory_within_estimate():
    n, paths, steps = 200_000, 3 * 1024, 24
    a, c, d, lt = float_book(n, 1, 10)
    model = GBMModel(("ETH",), [0.0], [0.9], [[1.0]], dt=1 / 365)
    params = CascadeParams(0.5, 0.05)
    cascade_mc(
        model,
        CascadeBook.build(a[:100], c[:100], d[:100], lt[:100], 1),
        1024,
        steps,
        1,
        params,
        block=1024,
    )
    budget = 1024 * cascade_bytes_per_path(steps, 1)  # forces one 1024-path block per chunk
    tracemalloc.start()
    book = CascadeBook.build(a, c, d, lt, 1)
    res = cascade_mc(model, book, paths, steps, 1, params, budget_bytes=budget, block=1024)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert res.liquidated.shape == (paths, steps)
    assert peak <= estimate_cascade_bytes(n, paths, steps, 1, 1024)

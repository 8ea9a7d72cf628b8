import math

import numpy as np
import pytest
from scipy.stats import norm

from lendscope.risk.montecarlo import (
    BLOCK,
    Bridge,
    GBMModel,
    Jumps,
    block_seeds,
    calibrate,
    first_passage_probability,
    hit_probability,
    simulate,
)


def model3(**kw):
    corr = [[1, 0.8, 0.3], [0.8, 1, 0.2], [0.3, 0.2, 1]]
    return GBMModel(("BTC", "ETH", "SOL"), [0.05, 0.1, 0.0], [0.6, 0.8, 1.2], corr, **kw)


def test_shape_dtype_and_start():
    p = simulate(model3(), 1000, 24, seed=1, dtype=np.float32)
    assert p.shape == (1000, 25, 3) and p.dtype == np.float32
    assert (p[:, 0] == 1).all() and (p > 0).all()


def test_same_seed_same_paths_any_chunking():
    m = model3()
    a = simulate(m, 5000, 10, seed=42, chunk_paths=BLOCK, block=1024)
    b = simulate(m, 5000, 10, seed=42, chunk_paths=3 * 1024, block=1024)
    c = simulate(m, 5000, 10, seed=42, chunk_paths=10**6, block=1024)
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert not np.array_equal(a, simulate(m, 5000, 10, seed=43, block=1024))


def test_block_seeds_are_seedsequence_children():
    seeds = block_seeds(7, 10_000, 4096)
    assert [n for *_, n in seeds] == [4096, 4096, 1808]
    kids = np.random.SeedSequence(7).spawn(3)
    assert [s.spawn_key for _, s, _ in seeds] == [k.spawn_key for k in kids]


def test_calibration_recovers_parameters():
    m = model3(dt=1 / 365)
    hist = simulate(m, 1, 20_000, seed=3)[0]
    fit = calibrate(hist, 1 / 365, m.assets)
    assert fit.sigma == pytest.approx(m.sigma, rel=0.02)
    assert fit.corr == pytest.approx(m.corr, abs=0.02)
    # drift is poorly identified (sigma/√T per year); check within 4 standard errors
    se = m.sigma / math.sqrt(20_000 / 365)
    assert np.all(np.abs(fit.mu - m.mu) < 4 * se)


@pytest.mark.parametrize(
    ("corr", "msg"),
    [
        ([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]], "positive semi-definite"),
        ([[1, 0.5, 0], [0.4, 1, 0], [0, 0, 1]], "symmetric"),
        ([[2, 0, 0], [0, 1, 0], [0, 0, 1]], "unit diagonal"),
        ([[1, 0], [0, 1]], "3x3"),
    ],
)
def test_bad_correlation_rejected(corr, msg):
    with pytest.raises(ValueError, match=msg):
        GBMModel(("A", "B", "C"), [0] * 3, [0.5] * 3, corr)


def test_singular_psd_correlation_works():
    m = GBMModel(("A", "B"), [0, 0], [0.5, 0.5], [[1, 1], [1, 1]])
    p = simulate(m, 100, 5, seed=0)
    assert np.allclose(p[..., 0], p[..., 1])


def test_calibrate_rejects_nonpositive_prices():
    with pytest.raises(ValueError, match="> 0"):
        calibrate(np.array([[1.0], [0.0], [1.0]]), 1 / 365, ["ETH"])


def test_bridge_pins_target_and_interpolates():
    m = model3()
    p = simulate(m, 20_000, 20, seed=5, bridges=[Bridge("ETH", 10, 0.8)])
    assert np.allclose(p[:, 10, 1], 0.8)
    # bridge mean of the log path is linear from 0 to log(0.8) (drift is conditioned away)
    mean_log = np.log(p[:, 5, 1]).mean()
    assert mean_log == pytest.approx(0.5 * math.log(0.8), abs=0.005)
    # after the pin the path continues as a free GBM from the target
    assert np.log(p[:, 20, 1] / 0.8).std() == pytest.approx(0.8 * math.sqrt(10 / 365), rel=0.03)


def test_two_pins_of_one_asset():
    p = simulate(model3(), 500, 20, seed=5, bridges=[Bridge("SOL", 5, 0.9), Bridge("SOL", 15, 0.5)])
    assert np.allclose(p[:, 5, 2], 0.9) and np.allclose(p[:, 15, 2], 0.5)


def test_bridge_validation():
    with pytest.raises(ValueError, match="step"):
        simulate(model3(), 10, 5, seed=0, bridges=[Bridge("ETH", 6, 0.8)])


def test_merton_jumps_keep_the_mean_and_fatten_tails():
    jumps = Jumps(np.array([20.0]), np.array([-0.05]), np.array([0.05]))
    mj = GBMModel(("ETH",), [0.2], [0.5], [[1.0]], dt=1 / 365, jumps=jumps)
    m0 = GBMModel(("ETH",), [0.2], [0.5], [[1.0]], dt=1 / 365)
    pj, p0 = simulate(mj, 50_000, 30, seed=9), simulate(m0, 50_000, 30, seed=9)
    t = 30 / 365
    assert pj[:, -1, 0].mean() == pytest.approx(math.exp(0.2 * t), rel=0.01)  # compensated
    rj = np.log(pj[:, -1, 0])
    r0 = np.log(p0[:, -1, 0])
    assert rj.std() > r0.std() and np.mean(rj < -0.5) > np.mean(r0 < -0.5)


def test_first_passage_oracle_and_terminal_understatement():
    sigma, t, barrier, days = 0.8, 30 / 365, 0.75, 30
    # risk.md §4.5 uses a driftless GBM: log drift -sigma²/2
    exact = first_passage_probability(-(sigma**2) / 2, sigma, t, barrier)
    assert exact == pytest.approx(0.2412, abs=5e-4)
    terminal_exact = norm.cdf((math.log(barrier) + sigma**2 / 2 * t) / (sigma * math.sqrt(t)))
    assert terminal_exact == pytest.approx(0.1272, abs=5e-4)
    m = GBMModel(("ETH",), [0.0], [sigma], [[1.0]], dt=t / days)
    p = simulate(m, 40_000, days, seed=11)[:, :, 0]
    se = math.sqrt(exact * (1 - exact) / len(p))
    bridged = hit_probability(p, barrier, sigma, t / days).mean()
    assert abs(bridged - exact) < 4 * se
    discrete = (p.min(axis=1) <= barrier).mean()
    assert discrete < exact - 4 * se  # daily monitoring alone misses crossings
    terminal = (p[:, -1] <= barrier).mean()
    assert abs(terminal - terminal_exact) < 4 * se
    assert 1.7 < exact / terminal < 2.2  # terminal-only checks understate hits ~2x


def test_first_passage_with_drift_matches_fine_steps():
    mu_log, sigma, t = -0.5, 0.6, 0.25
    exact = first_passage_probability(mu_log, sigma, t, 0.8)
    m = GBMModel(("ETH",), [mu_log + sigma**2 / 2], [sigma], [[1.0]], dt=t / 50)
    p = simulate(m, 20_000, 50, seed=2)[:, :, 0]
    est = hit_probability(p, 0.8, sigma, t / 50).mean()
    assert abs(est - exact) < 4 * math.sqrt(exact * (1 - exact) / 20_000)

"""The VaR tail: fitted jumps, bridge minima, impact, behaviour, standard errors; cascade decay."""

import datetime as dt
import math

import numpy as np
import pytest

from lendscope.core.assets import ASSETS
from lendscope.risk.behaviour import Borrowers
from lendscope.risk.book_types import Book, Positions
from lendscope.risk.kernels import CascadeBook, CascadeParams, cascade, cascade_reference
from lendscope.risk.montecarlo import (
    GBMModel,
    Jumps,
    block_seeds,
    bridge_min,
    first_passage_probability,
    fit_merton,
    simulate,
    simulate_parts,
)
from lendscope.risk.var import VOL, fitted_market, run_var

OFF = {"calibrate": False, "impact": False, "behaviour": False}


def book(rows: list[tuple[str, float, str, float, float]]) -> Book:
    """(collateral asset, collateral USD, debt asset, debt USD, LT) rows as DeFi positions."""
    p = Positions()
    for i, (ca, c, da, d, lt) in enumerate(rows):
        for f, v in (("id", f"p{i}"), ("owner", f"o{i}"), ("platform", "Aave"),
                     ("protocol", "aave_v3"), ("segment", "defi"), ("coll_asset", ASSETS.index(ca)),
                     ("coll_usd", c), ("debt_asset", ASSETS.index(da)), ("debt_usd", d),
                     ("lt", lt), ("bonus", 0.05)):  # fmt: skip
            getattr(p, f).append(v)
    return Book(positions=p)


def random_book(n: int, scale: float = 1e6, seed: int = 0) -> Book:
    rng = np.random.default_rng(seed)
    c = rng.lognormal(0, 1, n) * scale
    lt = rng.uniform(0.7, 0.9, n)
    h = rng.uniform(1.01, 1.6, n)  # starting health factors
    assets = rng.choice(["ETH", "BTC", "wstETH", "SOL"], n)
    return book(
        [(a, ci, "USDC", ci * li / hi, li) for a, ci, li, hi in zip(assets, c, lt, h, strict=True)]
    )


# --------------------------------------------------------------------------- bridge minimum
def test_bridge_min_has_the_bridge_law():
    u = 1.0 - np.random.default_rng(0).random(400_000)
    m = bridge_min(np.zeros_like(u), np.full_like(u, 0.3), np.ones_like(u), u)
    for a in (0.2, 0.5, 1.0):  # P(min <= -a) = exp(-2 a (a + 0.3)) for a bridge 0 → 0.3, var 1
        assert (m <= -a).mean() == pytest.approx(math.exp(-2 * a * (a + 0.3)), abs=3e-3)
    assert (m <= 0).all()


def test_bridge_liquidation_probability_matches_first_passage_discrete_is_low():
    # One ETH/USDC position liquidated when the ratio falls 3% within a day.
    b = book([("ETH", 100.0, "USDC", 77.6, 0.8)])
    sig_e, sig_u = VOL["ETH"], VOL["USDC"]  # uncorrelated in LOAD
    p = first_passage_probability(
        (sig_u**2 - sig_e**2) / 2, math.hypot(sig_e, sig_u), 1 / 365, 0.97
    )
    v = run_var(b, 32768, "1d", seed=3, **OFF)
    est, se = v["mean_liquidated_usd"] / 77.6, v["mean_liquidated_se_usd"] / 77.6
    assert abs(est - p) < 4 * se and 0 < se < 0.004
    d = run_var(b, 32768, "1d", seed=3, bridge=False, **OFF)["mean_liquidated_usd"] / 77.6
    assert d < p - 10 * se  # hourly monitoring misses crossings between the points


def test_same_block_seed_same_paths_and_bridge_draws():
    m = GBMModel(("A", "B"), [0, 0], [0.5, 0.8], [[1, 0.3], [0.3, 1]], 1 / 365 / 24)
    s = block_seeds(5, 100, 100)[0][1]
    d1, _, r1 = simulate_parts(m, 24, s, 100)
    d2, _, r2 = simulate_parts(m, 24, s, 100)
    assert np.array_equal(d1, d2) and r1.random() == r2.random()


# --------------------------------------------------------------------------- calibration
def test_fit_merton_recovers_jump_diffusion():
    rng = np.random.default_rng(1)
    n, sig, lam, mu_j, sd_j = 3650 * 2, 0.6, 12.0, -0.2, 0.03  # jumps beyond 4 sigma_day
    r = sig / math.sqrt(365) * rng.standard_normal(n)
    k = rng.poisson(lam / 365, n)
    r += k * mu_j + np.sqrt(k) * sd_j * rng.standard_normal(n)
    f = fit_merton(r)
    assert f.sigma == pytest.approx(sig, rel=0.05)
    assert f.intensity == pytest.approx(lam, rel=0.25)
    assert f.mean == pytest.approx(mu_j, abs=0.02) and f.std < 0.06
    calm = fit_merton(sig / math.sqrt(365) * rng.standard_normal(n))
    assert calm.intensity < 1 and calm.sigma == pytest.approx(sig, rel=0.05)


def test_fitted_market_window_underlyings_and_shared_jumps():
    mk = fitted_market(("BTC", "ETH", "wstETH", "miner_collateral", "USDC"), 24)
    assert mk is not None and mk.info["window"] == ["2024-12-31", "2025-12-31"]
    assert mk.info["wstETH"]["from"] == "stETH" and mk.info["miner_collateral"]["from"] == "BTC"
    assert mk.info["USDC"] == {"sigma": VOL["USDC"], "jump_intensity": 0.0, "jump_mean": 0.0,
                               "jump_std": 0.0, "from": "USDC", "jumps_from": "USDC"}  # fmt: skip
    assert mk.cols[3] == mk.cols[0]  # miner collateral moves as BTC
    for a in ("BTC", "ETH", "wstETH"):
        assert 0.2 < mk.info[a]["sigma"] < 1.5 and mk.info[a]["jump_intensity"] > 0
    assert mk.info["wstETH"]["jump_intensity"] == mk.info["ETH"]["jump_intensity"]
    assert np.linalg.eigvalsh(mk.model.corr).min() > -1e-10
    _, j, _ = simulate_parts(mk.model, 24, block_seeds(0, 64, 64)[0][1], 64)
    st, eth = mk.model.index("stETH"), mk.model.index("ETH")
    assert np.array_equal(j[:, :, st], j[:, :, eth])  # pegged pairs jump together
    early = fitted_market(("BTC", "ETH"), 24, dt.date(2022, 6, 30), 180)
    assert early.info["window"] == ["2022-01-01", "2022-06-30"]
    assert early.info["ETH"]["sigma"] != mk.info["ETH"]["sigma"]
    assert fitted_market(("BTC", "ETH"), 24, dt.date(2020, 3, 1)) is None  # before the data


def test_run_var_reports_model_and_falls_back_without_history():
    b = random_book(50)
    v = run_var(b, 1024, as_of=dt.date(2023, 3, 31))
    assert v["model"]["source"] == "history" and v["model"]["window"][1] == "2023-03-31"
    assert v["options"] == {"calibrated": True, "jumps": True, "bridge": True, "impact": True,
                            "behaviour": True}  # fmt: skip
    old = run_var(b, 1024, as_of=dt.date(2019, 1, 1))
    assert old["model"]["source"] == "fixed" and old["model"]["ETH"]["sigma"] == VOL["ETH"]
    assert old == run_var(b, 1024, calibrate=False) | {"options": old["options"]}


# --------------------------------------------------------------------------- impact, behaviour
def test_impact_deepens_losses_to_a_fixed_point():
    # $40B of ETH collateral near its threshold: its liquidations move the ETH market.
    b = random_book(400, scale=6e7, seed=2)
    v = run_var(b, 2048, "7d", seed=1, calibrate=False)
    assert v["impact_iterations"] >= 2
    assert v["mean_liquidated_usd"] > v["mean_liquidated_pre_impact_usd"] > 0
    assert (
        v["lar95_usd"] >= v["lar95_pre_impact_usd"] and v["var95_usd"] >= v["var95_pre_impact_usd"]
    )
    flat = run_var(b, 2048, "7d", seed=1, calibrate=False, impact=False)
    assert flat["impact_iterations"] == 0
    assert flat["mean_liquidated_usd"] == flat["mean_liquidated_pre_impact_usd"]
    assert flat["mean_liquidated_usd"] == v["mean_liquidated_pre_impact_usd"]


def test_behaviour_removes_the_share_that_acts_first():
    b = random_book(300)
    kw = {"calibrate": False, "impact": False}
    base = run_var(b, 2048, seed=4, behaviour=False, **kw)
    acted = run_var(b, 2048, seed=4, **kw)
    keep = 1 - float(Borrowers().share(0.9))  # the hazard at HF < 1
    assert acted["mean_liquidated_usd"] == pytest.approx(keep * base["mean_liquidated_usd"], 1e-12)
    assert acted["mean_bad_debt_usd"] == base["mean_bad_debt_usd"]
    half = run_var(b, 2048, seed=4, behaviour=Borrowers(max_share=0.5), **kw)
    assert half["mean_liquidated_usd"] == pytest.approx(0.5 * base["mean_liquidated_usd"], 1e-12)


# --------------------------------------------------------------------------- standard errors
def test_standard_errors_shrink_like_one_over_root_n():
    b = random_book(500, seed=5)
    small, big = (run_var(b, n, "7d", seed=2, **OFF) for n in (4096, 65536))
    for k in ("mean_liquidated", "mean_bad_debt", "lar95", "var95"):
        assert small[f"{k}_se_usd"] > 0
        assert 2.5 < small[f"{k}_se_usd"] / big[f"{k}_se_usd"] < 6.5, k  # √16 = 4
    # The reported error covers the estimate: two seeds differ by a few standard errors.
    other = run_var(b, 65536, "7d", seed=9, **OFF)
    for k in ("mean_liquidated", "lar95", "var95"):
        assert abs(other[f"{k}_usd"] - big[f"{k}_usd"]) < 5 * math.hypot(
            other[f"{k}_se_usd"], big[f"{k}_se_usd"]
        )


# --------------------------------------------------------------------------- cascade
def float_book(n, k, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, n)
    c = rng.lognormal(3, 1, n)
    d = c * rng.uniform(0.2, 0.95, n)
    lt = np.array([0.8, 0.86, 0.7][:k])[a]
    return a, c, d, lt


PATHS = simulate(GBMModel(("A", "B", "C"), [0] * 3, [1.0, 1.5, 2.0], np.eye(3), 1 / 365), 40, 24, 8)


@pytest.mark.parametrize(
    "params",
    [
        CascadeParams(0.5, 0.1, kind=[1, 2, 0], a=[0.3, 0, 0], b=[3000, 2000, 1],
                      half_life=[3.0, 1.0, 5.0], permanent=[0.3, 0.0, 1.0], repay_share=0.4),
        CascadeParams(1.0, 0.08, kind=[2, 1, 1], a=[0, 1.0, 0.5], b=[500, 800, 900],
                      half_life=[2.0, np.inf, 0.5], permanent=[0.5, 0.5, 0.2], repay_share=0.9),
    ],
)  # fmt: skip
def test_cascade_with_decay_and_behaviour_matches_brute_force(params):
    a, c, d, lt = float_book(300, 3, 6)
    fast = cascade(PATHS, CascadeBook.build(a, c, d, lt, 3), params)
    ref = cascade_reference(PATHS, a, c, d, lt, params)
    scale = d.sum()
    assert fast.liquidated.sum() > 0.001 * scale and fast.bad_debt.sum() > 0
    for x, y in ((fast.liquidated, ref.liquidated), (fast.bad_debt, ref.bad_debt)):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(fast.impact, ref.impact, rtol=1e-9)


def test_cascade_defaults_are_todays_kernel_and_features_act():
    a, c, d, lt = float_book(300, 3, 6)
    cb = CascadeBook.build(a, c, d, lt, 3)
    imp = {"kind": [1, 2, 1], "a": [0.3, 0, 0.5], "b": [3000, 2000, 900]}
    old = cascade(PATHS, cb, CascadeParams(0.5, 0.05, **imp))
    same = cascade(PATHS, cb, CascadeParams(0.5, 0.05, **imp, half_life=[np.inf] * 3,
                                            permanent=[0.2] * 3, repay_share=0.0))  # fmt: skip
    for f in ("liquidated", "bad_debt", "impact"):
        assert np.array_equal(getattr(old, f), getattr(same, f))
    fade = cascade(PATHS, cb, CascadeParams(0.5, 0.05, **imp, half_life=[2.0] * 3,
                                            permanent=[0.2] * 3))  # fmt: skip
    assert (fade.impact >= old.impact - 1e-12).all() and (fade.impact > old.impact).any()
    s = np.array([1.0, 0.6])[None, :, None]  # one step, no impact: liquidations scale by 1 - a
    one = CascadeBook.build(a[a == 0], c[a == 0], d[a == 0], lt[a == 0], 1)
    full = cascade(s, one, CascadeParams(1.0, 0.05)).liquidated.sum()
    part = cascade(s, one, CascadeParams(1.0, 0.05, repay_share=0.9)).liquidated.sum()
    assert part == pytest.approx(0.1 * full, rel=1e-12)
    with pytest.raises(ValueError, match="repay_share"):
        CascadeParams(repay_share=1.0).arrays(1)


def test_grouped_jumps_validate_one_intensity():
    with pytest.raises(ValueError, match="group"):
        j = Jumps(np.array([1.0, 2.0]), np.zeros(2), np.zeros(2), np.array([0, 0]))
        GBMModel(("A", "B"), [0, 0], [1, 1], np.eye(2), jumps=j)

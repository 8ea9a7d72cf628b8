"""`lendscope rates`: each model's curve against its closed form, and bad parameters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.mechanics.rates import RateParamError, aave_v3, apy, compound_v3, morpho_adaptive

runner = CliRunner()
U = st.floats(0, 1)


@given(U)
def test_aave_curve_closed_form(u):
    r = aave_v3(u, optimal=0.8, base=0.01, slope1=0.04, slope2=0.75, reserve_factor=0.2)
    want = 0.01 + 0.04 * u / 0.8 if u <= 0.8 else 0.05 + 0.75 * (u - 0.8) / 0.2
    assert r.borrow_apr == pytest.approx(want, rel=1e-12, abs=1e-20)
    assert r.supply_apr == pytest.approx(want * u * 0.8, rel=1e-9, abs=1e-20)


@given(U)
def test_compound_kink_closed_form(u):
    r = compound_v3(u, kink=0.8, borrow_base=0.01, borrow_slope_low=0.05, borrow_slope_high=1.0,
                    supply_base=0.0, supply_slope_low=0.03, supply_slope_high=0.8)  # fmt: skip
    b = 0.01 + 0.05 * min(u, 0.8) + 1.0 * max(u - 0.8, 0)
    s = 0.03 * min(u, 0.8) + 0.8 * max(u - 0.8, 0)
    # per-year rates are floored to per-second integers, as Comet stores them
    assert r.borrow_apr == pytest.approx(b, rel=1e-9, abs=1e-9)
    assert r.supply_apr == pytest.approx(s, rel=1e-9, abs=1e-9)


def test_morpho_curve_anchors():
    # per-second wad rates are floored, so APRs sit a few 1e-9 below the round figures
    assert morpho_adaptive(0.9).borrow_apr == pytest.approx(0.04, rel=1e-8)
    assert morpho_adaptive(1.0).borrow_apr == pytest.approx(0.16, rel=1e-8)  # x4 at 100%
    assert morpho_adaptive(0.0).borrow_apr == pytest.approx(0.01, rel=1e-8)  # /4 at 0%
    assert morpho_adaptive(0.9, fee=0.1).supply_apr == pytest.approx(0.04 * 0.9 * 0.9, rel=1e-8)


def test_apy_compounds_per_second():
    assert apy(0.1) == pytest.approx(0.10517091, rel=1e-7)  # ~ e^0.1 - 1


@pytest.mark.parametrize(
    ("fn", "kw", "msg"),
    [
        (aave_v3, {"slope1": -0.1}, "slope1 = -0.1"),
        (aave_v3, {"optimal": 1.0}, "optimal = 1"),
        (aave_v3, {"optimal": 0.0}, "optimal = 0"),
        (aave_v3, {"ltv": 0.8, "liquidation_threshold": 0.75}, "below ltv"),
        (compound_v3, {"kink": 1.5}, "kink = 1.5"),
        (compound_v3, {"borrow_slope_high": -1}, "borrow_slope_high"),
        (morpho_adaptive, {"rate_at_target": 50.0}, "rate_at_target"),
    ],
)
def test_bad_parameters(fn, kw, msg):
    with pytest.raises(RateParamError, match=msg):
        fn(0.5, **kw)


def test_cli_json_and_curve():
    res = runner.invoke(app, ["rates", "aave-v3", "--utilization", "0.95", "--optimal", "0.9",
                              "--base", "0", "--slope1", "0.04", "--slope2", "0.6",
                              "--reserve-factor", "0.1", "--format", "json"])  # fmt: skip
    d = json.loads(res.stdout)
    assert set(d) >= {"borrow_apr", "supply_apr", "borrow_apy", "supply_apy"}
    assert d["borrow_apr"] == pytest.approx(0.34)
    curve = json.loads(runner.invoke(app, ["rates", "morpho-adaptive", "--curve",
                                           "--format", "json"]).stdout)  # fmt: skip
    assert len(curve) == 101 and curve[-1]["utilization"] == 1.0
    bad = runner.invoke(app, ["rates", "compound-v3", "--utilization", "0.5",
                              "--reserve-factor", "0.1"])  # fmt: skip
    assert bad.exit_code == 2 and "does not take --reserve-factor" in bad.output
    assert runner.invoke(app, ["rates", "aave-v3"]).exit_code == 2

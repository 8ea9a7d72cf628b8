"""Aave v3 integer math without a node: interest vectors, rate curve, directed rounding."""

from __future__ import annotations

import numpy as np

from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.intmath import RAY

SPY = am.SECONDS_PER_YEAR
RATES = am.RateParams.from_bps(8000, 0, 400, 6000)


def test_compounding_vectors_from_notes() -> None:
    # 15k borrowed of 1M: usage 1.5%, rate = 0.04 * 0.015 / 0.8 = 0.075% (notes §3.2/§3.3)
    rate = am.interest_rates("3.6", RATES, 985_000 * 10**6, 15_000 * 10**6, 1000, 0)[1]
    assert rate == 75 * 10**22
    assert am.compounded_interest("3.6", rate, SPY) == 1000750281320312500000000000
    assert am.compounded_interest("3.0", rate, SPY) == 1000750281249550730786968000
    # both approximate e^r; v3.6 (Taylor in the period rate) is the closer one over a year
    exact = np.exp(0.00075)
    assert abs(am.compounded_interest("3.6", rate, SPY) / RAY - exact) < 1e-12
    assert am.compounded_interest("3.0", rate, 0) == am.compounded_interest("3.6", rate, 0) == RAY
    assert am.linear_interest(rate, SPY) == RAY + rate


def test_rate_curve_properties() -> None:
    p = am.RateParams.from_bps(8000, 100, 400, 6000)
    for version in am.VERSIONS:
        assert am.interest_rates(version, p, 10**12, 0, 1000) == (0, p.base_variable_borrow_rate)
        _, at_opt = am.interest_rates(version, p, 20, 80, 0)
        assert at_opt == p.base_variable_borrow_rate + p.variable_rate_slope1
        _, full = am.interest_rates(version, p, 0, 100, 0)
        assert full == p.base_variable_borrow_rate + p.variable_rate_slope1 + p.variable_rate_slope2
        prev = -1
        for used in range(0, 101, 5):
            lr, vr = am.interest_rates(version, p, 100 - used, used, 1000)
            assert vr >= prev and lr <= vr
            prev = vr
    # the v3.6 deficit (unbacked) lowers the supply rate, not the borrow rate
    lr0, vr0 = am.interest_rates("3.6", p, 50, 50, 1000, 0)
    lr1, vr1 = am.interest_rates("3.6", p, 50, 50, 1000, 50)
    assert vr0 == vr1 and lr1 < lr0


def test_directed_rounding() -> None:
    assert am.ray_mul_floor(3, RAY // 2) == 1 and am.ray_mul_ceil(3, RAY // 2) == 2
    assert am.ray_div_floor(RAY, 3 * RAY) == RAY // 3
    assert am.ray_div_ceil(RAY, 3 * RAY) == RAY // 3 + 1
    assert am.percent_div_ceil(1, 3) == 3334 and am.mul_div_ceil(7, 3, 2) == 11

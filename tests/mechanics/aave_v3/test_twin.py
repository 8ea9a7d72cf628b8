"""Aave v3 vectorised float twins against the exact pool and liquidation math."""

from __future__ import annotations

import numpy as np
import pytest

from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.aave_v3 import twin as vec
from lendscope.mechanics.aave_v3.liquidation import (
    collateral_to_liquidate,
    max_liquidatable_debt,
)
from lendscope.mechanics.aave_v3.params import ReserveParams
from lendscope.mechanics.aave_v3.pool import AaveMarket

RATES = am.RateParams.from_bps(8000, 0, 400, 6000)
USDC = ReserveParams("USDC", 6, 8000, 8250, 10500, 1000, RATES, 0)


def _random_book(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    coll = rng.uniform(5, 1000, n)  # WETH
    p_c = rng.uniform(1000, 4000, n)
    hf = rng.uniform(0.4, 1.4, n)
    debt = coll * p_c * 0.825 / hf  # USDC at $1
    return {"coll": coll, "p_c": p_c, "debt": debt}


@pytest.mark.parametrize("version", am.VERSIONS)
def test_vectorised_twins_match_exact(version: str) -> None:
    rng = np.random.default_rng(7)
    book = _random_book(rng, 300)
    hf_v, cap_v, seized_v, repaid_v, fee_v, bad_v = [], [], [], [], [], []
    hf_x, cap_x, seized_x, repaid_x, fee_x, bad_x = [], [], [], [], [], []
    for c_f, pc_f, d_f in zip(book["coll"], book["p_c"], book["debt"], strict=True):
        c, pc, d = int(c_f * 10**18), int(pc_f * 10**8), int(d_f * 10**6)
        weth = ReserveParams("WETH", 18, 8000, 8250, 10500, 1000, RATES, 1000)
        m = AaveMarket(version, [weth, USDC], [pc, 10**8])
        u = m.user("x")
        u.a_scaled[0], u.v_scaled[1], u.collateral[0], u.borrowing[1] = c, d, True, True
        acct = m.account_data("x", 0)
        hf_x.append(acct.health_factor / 1e18)
        coll_base = c * pc // 10**18
        cap = 0
        if acct.health_factor < 10**18:
            hf_int, tot = acct.health_factor, acct.total_debt_base
            cap = max_liquidatable_debt(version, hf_int, d, 10**8, 10**6, coll_base, tot)
        cap_x.append(cap / 1e6)
        s, r, f, _ = collateral_to_liquidate(version, pc, 10**18, 10**8, 10**6, cap, c, 10500, 1000)
        seized_x.append(s / 1e18)
        repaid_x.append(r / 1e6)
        fee_x.append(f / 1e18)
        bad_x.append((d - r) / 1e6 if s + f == c and cap else 0.0)
        c_, pc_, d_ = c / 1e18, pc / 1e8, d / 1e6
        hf = vec.health_factor_vec(c_, pc_, d_, 1.0, 8250)
        hf_v.append(float(hf))
        cv = vec.liquidatable_debt_vec(version, hf, c_, pc_, d_, 1.0)
        cap_v.append(float(cv))
        sv, rv, fv = vec.seized_collateral_vec(cv, c_, pc_, 1.0, 10500, 1000)
        seized_v.append(float(sv))
        repaid_v.append(float(rv))
        fee_v.append(float(fv))
        bad_v.append(
            float(vec.bad_debt_after_liquidation_vec(version, c_, pc_, d_, 1.0, 8250, 10500))
        )
    for got, want in [(hf_v, hf_x), (cap_v, cap_x), (seized_v, seized_x), (repaid_v, repaid_x),
                      (fee_v, fee_x), (bad_v, bad_x)]:  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)
    assert sum(b > 0 for b in bad_x) > 10  # the book does exercise the deficit path


def test_vectorised_on_arrays() -> None:
    rng = np.random.default_rng(1)
    b = _random_book(rng, 1000)
    hf = vec.health_factor_vec(b["coll"], b["p_c"], b["debt"], np.ones(1000), 8250)
    np.testing.assert_allclose(hf, b["coll"] * b["p_c"] * 0.825 / b["debt"], rtol=1e-14)
    cap = vec.liquidatable_debt_vec("3.0", hf, b["coll"], b["p_c"], b["debt"], 1.0)
    assert np.all(cap[hf >= 1] == 0) and np.all(cap[(hf < 1) & (hf > 0.95)] > 0)
    assert np.isinf(vec.health_factor_vec(1.0, 1.0, 0.0, 1.0, 8250))

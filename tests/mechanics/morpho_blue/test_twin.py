"""Morpho Blue vectorised float twins against the exact market functions on random books."""

from __future__ import annotations

import numpy as np
import pytest

from lendscope.mechanics.intmath import UINT256_MAX
from lendscope.mechanics.morpho_blue.market import (
    Market,
    Position,
    full_liquidation,
    health_factor,
    liquidation_amounts,
)
from lendscope.mechanics.morpho_blue.twin import (
    full_liquidation_vec,
    health_factor_vec,
    seized_for_repaid_shares_vec,
)

# ------------------------------------------------------------------------- NumPy twins


def random_book(seed: int, n: int = 2_000):
    rng = np.random.default_rng(seed)
    tba = int(10 ** rng.uniform(20, 27))
    tbs = tba * int(rng.uniform(1.0, 1.5) * 10**6)
    m = Market(tba * 2, tbs * 2, tba, tbs, 0, 0)
    price = int(10 ** rng.uniform(33, 39))
    lltv = int(rng.choice([385, 625, 770, 860, 915, 945, 980])) * 10**15
    shares = [int(tbs * f) for f in 10 ** rng.uniform(-6, -1, n)]
    hf = rng.uniform(0.2, 2.0, n)
    # collateral so that the health factor is roughly ``hf``.
    coll = [
        max(int(s * (tba / tbs) * h / (lltv / 1e18) * 1e36 / price), 1)
        for s, h in zip(shares, hf, strict=True)
    ]
    return m, price, lltv, shares, coll


@pytest.mark.parametrize("seed", range(5))
def test_numpy_twins_match_exact(seed: int) -> None:
    m, price, lltv, shares, coll = random_book(seed)
    tba, tbs = m.total_borrow_assets, m.total_borrow_shares
    hf_np = health_factor_vec(coll, shares, tba, tbs, price, lltv)
    seized_np = seized_for_repaid_shares_vec(shares, tba, tbs, price, lltv)
    s_np, r_np, bd_np = full_liquidation_vec(coll, shares, tba, tbs, price, lltv)
    n_bad = 0
    for k, (s, c) in enumerate(zip(shares, coll, strict=True)):
        p = Position(0, s, c)
        hf = health_factor(p, m, lltv, price)
        assert hf != UINT256_MAX
        assert hf_np[k] == pytest.approx(hf / 1e18, rel=1e-9)
        assert seized_np[k] == pytest.approx(liquidation_amounts(m, lltv, price, 0, s)[0], rel=1e-9)
        res = full_liquidation(p, m, lltv, price)
        debt = s * (tba + 1) / (tbs + 10**6)
        scale_c, scale_d = max(c, 1), max(debt, 1)  # bad debt cancels: compare on the debt scale
        assert abs(s_np[k] - res.seized_assets) <= 1e-9 * scale_c
        assert abs(r_np[k] - res.repaid_assets) <= 1e-9 * scale_d
        assert abs(bd_np[k] - res.bad_debt_assets) <= 1e-9 * scale_d
        n_bad += res.bad_debt_assets > 0
    assert 0 < n_bad < len(shares)  # both branches exercised
    assert np.isinf(health_factor_vec([1], [0], tba, tbs, price, lltv)[0])

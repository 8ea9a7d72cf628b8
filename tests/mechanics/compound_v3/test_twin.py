"""Compound v3 vectorised float twins against the exact Comet on random books."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.compound_v3.comet import Comet
from lendscope.mechanics.compound_v3.twin import absorb_vec, health_ratio_vec, liquidatable_vec
from tests.mechanics.compound_v3.books import E18, random_book


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_health_and_absorb_match_exact(seed):
    rng = np.random.default_rng(seed)
    c, accounts, debt, coll, prices, scales = random_book(rng, 40)
    info = list(c.assets.values())
    lcf = np.array([a.liquidate_collateral_factor for a in info], float)
    lf = np.array([a.liquidation_factor for a in info], float)
    hr = health_ratio_vec(debt, coll, prices, scales, lcf, float(c.base_price), 1e6)
    flags = liquidatable_vec(debt, coll, prices, scales, lcf, float(c.base_price), 1e6)
    for i, a in enumerate(accounts):
        debt_value = _coll_side(c, a) - c.liquidity(a)  # liquidity = coll side - debt
        exact = _coll_side(c, a) / debt_value
        assert hr[i] == pytest.approx(exact, rel=1e-9)
        if abs(exact - 1) > 1e-9:
            assert flags[i] == c.is_liquidatable(a)
    out = absorb_vec(debt, coll, prices, scales, lf, float(c.base_price), 1e6)
    for i, a in enumerate(accounts):
        if not c.is_liquidatable(a):
            continue
        (res,) = c.absorb([a], now=c.last_accrual_time)
        assert out["base_paid_out"][i] == pytest.approx(res.base_paid_out, rel=1e-9)
        assert out["shortfall"][i] == pytest.approx(res.shortfall, rel=1e-9, abs=2)
        assert out["new_balance"][i] == pytest.approx(res.new_balance, rel=1e-9, abs=2)


def _coll_side(c: Comet, account: str) -> int:
    """Sum of mulFactor(mulPrice(balance), liquidateCF) exactly as isLiquidatable adds it."""
    total = 0
    for info in c.assets.values():
        bal = c.user(account).collateral.get(info.name, 0)
        total += bal * c.prices[info.name] // info.scale * info.liquidate_collateral_factor // E18
    return total

"""Aave v3 liquidation closed forms: the repay that restores HF = 1, toxic liquidations."""

from __future__ import annotations

import pytest

from lendscope.mechanics.aave_v3.liquidation import (
    collateral_to_liquidate,
    is_toxic,
    max_liquidatable_debt,
    repay_to_restore_hf,
)


def test_repay_that_restores_hf_one() -> None:
    # notes risk.md §4.5: C = 90, D = 80, LT = 0.825, b = 5% => r = 42.99
    r = repay_to_restore_hf(90.0, 80.0, 0.825, 0.05)
    assert r == pytest.approx(42.99, abs=0.01)
    # against the integer liquidation math: USD-priced collateral and debt, 18 decimals
    unit, price = 10**18, 10**8
    c, d = 90 * unit, 80 * unit
    repay = int(r * unit)
    seized, repaid, fee, _ = collateral_to_liquidate(
        "3.6", price, unit, price, unit, repay, c, 10500, 0
    )
    assert repaid == repay and fee == 0
    hf_after = (c - seized) * 0.825 / (d - repaid)
    assert hf_after == pytest.approx(1.0, abs=1e-12)
    # the 50% close factor allows less than that here (HF 0.928 < 0.95 -> 100% in v3.0)
    assert max_liquidatable_debt("3.0", 95 * 10**16 + 1, d, price, unit) == d // 2


@pytest.mark.parametrize(("ltv", "toxic"), [(0.90, False), (0.952, False), (0.96, True)])
def test_toxic_liquidation_threshold(ltv: float, toxic: bool) -> None:
    unit, price = 10**18, 10**8
    c = 100 * unit
    d = int(ltv * c)
    assert is_toxic(ltv, 0.05) is toxic
    seized, repaid, _, _ = collateral_to_liquidate(
        "3.6", price, unit, price, unit, d // 10, c, 10500, 0
    )
    after = (d - repaid) / (c - seized)
    assert (after > d / c) is toxic

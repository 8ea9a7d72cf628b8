"""Morpho's AdaptiveCurveIrm: ``wExp`` anchors, curve shape, state and rollback in a market."""

from __future__ import annotations

import numpy as np
import pytest

from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.morpho_blue.irm import (
    INITIAL_RATE_AT_TARGET,
    LN_2_INT,
    MAX_RATE_AT_TARGET,
    MIN_RATE_AT_TARGET,
    TARGET_UTILIZATION,
    AdaptiveCurveIrm,
    borrow_rate_from_utilization,
    w_exp,
)
from lendscope.mechanics.morpho_blue.math import (
    MorphoRevert,
)
from tests.mechanics.morpho_blue.markets import DAY, new_market

# ------------------------------------------------------------------------- AdaptiveCurveIrm


def test_w_exp_anchors() -> None:
    assert w_exp(0) == WAD
    assert abs(w_exp(LN_2_INT) - 2 * WAD) <= 2
    assert w_exp(-(10**30)) == 0
    for x in (-5 * WAD, -WAD // 3, WAD // 7, 3 * WAD, 20 * WAD):
        # 2nd-order Taylor on |r| <= ln2/2: at most ~0.7% off e^x (ExpLib accepts that)
        assert w_exp(x) / 1e18 == pytest.approx(np.exp(x / 1e18), rel=8e-3)


def test_irm_curve_shape() -> None:
    r = INITIAL_RATE_AT_TARGET
    assert borrow_rate_from_utilization(TARGET_UTILIZATION, r, 0) == (r, r)
    assert borrow_rate_from_utilization(WAD, r, 0)[0] == 4 * r  # CURVE_STEEPNESS
    assert borrow_rate_from_utilization(0, r, 0)[0] == r // 4
    assert borrow_rate_from_utilization(5 * 10**17, 0, 999) == (
        borrow_rate_from_utilization(5 * 10**17, r, 0)[0],
        r,
    )  # first interaction
    up = borrow_rate_from_utilization(WAD, r, 30 * DAY)[1]
    down = borrow_rate_from_utilization(0, r, 30 * DAY)[1]
    assert down < r < up
    assert borrow_rate_from_utilization(WAD, r, 100 * 365 * DAY)[1] == MAX_RATE_AT_TARGET
    assert borrow_rate_from_utilization(0, r, 100 * 365 * DAY)[1] == MIN_RATE_AT_TARGET


def test_irm_state_in_market_and_rollback() -> None:
    irm = AdaptiveCurveIrm()
    mb = new_market(irm=irm)
    assert irm.rate_at_target == INITIAL_RATE_AT_TARGET  # createMarket initialises it
    mb.supply(1_000, 100 * WAD, 0, "S")
    mb.supply_collateral(1_000, 10**6 * WAD, "B")
    mb.borrow(1_000, 95 * WAD, 0, "B")
    mb.accrue_interest(1_000 + 10 * DAY)
    rat = irm.rate_at_target
    assert rat > INITIAL_RATE_AT_TARGET  # 95% > 90% target: the curve moves up
    with pytest.raises(MorphoRevert):
        mb.borrow(1_000 + 20 * DAY, 10**9 * WAD, 0, "B")
    assert irm.rate_at_target == rat and mb.market.last_update == 1_000 + 10 * DAY

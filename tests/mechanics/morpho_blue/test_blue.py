"""Morpho Blue port: closed forms, the notes' on-chain vector, rounding, reverts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.morpho_blue.blue import MorphoBlue
from lendscope.mechanics.morpho_blue.math import (
    MorphoRevert,
    liquidation_incentive_factor,
    w_taylor_compounded,
)
from tests.mechanics.morpho_blue.markets import DAY, LLTV, new_market

# ------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("lltv", [0.385, 0.5, 0.625, 0.77, 0.86, 0.915, 0.945, 0.965, 0.98])
def test_lif_closed_form(lltv: float) -> None:
    exact = liquidation_incentive_factor(round(lltv * 1e18)) / 1e18
    assert exact == pytest.approx(min(1.15, 1 / (1 - 0.3 * (1 - lltv))), rel=1e-15)


def test_lif_known_values() -> None:
    assert liquidation_incentive_factor(LLTV) == 1043841336116910229  # chain and blue-sdk
    assert liquidation_incentive_factor(385 * 10**15) == 115 * 10**16  # capped
    assert round(liquidation_incentive_factor(77 * 10**16) / 1e14) == 10741  # risk.md §1.6


def test_w_taylor_compounded_vector() -> None:
    # local-evm.md Appendix G: IrmMock rate at 800/1e6 utilization, 30 days.
    rate = 800 * WAD * WAD // (10**6 * WAD) // (365 * DAY)
    assert rate == 25367833
    assert w_taylor_compounded(rate, 30 * DAY) == 65755584939707


def test_known_chain_vector() -> None:
    """local-evm.md §3.1 scenario (real Morpho on anvil), reproduced wei for wei."""
    mb = new_market(fee=10**17)
    t = 1_001
    mb.supply(t, 10**6 * WAD, 0, "S")
    mb.supply_collateral(t + 1, 1000 * WAD, "B")
    mb.borrow(t + 2, 800 * WAD, 0, "B")
    mb.accrue_interest(t + 2 + 30 * DAY)
    assert mb.market.total_borrow_assets == 800052604467951765600
    assert mb.position("F").supply_shares == 5260446546125867427111
    mb.price = 9 * 10**35
    assert not mb._healthy("B")
    res = mb.liquidate(t + 3 + 30 * DAY, "B", 100 * WAD, 0)
    assert res.repaid_assets == 86220000000000000055
    assert res.seized_assets == 100 * WAD and res.bad_debt_assets == 0


# ------------------------------------------------------------------------- share rounding


def _book(seed_assets: int, borrow_bps: int, days: int) -> MorphoBlue:
    """A market with interest accrued, so that share prices are not round."""
    mb = new_market(fee=10**17)
    mb.supply(1_000, seed_assets, 0, "S0")
    mb.supply_collateral(1_000, 10**38, "B0")
    mb.borrow(1_000, max(seed_assets * borrow_bps // 10_000, 1), 0, "B0")
    mb.accrue_interest(1_000 + days * DAY)
    return mb


books = st.builds(_book, st.integers(10**6, 10**30), st.integers(1, 9_000), st.integers(0, 3650))


@settings(max_examples=200, deadline=None)
@given(mb=books, assets=st.integers(1, 10**30), by_shares=st.booleans())
def test_no_free_value_supply_withdraw(mb: MorphoBlue, assets: int, by_shares: bool) -> None:
    now = mb.market.last_update
    if by_shares:
        paid, shares = mb.supply(now, 0, assets, "U")
    else:
        paid, shares = mb.supply(now, assets, 0, "U")
    if shares == 0:
        return
    got, burnt = mb.withdraw(now, 0, shares, "U")
    assert burnt == shares and got <= paid


@settings(max_examples=200, deadline=None)
@given(mb=books, bps=st.integers(1, 10_000))
def test_no_free_value_borrow_repay(mb: MorphoBlue, bps: int) -> None:
    now = mb.market.last_update
    m = mb.market
    amount = max((m.total_supply_assets - m.total_borrow_assets) * bps // 10_000, 1)
    mb.supply_collateral(now, 10**38, "U")
    got, shares = mb.borrow(now, amount, 0, "U")
    paid, _ = mb.repay(now, 0, shares, "U")
    assert got == amount and paid >= got


# ------------------------------------------------------------------------- reverts


def test_reverts_leave_state_untouched() -> None:
    mb = _book(10**24, 5_000, 30)
    snap = (replace(mb.market), {u: replace(p) for u, p in mb.positions.items()})
    held = mb.position("F")  # references stay valid across a revert
    now = mb.market.last_update + DAY
    for call, reason in [
        (lambda: mb.borrow(now, WAD, 0, "nobody"), "insufficient collateral"),
        (lambda: mb.supply(now, 1, 1, "U"), "inconsistent input"),
        (lambda: mb.withdraw(now, 10**30, 0, "S0"), "arithmetic underflow or overflow"),
        (lambda: mb.liquidate(now, "B0", 1, 0), "position is healthy"),
        (lambda: mb.supply_collateral(now, 0, "U"), "zero assets"),
        (lambda: mb.set_fee(now, 3 * 10**17), "max fee exceeded"),
    ]:
        with pytest.raises(MorphoRevert) as e:
            call()
        assert e.value.reason == reason
        assert mb.market == snap[0] and mb.positions == snap[1]
        assert held is mb.position("F")


def test_withdraw_beyond_liquidity_reverts() -> None:
    mb = _book(10**24, 9_000, 0)
    with pytest.raises(MorphoRevert, match="insufficient liquidity"):
        mb.withdraw(mb.market.last_update, 2 * 10**23, 0, "S0")


def test_bad_debt_socialised() -> None:
    mb = new_market()
    mb.supply(1_000, 10**6 * WAD, 0, "S")
    mb.supply_collateral(1_000, 1000 * WAD, "B")
    mb.borrow(1_000, 800 * WAD, 0, "B")
    mb.price = 5 * 10**35  # collateral now worth 500 < 800 debt
    tsa = mb.market.total_supply_assets
    res = mb.liquidate(1_000, "B", 1000 * WAD, 0)
    p = mb.position("B")
    assert p.collateral == 0 and p.borrow_shares == 0 and res.bad_debt_assets > 0
    assert mb.market.total_borrow_shares == 0 and mb.market.total_borrow_assets == 0
    assert mb.market.total_supply_assets == tsa - res.bad_debt_assets
    assert res.repaid_assets + res.bad_debt_assets == 800 * WAD

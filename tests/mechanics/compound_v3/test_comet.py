"""Compound v3 (Comet) integer model.

No bytecode for Compound v3 (Comet) is available on the registries; vectors here are derived by hand
from compound-finance/comet contracts/Comet.sol, contracts/CometCore.sol and
contracts/CometMath.sol (commit d5a30b0): each test's docstring names the function whose lines
were evaluated by hand. The rest are closed forms and hypothesis properties; the vectorised twins
are checked against this model in test_twin.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendscope.mechanics.compound_v3.comet import Comet
from lendscope.mechanics.compound_v3.config import AssetConfig
from lendscope.mechanics.compound_v3.math import (
    BASE_INDEX_SCALE,
    FACTOR_SCALE,
    SECONDS_PER_YEAR,
    CometRevert,
    present_value_borrow,
    present_value_supply,
    principal_value_borrow,
    principal_value_supply,
)
from tests.mechanics.compound_v3.books import E6, E8, E18, random_book, usdc_config


@pytest.fixture
def comet() -> Comet:
    c = Comet(usdc_config())
    c.supply_base("lender", 10_000 * E6, now=0)
    c.supply_collateral("bob", "WETH", E18)
    return c


def test_per_second_rates_are_floored_at_construction():
    """Comet.constructor: perSecond = perYear / SECONDS_PER_YEAR (integer division)."""
    c = usdc_config()
    # 0.0325e18 / 31_536_000 = 1_030_568_239.4... ; 0.035e18 / ... = 1_109_842_719.1...
    assert c.supply_slope_low == 1_030_568_239
    assert c.supply_slope_high == 12_683_916_793
    assert c.borrow_slope_low == 1_109_842_719
    assert c.borrow_slope_high == 7_927_447_995
    assert c.borrow_base == 475_646_879
    assert c.supply_base == 0


def test_asset_factors_truncated_to_four_decimals():
    """getPackedAssetInternal stores factor / 1e14 in a uint16; getAssetInfo multiplies back."""
    a = AssetConfig("X", 18, 800_012_345_678_901_234, 850_099_999_999_999_999, 9 * 10**17, E8)
    info = usdc_config(assets=(a,)).asset_infos()[0]
    assert info.borrow_collateral_factor == 8_000 * 10**14
    assert info.liquidate_collateral_factor == 8_500 * 10**14
    with pytest.raises(CometRevert, match="BorrowCFTooLarge"):
        usdc_config(assets=(AssetConfig("X", 18, 9 * 10**17, 9 * 10**17, E18, E8),)).asset_infos()


def test_utilization_rates_and_one_year_accrual_by_hand(comet):
    """getUtilization, getBorrowRate/getSupplyRate, accruedInterestIndices.

    Supply 10,000 USDC, borrow 5,000 USDC -> u = 5000e6 * 1e18 / 10000e6 = 0.5e18.
    borrowRate = 475_646_879 + floor(1_109_842_719 * 0.5) = 1_030_568_238 per second;
    supplyRate = floor(1_030_568_239 * 0.5) = 515_284_119. After 31_536_000 s:
    borrowIndex = 1e15 + 1e15 * 1_030_568_238 * 31_536_000 / 1e18 = 1_032_499_999_953_568,
    supplyIndex = 1e15 + 1e15 * 515_284_119 * 31_536_000 / 1e18 = 1_016_249_999_976_784.
    """
    comet.supply_collateral("bob", "WETH", 4 * E18)
    comet.withdraw_base("bob", 5_000 * E6, now=0)
    assert comet.get_utilization() == 5 * 10**17
    assert comet.get_borrow_rate(5 * 10**17) == 1_030_568_238
    assert comet.get_supply_rate(5 * 10**17) == 515_284_119
    comet.accrue(SECONDS_PER_YEAR)
    assert comet.base_borrow_index == 1_032_499_999_953_568
    assert comet.base_supply_index == 1_016_249_999_976_784
    # borrowBalanceOf = principal * index / 1e15 (principal = 5000e6 at index 1e15)
    assert comet.borrow_balance_of("bob") == 5_000 * E6 * 1_032_499_999_953_568 // 10**15
    assert comet.balance_of("lender") == 10_000 * E6 * 1_016_249_999_976_784 // 10**15


def test_view_accrual_matches_accrue(comet):
    comet.supply_collateral("bob", "WETH", 4 * E18)
    comet.withdraw_base("bob", 7_000 * E6, now=0)
    view = (comet.balance_of("lender", now=86_400), comet.borrow_balance_of("bob", now=86_400))
    comet.accrue(86_400)
    assert view == (comet.balance_of("lender"), comet.borrow_balance_of("bob"))


@given(
    st.integers(0, 10**18),
    st.integers(0, 10**17),
    st.integers(0, 10**18),
    st.integers(0, 5 * 10**18),
)
def test_kink_rates_continuous_and_monotone(kink, low, high, base):
    """getBorrowRate: both branches agree at u == kink; non-decreasing in u."""
    c = Comet(
        usdc_config(
            borrow_kink=kink,
            borrow_per_year_interest_rate_slope_low=low * 1000,
            borrow_per_year_interest_rate_slope_high=high * 1000,
            borrow_per_year_interest_rate_base=base,
        )
    )
    cfg = c.config
    at_kink = c.get_borrow_rate(kink)
    assert at_kink == cfg.borrow_base + cfg.borrow_slope_low * kink // FACTOR_SCALE
    above = c.get_borrow_rate(kink + 10**12)
    assert above - at_kink == cfg.borrow_slope_high * 10**12 // FACTOR_SCALE
    us = sorted({0, kink // 2, kink, kink + 1, 10**18, 2 * 10**18})
    rates = [c.get_borrow_rate(u) for u in us]
    assert rates == sorted(rates)


def test_principal_rounding_by_hand():
    """CometCore.principalValueSupply rounds down, principalValueBorrow rounds up.

    index 1.1e15, present 100: supply principal floor(100 / 1.1) = 90, borrow ceil(...) = 91;
    back: 90 * 1.1 = 99 <= 100 and 91 * 1.1 = 100.1 -> 100.
    """
    idx = 11 * 10**14
    assert principal_value_supply(idx, 100) == 90
    assert principal_value_borrow(idx, 100) == 91
    assert present_value_supply(idx, 90) == 99
    assert present_value_borrow(idx, 91) == 100


@given(st.integers(BASE_INDEX_SCALE, 100 * BASE_INDEX_SCALE), st.integers(0, 10**30))
def test_present_principal_round_trip_never_creates_value(index, amount):
    """A supplier never gets back more than deposited; a borrower never owes less than drawn."""
    assert present_value_supply(index, principal_value_supply(index, amount)) <= amount
    assert present_value_borrow(index, principal_value_borrow(index, amount)) >= amount
    # and the slack is below one index step
    assert amount - present_value_supply(index, principal_value_supply(index, amount)) <= (
        index // BASE_INDEX_SCALE + 1
    )


def test_borrow_checks_and_revert_rolls_back(comet):
    """withdrawBase: BorrowTooSmall below baseBorrowMin; NotCollateralized past borrow CF.

    1 WETH at 2000 USD, borrowCollateralFactor 0.825 -> borrow limit 1650 USDC.
    """
    with pytest.raises(CometRevert, match="BorrowTooSmall"):
        comet.withdraw_base("bob", 99 * E6, now=0)
    with pytest.raises(CometRevert, match="NotCollateralized"):
        comet.withdraw_base("bob", 1_650 * E6 + 1, now=0)
    assert comet.user("bob").principal == 0 and comet.total_borrow_base == 0
    comet.withdraw_base("bob", 1_650 * E6, now=0)
    assert comet.user("bob").principal == -1_650 * E6


def test_liquidation_boundary_by_hand(comet):
    """Comet.isLiquidatable: liquidity = -1600e8 + floor(P * 0.895) < 0.

    Debt 1600 USDC (index 1e15): signedMulPrice(-1600e6, 1e8, 1e6) = -1600e8. Collateral 1 WETH:
    mulPrice = P; mulFactor(P, 0.895e18) = floor(0.895 P). Threshold P = 1600e8 / 0.895
    = 178_770_949_720.67: P = 178_770_949_720 gives 159_999_999_999 (liquidatable),
    P = 178_770_949_721 gives 160_000_000_000 (liquidity 0, not liquidatable).
    """
    comet.withdraw_base("bob", 1_600 * E6, now=0)
    comet.prices["WETH"] = 178_770_949_721
    assert not comet.is_liquidatable("bob")
    assert comet.liquidity("bob") == 0
    comet.prices["WETH"] = 178_770_949_720
    assert comet.is_liquidatable("bob")
    assert comet.liquidity("bob") == -1


def test_absorb_underwater_reserves_absorb_shortfall(comet):
    """Comet.absorbInternal with P = 1500 USD, liquidationFactor 0.95.

    deltaValue = mulFactor(1500e8, 0.95e18) = 1425e8; deltaBalance = 1425e8 * 1e6 / 1e8 = 1425e6.
    newBalance = -1600e6 + 1425e6 < 0 -> 0; basePaidOut = 1600e6; shortfall 175e6.
    Reserves (balance - supply + borrow) go from 0 to -1600e6, and the protocol now owns 1 WETH.
    """
    comet.withdraw_base("bob", 1_600 * E6, now=0)
    assert comet.get_reserves() == 0
    comet.prices["WETH"] = 1_500 * E8
    with pytest.raises(CometRevert, match="NotLiquidatable"):
        comet.absorb(["bob", "lender"], now=10)  # one bad account reverts the batch
    assert comet.user("bob").collateral["WETH"] == E18 and comet.last_accrual_time == 0
    with pytest.raises(CometRevert, match="NotCollateralized"):
        comet.withdraw_collateral("bob", "WETH", 1, now=0)
    (res,) = comet.absorb(["bob"], now=0)
    assert (res.old_balance, res.new_balance) == (-1_600 * E6, 0)
    assert res.base_paid_out == 1_600 * E6 and res.shortfall == 175 * E6
    assert res.value_of_base_paid_out == 1_600 * E8
    assert comet.user("bob").principal == 0 and comet.user("bob").collateral["WETH"] == 0
    assert comet.get_reserves() == -1_600 * E6
    assert comet.get_collateral_reserves("WETH") == E18
    with pytest.raises(CometRevert, match="NotLiquidatable"):
        comet.absorb(["bob"], now=0)


def test_absorb_overcollateralised_at_liquidation_factor_credits_user(comet):
    """P = 1780: 0.895 * 1780 = 1593.1 < 1600 (liquidatable), 0.95 * 1780 = 1691 > 1600.

    newBalance = 1691e6 - 1600e6 = 91e6 supplied to bob; basePaidOut = 1691e6; no shortfall.
    """
    comet.withdraw_base("bob", 1_600 * E6, now=0)
    comet.prices["WETH"] = 1_780 * E8
    (res,) = comet.absorb(["bob"], now=0)
    assert res.new_balance == 91 * E6 and res.base_paid_out == 1_691 * E6 and res.shortfall == 0
    assert comet.balance_of("bob") == 91 * E6
    assert comet.get_reserves() == -1_691 * E6


def test_quote_and_buy_collateral_by_hand(comet):
    """Comet.quoteCollateral at P = 1500, storeFront 0.5, liquidationFactor 0.95.

    discountFactor = mulFactor(0.5e18, 0.05e18) = 0.025e18; discounted price =
    mulFactor(1500e8, 0.975e18) = 146_250_000_000; quote(1000e6) = 1e8 * 1000e6 * 1e18 /
    146_250_000_000 / 1e6 = 683_760_683_760_683_760 wei WETH.
    """
    comet.withdraw_base("bob", 1_600 * E6, now=0)
    comet.prices["WETH"] = 1_500 * E8
    assert comet.quote_collateral("WETH", 1_000 * E6) == 683_760_683_760_683_760
    comet.absorb(["bob"], now=0)
    with pytest.raises(CometRevert, match="TooMuchSlippage"):
        comet.buy_collateral("WETH", 7 * 10**17, 1_000 * E6, now=0)
    got = comet.buy_collateral("WETH", 0, 1_000 * E6, now=0)
    assert got == 683_760_683_760_683_760
    assert comet.get_reserves() == -600 * E6
    with pytest.raises(CometRevert, match="InsufficientReserves"):
        comet.buy_collateral("WETH", 0, 1_000 * E6, now=0)


def test_buy_collateral_not_for_sale_above_target(comet):
    c = Comet(usdc_config(target_reserves=0))
    with pytest.raises(CometRevert, match="NotForSale"):
        c.buy_collateral("WETH", 0, E6, now=0)


@given(st.integers(0, 10**18), st.integers(0, 10**18))
def test_store_front_discount_closed_form(sf, lf):
    """discount = storeFront * (1 - liquidationFactor); quote >= undiscounted quote."""
    lf4 = lf // 10**14 * 10**14
    c = Comet(
        usdc_config(
            store_front_price_factor=sf,
            assets=(AssetConfig("WETH", 18, 10**14, 2 * 10**14, lf, 2000 * E8),),
        )
    )
    disc = sf * (E18 - lf4) // E18
    if 2000 * E8 * (E18 - disc) // E18 == 0:
        with pytest.raises(CometRevert, match="Panic"):
            c.quote_collateral("WETH", 1_000 * E6)  # the contract divides by zero
        return
    q = c.quote_collateral("WETH", 1_000 * E6)
    assert q >= 1_000 * E6 * E8 * E18 // (2000 * E8) // E6
    assert q == E8 * 1_000 * E6 * E18 // (2000 * E8 * (E18 - disc) // E18) // E6


def test_absorb_reserve_change_equals_base_paid_out():
    """Closed form: after absorb, reserves fall by basePaidOut (to within index rounding)."""
    rng = np.random.default_rng(7)
    c, accounts, *_ = random_book(rng, 30)
    for a in accounts:
        if c.is_liquidatable(a):
            before = c.get_reserves()
            (res,) = c.absorb([a], now=c.last_accrual_time)
            assert abs(before - c.get_reserves() - res.base_paid_out) <= 2

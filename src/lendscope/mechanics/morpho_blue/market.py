"""Morpho Blue market records and pure market functions (accrual, health, liquidation).

Ported from ``morpho-org/morpho-blue`` v1.0.0 ``src/Morpho.sol`` and ``interfaces/IMorpho.sol``;
every function works on plain :class:`Market`/:class:`Position` values, so the stateful
:class:`~lendscope.mechanics.morpho_blue.blue.MorphoBlue` and the float twins share them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lendscope.mechanics.intmath import UINT256_MAX, mul_div_down, mul_div_up
from lendscope.mechanics.morpho_blue.math import (
    ORACLE_PRICE_SCALE,
    MorphoRevert,
    add128,
    checked_sub,
    liquidation_incentive_factor,
    to_assets_down,
    to_assets_up,
    to_shares_down,
    to_shares_up,
    to_uint128,
    u256,
    w_div_down,
    w_div_up,
    w_mul_down,
    w_taylor_compounded,
    zero_floor_sub,
)


@dataclass(frozen=True)
class MarketParams:
    """``IMorpho.MarketParams`` (v1.0.0)."""

    loan_token: str
    collateral_token: str
    oracle: str
    irm: str
    lltv: int


@dataclass
class Market:
    """``IMorpho.Market`` (v1.0.0): uint128 totals, last accrual timestamp and fee (wad)."""

    total_supply_assets: int = 0
    total_supply_shares: int = 0
    total_borrow_assets: int = 0
    total_borrow_shares: int = 0
    last_update: int = 0
    fee: int = 0


@dataclass
class Position:
    """``IMorpho.Position`` (v1.0.0)."""

    supply_shares: int = 0
    borrow_shares: int = 0
    collateral: int = 0


@dataclass(frozen=True)
class LiquidationResult:
    """``Morpho.liquidate`` return values plus the ``Liquidate`` event's other fields."""

    seized_assets: int
    repaid_assets: int
    repaid_shares: int
    bad_debt_assets: int = 0
    bad_debt_shares: int = 0


def accrue_interest(
    market: Market, borrow_rate: int | None, now: int, fee_position: Position | None = None
) -> tuple[int, int]:
    """``Morpho._accrueInterest`` (v1.0.0), in place; returns ``(interest, fee_shares)``.

    ``borrow_rate`` is the IRM's answer for the market *before* accrual (``None``: no IRM). The
    fee shares are credited to ``fee_position`` (the fee recipient's) when given.
    """
    elapsed = checked_sub(now, market.last_update)
    if elapsed == 0:
        return 0, 0
    interest = fee_shares = 0
    if borrow_rate is not None:
        interest = w_mul_down(market.total_borrow_assets, w_taylor_compounded(borrow_rate, elapsed))
        market.total_borrow_assets = add128(market.total_borrow_assets, interest)
        market.total_supply_assets = add128(market.total_supply_assets, interest)
        if market.fee != 0:
            fee_amount = w_mul_down(interest, market.fee)
            # Total supply already includes the fee amount, hence the subtraction (as in Morpho).
            fee_shares = to_shares_down(
                fee_amount, market.total_supply_assets - fee_amount, market.total_supply_shares
            )
            if fee_position is not None:
                fee_position.supply_shares = u256(fee_position.supply_shares + fee_shares)
            market.total_supply_shares = add128(market.total_supply_shares, fee_shares)
    market.last_update = now
    return interest, fee_shares


def borrowed_assets(position: Position, market: Market) -> int:
    """Debt rounded up, as in ``Morpho._isHealthy`` (v1.0.0)."""
    return to_assets_up(
        position.borrow_shares, market.total_borrow_assets, market.total_borrow_shares
    )


def max_borrow(position: Position, lltv: int, price: int) -> int:
    """``collateral * price / 1e36 * lltv`` rounded down, as in ``Morpho._isHealthy`` (v1.0.0)."""
    return w_mul_down(mul_div_down(position.collateral, price, ORACLE_PRICE_SCALE), lltv)


def is_healthy(position: Position, market: Market, lltv: int, price: int) -> bool:
    """``Morpho._isHealthy(marketParams, id, borrower, collateralPrice)`` (v1.0.0)."""
    return max_borrow(position, lltv, price) >= borrowed_assets(position, market)


def health_factor(position: Position, market: Market, lltv: int, price: int) -> int:
    """``maxBorrow.wDivDown(borrowed)`` in wad; uint256 max without debt.

    As blue-sdk 6.4 ``MarketUtils.getHealthFactor``; 1e18 is the ``_isHealthy`` edge.
    """
    debt = borrowed_assets(position, market)
    return UINT256_MAX if debt == 0 else w_div_down(max_borrow(position, lltv, price), debt)


def liquidation_amounts(
    market: Market, lltv: int, price: int, seized_assets: int, repaid_shares: int
) -> tuple[int, int]:
    """``(seizedAssets, repaidShares)`` as ``Morpho.liquidate`` (v1.0.0) derives the missing one."""
    if (seized_assets == 0) == (repaid_shares == 0):
        raise MorphoRevert("inconsistent input")
    lif = liquidation_incentive_factor(lltv)
    tba, tbs = market.total_borrow_assets, market.total_borrow_shares
    if seized_assets > 0:
        quoted = mul_div_up(seized_assets, price, ORACLE_PRICE_SCALE)
        return seized_assets, to_shares_up(w_div_up(quoted, lif), tba, tbs)
    seized = mul_div_down(
        w_mul_down(to_assets_down(repaid_shares, tba, tbs), lif), ORACLE_PRICE_SCALE, price
    )
    return seized, repaid_shares


def seizable_collateral(position: Position, market: Market, lltv: int, price: int) -> int:
    """Most collateral one liquidation can take, 0 if healthy (sdk ``getSeizableCollateral``)."""
    if price == 0 or is_healthy(position, market, lltv, price) or position.borrow_shares == 0:
        return 0
    seized, _ = liquidation_amounts(market, lltv, price, 0, position.borrow_shares)
    return min(position.collateral, seized)


def full_liquidation(
    position: Position, market: Market, lltv: int, price: int
) -> LiquidationResult:
    """Outcome of liquidating ``position`` as far as ``Morpho.liquidate`` (v1.0.0) allows.

    Repays every borrow share if the collateral covers the seizure, else seizes all collateral and
    socialises the rest as bad debt. At the exact boundary the contract may revert for one wei of
    rounding; the shares are then clamped to the position's. Inputs are not modified.
    """
    seize = seizable_collateral(position, market, lltv, price)
    if seize == 0:
        return LiquidationResult(0, 0, 0)
    m, p = replace(market), replace(position)
    if seize < p.collateral:
        seized, shares = liquidation_amounts(m, lltv, price, 0, p.borrow_shares)
    else:
        seized, shares = liquidation_amounts(m, lltv, price, seize, 0)
        shares = min(shares, p.borrow_shares)
    return apply_liquidation(m, p, seized, shares)


def apply_liquidation(m: Market, p: Position, seized: int, repaid_shares: int) -> LiquidationResult:
    """State update of ``Morpho.liquidate`` (v1.0.0) after the amounts are known, in place."""
    repaid_assets = to_assets_up(repaid_shares, m.total_borrow_assets, m.total_borrow_shares)
    p.borrow_shares = checked_sub(p.borrow_shares, to_uint128(repaid_shares))
    m.total_borrow_shares = checked_sub(m.total_borrow_shares, to_uint128(repaid_shares))
    m.total_borrow_assets = zero_floor_sub(m.total_borrow_assets, repaid_assets)
    p.collateral = checked_sub(p.collateral, to_uint128(seized))
    bad_assets = bad_shares = 0
    if p.collateral == 0:  # bad debt is socialised among suppliers
        bad_shares = p.borrow_shares
        bad_assets = min(
            m.total_borrow_assets,
            to_assets_up(bad_shares, m.total_borrow_assets, m.total_borrow_shares),
        )
        m.total_borrow_assets -= bad_assets
        m.total_supply_assets = checked_sub(m.total_supply_assets, bad_assets)
        m.total_borrow_shares = checked_sub(m.total_borrow_shares, bad_shares)
        p.borrow_shares = 0
    return LiquidationResult(seized, repaid_assets, repaid_shares, bad_assets, bad_shares)

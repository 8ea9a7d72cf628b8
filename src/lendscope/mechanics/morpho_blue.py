"""Morpho Blue market mechanics with the contract's exact integer math.

Ported from ``morpho-org/morpho-blue`` v1.0.0 (npm ``@morpho-org/morpho-blue`` 1.0.0), ``src/``:
``Morpho.sol``, ``libraries/MathLib.sol``, ``SharesMathLib.sol``, ``ConstantsLib.sol``,
``UtilsLib.sol``. One market per :class:`MorphoBlue`; the caller is assumed authorised for every
``onBehalf`` (``_isSenderAuthorized`` and zero-address checks are not modelled). Every state change
is atomic: a revert raises :class:`MorphoRevert` and leaves the state as it was, like the EVM.
The NumPy ``*_np`` twins are float64 approximations for large books.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from lendscope.mechanics.fixed import UINT256_MAX, WAD, MathOverflow, mul_div_down, mul_div_up

VIRTUAL_SHARES = 10**6  # SharesMathLib.VIRTUAL_SHARES
VIRTUAL_ASSETS = 1  # SharesMathLib.VIRTUAL_ASSETS
ORACLE_PRICE_SCALE = 10**36  # ConstantsLib.ORACLE_PRICE_SCALE
LIQUIDATION_CURSOR = 3 * 10**17  # ConstantsLib.LIQUIDATION_CURSOR
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16  # ConstantsLib
MAX_FEE = 25 * 10**16  # ConstantsLib.MAX_FEE
UINT128_MAX = 2**128 - 1
ZERO_ADDRESS = "0x" + "00" * 20
PANIC = "arithmetic underflow or overflow"  # Panic(0x11), as nodes decode it
PANIC_DIV = "division or modulo by zero"  # Panic(0x12)

#: An IRM: ``(market before accrual, block timestamp) -> per-second borrow rate (wad)``. A stateful
#: IRM keeps its state in a ``rate_at_target`` attribute so that a revert can restore it.
Irm = Callable[["Market", int], int]


class MorphoRevert(Exception):
    """The contract would revert; ``reason`` is the ``ErrorsLib`` string or :data:`PANIC`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


# ---------------------------------------------------------------- MathLib / SharesMathLib / Utils


def w_mul_down(x: int, y: int) -> int:
    """``MathLib.wMulDown`` (v1.0.0)."""
    return mul_div_down(x, y, WAD)


def w_div_down(x: int, y: int) -> int:
    """``MathLib.wDivDown`` (v1.0.0)."""
    return mul_div_down(x, WAD, y)


def w_div_up(x: int, y: int) -> int:
    """``MathLib.wDivUp`` (v1.0.0)."""
    return mul_div_up(x, WAD, y)


def w_taylor_compounded(x: int, n: int) -> int:
    """``MathLib.wTaylorCompounded`` (v1.0.0): ``e^(x n) - 1`` to third order, in wad."""
    first = _u256(x * n)
    second = mul_div_down(first, first, 2 * WAD)
    third = mul_div_down(second, first, 3 * WAD)
    return _u256(first + second + third)


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toSharesDown`` (v1.0.0), virtual shares 1e6 and virtual assets 1."""
    return mul_div_down(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toSharesUp`` (v1.0.0)."""
    return mul_div_up(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toAssetsDown`` (v1.0.0)."""
    return mul_div_down(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toAssetsUp`` (v1.0.0)."""
    return mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def _u256(x: int) -> int:
    """Checked uint256 result."""
    if not 0 <= x <= UINT256_MAX:
        raise MorphoRevert(PANIC)
    return x


def _u128(x: int) -> int:
    """``UtilsLib.toUint128`` (v1.0.0)."""
    if x > UINT128_MAX:
        raise MorphoRevert("max uint128 exceeded")
    return x


def _add128(a: int, b: int) -> int:
    """Checked ``uint128 += toUint128(b)``."""
    s = a + _u128(b)
    if s > UINT128_MAX:
        raise MorphoRevert(PANIC)
    return s


def _sub(a: int, b: int) -> int:
    """Checked subtraction (Solidity >=0.8 panics on underflow)."""
    if b > a:
        raise MorphoRevert(PANIC)
    return a - b


def _zero_floor_sub(x: int, y: int) -> int:
    """``UtilsLib.zeroFloorSub`` (v1.0.0)."""
    return x - y if x > y else 0


# ---------------------------------------------------------------------- pure market functions


def accrue_interest(
    market: Market, borrow_rate: int | None, now: int, fee_position: Position | None = None
) -> tuple[int, int]:
    """``Morpho._accrueInterest`` (v1.0.0), in place; returns ``(interest, fee_shares)``.

    ``borrow_rate`` is the IRM's answer for the market *before* accrual (``None``: no IRM). The
    fee shares are credited to ``fee_position`` (the fee recipient's) when given.
    """
    elapsed = _sub(now, market.last_update)
    if elapsed == 0:
        return 0, 0
    interest = fee_shares = 0
    if borrow_rate is not None:
        interest = w_mul_down(market.total_borrow_assets, w_taylor_compounded(borrow_rate, elapsed))
        market.total_borrow_assets = _add128(market.total_borrow_assets, interest)
        market.total_supply_assets = _add128(market.total_supply_assets, interest)
        if market.fee != 0:
            fee_amount = w_mul_down(interest, market.fee)
            # Total supply already includes the fee amount, hence the subtraction (as in Morpho).
            fee_shares = to_shares_down(
                fee_amount, market.total_supply_assets - fee_amount, market.total_supply_shares
            )
            if fee_position is not None:
                fee_position.supply_shares = _u256(fee_position.supply_shares + fee_shares)
            market.total_supply_shares = _add128(market.total_supply_shares, fee_shares)
    market.last_update = now
    return interest, fee_shares


def liquidation_incentive_factor(lltv: int) -> int:
    """LIF in ``Morpho.liquidate`` (v1.0.0): ``min(1.15, 1 / (1 - 0.3 (1 - lltv)))`` in wad."""
    return min(
        MAX_LIQUIDATION_INCENTIVE_FACTOR,
        w_div_down(WAD, WAD - w_mul_down(LIQUIDATION_CURSOR, WAD - lltv)),
    )


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
    return _apply_liquidation(m, p, seized, shares)


def _apply_liquidation(
    m: Market, p: Position, seized: int, repaid_shares: int
) -> LiquidationResult:
    """State update of ``Morpho.liquidate`` (v1.0.0) after the amounts are known, in place."""
    repaid_assets = to_assets_up(repaid_shares, m.total_borrow_assets, m.total_borrow_shares)
    p.borrow_shares = _sub(p.borrow_shares, _u128(repaid_shares))
    m.total_borrow_shares = _sub(m.total_borrow_shares, _u128(repaid_shares))
    m.total_borrow_assets = _zero_floor_sub(m.total_borrow_assets, repaid_assets)
    p.collateral = _sub(p.collateral, _u128(seized))
    bad_assets = bad_shares = 0
    if p.collateral == 0:  # bad debt is socialised among suppliers
        bad_shares = p.borrow_shares
        bad_assets = min(
            m.total_borrow_assets,
            to_assets_up(bad_shares, m.total_borrow_assets, m.total_borrow_shares),
        )
        m.total_borrow_assets -= bad_assets
        m.total_supply_assets = _sub(m.total_supply_assets, bad_assets)
        m.total_borrow_shares = _sub(m.total_borrow_shares, bad_shares)
        p.borrow_shares = 0
    return LiquidationResult(seized, repaid_assets, repaid_shares, bad_assets, bad_shares)


# ----------------------------------------------------------------------- stateful market


@dataclass
class MorphoBlue:
    """One Morpho Blue market: ``Morpho.sol`` (v1.0.0) entry points; ``now`` is block.timestamp."""

    params: MarketParams
    market: Market
    irm: Irm | None = None
    price: int = ORACLE_PRICE_SCALE  # the oracle's current answer
    fee_recipient: str = ZERO_ADDRESS
    positions: dict[str, Position] = field(default_factory=dict)

    @classmethod
    def create(cls, params: MarketParams, now: int, irm: Irm | None = None, **kw) -> MorphoBlue:
        """``Morpho.createMarket`` (v1.0.0): a stateful IRM is initialised by one call."""
        if not 0 < params.lltv < WAD:
            raise MorphoRevert("max LLTV exceeded")
        mb = cls(params, Market(last_update=now), irm, **kw)
        if irm is not None:
            irm(mb.market, now)
        return mb

    def position(self, user: str) -> Position:
        """``position(id, user)``; created empty on first use."""
        return self.positions.setdefault(user, Position())

    @contextmanager
    def _atomic(self, *users: str) -> Iterator[None]:
        """Roll back market, touched positions and IRM state on a revert."""
        saved_m = replace(self.market)
        saved_p = {u: replace(self.positions[u]) for u in users if u in self.positions}
        irm_state = getattr(self.irm, "rate_at_target", None)
        try:
            yield
        except (MorphoRevert, MathOverflow) as e:
            # Restore in place so that references held by callers see the rolled-back values.
            vars(self.market).update(vars(saved_m))
            for u in users:
                if u in saved_p:
                    vars(self.positions[u]).update(vars(saved_p[u]))
                else:
                    self.positions.pop(u, None)
            if irm_state is not None:
                self.irm.rate_at_target = irm_state  # type: ignore[union-attr]
            if isinstance(e, MathOverflow):
                raise MorphoRevert(PANIC_DIV if "zero" in str(e) else PANIC) from e
            raise

    def _accrue(self, now: int) -> None:
        if now == self.market.last_update:
            return  # the IRM is not called either
        rate = None if self.irm is None else self.irm(self.market, now)
        accrue_interest(self.market, rate, now, self.position(self.fee_recipient))

    def _healthy(self, user: str) -> bool:
        p = self.position(user)
        return p.borrow_shares == 0 or is_healthy(p, self.market, self.params.lltv, self.price)

    def accrue_interest(self, now: int) -> None:
        """``Morpho.accrueInterest`` (v1.0.0)."""
        with self._atomic(self.fee_recipient):
            self._accrue(now)

    def set_fee(self, now: int, new_fee: int) -> None:
        """``Morpho.setFee`` (v1.0.0): accrues with the old fee first."""
        with self._atomic(self.fee_recipient):
            if new_fee == self.market.fee:
                raise MorphoRevert("already set")
            if new_fee > MAX_FEE:
                raise MorphoRevert("max fee exceeded")
            self._accrue(now)
            self.market.fee = new_fee

    def _amounts(
        self, now: int, assets: int, shares: int, borrow_side: bool, shares_up: bool
    ) -> tuple[int, int]:
        """Input check, accrual, then the missing amount, rounded against the caller."""
        _exactly_one_zero(assets, shares)
        self._accrue(now)
        m = self.market
        if borrow_side:
            ta, ts = m.total_borrow_assets, m.total_borrow_shares
        else:
            ta, ts = m.total_supply_assets, m.total_supply_shares
        if assets > 0:
            return assets, (to_shares_up if shares_up else to_shares_down)(assets, ta, ts)
        return (to_assets_down if shares_up else to_assets_up)(shares, ta, ts), shares

    def supply(self, now: int, assets: int, shares: int, on_behalf: str) -> tuple[int, int]:
        """``Morpho.supply`` (v1.0.0): shares rounded down, or assets rounded up."""
        with self._atomic(on_behalf, self.fee_recipient):
            assets, shares = self._amounts(now, assets, shares, False, False)
            m, p = self.market, self.position(on_behalf)
            p.supply_shares = _u256(p.supply_shares + shares)
            m.total_supply_shares = _add128(m.total_supply_shares, shares)
            m.total_supply_assets = _add128(m.total_supply_assets, assets)
        return assets, shares

    def withdraw(self, now: int, assets: int, shares: int, on_behalf: str) -> tuple[int, int]:
        """``Morpho.withdraw`` (v1.0.0): shares rounded up, or assets rounded down."""
        with self._atomic(on_behalf, self.fee_recipient):
            assets, shares = self._amounts(now, assets, shares, False, True)
            m, p = self.market, self.position(on_behalf)
            p.supply_shares = _sub(p.supply_shares, shares)
            m.total_supply_shares = _sub(m.total_supply_shares, _u128(shares))
            m.total_supply_assets = _sub(m.total_supply_assets, _u128(assets))
            if m.total_borrow_assets > m.total_supply_assets:
                raise MorphoRevert("insufficient liquidity")
        return assets, shares

    def borrow(self, now: int, assets: int, shares: int, on_behalf: str) -> tuple[int, int]:
        """``Morpho.borrow`` (v1.0.0): shares rounded up, or assets rounded down."""
        with self._atomic(on_behalf, self.fee_recipient):
            assets, shares = self._amounts(now, assets, shares, True, True)
            m, p = self.market, self.position(on_behalf)
            p.borrow_shares = _add128(p.borrow_shares, shares)
            m.total_borrow_shares = _add128(m.total_borrow_shares, shares)
            m.total_borrow_assets = _add128(m.total_borrow_assets, assets)
            if not self._healthy(on_behalf):
                raise MorphoRevert("insufficient collateral")
            if m.total_borrow_assets > m.total_supply_assets:
                raise MorphoRevert("insufficient liquidity")
        return assets, shares

    def repay(self, now: int, assets: int, shares: int, on_behalf: str) -> tuple[int, int]:
        """``Morpho.repay`` (v1.0.0): shares rounded down, or assets rounded up."""
        with self._atomic(on_behalf, self.fee_recipient):
            assets, shares = self._amounts(now, assets, shares, True, False)
            m, p = self.market, self.position(on_behalf)
            p.borrow_shares = _sub(p.borrow_shares, _u128(shares))
            m.total_borrow_shares = _sub(m.total_borrow_shares, _u128(shares))
            # Assets rounded up may exceed the total by one: the contract floors at zero.
            m.total_borrow_assets = _zero_floor_sub(m.total_borrow_assets, assets)
        return assets, shares

    def supply_collateral(self, now: int, assets: int, on_behalf: str) -> None:
        """``Morpho.supplyCollateral`` (v1.0.0): no accrual (``now`` unused, kept for symmetry)."""
        with self._atomic(on_behalf):
            if assets == 0:
                raise MorphoRevert("zero assets")
            p = self.position(on_behalf)
            p.collateral = _add128(p.collateral, assets)

    def withdraw_collateral(self, now: int, assets: int, on_behalf: str) -> None:
        """``Morpho.withdrawCollateral`` (v1.0.0)."""
        with self._atomic(on_behalf, self.fee_recipient):
            if assets == 0:
                raise MorphoRevert("zero assets")
            self._accrue(now)
            p = self.position(on_behalf)
            p.collateral = _sub(p.collateral, _u128(assets))
            if not self._healthy(on_behalf):
                raise MorphoRevert("insufficient collateral")

    def liquidate(
        self, now: int, borrower: str, seized_assets: int, repaid_shares: int
    ) -> LiquidationResult:
        """``Morpho.liquidate`` (v1.0.0) at the oracle price ``self.price``, with bad debt."""
        with self._atomic(borrower, self.fee_recipient):
            _exactly_one_zero(seized_assets, repaid_shares)
            self._accrue(now)
            p, lltv = self.position(borrower), self.params.lltv
            if is_healthy(p, self.market, lltv, self.price):
                raise MorphoRevert("position is healthy")
            seized, shares = liquidation_amounts(
                self.market, lltv, self.price, seized_assets, repaid_shares
            )
            return _apply_liquidation(self.market, p, seized, shares)


def _exactly_one_zero(x: int, y: int) -> None:
    """``UtilsLib.exactlyOneZero`` (v1.0.0) as a require."""
    if (x == 0) == (y == 0):
        raise MorphoRevert("inconsistent input")


# ------------------------------------------------------------------- vectorised float twins


def _borrowed_np(borrow_shares, total_borrow_assets, total_borrow_shares) -> np.ndarray:
    return (
        np.asarray(borrow_shares, dtype=np.float64)
        * (float(total_borrow_assets) + VIRTUAL_ASSETS)
        / (float(total_borrow_shares) + VIRTUAL_SHARES)
    )


def health_factor_np(
    collateral, borrow_shares, total_borrow_assets: int, total_borrow_shares: int, price, lltv: int
) -> np.ndarray:
    """Float twin of :func:`health_factor` / 1e18 for arrays of positions (inf without debt)."""
    coll = np.asarray(collateral, dtype=np.float64)
    debt = _borrowed_np(borrow_shares, total_borrow_assets, total_borrow_shares)
    power = coll * (np.asarray(price, dtype=np.float64) / ORACLE_PRICE_SCALE) * (lltv / WAD)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(debt > 0, power / debt, np.inf)


def seized_for_repaid_shares_np(
    repaid_shares, total_borrow_assets: int, total_borrow_shares: int, price, lltv: int
) -> np.ndarray:
    """Float twin of :func:`liquidation_amounts` in repaid-shares mode: collateral seized."""
    lif = liquidation_incentive_factor(lltv) / WAD
    repaid = _borrowed_np(repaid_shares, total_borrow_assets, total_borrow_shares)
    return repaid * lif * ORACLE_PRICE_SCALE / np.asarray(price, dtype=np.float64)


def full_liquidation_np(
    collateral, borrow_shares, total_borrow_assets: int, total_borrow_shares: int, price, lltv: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float twin of :func:`full_liquidation`: ``(seized, repaid_assets, bad_debt_assets)``.

    Unhealthy positions lose ``min(collateral, debt * LIF / price)``; the repayment is the seized
    value divided by LIF; what stays unpaid when all collateral goes is bad debt.
    """
    coll = np.asarray(collateral, dtype=np.float64)
    px = np.asarray(price, dtype=np.float64) / ORACLE_PRICE_SCALE
    lif = liquidation_incentive_factor(lltv) / WAD
    debt = _borrowed_np(borrow_shares, total_borrow_assets, total_borrow_shares)
    bad = coll * px * (lltv / WAD) < debt
    seize_all = debt * lif / px
    seized = np.where(bad, np.minimum(coll, seize_all), 0.0)
    repaid = np.where(bad, np.minimum(debt, coll * px / lif), 0.0)
    bad_debt = np.where(bad & (seize_all >= coll), debt - repaid, 0.0)
    return seized, repaid, bad_debt

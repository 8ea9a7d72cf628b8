"""Morpho Blue market mechanics with the contract's exact integer math.

Ported from ``morpho-org/morpho-blue`` v1.0.0 (npm ``@morpho-org/morpho-blue`` 1.0.0), ``src/``:
``Morpho.sol``, ``libraries/MathLib.sol``, ``SharesMathLib.sol``, ``ConstantsLib.sol``,
``UtilsLib.sol``. One market per :class:`MorphoBlue`; the caller is assumed authorised for every
``onBehalf`` (``_isSenderAuthorized`` and zero-address checks are not modelled). Every state change
is atomic: a revert raises :class:`MorphoRevert` and leaves the state as it was, like the EVM.
Integer math lives in :mod:`.math`, the records and pure market functions in :mod:`.market`, the
AdaptiveCurveIrm in :mod:`.irm` and the NumPy ``*_vec`` float64 twins for large books in
:mod:`.twin`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from lendscope.mechanics.errors import MathOverflow
from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.morpho_blue.market import (
    LiquidationResult,
    Market,
    MarketParams,
    Position,
    accrue_interest,
    apply_liquidation,
    is_healthy,
    liquidation_amounts,
)
from lendscope.mechanics.morpho_blue.math import (
    MAX_FEE,
    ORACLE_PRICE_SCALE,
    PANIC,
    PANIC_DIV,
    ZERO_ADDRESS,
    MorphoRevert,
    add128,
    checked_sub,
    exactly_one_zero,
    to_assets_down,
    to_assets_up,
    to_shares_down,
    to_shares_up,
    to_uint128,
    u256,
    zero_floor_sub,
)

#: An IRM: ``(market before accrual, block timestamp) -> per-second borrow rate (wad)``. A stateful
#: IRM keeps its state in a ``rate_at_target`` attribute so that a revert can restore it.
Irm = Callable[[Market, int], int]


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
        exactly_one_zero(assets, shares)
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
            p.supply_shares = u256(p.supply_shares + shares)
            m.total_supply_shares = add128(m.total_supply_shares, shares)
            m.total_supply_assets = add128(m.total_supply_assets, assets)
        return assets, shares

    def withdraw(self, now: int, assets: int, shares: int, on_behalf: str) -> tuple[int, int]:
        """``Morpho.withdraw`` (v1.0.0): shares rounded up, or assets rounded down."""
        with self._atomic(on_behalf, self.fee_recipient):
            assets, shares = self._amounts(now, assets, shares, False, True)
            m, p = self.market, self.position(on_behalf)
            p.supply_shares = checked_sub(p.supply_shares, shares)
            m.total_supply_shares = checked_sub(m.total_supply_shares, to_uint128(shares))
            m.total_supply_assets = checked_sub(m.total_supply_assets, to_uint128(assets))
            if m.total_borrow_assets > m.total_supply_assets:
                raise MorphoRevert("insufficient liquidity")
        return assets, shares

    def borrow(self, now: int, assets: int, shares: int, on_behalf: str) -> tuple[int, int]:
        """``Morpho.borrow`` (v1.0.0): shares rounded up, or assets rounded down."""
        with self._atomic(on_behalf, self.fee_recipient):
            assets, shares = self._amounts(now, assets, shares, True, True)
            m, p = self.market, self.position(on_behalf)
            p.borrow_shares = add128(p.borrow_shares, shares)
            m.total_borrow_shares = add128(m.total_borrow_shares, shares)
            m.total_borrow_assets = add128(m.total_borrow_assets, assets)
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
            p.borrow_shares = checked_sub(p.borrow_shares, to_uint128(shares))
            m.total_borrow_shares = checked_sub(m.total_borrow_shares, to_uint128(shares))
            # Assets rounded up may exceed the total by one: the contract floors at zero.
            m.total_borrow_assets = zero_floor_sub(m.total_borrow_assets, assets)
        return assets, shares

    def supply_collateral(self, now: int, assets: int, on_behalf: str) -> None:
        """``Morpho.supplyCollateral`` (v1.0.0): no accrual (``now`` unused, kept for symmetry)."""
        with self._atomic(on_behalf):
            if assets == 0:
                raise MorphoRevert("zero assets")
            p = self.position(on_behalf)
            p.collateral = add128(p.collateral, assets)

    def withdraw_collateral(self, now: int, assets: int, on_behalf: str) -> None:
        """``Morpho.withdrawCollateral`` (v1.0.0)."""
        with self._atomic(on_behalf, self.fee_recipient):
            if assets == 0:
                raise MorphoRevert("zero assets")
            self._accrue(now)
            p = self.position(on_behalf)
            p.collateral = checked_sub(p.collateral, to_uint128(assets))
            if not self._healthy(on_behalf):
                raise MorphoRevert("insufficient collateral")

    def liquidate(
        self, now: int, borrower: str, seized_assets: int, repaid_shares: int
    ) -> LiquidationResult:
        """``Morpho.liquidate`` (v1.0.0) at the oracle price ``self.price``, with bad debt."""
        with self._atomic(borrower, self.fee_recipient):
            exactly_one_zero(seized_assets, repaid_shares)
            self._accrue(now)
            p, lltv = self.position(borrower), self.params.lltv
            if is_healthy(p, self.market, lltv, self.price):
                raise MorphoRevert("position is healthy")
            seized, shares = liquidation_amounts(
                self.market, lltv, self.price, seized_assets, repaid_shares
            )
            return apply_liquidation(self.market, p, seized, shares)

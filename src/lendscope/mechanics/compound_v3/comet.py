"""Compound v3 (Comet) base market with the contract's own integer math.

Ported from ``compound-finance/comet`` ``contracts/Comet.sol``, ``CometCore.sol`` and
``CometMath.sol`` (checked at commit d5a30b0). Balances are signed principals (``int104``) scaled
by ``uint64`` supply/borrow indices with ``BASE_INDEX_SCALE = 1e15``; factors use
``FACTOR_SCALE = 1e18``; prices have 8 decimals. Solidity integer division truncates toward zero,
also for signed values (``signedMulPrice``), which :func:`~.math.sdiv` reproduces.

The integer helpers live in :mod:`.math`, configuration records in :mod:`.config` and the float64
twins in :mod:`.twin`.

Not modelled: reward tracking indices, pause flags, permissions/allowances, supply caps on
transfer, the extension delegate. Prices come from the ``prices`` map instead of Chainlink feeds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from lendscope.mechanics.compound_v3.config import AbsorbResult, CometConfig, UserBasic
from lendscope.mechanics.compound_v3.math import (
    BASE_INDEX_SCALE,
    FACTOR_SCALE,
    UINT128_MAX,
    CometRevert,
    div_price,
    kinked_rate,
    mul_factor,
    mul_price,
    present_value_borrow,
    present_value_supply,
    principal_value_borrow,
    principal_value_supply,
    repay_and_supply_amount,
    safe64,
    safe104,
    signed104,
    signed_mul_price,
    withdraw_and_borrow_amount,
)


class Comet:
    """A Comet market: totals, users, prices and token balances held by the contract."""

    def __init__(self, config: CometConfig, now: int = 0) -> None:
        """``constructor`` + ``initializeStorage``: both indices start at ``BASE_INDEX_SCALE``."""
        self.config = config
        self.assets = {a.name: a for a in config.asset_infos()}
        self.prices = {a.name: a.price for a in config.assets}
        self.base_price = config.base_price
        self.base_supply_index = BASE_INDEX_SCALE
        self.base_borrow_index = BASE_INDEX_SCALE
        self.total_supply_base = 0
        self.total_borrow_base = 0
        self.last_accrual_time = now
        self.total_supply_asset = {n: 0 for n in self.assets}
        self.base_balance = 0  # base token held by the contract
        self.collateral_balance = {n: 0 for n in self.assets}  # collateral tokens held
        self.users: dict[str, UserBasic] = {}

    _SCALARS = (
        "base_supply_index",
        "base_borrow_index",
        "total_supply_base",
        "total_borrow_base",
        "last_accrual_time",
        "base_balance",
    )

    @contextmanager
    def _tx(self, account: str | None = None) -> Iterator[None]:
        """Undo a reverted call: restores totals, token balances and ``account``'s UserBasic."""
        scalars = [getattr(self, k) for k in self._SCALARS]
        maps = (dict(self.total_supply_asset), dict(self.collateral_balance))
        user = copy.deepcopy(self.users.get(account)) if account else None
        try:
            yield
        except Exception:
            for k, v in zip(self._SCALARS, scalars, strict=True):
                setattr(self, k, v)
            self.total_supply_asset, self.collateral_balance = maps
            if account is not None:
                if user is None:
                    self.users.pop(account, None)
                else:
                    self.users[account] = user
            raise

    # --- rates and indices -------------------------------------------------------------------
    def get_utilization(self) -> int:
        """``Comet.getUtilization``: ``totalBorrow * 1e18 / totalSupply`` (0 if no supply)."""
        supply = present_value_supply(self.base_supply_index, self.total_supply_base)
        borrow = present_value_borrow(self.base_borrow_index, self.total_borrow_base)
        return 0 if supply == 0 else borrow * FACTOR_SCALE // supply

    def get_supply_rate(self, utilization: int) -> int:
        """``Comet.getSupplyRate``: per-second kinked rate."""
        c = self.config
        return kinked_rate(utilization, c.supply_kink, c.supply_base, c.supply_slope_low,
                           c.supply_slope_high)  # fmt: skip

    def get_borrow_rate(self, utilization: int) -> int:
        """``Comet.getBorrowRate``: per-second kinked rate."""
        c = self.config
        return kinked_rate(utilization, c.borrow_kink, c.borrow_base, c.borrow_slope_low,
                           c.borrow_slope_high)  # fmt: skip

    def accrued_interest_indices(self, time_elapsed: int) -> tuple[int, int]:
        """``Comet.accruedInterestIndices``: simple interest over the elapsed span."""
        s, b = self.base_supply_index, self.base_borrow_index
        if time_elapsed > 0:
            u = self.get_utilization()
            s = safe64(s + safe64(mul_factor(s, self.get_supply_rate(u) * time_elapsed)))
            b = safe64(b + safe64(mul_factor(b, self.get_borrow_rate(u) * time_elapsed)))
        return s, b

    def accrue(self, now: int) -> None:
        """``Comet.accrueInternal`` (without reward tracking)."""
        if now >= 2**40:
            raise CometRevert("TimestampTooLarge")
        elapsed = now - self.last_accrual_time
        if elapsed < 0:
            raise CometRevert("TimeWentBackwards")
        if elapsed > 0:
            self.base_supply_index, self.base_borrow_index = self.accrued_interest_indices(elapsed)
            self.last_accrual_time = now

    # --- balances ----------------------------------------------------------------------------
    def user(self, account: str) -> UserBasic:
        """The account's ``UserBasic`` (created empty on first use)."""
        return self.users.setdefault(account, UserBasic())

    def present_value(self, principal: int) -> int:
        """``CometCore.presentValue``: signed present value of a signed principal."""
        if principal >= 0:
            return present_value_supply(self.base_supply_index, principal)
        return -present_value_borrow(self.base_borrow_index, -principal)

    def principal_value(self, present: int) -> int:
        """``CometCore.principalValue``: supply rounds down, borrow rounds up (in magnitude)."""
        if present >= 0:
            return signed104(principal_value_supply(self.base_supply_index, present))
        return -signed104(principal_value_borrow(self.base_borrow_index, -present))

    def balance_of(self, account: str, now: int | None = None) -> int:
        """``Comet.balanceOf``: positive base balance at ``now`` (view accrual), else 0."""
        s, _ = self._view_indices(now)
        p = self.user(account).principal
        return present_value_supply(s, p) if p > 0 else 0

    def borrow_balance_of(self, account: str, now: int | None = None) -> int:
        """``Comet.borrowBalanceOf``: debt magnitude at ``now`` (view accrual), else 0."""
        _, b = self._view_indices(now)
        p = self.user(account).principal
        return present_value_borrow(b, -p) if p < 0 else 0

    def get_reserves(self, now: int | None = None) -> int:
        """``Comet.getReserves``: ``balance - totalSupply + totalBorrow`` (signed)."""
        s, b = self._view_indices(now)
        supply = present_value_supply(s, self.total_supply_base)
        borrow = present_value_borrow(b, self.total_borrow_base)
        return self.base_balance - supply + borrow

    def get_collateral_reserves(self, asset: str) -> int:
        """``Comet.getCollateralReserves``: tokens held beyond users' collateral."""
        return self.collateral_balance[asset] - self.total_supply_asset[asset]

    def _view_indices(self, now: int | None) -> tuple[int, int]:
        if now is None:
            return self.base_supply_index, self.base_borrow_index
        return self.accrued_interest_indices(now - self.last_accrual_time)

    def _update_principal(self, account: str, new: int) -> None:
        """``repayAndSupplyAmount``/``withdrawAndBorrowAmount`` applied to the totals."""
        old = self.user(account).principal
        repay, supply = repay_and_supply_amount(old, new)
        withdraw, borrow = withdraw_and_borrow_amount(old, new)
        self.total_supply_base = safe104(self.total_supply_base + supply - withdraw)
        self.total_borrow_base = safe104(self.total_borrow_base + borrow - repay)
        self.user(account).principal = new

    # --- user actions ------------------------------------------------------------------------
    def supply_base(self, account: str, amount: int, now: int) -> None:
        """``Comet.supplyBase``: repays debt first, the rest becomes supply principal."""
        with self._tx(account):
            self.base_balance += amount
            self.accrue(now)
            bal = self.present_value(self.user(account).principal) + amount
            self._update_principal(account, self.principal_value(bal))

    def withdraw_base(self, account: str, amount: int, now: int) -> None:
        """``Comet.withdrawBase``: borrows past zero; checks ``baseBorrowMin`` and collateral."""
        with self._tx(account):
            self.accrue(now)
            bal = self.present_value(self.user(account).principal) - amount
            self._update_principal(account, self.principal_value(bal))
            if bal < 0:
                if -bal < self.config.base_borrow_min:
                    raise CometRevert("BorrowTooSmall")
                if not self.is_borrow_collateralized(account):
                    raise CometRevert("NotCollateralized")
            if amount > self.base_balance:
                raise CometRevert("TransferOutFailed")
            self.base_balance -= amount

    def supply_collateral(self, account: str, asset: str, amount: int) -> None:
        """``Comet.supplyCollateral`` (with the supply-cap check)."""
        info = self.assets[asset]
        total = self.total_supply_asset[asset] + amount
        if total > info.supply_cap:
            raise CometRevert("SupplyCapExceeded")
        self.total_supply_asset[asset] = total
        self.collateral_balance[asset] += amount
        col = self.user(account).collateral
        col[asset] = col.get(asset, 0) + amount

    def withdraw_collateral(self, account: str, asset: str, amount: int, now: int) -> None:
        """``Comet.withdrawCollateral``: must stay borrow-collateralized."""
        with self._tx(account):
            self.accrue(now)
            col = self.user(account).collateral
            if col.get(asset, 0) < amount:
                raise CometRevert("Panic(0x11)")
            col[asset] -= amount
            self.total_supply_asset[asset] -= amount
            if not self.is_borrow_collateralized(account):
                raise CometRevert("NotCollateralized")
            self.collateral_balance[asset] -= amount

    # --- solvency ----------------------------------------------------------------------------
    def liquidity(self, account: str, factor: str = "liquidate") -> int:
        """Signed liquidity (8-dec USD) as in ``isBorrowCollateralized``/``isLiquidatable``.

        ``factor`` is ``"borrow"`` (borrowCollateralFactor) or ``"liquidate"``. The contract's early
        return when liquidity turns non-negative does not change the sign of the final sum.
        """
        u = self.user(account)
        total = signed_mul_price(self.present_value(u.principal), self.base_price,
                                 self.config.base_scale)  # fmt: skip
        for info in self.assets.values():
            bal = u.collateral.get(info.name, 0)
            if bal:
                cf = (info.borrow_collateral_factor if factor == "borrow"
                      else info.liquidate_collateral_factor)  # fmt: skip
                total += mul_factor(mul_price(bal, self.prices[info.name], info.scale), cf)
        return total

    def is_borrow_collateralized(self, account: str) -> bool:
        """``Comet.isBorrowCollateralized``."""
        if self.user(account).principal >= 0:
            return True
        return self.liquidity(account, "borrow") >= 0

    def is_liquidatable(self, account: str) -> bool:
        """``Comet.isLiquidatable``."""
        if self.user(account).principal >= 0:
            return False
        return self.liquidity(account, "liquidate") < 0

    # --- liquidation -------------------------------------------------------------------------
    def absorb(self, accounts: list[str], now: int) -> list[AbsorbResult]:
        """``Comet.absorb``: accrue once, then ``absorbInternal`` each account.

        The whole call reverts if any account (or a repeated one) is not liquidatable.
        """
        with self._tx():
            self.accrue(now)
            if len(set(accounts)) != len(accounts) or not all(map(self.is_liquidatable, accounts)):
                raise CometRevert("NotLiquidatable")
        return [self._absorb_one(a) for a in accounts]

    def _absorb_one(self, account: str) -> AbsorbResult:
        """``Comet.absorbInternal``: seize all collateral, credit it at ``liquidationFactor``."""
        if not self.is_liquidatable(account):
            raise CometRevert("NotLiquidatable")
        u = self.user(account)
        old_principal = u.principal
        old_balance = self.present_value(old_principal)
        delta_value = 0
        seized: dict[str, int] = {}
        for info in self.assets.values():
            amount = u.collateral.get(info.name, 0)
            if amount:
                u.collateral[info.name] = 0
                self.total_supply_asset[info.name] -= amount
                value = mul_price(amount, self.prices[info.name], info.scale)
                delta_value += mul_factor(value, info.liquidation_factor)
                seized[info.name] = amount
        delta_balance = div_price(delta_value, self.base_price, self.config.base_scale)
        new_balance = max(old_balance + delta_balance, 0)
        self._update_principal(account, self.principal_value(new_balance))
        paid = new_balance - old_balance
        return AbsorbResult(
            old_balance=old_balance,
            new_balance=new_balance,
            base_paid_out=paid,
            value_of_base_paid_out=mul_price(paid, self.base_price, self.config.base_scale),
            seized=seized,
            shortfall=max(-old_balance - delta_balance, 0),
        )

    def quote_collateral(self, asset: str, base_amount: int) -> int:
        """``Comet.quoteCollateral``: discount = ``storeFront * (1 - liquidationFactor)``."""
        info = self.assets[asset]
        discount = mul_factor(self.config.store_front_price_factor,
                              FACTOR_SCALE - info.liquidation_factor)  # fmt: skip
        discounted = mul_factor(self.prices[asset], FACTOR_SCALE - discount)
        if discounted == 0:
            raise CometRevert("Panic(0x12)")  # division by zero
        return (self.base_price * base_amount * info.scale // discounted
                // self.config.base_scale)  # fmt: skip

    def buy_collateral(self, asset: str, min_amount: int, base_amount: int, now: int) -> int:
        """``Comet.buyCollateral``: only while reserves are below ``targetReserves``."""
        reserves = self.get_reserves(now)
        if reserves >= 0 and reserves >= self.config.target_reserves:
            raise CometRevert("NotForSale")
        amount = self.quote_collateral(asset, base_amount)
        if amount < min_amount:
            raise CometRevert("TooMuchSlippage")
        if amount > self.get_collateral_reserves(asset):
            raise CometRevert("InsufficientReserves")
        if amount > UINT128_MAX:
            raise CometRevert("InvalidUInt128")
        self.base_balance += base_amount
        self.collateral_balance[asset] -= amount
        return amount

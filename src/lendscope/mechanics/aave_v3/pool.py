"""Aave v3 pool state machine with protocol-exact integer math, for v3.0 and v3.6.

Ports (ours, not copies) of ``ReserveLogic`` (index update, treasury accrual, rate update),
``SupplyLogic`` / ``BorrowLogic`` (supply, withdraw, borrow, repay), ``GenericLogic.
calculateUserAccountData`` and the scaled-balance tokens, from ``@aave/core-v3`` 1.19.3
(``contracts/protocol/...``, v3.0.2) and ``@aave-dao/aave-v3-origin`` 3.6.0
(``src/contracts/protocol/...``). Liquidation lives in :mod:`.liquidation`, the storage records
in :mod:`.state`, the version-dependent integer math in :mod:`.math`.

Not modelled: stable debt (v3.0, disabled), isolation mode / debt ceilings, siloed borrowing,
supply/borrow caps, flash loans, bridges, pausing, the v3.0 e-mode price source, aToken
transfers between users and ``mintToTreasury`` (``accruedToTreasury`` only accumulates).
A call the contract would revert raises :class:`AaveRevert` and leaves the state unchanged.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.aave_v3.params import EModeCategory, ReserveParams
from lendscope.mechanics.aave_v3.state import (
    HEALTH_FACTOR_LIQUIDATION_THRESHOLD,
    AaveRevert,
    AccountData,
    ReserveCache,
    ReserveState,
    UserState,
    require,
)
from lendscope.mechanics.errors import MathOverflow
from lendscope.mechanics.intmath import (
    UINT256_MAX,
    percent_div,
    percent_mul,
    ray_mul,
    wad_div,
)

F = TypeVar("F", bound=Callable[..., Any])


def atomic(fn: F) -> F:
    """Restore reserves and users if the call reverts (the EVM discards a reverted tx)."""

    @functools.wraps(fn)
    def wrapper(self: AaveMarket, *a: Any, **k: Any) -> Any:
        saved = copy.deepcopy((self.reserves, self.users))
        try:
            return fn(self, *a, **k)
        except (AaveRevert, MathOverflow):
            self.reserves, self.users = saved
            raise

    return wrapper  # type: ignore[return-value]


@dataclass
class AaveMarket:
    """An Aave v3 pool: reserves in id order, prices (base currency, 8 decimals), users."""

    version: str
    params: list[ReserveParams]
    prices: list[int]
    emodes: dict[int, EModeCategory] = field(default_factory=dict)
    reserves: list[ReserveState] = field(default_factory=list)
    users: dict[str, UserState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        am.check_version(self.version)
        if not self.reserves:
            self.reserves = [ReserveState() for _ in self.params]

    # ------------------------------------------------------------ helpers
    @property
    def v36(self) -> bool:
        """Whether this market runs v3.6 code."""
        return self.version == "3.6"

    def user(self, addr: str) -> UserState:
        """The user's state, created empty on first use."""
        n = len(self.params)
        return self.users.setdefault(addr, UserState([0] * n, [0] * n, [False] * n, [False] * n))

    def index_of(self, symbol: str) -> int:
        """Reserve id of ``symbol``."""
        return next(i for i, p in enumerate(self.params) if p.symbol == symbol)

    def normalized_income(self, i: int, now: int) -> int:
        """``ReserveLogic.getNormalizedIncome`` (same in both versions)."""
        r = self.reserves[i]
        if r.last_update == now:
            return r.liquidity_index
        return ray_mul(am.linear_interest(r.liquidity_rate, now - r.last_update), r.liquidity_index)

    def normalized_debt(self, i: int, now: int) -> int:
        """``ReserveLogic.getNormalizedDebt`` with the version's compounding formula."""
        r = self.reserves[i]
        if r.last_update == now:
            return r.variable_borrow_index
        growth = am.compounded_interest(self.version, r.variable_borrow_rate, now - r.last_update)
        return ray_mul(growth, r.variable_borrow_index)

    def a_balance(self, addr: str, i: int, now: int) -> int:
        """``AToken.balanceOf``."""
        return am.a_balance(
            self.version, self.user(addr).a_scaled[i], self.normalized_income(i, now)
        )

    def v_balance(self, addr: str, i: int, now: int) -> int:
        """``VariableDebtToken.balanceOf``."""
        return am.v_balance(self.version, self.user(addr).v_scaled[i], self.normalized_debt(i, now))

    # ------------------------------------------------------------ ReserveLogic
    def cache(self, i: int) -> ReserveCache:
        """``ReserveLogic.cache``."""
        r = self.reserves[i]
        return ReserveCache(
            self.params[i].reserve_factor,
            r.liquidity_index,
            r.liquidity_index,
            r.variable_borrow_index,
            r.variable_borrow_index,
            r.liquidity_rate,
            r.variable_borrow_rate,
            r.last_update,
            r.scaled_v_supply,
            r.scaled_v_supply,
        )

    def update_state(self, i: int, c: ReserveCache, now: int) -> None:
        """``ReserveLogic.updateState``: indexes, then treasury accrual, then the timestamp.

        v3.0 skips on the *stored* timestamp, v3.6 on the *cached* one, so in a v3.6
        same-asset liquidation the second (stale) cache accrues to the treasury twice.
        """
        r = self.reserves[i]
        if (c.last_update if self.v36 else r.last_update) == now:
            return
        dt = now - c.last_update
        if c.curr_liquidity_rate != 0:
            c.next_liquidity_index = ray_mul(
                am.linear_interest(c.curr_liquidity_rate, dt), c.curr_liquidity_index
            )
            r.liquidity_index = c.next_liquidity_index
        if c.curr_scaled_debt != 0:
            growth = am.compounded_interest(self.version, c.curr_variable_rate, dt)
            c.next_variable_index = ray_mul(growth, c.curr_variable_index)
            r.variable_borrow_index = c.next_variable_index
        if c.reserve_factor != 0:  # _accrueToTreasury
            if self.v36:
                accrued = am.ray_mul_floor(
                    c.curr_scaled_debt, c.next_variable_index - c.curr_variable_index
                )
            else:
                accrued = ray_mul(c.curr_scaled_debt, c.next_variable_index) - ray_mul(
                    c.curr_scaled_debt, c.curr_variable_index
                )
            mint = percent_mul(accrued, c.reserve_factor)
            if mint:
                r.accrued_to_treasury += am.a_mint_scaled(
                    self.version, mint, c.next_liquidity_index
                )
        r.last_update = c.last_update = now

    def update_rates(self, i: int, c: ReserveCache, added: int, taken: int) -> None:
        """``ReserveLogic.updateInterestRates`` (v3.6: ``...AndVirtualBalance``)."""
        r = self.reserves[i]
        debt = am.v_balance(self.version, c.next_scaled_debt, c.next_variable_index)
        base = r.virtual_balance if self.v36 else r.cash
        require(base + added >= taken, "available liquidity underflow")
        unbacked = r.deficit if self.v36 else 0
        r.liquidity_rate, r.variable_borrow_rate = am.interest_rates(
            self.version,
            self.params[i].rates,
            base + added - taken,
            debt,
            self.params[i].reserve_factor,
            unbacked,
        )
        if self.v36:
            r.virtual_balance += added - taken

    # ------------------------------------------------------------ tokens
    def _mint_a(self, u: UserState, i: int, scaled: int) -> bool:
        require(scaled != 0, "INVALID_MINT_AMOUNT")
        first = u.a_scaled[i] == 0
        u.a_scaled[i] += scaled
        self.reserves[i].scaled_a_supply += scaled
        return first

    def _burn_a(self, u: UserState, i: int, scaled: int) -> bool:
        require(scaled != 0, "INVALID_BURN_AMOUNT")
        require(scaled <= u.a_scaled[i], "burn exceeds balance")
        u.a_scaled[i] -= scaled
        self.reserves[i].scaled_a_supply -= scaled
        return u.a_scaled[i] == 0

    def _burn_v(self, u: UserState, i: int, scaled: int) -> bool:
        require(scaled != 0, "INVALID_BURN_AMOUNT")
        require(scaled <= u.v_scaled[i], "burn exceeds balance")
        u.v_scaled[i] -= scaled
        self.reserves[i].scaled_v_supply -= scaled
        return u.v_scaled[i] == 0

    def _pay_out(self, i: int, amount: int) -> None:
        require(self.reserves[i].cash >= amount, "ERC20: transfer amount exceeds balance")
        self.reserves[i].cash -= amount

    # ------------------------------------------------------------ e-mode helpers
    def emode_has(self, cat: int, i: int, what: str = "collateral") -> bool:
        """Is reserve ``i`` in category ``cat`` (v3.0: by ``emode_category``; v3.6: bitmaps)."""
        if cat == 0 or cat not in self.emodes:
            return False
        if not self.v36:
            return self.params[i].emode_category == cat
        return self.params[i].symbol in getattr(self.emodes[cat], what)

    def user_ltv(self, u: UserState, i: int) -> int:
        """``ValidationLogic.getUserReserveLtv`` (v3.6) / inline e-mode ltv pick (v3.0)."""
        if self.emode_has(u.emode, i):
            e = self.emodes[u.emode]
            if self.v36 and self.params[i].symbol in e.ltvzero:
                return 0
            return e.ltv if self.params[i].ltv != 0 or self.v36 else 0
        return self.params[i].ltv

    # ------------------------------------------------------------ GenericLogic
    def account_data(self, addr: str, now: int) -> AccountData:
        """``GenericLogic.calculateUserAccountData`` + ``calculateAvailableBorrows``.

        v3.0: HF = ``percentMul(C, avgLT).wadDiv(D)`` with avgLT already truncated; debt value
        truncated. v3.6: HF = ``(Σ C_i·LT_i).wadDiv(D) / 1e4`` and debt value rounded up.
        """
        u = self.user(addr)
        if not any(u.collateral) and not any(u.borrowing):
            return AccountData(0, 0, 0, 0, 0, UINT256_MAX)
        coll = debt = avg_ltv = avg_lt = 0
        zero_ltv = False
        for i, p in enumerate(self.params):
            unit, price = 10**p.decimals, self.prices[i]
            if u.collateral[i] and (self.v36 or p.liquidation_threshold != 0):
                bal = self.a_balance(addr, i, now) * price // unit
                coll += bal
                ltv = self.user_ltv(u, i)
                if ltv == 0:
                    zero_ltv = True
                else:
                    avg_ltv += bal * ltv
                lt = p.liquidation_threshold
                if self.emode_has(u.emode, i):
                    lt = self.emodes[u.emode].liquidation_threshold
                avg_lt += bal * lt
            if u.borrowing[i]:
                d = self.v_balance(addr, i, now)
                debt += am.mul_div_ceil(d, price, unit) if self.v36 else d * price // unit
        if self.v36:
            hf = UINT256_MAX if debt == 0 else wad_div(avg_lt, debt) // 10_000
        avg_ltv = avg_ltv // coll if coll else 0
        avg_lt = avg_lt // coll if coll else 0
        if not self.v36:
            hf = UINT256_MAX if debt == 0 else wad_div(percent_mul(coll, avg_lt), debt)
        cap = am.percent_mul_floor(coll, avg_ltv) if self.v36 else percent_mul(coll, avg_ltv)
        avail = cap - debt if cap > debt else 0
        return AccountData(coll, debt, avail, avg_lt, avg_ltv, hf, zero_ltv)

    # ------------------------------------------------------------ SupplyLogic / BorrowLogic
    @atomic
    def supply(self, addr: str, i: int, amount: int, now: int) -> int:
        """``SupplyLogic.executeSupply``; returns the scaled amount minted."""
        u, c = self.user(addr), self.cache(i)
        self.update_state(i, c, now)
        scaled = am.a_mint_scaled(self.version, amount, c.next_liquidity_index)
        require((scaled if self.v36 else amount) != 0, "INVALID_AMOUNT")
        self.update_rates(i, c, amount, 0)
        self.reserves[i].cash += amount
        if self._mint_a(u, i, scaled) and self.user_ltv(u, i) != 0:
            u.collateral[i] = True  # validate(Automatic)UseAsCollateral: ltv != 0, no ceilings
        return scaled

    @atomic
    def withdraw(self, addr: str, i: int, amount: int, now: int) -> int:
        """``SupplyLogic.executeWithdraw``; ``amount = UINT256_MAX`` withdraws all."""
        u, c = self.user(addr), self.cache(i)
        self.update_state(i, c, now)
        idx, sb = c.next_liquidity_index, u.a_scaled[i]
        if self.v36:
            if amount == UINT256_MAX:
                scaled, amount = sb, am.ray_mul_floor(sb, idx)
            else:
                scaled = am.ray_div_ceil(amount, idx)
            require(scaled != 0 and scaled <= sb, "validateWithdraw")
        else:
            bal = ray_mul(sb, idx)
            amount = bal if amount == UINT256_MAX else amount
            require(amount != 0 and amount <= bal, "validateWithdraw")
            scaled = am.a_burn_scaled(self.version, amount, idx)
        self.update_rates(i, c, 0, amount)
        was_coll = u.collateral[i]
        if not self.v36 and was_coll and amount == ray_mul(sb, idx):
            u.collateral[i] = False
        zero = self._burn_a(u, i, scaled)
        self._pay_out(i, amount)
        if self.v36 and was_coll and zero:
            u.collateral[i] = False
        if was_coll and any(u.borrowing):
            acct = self.account_data(addr, now)
            require(acct.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD, "HF < 1")
            require(not acct.has_zero_ltv_collateral or self.user_ltv(u, i) == 0, "LTV")
        return amount

    @atomic
    def borrow(self, addr: str, i: int, amount: int, now: int) -> int:
        """``BorrowLogic.executeBorrow`` (variable rate); returns the scaled debt minted."""
        u, c, p = self.user(addr), self.cache(i), self.params[i]
        self.update_state(i, c, now)
        scaled = am.v_mint_scaled(self.version, amount, c.next_variable_index)
        if u.emode:
            require(self.emode_has(u.emode, i, "borrowable"), "emode: not borrowable")
        if not (self.v36 and u.emode):  # v3.0 checks the flag even in e-mode
            require(p.borrowing_enabled, "BORROWING_NOT_ENABLED")
        if self.v36:
            require(scaled != 0, "INVALID_AMOUNT")
            a_total = am.ray_mul_floor(self.reserves[i].scaled_a_supply, c.next_liquidity_index)
            require(a_total >= am.ray_mul_ceil(scaled, c.next_variable_index), "INVALID_AMOUNT")
        else:
            require(amount != 0, "INVALID_AMOUNT")
            acct = self.account_data(addr, now)
            require(acct.total_collateral_base != 0, "COLLATERAL_BALANCE_IS_ZERO")
            require(acct.ltv != 0, "LTV_VALIDATION_FAILED")
            require(acct.health_factor > HEALTH_FACTOR_LIQUIDATION_THRESHOLD, "HF")
            in_base = self.prices[i] * amount // 10**p.decimals
            need = percent_div(acct.total_debt_base + in_base, acct.ltv)
            require(need <= acct.total_collateral_base, "COLLATERAL_CANNOT_COVER_NEW_BORROW")
            require(scaled != 0, "INVALID_MINT_AMOUNT")
        u.v_scaled[i] += scaled
        self.reserves[i].scaled_v_supply += scaled
        c.next_scaled_debt = self.reserves[i].scaled_v_supply
        u.borrowing[i] = True
        self.update_rates(i, c, 0, amount)
        self._pay_out(i, amount)
        if self.v36:  # validateHFAndLtv after the borrow
            acct = self.account_data(addr, now)
            require(acct.ltv != 0, "LtvValidationFailed")
            require(acct.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD, "HF")
            need = am.percent_div_ceil(acct.total_debt_base, acct.ltv)
            require(acct.total_collateral_base >= need, "CollateralCannotCoverNewBorrow")
        return scaled

    @atomic
    def repay(self, addr: str, i: int, amount: int, now: int) -> int:
        """``BorrowLogic.executeRepay`` with the underlying; returns the amount paid back."""
        u, c = self.user(addr), self.cache(i)
        self.update_state(i, c, now)
        debt = am.v_balance(self.version, u.v_scaled[i], c.next_variable_index)
        require(amount != 0, "INVALID_AMOUNT")
        require(u.v_scaled[i] != 0 if self.v36 else debt != 0, "NO_DEBT_OF_SELECTED_TYPE")
        pay = min(amount, debt)
        none_left = self._burn_v(u, i, am.v_burn_scaled(self.version, pay, c.next_variable_index))
        c.next_scaled_debt = self.reserves[i].scaled_v_supply
        self.update_rates(i, c, pay, 0)
        if none_left if self.v36 else debt - pay == 0:
            u.borrowing[i] = False
        self.reserves[i].cash += pay
        return pay

    def set_user_emode(self, addr: str, category: int, now: int) -> None:
        """``setUserEMode`` for a user without positions outside the category (HF re-checked)."""
        u = self.user(addr)
        old = u.emode
        u.emode = category
        if self.account_data(addr, now).health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            u.emode = old
            raise AaveRevert("HF < 1")

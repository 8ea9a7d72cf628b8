"""Aave v3 pool records: reserve storage, reserve cache, user state, account data, reverts.

``DataTypes.ReserveData``/``ReserveCache``, the scaled-balance tokens' supplies and the
``UserConfigurationMap`` flags, as :class:`~lendscope.mechanics.aave_v3.pool.AaveMarket` keeps them;
from ``@aave/core-v3`` 1.19.3 (v3.0.2) and ``@aave-dao/aave-v3-origin`` 3.6.0.
"""

from __future__ import annotations

from dataclasses import dataclass

from lendscope.mechanics.errors import MechanicsRevert
from lendscope.mechanics.intmath import RAY

HEALTH_FACTOR_LIQUIDATION_THRESHOLD = 10**18  # ValidationLogic.sol


class AaveRevert(MechanicsRevert):
    """The pool would revert this call (message names the contract's check)."""


@dataclass
class ReserveState:
    """Storage of one reserve (``DataTypes.ReserveData``) plus the aToken's cash and supplies."""

    liquidity_index: int = RAY
    variable_borrow_index: int = RAY
    liquidity_rate: int = 0
    variable_borrow_rate: int = 0
    last_update: int = 0
    accrued_to_treasury: int = 0  # scaled
    scaled_a_supply: int = 0
    scaled_v_supply: int = 0
    cash: int = 0  # underlying held by the aToken (v3.0 rate input)
    virtual_balance: int = 0  # v3.1+ virtualUnderlyingBalance
    deficit: int = 0  # v3.3+


@dataclass
class ReserveCache:
    """``DataTypes.ReserveCache``: what ``ReserveLogic.cache`` snapshots before an action."""

    reserve_factor: int
    curr_liquidity_index: int
    next_liquidity_index: int
    curr_variable_index: int
    next_variable_index: int
    curr_liquidity_rate: int
    curr_variable_rate: int
    last_update: int
    curr_scaled_debt: int
    next_scaled_debt: int


@dataclass
class UserState:
    """Scaled balances and ``UserConfigurationMap`` flags, per reserve id."""

    a_scaled: list[int]
    v_scaled: list[int]
    collateral: list[bool]
    borrowing: list[bool]
    emode: int = 0


@dataclass(frozen=True)
class AccountData:
    """``Pool.getUserAccountData`` plus ``hasZeroLtvCollateral`` (base currency, 8 dec)."""

    total_collateral_base: int
    total_debt_base: int
    available_borrows_base: int
    current_liquidation_threshold: int
    ltv: int
    health_factor: int
    has_zero_ltv_collateral: bool = False

    def as_tuple(self) -> tuple[int, int, int, int, int, int]:
        """Same order as the contract's return values."""
        return (
            self.total_collateral_base,
            self.total_debt_base,
            self.available_borrows_base,
            self.current_liquidation_threshold,
            self.ltv,
            self.health_factor,
        )


def require(cond: bool, reason: str) -> None:
    """Solidity ``require``: raise :class:`AaveRevert` with ``reason`` unless ``cond``."""
    if not cond:
        raise AaveRevert(reason)

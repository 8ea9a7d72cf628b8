"""``GenericLogic.calculateUserAccountData`` on plain values: one account's exact health factor.

Ported from aave-dao/aave-v3-origin v3.6.0
``src/contracts/protocol/libraries/logic/GenericLogic.sol`` (lines 66-183; balances in base
currency at lines 208-259) and aave/aave-v3-core v1.19 (v3.0) ``GenericLogic.sol``. The caller
supplies each reserve the account uses: its token balances at the block (``aToken.balanceOf``,
``variableDebtToken.balanceOf`` [+ stable debt in v3.0], which already apply the indexes the
contract applies), the oracle price and the liquidation threshold that applies to this user
(the e-mode category's when the reserve is in the user's category's collateral set).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.intmath import UINT256_MAX, percent_mul, wad_div


@dataclass(frozen=True)
class Leg:
    """One reserve of an account: raw token amounts, price in base units, LT in bps."""

    collateral: bool  # user config bit: using as collateral
    borrowing: bool  # user config bit: borrowing
    balance: int  # aToken balance (token units x 10**decimals)
    debt: int  # debt token balance
    price: int  # oracle price, base currency x BASE_CURRENCY_UNIT
    unit: int  # 10**decimals
    liquidation_threshold: int  # bps, as applied to this user (e-mode or reserve)


@dataclass(frozen=True)
class Account:
    """Totals in base currency, Σ collateral·LT (bps·base), and the health factor (wad)."""

    collateral_base: int
    debt_base: int
    weighted_lt: int
    health_factor: int

    @property
    def average_lt(self) -> int:
        """``currentLiquidationThreshold`` (bps, truncated as the contract does)."""
        return self.weighted_lt // self.collateral_base if self.collateral_base else 0


def collateral_base(version: str, leg: Leg) -> int:
    """``_getUserBalanceInBaseCurrency``: balance x price / unit, rounded down."""
    return leg.balance * leg.price // leg.unit


def debt_base(version: str, leg: Leg) -> int:
    """``_getUserDebtInBaseCurrency``: rounded up from v3.5 (``mulDivCeil``), down in v3.0."""
    if am.check_version(version) == "3.6":
        return am.mul_div_ceil(leg.debt, leg.price, leg.unit)
    return leg.debt * leg.price // leg.unit


def account(version: str, legs: Iterable[Leg]) -> Account:
    """The account's totals and health factor, as ``Pool.getUserAccountData`` returns them.

    v3.0 leaves collateral with LT 0 out and computes ``percentMul(C, avgLT).wadDiv(D)`` with
    the average already truncated; v3.6 counts every enabled collateral and computes
    ``(Σ C_i·LT_i).wadDiv(D) / 1e4``.
    """
    v36 = am.check_version(version) == "3.6"
    coll = debt = weighted = 0
    for leg in legs:
        if leg.collateral and (v36 or leg.liquidation_threshold != 0):
            c = collateral_base(version, leg)
            coll += c
            weighted += c * leg.liquidation_threshold
        if leg.borrowing:
            debt += debt_base(version, leg)
    if debt == 0:
        hf = UINT256_MAX
    elif v36:
        hf = wad_div(weighted, debt) // 10_000
    else:
        hf = wad_div(percent_mul(coll, weighted // coll if coll else 0), debt)
    return Account(coll, debt, weighted, hf)

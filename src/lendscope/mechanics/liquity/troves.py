"""Liquity v1 troves: ICR/TCR, recovery mode, liquidation (offset vs redistribution), redemptions.

Ported from ``liquity/dev`` ``packages/contracts/contracts/TroveManager.sol``,
``Dependencies/LiquityMath.sol``, ``Dependencies/LiquityBase.sol`` (commit 39f1f7f), with
``BorrowerOperations.openTrove`` and ``StabilityPool.getMaxAmountToOffset`` for the entry points.
Not modelled: Stability Pool P/S/epoch bookkeeping (only total deposits and ETH gained), LQTY
staking, sorted-list hints (redemption hints are assumed correct), the 14-day bootstrap period.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from lendscope.mechanics.errors import MechanicsRevert
from lendscope.mechanics.intmath import UINT256_MAX

DECIMAL_PRECISION = 10**18
NICR_PRECISION = 10**20
ONE_HUNDRED_PCT = 10**18
MCR = 11 * 10**17
CCR = 15 * 10**17
LUSD_GAS_COMPENSATION = 200 * 10**18
MIN_NET_DEBT = 1800 * 10**18
PERCENT_DIVISOR = 200
BORROWING_FEE_FLOOR = 5 * 10**15
REDEMPTION_FEE_FLOOR = 5 * 10**15
MAX_BORROWING_FEE = 5 * 10**16
MINUTE_DECAY_FACTOR = 999_037_758_833_783_000
BETA = 2
MIN_LUSD_IN_SP = 10**18


class LiquityRevert(MechanicsRevert):
    """A ``require`` failed; ``args[0]`` is the contract's message."""


def dec_mul(x: int, y: int) -> int:
    """``LiquityMath.decMul``: ``(x * y + 1e18 / 2) / 1e18`` (half up)."""
    return (x * y + DECIMAL_PRECISION // 2) // DECIMAL_PRECISION


def dec_pow(base: int, minutes: int) -> int:
    """``LiquityMath._decPow``: exponentiation by squaring with ``decMul``; capped at 1000 years."""
    n = min(minutes, 525_600_000)
    if n == 0:
        return DECIMAL_PRECISION
    y, x = DECIMAL_PRECISION, base
    while n > 1:
        if n % 2 == 0:
            x, n = dec_mul(x, x), n // 2
        else:
            y, x, n = dec_mul(x, y), dec_mul(x, x), (n - 1) // 2
    return dec_mul(x, y)


def compute_cr(coll: int, debt: int, price: int) -> int:
    """``LiquityMath._computeCR``: ``coll * price / debt``; ``2**256 - 1`` without debt."""
    return coll * price // debt if debt > 0 else UINT256_MAX


def compute_nominal_cr(coll: int, debt: int) -> int:
    """``LiquityMath._computeNominalCR``: ``coll * 1e20 / debt``."""
    return coll * NICR_PRECISION // debt if debt > 0 else UINT256_MAX


@dataclass
class Trove:
    """``TroveManager.Trove`` plus its ``rewardSnapshots``."""

    debt: int
    coll: int
    stake: int = 0
    status: str = "active"
    snap_eth: int = 0
    snap_debt: int = 0


@dataclass
class LiquidationValues:
    """``LiquidationValues`` / ``LiquidationTotals`` (the same fields, summed)."""

    entire_debt: int = 0
    entire_coll: int = 0
    coll_gas_compensation: int = 0
    lusd_gas_compensation: int = 0
    debt_to_offset: int = 0
    coll_to_sp: int = 0
    debt_to_redistribute: int = 0
    coll_to_redistribute: int = 0
    coll_surplus: int = 0

    def add(self, o: LiquidationValues) -> None:
        """``_addLiquidationValuesToTotals``."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(o, f.name))


@dataclass
class RedemptionResult:
    """Totals of ``redeemCollateral``."""

    lusd_redeemed: int
    eth_drawn: int
    eth_fee: int
    base_rate: int
    troves: list[str] = field(default_factory=list)


def offset_and_redistribution(debt: int, coll: int, sp: int) -> tuple[int, int, int, int]:
    """``_getOffsetAndRedistributionVals``: offset up to ``sp``, redistribute the rest."""
    if sp == 0:
        return 0, 0, debt, coll
    off = min(debt, sp)
    to_sp = coll * off // debt
    return off, to_sp, debt - off, coll - to_sp


class TroveManager:
    """Troves, the active/default pools, stability-pool totals and the fee ``baseRate``."""

    def __init__(self, sp_deposits: int = 0) -> None:
        """Empty system with ``sp_deposits`` LUSD in the Stability Pool."""
        self.troves: dict[str, Trove] = {}
        self.L_ETH = self.L_LUSDDebt = 0
        self.err_eth = self.err_debt = 0
        self.total_stakes = self.total_stakes_snapshot = self.total_coll_snapshot = 0
        self.active_coll = self.active_debt = self.default_coll = self.default_debt = 0
        self.sp_deposits, self.sp_eth = sp_deposits, 0
        self.base_rate = self.last_fee_op_time = 0
        self.coll_surplus: dict[str, int] = {}

    # --- views ---------------------------------------------------------------------------------
    def entire_debt_and_coll(self, owner: str) -> tuple[int, int, int, int]:
        """``getEntireDebtAndColl``: ``(debt, coll, pendingDebt, pendingETH)``."""
        t = self.troves[owner]
        pe = pd = 0
        if t.status == "active":
            if self.L_ETH - t.snap_eth:
                pe = t.stake * (self.L_ETH - t.snap_eth) // DECIMAL_PRECISION
            if self.L_LUSDDebt - t.snap_debt:
                pd = t.stake * (self.L_LUSDDebt - t.snap_debt) // DECIMAL_PRECISION
        return t.debt + pd, t.coll + pe, pd, pe

    def current_icr(self, owner: str, price: int) -> int:
        """``getCurrentICR`` (pending redistribution rewards included)."""
        debt, coll, _, _ = self.entire_debt_and_coll(owner)
        return compute_cr(coll, debt, price)

    def nominal_icr(self, owner: str) -> int:
        """``getNominalICR``: the sort key of ``SortedTroves``."""
        debt, coll, _, _ = self.entire_debt_and_coll(owner)
        return compute_nominal_cr(coll, debt)

    def tcr(self, price: int) -> int:
        """``LiquityBase._getTCR`` over active + default pools."""
        return compute_cr(self.active_coll + self.default_coll,
                          self.active_debt + self.default_debt, price)  # fmt: skip

    def recovery_mode(self, price: int) -> bool:
        """``_checkRecoveryMode``: ``TCR < CCR``."""
        return self.tcr(price) < CCR

    def active(self) -> list[str]:
        """Active troves from lowest to highest nominal ICR (``SortedTroves`` last to first)."""
        owners = [o for o, t in self.troves.items() if t.status == "active"]
        return sorted(owners, key=self.nominal_icr)

    def _n_active(self) -> int:
        return sum(t.status == "active" for t in self.troves.values())

    def decayed_base_rate(self, now: int) -> int:
        """``_calcDecayedBaseRate``: ``baseRate * decPow(MINUTE_DECAY_FACTOR, minutes)``."""
        minutes = (now - self.last_fee_op_time) // 60
        return self.base_rate * dec_pow(MINUTE_DECAY_FACTOR, minutes) // DECIMAL_PRECISION

    def _touch_fee_time(self, now: int) -> None:
        """``_updateLastFeeOpTime``: only moves in whole minutes (anti-griefing)."""
        if now - self.last_fee_op_time >= 60:
            self.last_fee_op_time = now

    def _compute_stake(self, coll: int) -> int:
        """``_computeNewStake``: ``coll * totalStakesSnapshot / totalCollateralSnapshot``."""
        if self.total_coll_snapshot == 0:
            return coll
        return coll * self.total_stakes_snapshot // self.total_coll_snapshot

    # --- borrower operations -------------------------------------------------------------------
    def open_trove(self, owner: str, coll: int, lusd_amount: int, price: int, now: int) -> int:
        """``BorrowerOperations.openTrove``; returns the composite debt recorded on the trove."""
        if owner in self.troves and self.troves[owner].status == "active":
            raise LiquityRevert("BorrowerOps: Trove is active")
        recovery = self.recovery_mode(price)
        fee = 0
        if not recovery:  # _triggerBorrowingFee
            self.base_rate = self.decayed_base_rate(now)
            self._touch_fee_time(now)
            rate = min(BORROWING_FEE_FLOOR + self.base_rate, MAX_BORROWING_FEE)
            fee = rate * lusd_amount // DECIMAL_PRECISION
        net = lusd_amount + fee
        if net < MIN_NET_DEBT:
            raise LiquityRevert("BorrowerOps: Trove's net debt must be greater than minimum")
        debt = net + LUSD_GAS_COMPENSATION
        icr = compute_cr(coll, debt, price)
        if recovery and icr < CCR:
            raise LiquityRevert("BorrowerOps: Operation must leave trove with ICR >= CCR")
        if not recovery:
            if icr < MCR:
                raise LiquityRevert("BorrowerOps: An operation that would result in ICR < MCR")
            new_tcr = compute_cr(self.active_coll + self.default_coll + coll,
                                 self.active_debt + self.default_debt + debt, price)  # fmt: skip
            if new_tcr < CCR:
                raise LiquityRevert("BorrowerOps: An operation that would result in TCR < CCR")
        stake = self._compute_stake(coll)
        self.troves[owner] = Trove(debt, coll, stake, "active", self.L_ETH, self.L_LUSDDebt)
        self.total_stakes += stake
        self.active_coll += coll
        self.active_debt += debt
        return debt

    # --- liquidation ---------------------------------------------------------------------------
    def _close(self, owner: str, status: str) -> None:
        """``_removeStake`` + ``_closeTrove`` (the last trove cannot be closed)."""
        if self._n_active() <= 1:
            raise LiquityRevert("TroveManager: Only one trove in the system")
        t = self.troves[owner]
        self.total_stakes -= t.stake
        t.stake = t.coll = t.debt = t.snap_eth = t.snap_debt = 0
        t.status = status

    def _move_pending(self, owner: str) -> tuple[int, int]:
        """Pending rewards move from the default to the active pool; returns entire (debt, coll)."""
        debt, coll, pd, pe = self.entire_debt_and_coll(owner)
        self.default_debt -= pd
        self.default_coll -= pe
        self.active_debt += pd
        self.active_coll += pe
        return debt, coll

    def _liquidate_one(
        self, owner: str, sp: int, price: int, tcr: int, recovery: bool
    ) -> LiquidationValues:
        """``_liquidateNormalMode`` / ``_liquidateRecoveryMode`` for one trove."""
        v = LiquidationValues()
        if recovery and self._n_active() <= 1:
            return v  # recovery mode never liquidates the last trove
        icr = self.current_icr(owner, price)
        v.entire_debt, v.entire_coll, _, _ = self.entire_debt_and_coll(owner)
        v.coll_gas_compensation = v.entire_coll // PERCENT_DIVISOR
        v.lusd_gas_compensation = LUSD_GAS_COMPENSATION
        coll = v.entire_coll - v.coll_gas_compensation
        if recovery and icr <= ONE_HUNDRED_PCT:
            v.debt_to_redistribute, v.coll_to_redistribute = v.entire_debt, coll
        elif not recovery or icr < MCR:
            v.debt_to_offset, v.coll_to_sp, v.debt_to_redistribute, v.coll_to_redistribute = (
                offset_and_redistribution(v.entire_debt, coll, sp)
            )
        elif icr < tcr and v.entire_debt <= sp:  # _getCappedOffsetVals: capped at 1.1
            capped = v.entire_debt * MCR // price
            v.coll_gas_compensation = capped // PERCENT_DIVISOR
            v.debt_to_offset = v.entire_debt
            v.coll_to_sp = capped - v.coll_gas_compensation
            v.coll_surplus = v.entire_coll - capped
        else:
            return LiquidationValues()
        self._move_pending(owner)
        self._close(owner, "closedByLiquidation")
        if v.coll_surplus:
            self.coll_surplus[owner] = self.coll_surplus.get(owner, 0) + v.coll_surplus
        return v

    def batch_liquidate(self, owners: list[str], price: int) -> LiquidationValues:
        """``batchLiquidateTroves``: sequence totals, SP offset, redistribution, gas comp out."""
        sp = self.sp_deposits - min(MIN_LUSD_IN_SP, self.sp_deposits)  # getMaxAmountToOffset
        totals = LiquidationValues()
        recovery = self.recovery_mode(price)
        sys_debt = self.active_debt + self.default_debt
        sys_coll = self.active_coll + self.default_coll
        for owner in owners:
            if self.troves.get(owner, Trove(0, 0, status="none")).status != "active":
                continue
            icr = self.current_icr(owner, price)
            if recovery:
                if icr >= MCR and sp == 0:
                    continue
                v = self._liquidate_one(owner, sp, price, compute_cr(sys_coll, sys_debt, price),
                                        True)  # fmt: skip
                sys_debt -= v.debt_to_offset
                sys_coll -= v.coll_to_sp + v.coll_gas_compensation + v.coll_surplus
                recovery = compute_cr(sys_coll, sys_debt, price) < CCR
            elif icr < MCR:
                v = self._liquidate_one(owner, sp, price, 0, False)
            else:
                continue
            sp -= v.debt_to_offset
            totals.add(v)
        if totals.entire_debt == 0:
            raise LiquityRevert("TroveManager: nothing to liquidate")
        self.active_debt -= totals.debt_to_offset  # StabilityPool.offset
        self.active_coll -= totals.coll_to_sp
        self.sp_deposits -= totals.debt_to_offset
        self.sp_eth += totals.coll_to_sp
        self._redistribute(totals.debt_to_redistribute, totals.coll_to_redistribute)
        self.active_coll -= totals.coll_surplus
        self.total_stakes_snapshot = self.total_stakes
        self.total_coll_snapshot = (self.active_coll - totals.coll_gas_compensation
                                    + self.default_coll)  # fmt: skip
        self.active_coll -= totals.coll_gas_compensation  # ETH gas comp; gas-pool LUSD too
        return totals

    def _redistribute(self, debt: int, coll: int) -> None:
        """``_redistributeDebtAndColl``: per-unit-staked rewards with error feedback."""
        if debt == 0:
            return
        eth_num = coll * DECIMAL_PRECISION + self.err_eth
        debt_num = debt * DECIMAL_PRECISION + self.err_debt
        eth_per, debt_per = eth_num // self.total_stakes, debt_num // self.total_stakes
        self.err_eth = eth_num - eth_per * self.total_stakes
        self.err_debt = debt_num - debt_per * self.total_stakes
        self.L_ETH += eth_per
        self.L_LUSDDebt += debt_per
        self.active_debt -= debt
        self.default_debt += debt
        self.active_coll -= coll
        self.default_coll += coll

    # --- redemption ----------------------------------------------------------------------------
    def redeem_collateral(
        self, amount: int, price: int, now: int, max_iterations: int = 0
    ) -> RedemptionResult:
        """``redeemCollateral``: from the lowest-ICR trove with ICR >= MCR upward.

        Each trove gives up ``min(remaining, debt - 200 LUSD)`` for ``lot * 1e18 / price`` ETH;
        a partial redemption leaving net debt < MIN_NET_DEBT stops the loop. Then ``baseRate``
        decays and rises by ``drawn * price / supply / BETA``; the fee is ``rate * drawn``.
        """
        if self.tcr(price) < MCR:
            raise LiquityRevert("TroveManager: Cannot redeem when TCR < MCR")
        if amount == 0:
            raise LiquityRevert("TroveManager: Amount must be greater than zero")
        supply_at_start = self.active_debt + self.default_debt
        order = [o for o in self.active() if self.current_icr(o, price) >= MCR]
        remaining, drawn, redeemed, touched = amount, 0, 0, []
        iterations = max_iterations or len(order)
        for owner in order[:iterations]:
            if remaining == 0:
                break
            self._move_pending(owner)
            t = self.troves[owner]
            t.debt, t.coll, _, _ = self.entire_debt_and_coll(owner)
            t.snap_eth, t.snap_debt = self.L_ETH, self.L_LUSDDebt
            lot = min(remaining, t.debt - LUSD_GAS_COMPENSATION)
            eth = lot * DECIMAL_PRECISION // price
            new_debt, new_coll = t.debt - lot, t.coll - eth
            if new_debt == LUSD_GAS_COMPENSATION:
                self._close(owner, "closedByRedemption")
                self.active_debt -= LUSD_GAS_COMPENSATION  # gas reserve burned
                self.active_coll -= new_coll
                self.coll_surplus[owner] = self.coll_surplus.get(owner, 0) + new_coll
            elif new_debt - LUSD_GAS_COMPENSATION < MIN_NET_DEBT:
                break  # cancelledPartial
            else:
                t.debt, t.coll = new_debt, new_coll
                new_stake = self._compute_stake(new_coll)
                self.total_stakes += new_stake - t.stake
                t.stake = new_stake
            redeemed, drawn, remaining = redeemed + lot, drawn + eth, remaining - lot
            touched.append(owner)
        if drawn == 0:
            raise LiquityRevert("TroveManager: Unable to redeem any amount")
        fraction = drawn * price // supply_at_start
        self.base_rate = min(self.decayed_base_rate(now) + fraction // BETA, DECIMAL_PRECISION)
        self._touch_fee_time(now)
        fee = min(REDEMPTION_FEE_FLOOR + self.base_rate, DECIMAL_PRECISION) * drawn
        fee //= DECIMAL_PRECISION
        if fee >= drawn:
            raise LiquityRevert("TroveManager: Fee would eat up all returned collateral")
        self.active_debt -= redeemed
        self.active_coll -= drawn
        return RedemptionResult(redeemed, drawn, fee, self.base_rate, touched)

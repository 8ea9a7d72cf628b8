"""On-chain private-credit pool (Maple / Goldfinch / Centrifuge style).

Lenders deposit a stable asset and get shares; ``share price = NAV / shares``. The pool lends to
named borrowers at simple ACT/365 interest on principal, accrued into NAV daily. A sponsor's
first-loss cover sits outside lender NAV and absorbs losses first.

Loss waterfall, per loan: a mark-down first *commits* free cover (lender NAV does not move while
cover lasts), the rest hits lenders through the share price. A mark-up or recovery reverses it in
the opposite order, lenders first, then the cover, so the split always equals the waterfall of the
*net* loss. Committed cover becomes cash in the pool when the loan is written down.

Rounding: arithmetic under :data:`~.decimal_math.EXACT`; shares minted and assets paid
out are rounded *down* to ``share_quantum`` / ``asset_quantum``, so rounding dust stays with the
remaining lenders.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from lendscope.mechanics.offchain.decimal_math import (
    DAYS_PER_YEAR,
    ONE,
    ZERO,
    Number,
    as_decimal,
    exact,
)


class CreditState(StrEnum):
    """Lifecycle of a pool loan."""

    PERFORMING = "performing"
    IMPAIRED = "impaired"
    DEFAULTED = "defaulted"
    REPAID = "repaid"
    WRITTEN_OFF = "written_off"


OPEN = frozenset({CreditState.PERFORMING, CreditState.IMPAIRED, CreditState.DEFAULTED})


@dataclass
class CreditLoan:
    """A loan to a named borrower and its loss bookkeeping."""

    borrower: str
    principal: Decimal
    apr: Decimal
    term_days: Decimal
    start_day: Decimal
    interest: Decimal = ZERO
    carrying: Decimal = ZERO  # value in lender NAV (outstanding, or the recovery estimate)
    cover_used: Decimal = ZERO  # first-loss cover absorbed by this loan
    lender_loss: Decimal = ZERO  # loss borne by lenders on this loan
    state: CreditState = CreditState.PERFORMING

    @property
    def outstanding(self) -> Decimal:
        """Principal plus accrued unpaid interest."""
        return self.principal + self.interest

    @property
    def maturity_day(self) -> Decimal:
        """Pool day on which the loan is due."""
        return self.start_day + self.term_days


@dataclass(frozen=True)
class Redemption:
    """Shares burned and assets paid to one lender."""

    lender: str
    shares: Decimal
    amount: Decimal


class PrivateCreditPool:
    """Pool state machine; every method validates input and raises ``ValueError`` naming it."""

    def __init__(
        self,
        first_loss_cover: Number = 0,
        share_quantum: Number = "1e-18",
        asset_quantum: Number = "1e-6",
    ) -> None:
        self.cover = as_decimal("first_loss_cover", first_loss_cover)
        self.share_quantum = as_decimal("share_quantum", share_quantum, positive=True)
        self.asset_quantum = as_decimal("asset_quantum", asset_quantum, positive=True)
        self.cash = ZERO
        self.day = ZERO
        self.shares: dict[str, Decimal] = {}
        self.loans: dict[str, CreditLoan] = {}
        self.queue: deque[tuple[str, Decimal]] = deque()

    # ---- valuation -----------------------------------------------------------------------------

    @property
    def total_shares(self) -> Decimal:
        """Shares outstanding."""
        return sum(self.shares.values(), ZERO)

    @property
    def nav(self) -> Decimal:
        """Lender NAV: idle cash, open loans at carrying value, plus cover committed to them."""
        return self.cash + sum(
            (ln.carrying + ln.cover_used for ln in self.loans.values() if ln.state in OPEN), ZERO
        )

    @property
    def cover_free(self) -> Decimal:
        """First-loss cover not yet committed to an open loan's loss."""
        used = sum((ln.cover_used for ln in self.loans.values() if ln.state in OPEN), ZERO)
        return self.cover - used

    @property
    @exact
    def share_price(self) -> Decimal:
        """NAV per share (1 before the first deposit)."""
        total = self.total_shares
        return ONE if total == 0 else self.nav / total

    # ---- lenders -------------------------------------------------------------------------------

    @exact
    def deposit(self, lender: str, amount: Number) -> Decimal:
        """Mint ``amount / share_price`` shares, rounded down; returns shares minted."""
        a = as_decimal("amount", amount, positive=True)
        price = self.share_price
        if price <= 0:
            raise ValueError("pool NAV is zero: deposits would buy unbounded shares")
        minted = (a / price).quantize(self.share_quantum, rounding=ROUND_DOWN)
        self.cash += a
        self.shares[lender] = self.shares.get(lender, ZERO) + minted
        return minted

    def request_withdrawal(self, lender: str, shares: Number) -> None:
        """Queue ``shares`` for redemption (FIFO); they stay in NAV until paid."""
        s = as_decimal("shares", shares, positive=True)
        queued = sum((q for name, q in self.queue if name == lender), ZERO)
        if s + queued > self.shares.get(lender, ZERO):
            raise ValueError(f"shares {s} exceed {lender}'s unqueued balance")
        self.queue.append((lender, s))

    @exact
    def process_withdrawals(self) -> list[Redemption]:
        """Pay the queue in order at the current share price until idle cash runs out.

        A request that cash cannot fully meet is filled in part and stays at the head.
        """
        price, paid = self.share_price, []
        while self.queue and self.cash > 0:
            lender, want = self.queue[0]
            fill = want
            if want * price > self.cash:
                fill = (self.cash / price).quantize(self.share_quantum, rounding=ROUND_DOWN)
            amount = (fill * price).quantize(self.asset_quantum, rounding=ROUND_DOWN)
            if fill == 0:
                break
            self.cash -= amount
            self.shares[lender] -= fill
            paid.append(Redemption(lender, fill, amount))
            if fill == want:
                self.queue.popleft()
            else:
                self.queue[0] = (lender, want - fill)
                break
        return paid

    # ---- loans ---------------------------------------------------------------------------------

    def fund_loan(self, borrower: str, principal: Number, apr: Number, term_days: Number) -> None:
        """Lend idle cash to ``borrower``; fails if idle liquidity is short."""
        p = as_decimal("principal", principal, positive=True)
        r = as_decimal("apr", apr)
        t = as_decimal("term_days", term_days, positive=True)
        if borrower in self.loans and self.loans[borrower].state in OPEN:
            raise ValueError(f"borrower {borrower!r} already has an open loan")
        if p > self.cash:
            raise ValueError(f"principal {p} exceeds idle liquidity {self.cash}")
        self.cash -= p
        self.loans[borrower] = CreditLoan(borrower, p, r, t, self.day, carrying=p)

    @exact
    def advance(self, days: Number) -> None:
        """Move the clock; performing loans accrue ``principal*apr*days/365``, also past due."""
        dt = as_decimal("days", days)
        self.day += dt
        for ln in self.loans.values():
            if ln.state is CreditState.PERFORMING:
                ln.interest += ln.principal * ln.apr * dt / DAYS_PER_YEAR
                ln.carrying = ln.outstanding

    @exact
    def repay(self, borrower: str, amount: Number) -> None:
        """Borrower pays ``amount``: interest first, then principal; closes at zero."""
        ln = self._loan(borrower, CreditState.PERFORMING)
        a = as_decimal("amount", amount, positive=True)
        if a > ln.outstanding:
            raise ValueError(f"amount {a} exceeds outstanding {ln.outstanding}")
        to_interest = min(a, ln.interest)
        ln.interest -= to_interest
        ln.principal -= a - to_interest
        ln.carrying = ln.outstanding
        self.cash += a
        if ln.outstanding == 0:
            ln.state = CreditState.REPAID

    def impair(self, borrower: str, recovery_estimate: Number) -> Decimal:
        """Mark an open loan to ``recovery_estimate`` (stops accrual); returns lender NAV change."""
        return self._mark(borrower, recovery_estimate, CreditState.IMPAIRED)

    def default(self, borrower: str, recovery_estimate: Number) -> Decimal:
        """Declare default and mark to ``recovery_estimate``; returns lender NAV change."""
        return self._mark(borrower, recovery_estimate, CreditState.DEFAULTED)

    @exact
    def write_down(self, borrower: str, recovered: Number = 0) -> Decimal:
        """Close an open loan for ``recovered`` cash; committed cover is paid into the pool.

        Returns the lender NAV change.
        """
        ln = self._loan(borrower)
        before = self.nav
        self._mark(borrower, recovered, ln.state)
        self.cover -= ln.cover_used
        self.cash += ln.carrying + ln.cover_used
        ln.carrying, ln.state = ZERO, CreditState.WRITTEN_OFF
        return self.nav - before

    @exact
    def recover(self, borrower: str, amount: Number) -> Decimal:
        """Late cash on a written-off loan: lenders are made whole first, then the cover.

        Returns the lender NAV change.
        """
        ln = self._loan(borrower, CreditState.WRITTEN_OFF)
        a = as_decimal("amount", amount, positive=True)
        to_lenders = min(a, ln.lender_loss)
        refund = min(a - to_lenders, ln.cover_used)
        ln.lender_loss -= to_lenders
        ln.cover_used -= refund
        self.cover += refund
        self.cash += a - refund
        return a - refund

    def _loan(self, borrower: str, *states: CreditState) -> CreditLoan:
        if borrower not in self.loans:
            raise ValueError(f"unknown borrower {borrower!r}")
        ln = self.loans[borrower]
        allowed = states or tuple(OPEN)
        if ln.state not in allowed:
            raise ValueError(f"loan to {borrower!r} is {ln.state}, expected one of {allowed}")
        return ln

    @exact
    def _mark(self, borrower: str, value: Number, state: CreditState) -> Decimal:
        ln = self._loan(borrower)
        v = as_decimal("recovery_estimate", value)
        if v > ln.outstanding:
            raise ValueError(f"recovery_estimate {v} exceeds outstanding {ln.outstanding}")
        delta = v - ln.carrying
        if delta < 0:
            absorbed = min(-delta, self.cover_free)
            ln.cover_used += absorbed
            ln.lender_loss += -delta - absorbed
            change = delta + absorbed
        else:
            to_lenders = min(delta, ln.lender_loss)
            refund = min(delta - to_lenders, ln.cover_used)
            ln.lender_loss -= to_lenders
            ln.cover_used -= refund
            change = delta - refund
        ln.carrying, ln.state = v, state
        return change


@exact
def share_price_after_loss(
    nav: Number, shares: Number, cover_free: Number, loss: Number
) -> Decimal:
    """Exact ``(NAV - max(0, loss - cover)) / shares``: price after a fresh loss on a pool."""
    n = as_decimal("nav", nav)
    s = as_decimal("shares", shares, positive=True)
    c = as_decimal("cover_free", cover_free)
    x = as_decimal("loss", loss)
    return (n - max(ZERO, x - c)) / s

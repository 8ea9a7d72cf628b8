"""CeFi OTC crypto-backed loans: LTV ladder, interest, top-ups, partial sales and liquidation.

Exact single-position maths runs on :class:`decimal.Decimal` under
:data:`~lendscope.mechanics.offchain.decimal_math.EXACT` (see :mod:`.decimal_math`): collateral to
post or sell is rounded *up* to a caller's quantum (the lender stays covered). The float64 twins
for the risk engine (``*_vec`` in :mod:`.twin`) match the unrounded exact results to 1e-9
relative. Prime-brokerage margin accounts live in :mod:`.prime_brokerage`.

Margin ladder convention (Ledn 50 -> 70 -> 80%, risk.md section 4.4): a loan is in margin call at
``LTV >= margin_call`` and is liquidated at ``LTV >= liquidation``. Interest is ACT/365 on the
principal: simple (``P*r*t/365``) or compounded daily (``P*((1+r/365)**t - 1)``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from lendscope.mechanics.offchain.decimal_math import (
    DAYS_PER_YEAR,
    ONE,
    ZERO,
    Number,
    as_decimal,
    exact,
    round_up,
)


class Compounding(StrEnum):
    """Interest convention of a loan (ACT/365)."""

    SIMPLE = "simple"
    DAILY = "daily"


class LoanStatus(StrEnum):
    """Where a loan sits on its margin ladder."""

    HEALTHY = "healthy"
    MARGIN_CALL = "margin_call"
    LIQUIDATION = "liquidation"
    UNSECURED = "unsecured"


@dataclass(frozen=True)
class LtvLadder:
    """Initial, margin-call and liquidation LTV; requires 0 < initial < call < liquidation <= 1."""

    initial: Decimal
    margin_call: Decimal
    liquidation: Decimal

    def __post_init__(self) -> None:
        ini = as_decimal("initial LTV", self.initial, positive=True)
        call = as_decimal("margin-call LTV", self.margin_call, positive=True)
        liq = as_decimal("liquidation LTV", self.liquidation, positive=True, at_most=ONE)
        if not ini < call:
            raise ValueError(f"initial LTV ({ini}) must be below margin-call LTV ({call})")
        if not call < liq:
            raise ValueError(f"margin-call LTV ({call}) must be below liquidation LTV ({liq})")
        object.__setattr__(self, "initial", ini)
        object.__setattr__(self, "margin_call", call)
        object.__setattr__(self, "liquidation", liq)


@dataclass(frozen=True)
class PartialSale:
    """Collateral sold to cure a margin call, and the loan afterwards."""

    collateral_sold: Decimal
    proceeds: Decimal
    debt_after: Decimal
    collateral_after: Decimal
    ltv_after: Decimal


@dataclass(frozen=True)
class Liquidation:
    """Full close-out of a loan's collateral: who gets what."""

    proceeds: Decimal
    recovered: Decimal
    shortfall: Decimal
    surplus: Decimal
    lgd: Decimal


@dataclass(frozen=True)
class OtcLoan:
    """A bilateral OTC loan: principal against collateral (or unsecured if none is posted).

    ``tenor_days`` None means open-term (callable). Interest keeps accruing after maturity at the
    contract rate (no default-rate step-up is modelled).
    """

    principal: Decimal
    apr: Decimal
    tenor_days: Decimal | None = None
    collateral_asset: str | None = None
    collateral_amount: Decimal = ZERO
    ladder: LtvLadder | None = None
    compounding: Compounding = Compounding.SIMPLE

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        set_("principal", as_decimal("principal", self.principal, positive=True))
        set_("apr", as_decimal("apr", self.apr))
        if self.tenor_days is not None:
            set_("tenor_days", as_decimal("tenor_days", self.tenor_days, positive=True))
        set_("collateral_amount", as_decimal("collateral_amount", self.collateral_amount))
        set_("compounding", Compounding(self.compounding))
        if self.collateral_amount > 0:
            if self.ladder is None:
                raise ValueError("ladder is required for a collateralised loan")
            if not self.collateral_asset:
                raise ValueError("collateral_asset is required for a collateralised loan")

    @property
    def unsecured(self) -> bool:
        """True when no collateral is posted (e.g. Celsius's 36.6% unsecured institutional book)."""
        return self.collateral_amount == 0

    def is_matured(self, t_days: Number) -> bool:
        """True once ``t_days`` reaches the tenor (never for open-term loans)."""
        t = as_decimal("t_days", t_days)
        return self.tenor_days is not None and t >= self.tenor_days

    @exact
    def accrued_interest(self, t_days: Number) -> Decimal:
        """Interest accrued ``t_days`` after origination (ACT/365, see :class:`Compounding`)."""
        t = as_decimal("t_days", t_days)
        if self.compounding is Compounding.SIMPLE:
            return self.principal * self.apr * t / DAYS_PER_YEAR
        with localcontext() as ctx:
            ctx.prec += 20  # (1 + r/365)**t - 1 cancels leading digits when r*t is small
            growth = (ONE + self.apr / DAYS_PER_YEAR) ** t - ONE
        return self.principal * growth

    @exact
    def debt(self, t_days: Number = 0) -> Decimal:
        """Exposure at default: principal plus accrued interest."""
        return self.principal + self.accrued_interest(t_days)

    @exact
    def ltv(self, price: Number, t_days: Number = 0) -> Decimal:
        """Debt over collateral value; ``Infinity`` for an unsecured loan."""
        p = as_decimal("price", price, positive=True)
        if self.unsecured:
            return Decimal("Infinity")
        return self.debt(t_days) / (self.collateral_amount * p)

    def status(self, price: Number, t_days: Number = 0) -> LoanStatus:
        """Ladder state at ``price``; liquidation takes precedence over margin call."""
        if self.unsecured or self.ladder is None:
            return LoanStatus.UNSECURED
        ltv = self.ltv(price, t_days)
        if ltv >= self.ladder.liquidation:
            return LoanStatus.LIQUIDATION
        if ltv >= self.ladder.margin_call:
            return LoanStatus.MARGIN_CALL
        return LoanStatus.HEALTHY

    @exact
    def trigger_price(self, ltv: Number, t_days: Number = 0) -> Decimal:
        """Collateral price at which the loan reaches ``ltv``: ``D / (C * ltv)``."""
        target = as_decimal("ltv", ltv, positive=True)
        self._require_secured()
        return self.debt(t_days) / (self.collateral_amount * target)

    @exact
    def top_up(self, price: Number, t_days: Number = 0, quantum: Number | None = None) -> Decimal:
        """Collateral to add so LTV is back at the initial LTV: ``max(0, D/(L0*p) - C)``.

        With ``quantum`` (e.g. ``"1e-8"`` BTC) the amount is rounded up, so LTV ends at or just
        below the initial LTV.
        """
        p = as_decimal("price", price, positive=True)
        ladder = self._require_secured()
        need = self.debt(t_days) / (ladder.initial * p) - self.collateral_amount
        return round_up(max(ZERO, need), _quantum(quantum))

    @exact
    def partial_sale(
        self,
        price: Number,
        t_days: Number = 0,
        slippage: Number = 0,
        quantum: Number | None = None,
    ) -> PartialSale:
        """Sell collateral at ``price*(1-slippage)`` and repay debt until LTV is the initial LTV.

        Solving ``(D - s*p*(1-h)) / ((C - s)*p) = L0`` gives ``s = (D - L0*C*p) / (p*(1-h-L0))``.
        Selling only helps when ``1 - h > L0``; if it cannot cure, liquidate instead.
        """
        p = as_decimal("price", price, positive=True)
        h = as_decimal("slippage", slippage, at_most=ONE)
        ladder = self._require_secured()
        d, c, l0 = self.debt(t_days), self.collateral_amount, ladder.initial
        if d <= l0 * c * p:
            s = ZERO
        elif ONE - h <= l0:
            raise ValueError(f"slippage {h} leaves sale proceeds at or below initial LTV {l0}")
        else:
            s = round_up((d - l0 * c * p) / (p * (ONE - h - l0)), _quantum(quantum))
        if s >= c:
            raise ValueError("selling all collateral cannot restore the initial LTV; liquidate")
        proceeds = s * p * (ONE - h)
        debt_after, coll_after = d - proceeds, c - s
        return PartialSale(s, proceeds, debt_after, coll_after, debt_after / (coll_after * p))

    @exact
    def liquidate(
        self, price: Number, t_days: Number = 0, slippage: Number = 0, haircut: Number = 0
    ) -> Liquidation:
        """Sell all collateral at ``price*(1-slippage-haircut)``; LGD = shortfall / debt.

        ``price`` is the execution mark, which may have gapped far through the liquidation LTV.
        """
        p = as_decimal("price", price, positive=True)
        h = _discount(slippage, haircut)
        d = self.debt(t_days)
        proceeds = self.collateral_amount * p * (ONE - h)
        recovered = min(proceeds, d)
        shortfall = d - recovered
        return Liquidation(proceeds, recovered, shortfall, proceeds - recovered, shortfall / d)

    @exact
    def exposure(self, price: Number, t_days: Number = 0, haircut: Number = 0) -> Decimal:
        """Net exposure ``max(0, EAD - C*p*(1-haircut))`` (risk.md section 4.3)."""
        p = as_decimal("price", price, positive=True)
        h = as_decimal("haircut", haircut, at_most=ONE)
        return max(ZERO, self.debt(t_days) - self.collateral_amount * p * (ONE - h))

    def _require_secured(self) -> LtvLadder:
        if self.unsecured or self.ladder is None:
            raise ValueError("loan is unsecured: it has no collateral or LTV ladder")
        return self.ladder


def _quantum(q: Number | None) -> Decimal | None:
    return None if q is None else as_decimal("quantum", q, positive=True)


def _discount(slippage: Number, haircut: Number) -> Decimal:
    h = as_decimal("slippage", slippage, at_most=ONE) + as_decimal("haircut", haircut, at_most=ONE)
    if h > 1:
        raise ValueError(f"slippage + haircut must be <= 1, got {h}")
    return h

"""CeFi lending products: OTC crypto-backed loans and prime-brokerage margin accounts.

Exact single-position maths runs on :class:`decimal.Decimal` inside :data:`EXACT` (50 significant
digits, round half even, every signal but ``Inexact``/``Rounded`` trapped), so a division result is
correct to 50 digits and nothing is silently NaN. Only amounts that move between parties are
rounded to a quantum, and only where a caller passes one: collateral to post or sell is rounded
*up* (the lender stays covered). Floats passed in are converted exactly (``Decimal(0.1)`` is the
binary value); pass strings for decimal literals. The ``*_vec`` functions are float64 twins for the
risk engine; they match the unrounded exact results to 1e-9 relative.

Margin ladder convention (Ledn 50 -> 70 -> 80%, risk.md section 4.4): a loan is in margin call at
``LTV >= margin_call`` and is liquidated at ``LTV >= liquidation``. Interest is ACT/365 on the
principal: simple (``P*r*t/365``) or compounded daily (``P*((1+r/365)**t - 1)``).
"""

from __future__ import annotations

import decimal
import functools
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

Number = Decimal | int | float | str
FloatArray = npt.NDArray[np.float64]
A = npt.ArrayLike

_TRAPS = [InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
EXACT = Context(prec=50, rounding=ROUND_HALF_EVEN, traps=_TRAPS)
ZERO = Decimal(0)
ONE = Decimal(1)
DAYS_PER_YEAR = Decimal(365)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` under :data:`EXACT` so results never depend on the caller's decimal context."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(EXACT):
            return fn(*args, **kwargs)

    return wrapper


def as_decimal(
    name: str,
    value: Number,
    *,
    positive: bool = False,
    signed: bool = False,
    at_most: Decimal | None = None,
) -> Decimal:
    """Convert ``value`` exactly and validate it; errors name the parameter."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # numpy integers: Decimal() rejects them
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and d <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if not signed and d < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    if at_most is not None and d > at_most:
        raise ValueError(f"{name} must be <= {at_most}, got {value}")
    return d


def round_up(x: Decimal, quantum: Decimal | None) -> Decimal:
    """Round ``x`` up to a multiple of ``quantum`` (no rounding when ``quantum`` is None)."""
    if quantum is None:
        return x
    return (x / quantum).to_integral_value(rounding=ROUND_CEILING) * quantum


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


# ---- prime brokerage ---------------------------------------------------------------------------


class MarginStatus(StrEnum):
    """State of a cross-margined account."""

    HEALTHY = "healthy"
    MARGIN_CALL = "margin_call"
    DEFICIT = "deficit"


@dataclass(frozen=True)
class AssetMargin:
    """Per-asset haircuts on gross market value: 0 <= maintenance <= initial <= 1."""

    initial: Decimal
    maintenance: Decimal

    def __post_init__(self) -> None:
        ini = as_decimal("initial haircut", self.initial, at_most=ONE)
        mnt = as_decimal("maintenance haircut", self.maintenance, at_most=ONE)
        if mnt > ini:
            raise ValueError(f"maintenance haircut ({mnt}) must not exceed initial ({ini})")
        object.__setattr__(self, "initial", ini)
        object.__setattr__(self, "maintenance", mnt)


@dataclass(frozen=True)
class MarginSnapshot:
    """An account marked to prices: equity, gross value, initial and maintenance margin."""

    equity: Decimal
    gross: Decimal
    initial: Decimal
    maintenance: Decimal

    @property
    def status(self) -> MarginStatus:
        """Deficit if equity < 0, margin call if equity < maintenance margin, else healthy."""
        if self.equity < 0:
            return MarginStatus.DEFICIT
        if self.equity < self.maintenance:
            return MarginStatus.MARGIN_CALL
        return MarginStatus.HEALTHY

    @property
    def call_amount(self) -> Decimal:
        """Cash to post to restore *initial* margin once below maintenance, else 0."""
        return ZERO if self.equity >= self.maintenance else self.initial - self.equity


@dataclass(frozen=True)
class ForcedClose:
    """Result of a forced close: fraction of every position sold and the account after."""

    fraction: Decimal
    full_close: bool
    slippage_cost: Decimal
    equity_after: Decimal
    deficit: Decimal
    account: MarginAccount


@dataclass(frozen=True)
class MarginAccount:
    """Cross-margin prime-brokerage account.

    ``cash`` < 0 is financing drawn from the broker; a negative quantity is a short. Equity is
    ``cash + sum(q*p)``; initial/maintenance margin is ``sum(|q|*p*haircut)`` per asset. Below
    maintenance the client must restore *initial* margin, or the broker sells.
    """

    cash: Decimal
    positions: Mapping[str, Decimal]
    terms: Mapping[str, AssetMargin] = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cash", as_decimal("cash", self.cash, signed=True))
        pos = {a: as_decimal(f"quantity of {a}", q, signed=True) for a, q in self.positions.items()}
        missing = sorted(set(pos) - set(self.terms))
        if missing:
            raise ValueError(f"no margin terms for asset(s) {missing}")
        object.__setattr__(self, "positions", pos)

    def _marks(self, prices: Mapping[str, Number]) -> dict[str, Decimal]:
        missing = sorted(set(self.positions) - set(prices))
        if missing:
            raise ValueError(f"no price for asset(s) {missing}")
        return {a: as_decimal(f"price of {a}", prices[a], positive=True) for a in self.positions}

    @exact
    def mark(self, prices: Mapping[str, Number]) -> MarginSnapshot:
        """Mark every position to ``prices`` (asset -> price > 0)."""
        px, eq, gross, im, mm = self._marks(prices), self.cash, ZERO, ZERO, ZERO
        for a, q in self.positions.items():
            value = q * px[a]
            eq += value
            gross += abs(value)
            im += abs(value) * self.terms[a].initial
            mm += abs(value) * self.terms[a].maintenance
        return MarginSnapshot(eq, gross, im, mm)

    @exact
    def forced_close(
        self, prices: Mapping[str, Number], slippage: Number = 0, *, full: bool = False
    ) -> ForcedClose:
        """Broker sells a fraction ``f`` of every position pro rata to restore initial margin.

        Selling ``f`` costs ``f*s*G`` in slippage and frees ``f*IM``, so equity meets initial
        margin at ``f = (IM - E) / (IM - s*G)``. When that is >= 1 or undefined (``IM <= s*G``),
        or when ``full``, everything is closed and ``deficit = max(0, -(E - s*G))``. An account
        not in margin call is left alone unless ``full``.
        """
        s = as_decimal("slippage", slippage, at_most=ONE)
        px = self._marks(prices)
        snap = self.mark(px)
        if full:
            f = ONE
        elif snap.equity >= snap.maintenance:
            f = ZERO
        else:
            denom = snap.initial - s * snap.gross
            f = min((snap.initial - snap.equity) / denom, ONE) if denom > 0 else ONE
        cost = f * s * snap.gross
        # Longs sell at p*(1-s), shorts buy back at p*(1+s): cash moves by f*q*p - f*s*|q|*p.
        cash = self.cash + sum((f * q * px[a] for a, q in self.positions.items()), ZERO) - cost
        after = MarginAccount(
            cash, {a: q * (ONE - f) for a, q in self.positions.items()}, self.terms
        )
        eq_after = snap.equity - cost
        return ForcedClose(f, f == ONE, cost, eq_after, max(ZERO, -eq_after), after)


# ---- float64 twins: same formulas, arrays broadcast; match the unrounded exact results ----------


def _f(x: A) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def accrued_interest_vec(
    principal: A, apr: A, t_days: A, compounding: str = "simple"
) -> FloatArray:
    """Twin of :meth:`OtcLoan.accrued_interest`."""
    p, r, t = _f(principal), _f(apr), _f(t_days)
    if Compounding(compounding) is Compounding.SIMPLE:
        return p * r * t / 365.0
    return p * np.expm1(t * np.log1p(r / 365.0))  # expm1/log1p: no cancellation for small r*t


def ltv_vec(debt: A, collateral: A, price: A) -> FloatArray:
    """Twin of :meth:`OtcLoan.ltv` (``inf`` where collateral is 0)."""
    with np.errstate(divide="ignore"):
        return _f(debt) / (_f(collateral) * _f(price))


def status_vec(ltv: A, margin_call: A, liquidation: A) -> npt.NDArray[np.int64]:
    """Ladder state codes: 0 healthy, 1 margin call, 2 liquidation."""
    x = _f(ltv)
    return np.where(x >= _f(liquidation), 2, np.where(x >= _f(margin_call), 1, 0))


def top_up_vec(debt: A, collateral: A, price: A, initial_ltv: A) -> FloatArray:
    """Twin of :meth:`OtcLoan.top_up` (unrounded)."""
    return np.maximum(0.0, _f(debt) / (_f(initial_ltv) * _f(price)) - _f(collateral))


def partial_sale_vec(
    debt: A, collateral: A, price: A, initial_ltv: A, slippage: A = 0.0
) -> FloatArray:
    """Twin of ``OtcLoan.partial_sale(...).collateral_sold``; ``inf`` where a sale cannot cure."""
    d, c, p, l0, h = (_f(a) for a in (debt, collateral, price, initial_ltv, slippage))
    excess, denom = d - l0 * c * p, p * (1.0 - h - l0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(excess <= 0, 0.0, np.where(denom > 0, excess / denom, np.inf))
    return np.where(s >= c, np.inf, s)


def liquidation_vec(
    debt: A, collateral: A, price: A, slippage: A = 0.0, haircut: A = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Twin of :meth:`OtcLoan.liquidate`: ``(shortfall, lgd)``."""
    d = _f(debt)
    proceeds = _f(collateral) * _f(price) * (1.0 - _f(slippage) - _f(haircut))
    shortfall = np.maximum(0.0, d - proceeds)
    return shortfall, shortfall / d


def margin_vec(
    cash: A, quantities: A, prices: A, initial: A, maintenance: A
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Twin of :meth:`MarginAccount.mark` for (accounts, assets) arrays: ``(E, G, IM, MM)``.

    Equity is a sum of signed values, so its float error is relative to gross value ``G``.
    """
    value = _f(quantities) * _f(prices)
    gross = np.abs(value)
    im, mm = (gross * _f(initial)).sum(axis=-1), (gross * _f(maintenance)).sum(axis=-1)
    return _f(cash) + value.sum(axis=-1), gross.sum(axis=-1), im, mm


def forced_close_fraction_vec(equity: A, gross: A, im: A, mm: A, slippage: A = 0.0) -> FloatArray:
    """Twin of ``MarginAccount.forced_close(...).fraction``."""
    e, g, i, m, s = (_f(a) for a in (equity, gross, im, mm, slippage))
    denom = i - s * g
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(denom > 0, np.minimum((i - e) / denom, 1.0), 1.0)
    return np.where(e >= m, 0.0, f)

"""Prime-brokerage cross-margin accounts: marking, margin calls and forced closes.

An account holds signed cash (negative = financing drawn from the broker) and signed positions
(negative = short) with per-asset initial/maintenance haircuts on gross market value. Exact maths
runs under :data:`~lendscope.mechanics.offchain.decimal_math.EXACT`; the float64 twins for the
risk engine (``margin_vec``, ``forced_close_fraction_vec`` in :mod:`.twin`) match the unrounded
exact results to 1e-9 relative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from lendscope.mechanics.offchain.decimal_math import ONE, ZERO, Number, as_decimal, exact


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

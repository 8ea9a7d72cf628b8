"""DEX perpetual futures with isolated margin.

A position of ``q`` base units opened at entry ``E`` with leverage ``L`` posts margin
``M = q*E/L - f_o*q*E`` (opening fee taken from margin), less funding paid since. At mark ``p``:

- ``pnl = side*q*(p - E)``, ``equity = M + pnl``, ``margin ratio = equity / (q*p)``;
- it is liquidated when ``equity - f_c*q*p <= mmr*q*p`` (what is left after the closing fee no
  longer covers maintenance margin).

Solving the boundary for ``p`` with ``m = M/q``:

- long:  ``p_liq = (E - m) / (1 - mmr - f_c)``, i.e. ``E*(1 - 1/L)/(1 - mmr)`` with no fees;
- short: ``p_liq = (E + m) / (1 + mmr + f_c)``, i.e. ``E*(1 + 1/L)/(1 + mmr)`` with no fees.

A long with ``p_liq <= 0`` (``L = 1``, no fees) cannot be liquidated at a positive price; ``0`` is
returned. Funding: a positive rate means longs pay shorts ``rate * q * p * dt`` (``rate`` per
period, ``dt`` in periods). Arithmetic is exact under ``decimal_math.EXACT`` and nothing is
quantised: marks are not transfers. The float64 twins are in :mod:`.twin`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum

from lendscope.mechanics.offchain.decimal_math import ONE, ZERO, Number, as_decimal, exact


class Side(IntEnum):
    """Direction of a position; the value is the sign of its PnL in price."""

    LONG = 1
    SHORT = -1


@dataclass(frozen=True)
class PerpPosition:
    """An isolated-margin perpetual position."""

    side: Side
    size: Decimal
    entry_price: Decimal
    leverage: Decimal
    mmr: Decimal
    open_fee_rate: Decimal = ZERO
    close_fee_rate: Decimal = ZERO
    funding_paid: Decimal = ZERO  # cumulative, signed: > 0 means paid out of margin

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "side", Side(self.side))
        set_(self, "size", as_decimal("size", self.size, positive=True))
        set_(self, "entry_price", as_decimal("entry_price", self.entry_price, positive=True))
        lev = as_decimal("leverage", self.leverage, positive=True)
        if lev < 1:
            raise ValueError(f"leverage must be >= 1, got {lev}")
        set_(self, "leverage", lev)
        set_(self, "mmr", as_decimal("mmr", self.mmr, at_most=ONE))
        set_(self, "open_fee_rate", as_decimal("open_fee_rate", self.open_fee_rate, at_most=ONE))
        set_(self, "close_fee_rate", as_decimal("close_fee_rate", self.close_fee_rate, at_most=ONE))
        set_(self, "funding_paid", as_decimal("funding_paid", self.funding_paid, signed=True))
        # mmr >= 1/L would be liquidatable at entry, before any price move.
        if self.mmr * lev >= 1:
            raise ValueError(f"mmr ({self.mmr}) must be below the initial margin ratio 1/leverage")
        if self.mmr + self.close_fee_rate >= 1:
            raise ValueError("mmr + close_fee_rate must be below 1")

    @property
    @exact
    def initial_margin_ratio(self) -> Decimal:
        """``1 / leverage``."""
        return ONE / self.leverage

    @property
    @exact
    def margin(self) -> Decimal:
        """Collateral in the position: ``q*E/L`` less opening fee and funding paid."""
        notional = self.size * self.entry_price
        return notional / self.leverage - self.open_fee_rate * notional - self.funding_paid

    @exact
    def notional(self, price: Number) -> Decimal:
        """``q * p``."""
        return self.size * as_decimal("price", price, positive=True)

    @exact
    def pnl(self, price: Number) -> Decimal:
        """Unrealised PnL ``side * q * (p - E)``."""
        p = as_decimal("price", price, positive=True)
        return self.side * self.size * (p - self.entry_price)

    @exact
    def equity(self, price: Number) -> Decimal:
        """Margin plus unrealised PnL (before the closing fee)."""
        return self.margin + self.pnl(price)

    @exact
    def margin_ratio(self, price: Number) -> Decimal:
        """``equity / notional``; liquidation at ``<= mmr + close_fee_rate``."""
        return self.equity(price) / self.notional(price)

    @exact
    def is_liquidated(self, price: Number) -> bool:
        """True when equity after the closing fee is at or below maintenance margin."""
        n = self.notional(price)
        return self.equity(price) - self.close_fee_rate * n <= self.mmr * n

    @exact
    def liquidation_price(self) -> Decimal:
        """Closed-form liquidation price (module docstring); ``0`` if none exists for a long."""
        m = self.margin / self.size
        if self.side is Side.LONG:
            return max(ZERO, (self.entry_price - m) / (ONE - self.mmr - self.close_fee_rate))
        return (self.entry_price + m) / (ONE + self.mmr + self.close_fee_rate)

    def liquidated_on_path(self, prices: Sequence[Number]) -> bool:
        """True if any mark on the path liquidates the position."""
        return any(self.is_liquidated(p) for p in prices)

    @exact
    def funding_payment(self, rate: Number, price: Number, dt: Number = 1) -> Decimal:
        """Amount this position pays (< 0: receives): ``side * rate * q * p * dt``."""
        r = as_decimal("rate", rate, signed=True)
        t = as_decimal("dt", dt)
        return self.side * r * self.notional(price) * t

    def apply_funding(self, rate: Number, price: Number, dt: Number = 1) -> PerpPosition:
        """New position with one funding payment settled against margin."""
        return replace(self, funding_paid=self.funding_paid + self.funding_payment(rate, price, dt))

    @exact
    def funding_over_path(
        self, rates: Sequence[Number], prices: Sequence[Number], dts: Sequence[Number] | None = None
    ) -> Decimal:
        """Total funding paid over aligned sequences of rates, marks and period lengths."""
        if len(rates) != len(prices) or (dts is not None and len(dts) != len(rates)):
            raise ValueError("rates, prices and dts must have the same length")
        steps = dts if dts is not None else [1] * len(rates)
        return sum(
            (self.funding_payment(r, p, t) for r, p, t in zip(rates, prices, steps, strict=True)),
            ZERO,
        )

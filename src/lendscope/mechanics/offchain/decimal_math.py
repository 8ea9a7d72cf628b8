"""Exact Decimal arithmetic shared by the off-chain products (OTC, prime brokerage, credit, perps).

Exact single-position maths runs on :class:`decimal.Decimal` inside :data:`EXACT` (50 significant
digits, round half even, every signal but ``Inexact``/``Rounded`` trapped), so a division result is
correct to 50 digits and nothing is silently NaN. Only amounts that move between parties are
rounded to a quantum, and only where a caller passes one (:func:`round_up`). Floats passed in are
converted exactly (``Decimal(0.1)`` is the binary value); pass strings for decimal literals.

This is not :mod:`lendscope.mechanics.intmath`: that module reproduces a contract's integer fixed
point (``int`` in WAD/RAY/bps units, the contract's rounding on every operation, uint256 range
checks that revert), because an on-chain protocol's numbers are defined by its bytecode. The
off-chain products have no bytecode; their terms are decimal amounts and rates, so here amounts
keep their decimal value and are only rounded where a contract between parties says so. The float64
twins of these products are in :mod:`.twin`.
"""

from __future__ import annotations

import decimal
import functools
import numbers
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from typing import ParamSpec, TypeVar

Number = Decimal | int | float | str

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

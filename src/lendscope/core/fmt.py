"""Money, shares and quarters as text: the one formatter every layer uses.

Callers differ only in precision (a report sentence, a CLI table, a validator message), so the
precision is a parameter rather than another copy of the function.
"""

from __future__ import annotations


def usd(
    v: float | None,
    *,
    digits: int = 1,
    m_digits: int | None = None,
    sig: bool = False,
    billions_from: float = 1e9,
    missing: str = "n/a",
) -> str:
    """``$36.5B`` / ``$932.5M``: billions at or above ``billions_from``, else millions.

    ``digits`` is decimals (``m_digits`` for millions, default the same), or significant
    figures when ``sig`` is set.
    """
    if v is None:
        return missing
    kind = "g" if sig else "f"
    if abs(v) >= billions_from:
        return f"${v / 1e9:,.{digits}{kind}}B"
    return f"${v / 1e6:,.{digits if m_digits is None else m_digits}{kind}}M"


def pct(v: float | None, signed: bool = False, *, missing: str = "n/a") -> str:
    """A fraction as a whole percentage (one decimal under 10%)."""
    if v is None:
        return missing
    digits = 1 if abs(v) < 0.1 else 0
    return f"{v:+.{digits}%}" if signed else f"{v:.{digits}%}"


def quarter(period: str | None) -> str:
    """``2024Q4`` -> ``Q4 2024``."""
    return "n/a" if not period else f"{period[4:]} {period[:4]}"

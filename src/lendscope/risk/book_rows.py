"""CSV row validation for book files: typed field access whose errors name file, row and field."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

from lendscope.core import files
from lendscope.core.assets import ASSETS
from lendscope.risk.book_types import DEFAULT_PRICES, BookError

TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}
#: Most rows of one book file: machine-written books (``book synth``, ``positions``) run to a
#: million positions, so the cap is far above the 100,000 of a disclosure file.
MAX_BOOK_ROWS = 2_000_000


class Row:
    """One CSV row with typed, validated access; errors name file, row and field."""

    def __init__(self, src: str, line: int, data: Mapping[str, str | None]) -> None:
        self.src, self.line, self.data = src, line, data

    def fail(self, field: str, msg: str) -> Any:
        """Raise :class:`BookError` naming the file, row and ``field``."""
        raise BookError(f"{self.src}: row {self.line}: {field}: {msg}")

    def text(self, field: str, default: str | None = None) -> str:
        """A non-empty string (``default`` when empty, if given)."""
        v = (self.data.get(field) or "").strip()
        if not v:
            if default is not None:
                return default
            self.fail(field, "missing value")
        return v

    def num(self, field: str, default: float | None = None, *, positive: bool = False) -> float:
        """A finite number >= 0 (> 0 with ``positive``; ``default`` when empty, if given)."""
        raw = (self.data.get(field) or "").strip()
        if not raw:
            if default is not None:
                return default
            self.fail(field, "missing value")
        try:
            x = float(raw)
        except ValueError:
            return self.fail(field, f"not a number: {raw!r}")
        if not math.isfinite(x):
            self.fail(field, f"must be finite, got {raw!r}")
        if positive and not x > 0:
            self.fail(field, f"must be > 0, got {raw}")
        if x < 0:
            self.fail(field, f"must be >= 0 (negative amount {raw})")
        return x

    def frac(self, field: str, default: float | None = None) -> float:
        """A fraction in (0, 1]."""
        x = self.num(field, default)
        if not 0 < x <= 1:
            self.fail(field, f"must be in (0, 1], got {x}")
        return x

    def asset(self, field: str) -> int:
        """An asset's index in :data:`~lendscope.risk.scenarios.ASSETS`."""
        a = self.text(field)
        if a not in ASSETS:
            self.fail(field, f"unknown asset {a!r} (known: {', '.join(ASSETS)})")
        return ASSETS.index(a)

    def price(self, field: str, asset: int) -> float:
        """A start price > 0, defaulting to the asset's :data:`DEFAULT_PRICES` entry."""
        return self.num(field, DEFAULT_PRICES[ASSETS[asset]], positive=True)

    def flag(self, field: str) -> bool:
        """A boolean (true/yes/1/y or false/no/0/n/empty)."""
        v = (self.data.get(field) or "").strip().lower()
        if v not in TRUE | FALSE:
            self.fail(field, f"expected true or false, got {v!r}")
        return v in TRUE

    def date(self, field: str) -> dt.date | None:
        """An ISO date, or None for empty or ``open``."""
        v = (self.data.get(field) or "").strip()
        if v.lower() in ("", "open"):
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            return self.fail(field, f"not an ISO date YYYY-MM-DD (or 'open'): {v!r}")


def read_rows(src: str, text: str, required: Iterable[str]) -> list[Row]:
    """The CSV's data rows; the header must have every ``required`` column."""
    try:
        header, rows = files.read_csv_rows(text, src, max_rows=MAX_BOOK_ROWS)
    except files.InputError as e:
        raise BookError(str(e)) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise BookError(f"{src}: row 1: {missing[0]}: missing column")
    if not rows:
        raise BookError(f"{src}: row 2: <none>: the file has no data rows")
    # Missing cells read as absent (empty), extra cells are ignored, as csv.DictReader does.
    return [Row(src, line, dict(zip(header, cells, strict=False))) for line, cells in rows]


def unique_ids(rows: list[Row], field: str) -> list[str]:
    """The ``field`` of every row, which must be unique across rows."""
    seen: set[str] = set()
    out = []
    for r in rows:
        i = r.text(field)
        if i in seen:
            r.fail(field, f"duplicate id {i!r}")
        seen.add(i)
        out.append(i)
    return out

"""Credit links of a book, as YAML: named counterparties and their defaults, credit lines, events.

```yaml
counterparties:
  - {name: 3AC, default_date: 2022-06-27, recovery: 0.0, source: https://...}
credit_lines:
  - {provider: FTX, borrower: BlockFi, limit_usd: 4.0e8, start: 2022-07-01, source: ...}
events:
  - {date: 2022-05-09, kind: news, lenders: [Celsius], intensity: 0.01, label: Terra, source: ...}
  - {date: 2022-06-30, kind: capital, lenders: [Genesis], usd: 1.1e9, label: DCG note, source: ...}
```

Loans name their counterparty (``counterparty`` column); a loan to a counterparty that defaults
defaults with it, and a loan whose counterparty is another lender of the book defaults when that
lender fails. Errors name the file, the item and the field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from lendscope.risk.book_types import Book, BookError, BookEvent, Counterparty, CreditLine

KEYS = ("counterparties", "credit_lines", "events")
EVENT_KINDS = ("news", "capital", "liquidity")


class _Item:
    def __init__(self, src: str, where: str, d: Any) -> None:
        self.src, self.where = src, where
        if not isinstance(d, Mapping):
            self.fail("<item>", "expected a mapping")
        self.d = d

    def fail(self, field: str, msg: str) -> Any:
        raise BookError(f"{self.src}: {self.where}: {field}: {msg}")

    def text(self, key: str, default: str | None = None) -> str:
        x = self.d.get(key)
        if x is None or not str(x).strip():
            if default is not None:
                return default
            self.fail(key, "missing field")
        return str(x).strip()

    def date(self, key: str, required: bool = True) -> dt.date | None:
        x = self.d.get(key)
        if x is None:
            return self.fail(key, "missing field") if required else None
        if isinstance(x, dt.date):
            return x
        try:
            return dt.date.fromisoformat(str(x))
        except ValueError:
            return self.fail(key, f"not an ISO date: {x!r}")

    def num(self, key: str, default: float | None = None, hi: float = math.inf) -> float:
        x = self.d.get(key, default)
        if x is None:
            self.fail(key, "missing field")
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            self.fail(key, f"not a number: {x!r}")
        if not 0 <= x <= hi:
            self.fail(key, f"must be in [0, {hi:g}], got {x}")
        return float(x)


def parse_credit_yaml(src: str, data: Mapping) -> Book:
    """A credit-links YAML (any of ``counterparties``, ``credit_lines``, ``events``)."""
    book = Book(sources=[src])
    unknown = set(data) - set(KEYS)
    if unknown:
        raise BookError(f"{src}: {sorted(unknown)[0]}: unknown key (known: {', '.join(KEYS)})")
    for key in KEYS:
        if not isinstance(data.get(key) or [], list):
            raise BookError(f"{src}: {key}: expected a list")
    for i, d in enumerate(data.get("counterparties") or []):
        it = _Item(src, f"counterparties[{i}]", d)
        name = it.text("name")
        if name in book.counterparties:
            it.fail("name", f"{name!r} given twice")
        default, recovery = it.date("default_date", False), it.num("recovery", 0.0, 1.0)
        book.counterparties[name] = Counterparty(name, default, recovery, it.text("source", ""))
    for i, d in enumerate(data.get("credit_lines") or []):
        it = _Item(src, f"credit_lines[{i}]", d)
        parties = it.text("provider"), it.text("borrower")
        start = it.date("start")
        assert start is not None
        book.credit_lines.append(
            CreditLine(*parties, it.num("limit_usd"), start, it.text("source", ""))
        )
    for i, d in enumerate(data.get("events") or []):
        it = _Item(src, f"events[{i}]", d)
        kind = it.text("kind")
        if kind not in EVENT_KINDS:
            it.fail("kind", f"must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
        lenders = it.d.get("lenders") or []
        if not isinstance(lenders, list):
            it.fail("lenders", "expected a list of lender names")
        day = it.date("date")
        assert day is not None
        intensity = it.num("intensity", 0.0, 1.0) if kind == "news" else 0.0
        usd = it.num("usd") if kind != "news" else 0.0
        names = tuple(str(x) for x in lenders)
        label, source = it.text("label", kind), it.text("source", "")
        book.events.append(BookEvent(day, kind, names, intensity, usd, label, source))
    return book

"""Building blocks of the dashboard's Vega-Lite specs: one chart = its data table and its spec.

Every spec is plain JSON (no Altair): a temporal quarter axis (gaps stay gaps: lines break at
quarters without a figure), ``width: "container"``, formatted tooltips on every mark and a band
on the selected quarter. The colours of text and grid come from the page (see ``app.js``), so
the same spec draws in light and dark mode.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lendscope.core import fmt
from lendscope.dataset.schema import period_from_index, period_index

#: How a table column shows its raw value (the CSV keeps the raw value).
FORMATS: dict[str, Callable[[Any], str]] = {
    "quarter": fmt.quarter,
    "usd": lambda v: fmt.usd(v) if v is not None else "",
    "pct": lambda v: fmt.pct(v, missing=""),
    "text": lambda v: "" if v is None else str(v),
}
#: Vega formats of the spec fields by kind (values in the spec are $bn, $m or fractions).
TIP = {"bn": "$,.2f", "m": "$,.0f", "pct": ".1%"}
HIGHLIGHT = "#f2b701"


@dataclass
class Col:
    """A table column: the row key, its heading and how it shows (a key of :data:`FORMATS`)."""

    key: str
    title: str
    kind: str = "text"


@dataclass
class Chart:
    """A dashboard chart: title, the data table behind it (its text alternative) and the spec."""

    name: str
    title: str
    cols: list[Col]
    rows: list[dict[str, Any]]
    spec: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def table(self) -> list[list[str]]:
        """The rows as the page shows them, one formatted string per column."""
        return [[FORMATS[c.kind](r.get(c.key)) for c in self.cols] for r in self.rows]

    def csv(self) -> str:
        """The table as CSV: a header of column titles, raw values (formula-safe)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow([c.title for c in self.cols])
        for r in self.rows:
            w.writerow([_cell(r.get(c.key)) for c in self.cols])
        return out.getvalue()


def _cell(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


def qstart(period: str) -> date:
    """First day of a quarter ``YYYYQn``."""
    return date(int(period[:4]), 3 * int(period[5]) - 2, 1)


def qend(period: str) -> date:
    """First day of the next quarter."""
    return qstart(period_from_index(period_index(period) + 1))


def qmid(period: str) -> str:
    """Mid-quarter (ISO date): where a line's point sits, inside the quarter's band."""
    return (qstart(period) + timedelta(days=45)).isoformat()


def quarters(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last``, gaps included."""
    return [period_from_index(i) for i in range(period_index(first), period_index(last) + 1)]


def bn(v: float | None) -> float | None:
    """USD -> $bn, rounded for the spec."""
    return None if v is None else round(v / 1e9, 4)


def tip(key: str, title: str, kind: str = "text") -> dict[str, Any]:
    """One tooltip entry: a readable title and a rounded format."""
    t: dict[str, Any] = {"field": key, "title": title, "type": "nominal"}
    if kind in TIP:
        t.update(type="quantitative", format=TIP[kind])
    return t


def x_time(title: str = "quarter", bars: bool = False) -> dict[str, Any]:
    """The quarter axis: temporal, so missing quarters take their place on it."""
    x: dict[str, Any] = {
        "field": "date",
        "type": "temporal",
        "title": title,
        "axis": {
            "format": "%Y Q%q",
            "labelOverlap": True,
            "tickCount": {"interval": "month", "step": 3},
        },
    }
    if bars:
        x["timeUnit"] = "yearquarter"
    return x


def band(period: str) -> dict[str, Any]:
    """A layer shading the selected quarter (with its own tooltip)."""
    return {
        "data": {
            "values": [
                {
                    "date": qstart(period).isoformat(),
                    "date_end": qend(period).isoformat(),
                    "quarter": fmt.quarter(period),
                }
            ]
        },
        "mark": {"type": "rect", "color": HIGHLIGHT, "opacity": 0.22},
        "encoding": {
            "x": {"field": "date", "type": "temporal"},
            "x2": {"field": "date_end"},
            "tooltip": [tip("quarter", "selected quarter")],
        },
    }


def with_gaps(
    rows: list[dict[str, Any]], key: str, series: list[str], first: str, last: str, value: str
) -> list[dict[str, Any]]:
    """Rows plus a null row for every quarter a series lacks, so its line breaks there."""
    have = {(r[key], r["period"]) for r in rows}
    out = list(rows)
    for s in series:
        for p in quarters(first, last):
            if (s, p) not in have:
                out.append(
                    {key: s, "period": p, "date": qmid(p), "quarter": fmt.quarter(p), value: None}
                )
    return sorted(out, key=lambda r: (str(r[key]), r["period"]))


def point(period: str, **kw: Any) -> dict[str, Any]:
    """A spec row of a quarter: ``period``, its label and mid-quarter date, plus ``kw``."""
    return {"period": period, "date": qmid(period), "quarter": fmt.quarter(period), **kw}


def bar_row(period: str, **kw: Any) -> dict[str, Any]:
    """A spec row for a quarter's bar (the bar spans the quarter: start date, time unit)."""
    return {
        "period": period,
        "date": qstart(period).isoformat(),
        "quarter": fmt.quarter(period),
        **kw,
    }


def top(title: str, layers: list[dict[str, Any]], height: int = 260) -> dict[str, Any]:
    """A top-level responsive spec (container width) of ``layers``.

    The page's ``figcaption`` is its title: a title in the spec would not wrap on a phone.
    """
    return {
        "description": title,
        "width": "container",
        "height": height,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": {
            "font": "DejaVu Sans",
            "view": {"stroke": None},
            "mark": {"invalid": "break-paths-show-domains"},
        },
        "layer": layers,
    }


def color(
    domain: list[str], range_: list[str] | None = None, key: str = "series"
) -> dict[str, Any]:
    """A nominal colour encoding with a fixed domain (and palette when given)."""
    scale: dict[str, Any] = {"domain": domain}
    if range_:
        scale["range"] = range_
    return {
        "field": key,
        "type": "nominal",
        "title": None,
        "scale": scale,
        "legend": {"orient": "bottom", "columns": 1, "labelLimit": 300},
    }

"""The quarter and vintage a page shows, and the picker around them.

Every vintage and quarter the picker lists opens: a vintage at which no quarter has a size yet
shows the figures as first known (:attr:`Data.data_vintages`), and a quarter without data at
the chosen vintage shows the nearest one that has data, each with a notice saying so. Values
that are malformed, in the future, before the first figure or outside every quarter the data
knows are still refused (a 422 page naming the parameter), as by the API and the CLI.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request

from lendscope.app.chart_bars import chain_note
from lendscope.app.deps import DataDep, templates
from lendscope.core.fmt import pct, quarter
from lendscope.dataset.schema import period_index
from lendscope.metrics.params import (
    ParamError,
    check_period,
    check_vintage,
    default_period,
    nearest,
    parse_date,
    parse_period,
)
from lendscope.metrics.summary import MarketMetrics

PagePeriod = Annotated[str | None, Query(pattern=r"^(\d{4}Q[1-4])?$")]
PageVintage = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]


class View:
    """Metrics, quarter and picker context shared by the period-aware pages.

    An empty ``period`` or ``vintage`` (a form sent without JavaScript) means the latest.
    """

    def __init__(
        self, request: Request, d: DataDep, period: PagePeriod = None, vintage: PageVintage = None
    ):
        self.d = d
        self.path = request.url.path
        self.notices: list[str] = []
        asked = parse_date(vintage) if vintage else None
        check_vintage(asked, d.first_published)
        used = d.with_data(asked)
        if used != asked:
            self.notices.append(
                f"No quarter's size was known yet on {asked}: these are the figures as first "
                f"known, on {used}."
            )
        #: The vintage chosen in the picker (``None``: the latest).
        self.vintage: date | None = used
        self.m: MarketMetrics = d.metrics(used)
        self.explicit_period = bool(period)
        self.period = self._period(period or None)

    def _period(self, period: str | None) -> str:
        if period is None:
            return default_period(self.m)
        period = parse_period(period)
        have = self.m.periods()
        if period in have or not have:
            return check_period(self.m, period)
        known = self.d.metrics().periods()
        lo, hi = (
            min(have[0], known[0], key=period_index),
            max(have[-1], known[-1], key=period_index),
        )
        if not period_index(lo) <= period_index(period) <= period_index(hi):
            return check_period(self.m, period)  # outside every quarter the data knows: 422
        near = nearest(have, period)[-1]
        self.notices.append(
            f"{quarter(period)} has no data at vintage {self.m.vintage}: showing the nearest "
            f"quarter with data, {quarter(near)}."
        )
        return near

    def specs(self, *names: str) -> dict[str, Any]:
        """The dashboard charts (:mod:`lendscope.app.charts`) of this quarter, by name."""
        return {n: self.d.chart(self.m, self.period, n) for n in names}

    def query(self, full: bool = False) -> str:
        """``?period=…&vintage=…`` of this view: the chosen values, or all of them (``full``)."""
        q: dict[str, str] = {}
        if full or self.explicit_period:
            q["period"] = self.period
        if full or self.vintage is not None:
            q["vintage"] = str(self.vintage or self.m.vintage)
        return "?" + urlencode(q) if q else ""

    def ctx(self, **kw: Any) -> dict[str, Any]:
        """Template context: picker values, notices, permalink, plus ``kw``."""
        charts = kw.pop("specs", {})
        return {
            "picker": True,
            "period": self.period,
            "periods": self.m.periods(),
            "vintage": self.m.vintage,
            "vintage_param": self.d.effective(self.vintage) if self.vintage else None,
            "vintages": self.d.data_vintages or self.d.vintages,
            "notices": self.notices,
            "query": self.query(),
            "permalink": self.path + self.query(full=True),
            "m": self.m,
            "d": self.m.for_period(self.period, detail=True),
            "charts": charts,
            "specs": {n: c.spec for n, c in charts.items()},
            **kw,
        }


def top3_label(d: dict[str, Any]) -> dict[str, str]:
    """The CeFi top-3 share of a quarter's detailed metrics, as shown: a value and a note.

    ``lower_bound``: "≥ 11%" and "named lenders hold 11% of CeFi" (a lender hidden in the
    unattributed rest could outrank a counted one), with "at most …" where that is under 100%;
    ``split``: "≈ 11%" (a group straddling third
    place, split evenly); ``exact`` or unknown: the share alone.
    """
    share, cover = d.get("cefi_top3_share"), d.get("cefi_top3_coverage")
    if share is None:
        return {"value": "n/a", "note": ""}
    text = pct(share)
    if cover == "lower_bound":
        named = d.get("cefi_attributed_share")
        note = f"named lenders hold {pct(named)} of CeFi" if named is not None else ""
        if d.get("cefi_top3_max") is not None and d["cefi_top3_max"] < 1:
            note += ("; " if note else "") + f"at most {pct(d['cefi_top3_max'])}"
        return {"value": "≥ " + text, "note": note}
    if cover == "split":
        return {"value": "≈ " + text, "note": "a group straddles third place, split evenly"}
    return {"value": text, "note": ""}


def picker_defaults(request: Request) -> dict[str, Any] | None:
    """Picker context at the latest vintage, for pages without a view (errors).

    ``None`` when the data has no quarter at all: the error page then shows no picker.
    """
    d = request.app.state.data
    m = d.metrics()
    try:
        period = default_period(m)
    except ParamError:
        return None
    return {
        "periods": m.periods(),
        "period": period,
        "vintages": d.data_vintages or d.vintages,
        "vintage_param": None,
    }


templates.env.globals["error_picker"] = picker_defaults
templates.env.globals.update(chain_note=chain_note, top3_label=top3_label)

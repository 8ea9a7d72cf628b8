"""Reported vs computed: each cited ratio beside the value computed at its own vintage.

A ratio a source states is checked against the figures known when it was published (its
``published`` date, the vintage of the row), not those of the report's vintage: later revisions
would otherwise read as disagreements. Where a revision changed the figures, the value at the
report's vintage is given beside it (``latest``); where the figures it rests on were withdrawn,
the row says so (``status``) instead of leaving the table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from lendscope.dataset.schema import SERIES
from lendscope.metrics.summary import MarketMetrics

Rec = dict[str, Any]

#: Cited ratio (scope, metric) -> how to compute it from a period's metrics JSON.
RECONCILE: dict[tuple[str, str], Callable[[Rec], float | None]] = {
    ("cefi", "top3_share"): lambda d: d["cefi_top3_share"],
    ("total", "defi_share_ex_cdp"): lambda d: d["defi_share_ex_cdp"],
    ("total", "onchain_share"): lambda d: d["onchain_share"],
    ("total", "cefi_top3_share_of_total"): lambda d: (
        sum(p["usd"] for p in d["cefi_top3"]) / d["total_usd"]
        if d["cefi_top3"] and d["total_usd"]
        else None
    ),
    ("cefi:Tether", "share"): lambda d: next(
        (p["share"] for p in d["platforms"]["cefi"] if p["platform"] == "Tether"), None
    ),
}
#: Metric name -> key of a series summary (``MarketMetrics.series_summary``).
SERIES_METRICS = {
    "drawdown_from_peak": "drawdown_from_peak",
    "rebound_from_trough": "rebound_from_trough",
    "peak_to_trough_decline": "deepest_fall",
    "qoq_change": "qoq_change",
}
for _s in SERIES:
    for _metric, _key in SERIES_METRICS.items():
        RECONCILE[(_s, _metric)] = lambda d, s=_s, k=_key: (
            # a series measure only where the series itself is known that quarter
            d["series"][s][k] if d["series"][s]["value_usd"] is not None else None
        )

#: Below this, a computed value and the latest one are the same number.
SAME = 1e-9


def value_at(m: MarketMetrics, c: Rec) -> float | None:
    """The cited ratio ``c`` as computed from ``m``'s vintage, None where not computable."""
    f = RECONCILE.get((c["scope"], c["metric"]))
    if f is None or c["period"] not in m.periods():
        return None
    return f(m.for_period(c["period"]))


def _iso(d: date | str) -> str:
    return d.isoformat() if isinstance(d, date) else str(d)


def reconciliation(m: MarketMetrics) -> list[Rec]:
    """Every cited ratio (each of its vintages) beside the value computed at its own vintage.

    Each row: ``period, scope, metric, reported, vintage, computed, latest, source_id`` plus
    ``status`` (``unchanged``, ``revised``: the figures changed after the ratio's vintage, and
    ``latest`` is the value at the report's vintage; ``withdrawn``: a figure it rests on was
    withdrawn; ``restated``: the source restated the ratio later, see ``restated_as``), ``diff``
    (computed - reported), ``note``, and ``value``/``published`` as in ``cited_metrics``.
    """
    latest_cited = {(c["period"], c["scope"], c["metric"]): c for c in m.cited_latest()}
    out = []
    for c in m.cited:
        if (c["scope"], c["metric"]) not in RECONCILE:
            continue
        own = m.at(c["published"])
        if own is None:  # no way to recompute: the report's own vintage stands in
            own = m
        computed, latest = value_at(own, c), value_at(m, c)
        if computed is not None and latest is None:
            status = "withdrawn"
        elif computed is not None and abs(latest - computed) > SAME:
            status = "revised"
        else:
            status = "unchanged"
        later = latest_cited[(c["period"], c["scope"], c["metric"])]
        restated = None
        if later is not c:
            status = "restated" if status == "unchanged" else status
            restated = {"value": later["value"], "vintage": _iso(later["published"]),
                        "source_id": later["source_id"]}  # fmt: skip
        out.append(
            {
                **c,
                "reported": c["value"],
                "vintage": _iso(own.vintage),
                "computed": computed,
                "latest": latest,
                "latest_vintage": _iso(m.vintage),
                "status": status,
                "restated_as": restated,
                "diff": None if computed is None else computed - c["value"],
            }
        )
    return out

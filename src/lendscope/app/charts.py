"""The dashboard's charts: each one's data table (text alternative, CSV) and Vega-Lite spec.

The same metrics as the report's charts (:mod:`lendscope.report.charts`), drawn for a screen:
a temporal quarter axis with gaps left open, every known segment shown even where a quarter
lacks one (2022Q4: CeFi and DeFi, no CDP), tooltips on every mark and the selected quarter
shaded. :func:`build` makes the chart of a page; :func:`platform_history` that of a platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lendscope.app.chart_bars import cefi_peak_vs_latest, defi_breakdown, platform_history
from lendscope.app.chartkit import (
    Chart,
    Col,
    band,
    bar_row,
    bn,
    color,
    point,
    tip,
    top,
    with_gaps,
    x_time,
)
from lendscope.dataset.schema import period_index
from lendscope.metrics.summary import MarketMetrics
from lendscope.report.charts import SEG_COLOR, SEG_LABEL

SEGS = list(SEG_LABEL)


def _upto(m: MarketMetrics, upto: str) -> list[dict[str, Any]]:
    return [q for q in m.quarterly if period_index(q["period"]) <= period_index(upto)]


def _line(values: list[dict], y: dict, col: dict, tips: list[dict]) -> dict[str, Any]:
    return {
        "data": {"values": values},
        "mark": {"type": "line", "point": True},
        "encoding": {"x": x_time(), "y": y, "color": col, "tooltip": tips},
    }


def size_by_segment(m: MarketMetrics, upto: str) -> Chart:
    """Stacked segments where known (even if another is not) and the cited total as ◆."""
    bars, cited, rows = [], [], []
    for q in _upto(m, upto):
        p = q["period"]
        for s in SEGS:
            if q[f"{s}_usd"] is not None:
                bars.append(bar_row(p, segment=SEG_LABEL[s], usd_bn=bn(q[f"{s}_usd"])))
        complete = all(q[f"{s}_usd"] is not None for s in SEGS)
        if not complete and q["total_usd"] is not None:
            cited.append(point(p, usd_bn=bn(q["total_usd"]), label="cited total"))
        rows.append(
            {
                "period": p,
                **{s: q[f"{s}_usd"] for s in SEGS},
                "total": q["total_usd"],
                "basis": q["total_basis"] or "",
            }
        )
    layers: list[dict[str, Any]] = [
        band(upto),
        {
            "data": {"values": bars},
            "mark": {"type": "bar"},
            "encoding": {
                "x": x_time(bars=True),
                "y": {
                    "field": "usd_bn",
                    "type": "quantitative",
                    "stack": "zero",
                    "title": "outstanding, $bn",
                },
                "color": color(list(SEG_COLOR), list(SEG_COLOR.values()), "segment"),
                "order": {"field": "segment"},
                "tooltip": [
                    tip("quarter", "quarter"),
                    tip("segment", "segment"),
                    tip("usd_bn", "outstanding, $bn", "bn"),
                ],
            },
        },
    ]
    if cited:
        layers.append(
            {
                "data": {"values": cited},
                "mark": {
                    "type": "point",
                    "shape": "diamond",
                    "size": 90,
                    "filled": True,
                    "color": "#888",
                },
                "encoding": {
                    "x": x_time(),
                    "y": {"field": "usd_bn", "type": "quantitative"},
                    "tooltip": [
                        tip("quarter", "quarter"),
                        tip("label", "figure"),
                        tip("usd_bn", "total, $bn", "bn"),
                    ],
                },
            }
        )
    cols = [Col("period", "quarter", "quarter")] + [Col(s, SEG_LABEL[s], "usd") for s in SEGS]
    cols += [Col("total", "total", "usd"), Col("basis", "total basis")]
    title = "Crypto lending by segment (◆ cited total where a segment is not public)"
    return Chart("size_by_segment", title, cols, rows, top(title, layers))


def total_peak_trough(m: MarketMetrics, upto: str) -> Chart:
    """Total with and without CDP stablecoins as lines (broken at gaps), peak and trough ringed."""
    names = {"total": "total incl. CDP", "total_ex_cdp": "total excl. CDP"}
    pts = [
        point(r["period"], series=names[r["series"]], usd_bn=bn(r["value_usd"]))
        for r in m.series
        if r["series"] in names and r["pidx"] <= period_index(upto)
    ]
    marks, notes = [], {}
    for s, label in names.items():
        summ = m.series_summary(s, upto)
        for kind in ("peak", "trough"):
            if summ[kind]:
                p = summ[kind]["period"]
                marks.append(point(p, series=label, usd_bn=bn(summ[kind]["usd"]), label=kind))
                notes.setdefault(p, []).append(f"{kind} of {label}")
    first = min((r["period"] for r in pts), default=upto)
    vals = with_gaps(pts, "series", list(names.values()), first, upto, "usd_bn")
    y = {"field": "usd_bn", "type": "quantitative", "title": "outstanding, $bn"}
    tips = [tip("quarter", "quarter"), tip("series", "series"), tip("usd_bn", "$bn", "bn")]
    layers = [band(upto), _line(vals, y, color(list(names.values())), tips)]
    if marks:
        layers.append(
            {
                "data": {"values": marks},
                "mark": {"type": "point", "size": 160, "filled": False, "color": "#888"},
                "encoding": {
                    "x": x_time(),
                    "y": {"field": "usd_bn", "type": "quantitative"},
                    "tooltip": [
                        tip("quarter", "quarter"),
                        tip("label", "marks"),
                        tip("series", "series"),
                        tip("usd_bn", "$bn", "bn"),
                    ],
                },
            }
        )
    rows = [
        {
            "period": q["period"],
            "total": q["total_usd"],
            "ex": q["total_ex_cdp_usd"],
            "marks": "; ".join(notes.get(q["period"], [])),
        }
        for q in _upto(m, upto)
    ]
    cols = [
        Col("period", "quarter", "quarter"),
        Col("total", "total incl. CDP", "usd"),
        Col("ex", "total excl. CDP", "usd"),
        Col("marks", "peak / trough"),
    ]
    title = "Total with and without CDP stablecoins: peak and trough"
    return Chart("total_peak_trough", title, cols, rows, top(title, layers))


def defi_cefi_share(m: MarketMetrics, upto: str) -> Chart:
    """DeFi apps' and CeFi's shares of the market excluding CDP stablecoins."""
    rows, pts = [], []
    for q in _upto(m, upto):
        if q["defi_share_ex_cdp"] is None:
            continue
        cefi = q["cefi_usd"] / q["total_ex_cdp_usd"] if q["cefi_usd"] is not None else None
        rows.append({"period": q["period"], "defi": q["defi_share_ex_cdp"], "cefi": cefi})
        pts.append(point(q["period"], series="DeFi apps", share=q["defi_share_ex_cdp"]))
        if cefi is not None:
            pts.append(point(q["period"], series="CeFi lenders", share=cefi))
    who = ["CeFi lenders", "DeFi apps"]
    first = rows[0]["period"] if rows else upto
    y = {
        "field": "share",
        "type": "quantitative",
        "title": "share of total excl. CDP",
        "axis": {"format": ".0%"},
        "scale": {"domain": [0, 1]},
    }
    tips = [tip("quarter", "quarter"), tip("series", "segment"), tip("share", "share", "pct")]
    vals = with_gaps(pts, "series", who, first, upto, "share")
    spec = top(
        "DeFi vs CeFi share (excl. CDP stablecoins)",
        [band(upto), _line(vals, y, color(who, ["#4c78a8", "#59a14f"]), tips)],
    )
    cols = [
        Col("period", "quarter", "quarter"),
        Col("defi", "DeFi apps' share", "pct"),
        Col("cefi", "CeFi lenders' share", "pct"),
    ]
    return Chart("defi_cefi_share", spec["description"], cols, rows, spec)


def cefi_concentration(m: MarketMetrics, upto: str) -> Chart:
    """CeFi top-3 share and HHI (lower and upper bound) over time."""
    by: dict[str, dict[str, Any]] = {}
    for t in m.top3:
        if t["segment"] == "cefi" and period_index(t["period"]) <= period_index(upto):
            by.setdefault(t["period"], {"period": t["period"]})["top3"] = t["top_share"]
    for h in m.hhi:
        if h["segment"] == "cefi" and period_index(h["period"]) <= period_index(upto):
            r = by.setdefault(h["period"], {"period": h["period"]})
            r.update(lo=h["hhi"], hi=h["hhi_max"], named=h.get("attributed_share"))
    rows = [by[p] for p in sorted(by, key=period_index)]
    names = {"top3": "top-3 share", "lo": "HHI (lower bound)", "hi": "HHI (upper bound)"}
    pts = [
        point(r["period"], series=n, v=r[k])
        for r in rows
        for k, n in names.items()
        if r.get(k) is not None
    ]
    first = rows[0]["period"] if rows else upto
    vals = with_gaps(pts, "series", list(names.values()), first, upto, "v")
    y = {"field": "v", "type": "quantitative", "title": "fraction", "scale": {"domain": [0, 1]}}
    tips = [tip("quarter", "quarter"), tip("series", "measure"), tip("v", "value", "pct")]
    line = _line(vals, y, color(list(names.values())), tips)
    line["encoding"]["strokeDash"] = {"field": "series", "type": "nominal", "legend": None}
    title = "CeFi concentration (quarters with a CeFi total)"
    cols = [
        Col("period", "quarter", "quarter"),
        Col("top3", "top-3 share", "pct"),
        Col("lo", "HHI lower bound", "pct"),
        Col("hi", "HHI upper bound", "pct"),
        Col("named", "share named", "pct"),
    ]
    return Chart("cefi_concentration", title, cols, rows, top(title, [band(upto), line]))


def vc_funding(m: MarketMetrics, upto: str) -> Chart:
    """Venture funding of lending/credit companies: share of all crypto VC, where known."""
    rows = [
        {
            "period": v["period"],
            "share": v["share_of_crypto_vc"],
            "usd": v["amount_usd"],
            "deals": v["deals"],
            "method": v["method"],
        }
        for v in m.vc
        if period_index(v["period"]) <= period_index(upto)
    ]
    vals = [
        bar_row(
            r["period"],
            share=r["share"],
            usd_m=None if r["usd"] is None else round(r["usd"] / 1e6, 1),
            method=r["method"],
        )
        for r in rows
        if r["share"] is not None
    ]
    layer = {
        "data": {"values": vals},
        "mark": {"type": "bar", "color": "#b07aa1"},
        "encoding": {
            "x": x_time(bars=True),
            "y": {
                "field": "share",
                "type": "quantitative",
                "title": "share of crypto VC",
                "axis": {"format": ".1%"},
            },
            "tooltip": [
                tip("quarter", "quarter"),
                tip("share", "share of crypto VC", "pct"),
                tip("usd_m", "raised, $m", "m"),
                tip("method", "method"),
            ],
        },
    }
    title = "Venture funding of crypto lending and credit (share of crypto VC)"
    cols = [
        Col("period", "quarter", "quarter"),
        Col("share", "share of crypto VC", "pct"),
        Col("usd", "raised", "usd"),
        Col("deals", "deals"),
        Col("method", "method"),
    ]
    return Chart("vc_funding", title, cols, rows, top(title, [band(upto), layer], height=200))


CHARTS: dict[str, Callable[[MarketMetrics, str], Chart]] = {
    "size_by_segment": size_by_segment,
    "total_peak_trough": total_peak_trough,
    "defi_cefi_share": defi_cefi_share,
    "cefi_peak_vs_latest": cefi_peak_vs_latest,
    "cefi_concentration": cefi_concentration,
    "defi_breakdown": defi_breakdown,
    "vc_funding": vc_funding,
}


def build(name: str, m: MarketMetrics, upto: str) -> Chart:
    """Chart ``name`` of :data:`CHARTS` for quarter ``upto``."""
    return CHARTS[name](m, upto)


__all__ = ["CHARTS", "build", "platform_history"]

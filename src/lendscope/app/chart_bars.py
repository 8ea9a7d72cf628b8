"""The dashboard's bar charts of one quarter (lenders, DeFi split) and of one platform.

Split from :mod:`lendscope.app.charts`, which lists every chart (:data:`~.charts.CHARTS`).
"""

from __future__ import annotations

from typing import Any

from lendscope.app.chartkit import Chart, Col, band, bar_row, bn, color, tip, top, x_time
from lendscope.core.fmt import quarter
from lendscope.metrics.summary import MarketMetrics


def platform_label(r: dict[str, Any]) -> str:
    """A platform row's name, with its chain when its figure covers that chain only.

    As the report labels it (:func:`lendscope.report.charts.platform_label`), for a row of
    ``platforms(..., detail=True)``: "Aave (plasma only)", "Aave (several chains)"; the
    unattributed row is "not attributed".
    """
    name = r["platform"] if r.get("named", True) else "not attributed"
    note = chain_note(r.get("chain") or "")
    return f"{name} ({note})" if note else name


def chain_note(chain: str) -> str:
    """What a platform figure covers, beyond the whole platform: "plasma only", "several chains".

    ``chain`` is a detailed platform row's: "" (the whole platform: no note), one chain, or "*".
    """
    return "" if not chain else "several chains" if chain == "*" else f"{chain} only"


def _hbars(
    title: str,
    values: list[dict],
    ykey: str,
    ckey: str,
    domain: list[str],
    tips: list[dict],
    xtitle: str,
    height: int,
) -> dict[str, Any]:
    return top(
        title,
        [
            {
                "data": {"values": values},
                "mark": {"type": "bar"},
                "encoding": {
                    "y": {"field": ykey, "type": "nominal", "title": None, "sort": "-x"},
                    "yOffset": {"field": ckey, "type": "nominal", "sort": domain},
                    "x": {"field": "usd_bn", "type": "quantitative", "title": xtitle},
                    "color": color(domain, None, ckey),
                    "tooltip": tips,
                },
            }
        ],
        height=height,
    )


def cefi_peak_vs_latest(m: MarketMetrics, upto: str) -> Chart:
    """CeFi lenders at the CeFi peak quarter and in the selected quarter."""
    peak = m.series_summary("cefi", upto)["ath"]
    quarters = list(dict.fromkeys([peak["period"] if peak else upto, upto]))
    labels = {
        p: ("CeFi peak " if i == 0 and len(quarters) > 1 else "selected ") + quarter(p)
        for i, p in enumerate(quarters)
    }
    vals, by = [], {}
    for p in quarters:
        for r in m.platforms(p, "cefi"):
            kind = (
                "not attributed"
                if not r["named"]
                else "group (split not public)"
                if r["members"] > 1
                else "lender"
            )
            name = r["platform"] if r["named"] else "not attributed"
            vals.append(
                {
                    "quarter": labels[p],
                    "platform": name,
                    "kind": kind,
                    "usd_bn": bn(r["usd"]),
                    "share": r["share"],
                }
            )
            by.setdefault(name, {"platform": name, "kind": kind})[p] = r["usd"]
    tips = [
        tip("platform", "lender"),
        tip("kind", "kind"),
        tip("quarter", "quarter"),
        tip("usd_bn", "loan book, $bn", "bn"),
        tip("share", "share of CeFi", "pct"),
    ]
    title = "CeFi lenders: at the CeFi peak vs the selected quarter"
    spec = _hbars(
        title,
        vals,
        "platform",
        "quarter",
        list(labels.values()),
        tips,
        "loan book, $bn",
        max(120, 30 * len(by)),
    )
    cols = [Col("platform", "lender"), Col("kind", "kind")]
    cols += [Col(p, labels[p], "usd") for p in quarters]
    return Chart("cefi_peak_vs_latest", title, cols, list(by.values()), spec)


def defi_breakdown(m: MarketMetrics, upto: str) -> Chart:
    """DeFi borrows by app and by chain in the selected quarter, where the data has them."""
    rows = [
        {"by": "app", "name": platform_label(r), "usd": r["usd"]}
        for r in m.platforms(upto, "defi", detail=True)
    ]
    chains = [c for c in m.chains(upto) if c["chain"]]
    rows += [{"by": "chain", "name": c["chain"], "usd": c["usd"]} for c in chains]
    if chains:
        rest = (m.value("defi", upto) or 0.0) - sum(c["usd"] for c in chains)
        rows.append({"by": "chain", "name": "not attributed", "usd": rest})
    vals = [
        {
            "by": r["by"],
            "label": f"{r['by']}: {r['name']}",
            "name": r["name"],
            "usd_bn": bn(r["usd"]),
        }
        for r in rows
    ]
    tips = [tip("by", "split"), tip("name", "name"), tip("usd_bn", "borrows, $bn", "bn")]
    title = f"DeFi apps by app and chain, {upto}"
    spec = _hbars(
        title, vals, "label", "by", ["app", "chain"], tips, "borrows, $bn", max(100, 22 * len(vals))
    )
    del spec["layer"][0]["encoding"]["yOffset"]
    cols = [Col("by", "split"), Col("name", "app or chain"), Col("usd", "borrows", "usd")]
    return Chart("defi_breakdown", title, cols, rows, spec)


def platform_history(name: str, history: list[dict[str, Any]], period: str) -> Chart:
    """A platform's amount in every quarter with a figure (bars; quarters without one empty)."""
    vals = [
        bar_row(r["period"], usd_bn=bn(r["usd"]), share=r["share"], method=r["method"])
        for r in history
        if r["usd"] is not None
    ]
    layer = {
        "data": {"values": vals},
        "mark": {"type": "bar", "color": "#4c78a8"},
        "encoding": {
            "x": x_time(bars=True),
            "y": {"field": "usd_bn", "type": "quantitative", "title": "outstanding, $bn"},
            "tooltip": [
                tip("quarter", "quarter"),
                tip("usd_bn", "outstanding, $bn", "bn"),
                tip("share", "share of segment", "pct"),
                tip("method", "method"),
            ],
        },
    }
    layers = [band(period), layer] if any(r["period"] == period for r in history) else [layer]
    cols = [
        Col("period", "quarter", "quarter"),
        Col("usd", "amount", "usd"),
        Col("share", "share of segment", "pct"),
        Col("method", "method"),
        Col("covers", "figure covers"),
        Col("source_id", "source"),
    ]
    title = f"{name}: amount by quarter"
    return Chart("platform_history", title, cols, history, top(title, layers, height=220))

"""Chart specs (Altair / Vega-Lite) shared by the report and the dashboard.

Each function takes :class:`~lendscope.metrics.MarketMetrics` and returns an ``alt.Chart``;
:func:`render` turns a spec into SVG and PNG with vl-convert (no browser, byte-stable).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import altair as alt
import vl_convert as vlc

from lendscope.core.fmt import usd
from lendscope.dataset.schema import period_from_index, period_index
from lendscope.metrics.summary import MarketMetrics

FONT = "DejaVu Sans"
SEG_LABEL = {"cefi": "CeFi lenders", "defi": "DeFi apps", "cdp": "CDP stablecoins"}
SEG_COLOR = {"CeFi lenders": "#4c78a8", "DeFi apps": "#59a14f", "CDP stablecoins": "#f28e2b"}
WIDTH, HEIGHT = 560, 260


def _quarters(m: MarketMetrics, upto: str) -> list[str]:
    """Every quarter from the first with data to ``upto``: gaps stay visible on the axis."""
    first = period_index(m.periods()[0])
    return [period_from_index(i) for i in range(first, period_index(upto) + 1)]


def _x(m: MarketMetrics, upto: str, title: str = "quarter") -> alt.X:
    return alt.X(
        "period:O",
        sort=_quarters(m, upto),
        scale=alt.Scale(domain=_quarters(m, upto)),
        title=title,
        axis=alt.Axis(labelAngle=-45),
    )


def _usd_axis(title: str) -> alt.Y:
    return alt.Y("usd_bn:Q", title=title, axis=alt.Axis(format=",.0f"))


def _t(field: str, title: str, fmt: str | None = None) -> alt.Tooltip:
    """A tooltip field with a readable title (and number format)."""
    return alt.Tooltip(field, title=title, format=fmt) if fmt else alt.Tooltip(field, title=title)


def _q() -> alt.Tooltip:
    return _t("period:O", "quarter")


def _bn(title: str = "$bn") -> alt.Tooltip:
    return _t("usd_bn:Q", title, ",.2f")


def size_by_segment(m: MarketMetrics, upto: str) -> alt.Chart:
    """Market size by segment, stacked, with cited totals where segments are incomplete."""
    rows, cited = [], []
    for q in m.quarterly:
        if period_index(q["period"]) > period_index(upto):
            continue
        complete = all(q[f"{s}_usd"] is not None for s in SEG_LABEL)
        if complete:
            rows += [
                {"period": q["period"], "segment": SEG_LABEL[s], "usd_bn": q[f"{s}_usd"] / 1e9}
                for s in SEG_LABEL
            ]
        elif q["total_usd"] is not None:
            cited.append(
                {"period": q["period"], "usd_bn": q["total_usd"] / 1e9, "label": "cited total"}
            )
    bars = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            x=_x(m, upto),
            y=_usd_axis("outstanding, $bn"),
            color=alt.Color(
                "segment:N",
                scale=alt.Scale(domain=list(SEG_COLOR), range=list(SEG_COLOR.values())),
                title=None,
            ),
            order=alt.Order("segment:N"),
            tooltip=[_q(), _t("segment:N", "segment"), _bn()],
        )
    )
    layers = [bars]
    if cited:
        layers.append(
            alt.Chart(alt.Data(values=cited))
            .mark_point(shape="diamond", size=90, filled=True, color="#333")
            .encode(x=_x(m, upto), y="usd_bn:Q", tooltip=[_q(), _bn("cited total, $bn")])
        )
    return alt.layer(*layers).properties(
        title="Crypto lending by segment (◆ cited total, segments not public)",
        width=WIDTH,
        height=HEIGHT,
    )


def total_peak_trough(m: MarketMetrics, upto: str) -> alt.Chart:
    """Total with and without CDP stablecoins, the deepest fall's peak and trough marked."""
    names = {"total": "total incl. CDP", "total_ex_cdp": "total excl. CDP"}
    pts = [
        {"period": r["period"], "series": names[r["series"]], "usd_bn": r["value_usd"] / 1e9}
        for r in m.series
        if r["series"] in names and r["pidx"] <= period_index(upto)
    ]
    marks = []
    for s, label in names.items():
        summ = m.series_summary(s, upto)
        for kind in ("peak", "trough"):
            if summ[kind]:
                marks.append(
                    {
                        "period": summ[kind]["period"],
                        "series": label,
                        "usd_bn": summ[kind]["usd"] / 1e9,
                        "label": f"{kind} {usd(summ[kind]['usd'], billions_from=0)}",
                    }
                )
    base = alt.Chart(alt.Data(values=pts)).encode(
        x=_x(m, upto),
        y=_usd_axis("outstanding, $bn"),
        color=alt.Color("series:N", title=None),
        tooltip=[_q(), _t("series:N", "series"), _bn()],
    )
    line = base.mark_line(point=True)
    mk = alt.Chart(alt.Data(values=marks)).encode(
        x=_x(m, upto), y="usd_bn:Q", tooltip=[_q(), _t("label:N", "marks")]
    )
    return alt.layer(
        line,
        mk.mark_point(size=160, shape="circle", filled=False, color="black"),
        mk.mark_text(dy=-12, fontSize=10).encode(text="label:N"),
    ).properties(
        title="Total with and without CDP stablecoins: peak and trough", width=WIDTH, height=HEIGHT
    )


def defi_cefi_share(m: MarketMetrics, upto: str) -> alt.Chart:
    """DeFi apps' and CeFi's shares of the market excluding CDP stablecoins."""
    rows = []
    for q in m.quarterly:
        if q["defi_share_ex_cdp"] is None or period_index(q["period"]) > period_index(upto):
            continue
        rows.append({"period": q["period"], "who": "DeFi apps", "share": q["defi_share_ex_cdp"]})
        rows.append(
            {
                "period": q["period"],
                "who": "CeFi lenders",
                "share": q["cefi_usd"] / q["total_ex_cdp_usd"],
            }
        )
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            x=_x(m, upto),
            y=alt.Y(
                "share:Q",
                title="share of total excl. CDP",
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "who:N",
                title=None,
                scale=alt.Scale(domain=["CeFi lenders", "DeFi apps"], range=["#4c78a8", "#59a14f"]),
            ),
            tooltip=[_q(), _t("who:N", "segment"), _t("share:Q", "share", ".1%")],
        )
        .properties(title="DeFi vs CeFi share (excl. CDP stablecoins)", width=WIDTH, height=HEIGHT)
    )


def cefi_peak_vs_latest(m: MarketMetrics, upto: str) -> alt.Chart:
    """CeFi lenders at the CeFi peak quarter and in the reported quarter."""
    peak = m.series_summary("cefi", upto)["ath"]
    rows = []
    for p in dict.fromkeys([peak["period"] if peak else upto, upto]):
        for r in m.platforms(p, "cefi"):
            rows.append(
                {
                    "quarter": p,
                    "platform": r["platform"],
                    "usd_bn": r["usd"] / 1e9,
                    "kind": "not attributed"
                    if not r["named"]
                    else ("group (split not public)" if r["members"] > 1 else "lender"),
                }
            )
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("platform:N", sort="-x", title=None),
            x=alt.X("usd_bn:Q", title="loan book, $bn"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(
                    domain=["lender", "group (split not public)", "not attributed"],
                    range=["#4c78a8", "#9ecae9", "#bab0ac"],
                ),
            ),
            row=alt.Row("quarter:N", title=None, header=alt.Header(labelFontWeight="bold")),
            tooltip=[
                _t("quarter:N", "quarter"),
                _t("platform:N", "lender"),
                _bn("loan book, $bn"),
                _t("kind:N", "figure"),
            ],
        )
        .properties(title="CeFi lenders: at the CeFi peak vs now", width=WIDTH - 100, height=110)
        .resolve_scale(y="independent")
    )


def cefi_concentration(m: MarketMetrics, upto: str) -> alt.Chart:
    """CeFi top-3 share and HHI (lower and upper bound) over time."""
    rows = []
    for t in m.top3:
        if t["segment"] == "cefi" and period_index(t["period"]) <= period_index(upto):
            rows.append({"period": t["period"], "measure": "top-3 share", "v": t["top_share"]})
    for h in m.hhi:
        if h["segment"] == "cefi" and period_index(h["period"]) <= period_index(upto):
            rows.append({"period": h["period"], "measure": "HHI (lower bound)", "v": h["hhi"]})
            rows.append({"period": h["period"], "measure": "HHI (upper bound)", "v": h["hhi_max"]})
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            x=_x(m, upto),
            y=alt.Y("v:Q", title="fraction", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("measure:N", title=None),
            strokeDash=alt.StrokeDash("measure:N"),
            tooltip=[_q(), _t("measure:N", "measure"), _t("v:Q", "value", ".3f")],
        )
        .properties(
            title="CeFi concentration (quarters with a CeFi total)", width=WIDTH, height=HEIGHT
        )
    )


def platform_label(r: dict) -> str:
    """A platform row's name, with its chain when its figure covers that chain only."""
    chain = r.get("chain") or ""
    if not chain:
        return r["platform"]
    return f"{r['platform']} ({'several chains' if chain == '*' else chain + ' only'})"


def defi_breakdown(m: MarketMetrics, upto: str) -> alt.Chart:
    """DeFi borrows by app and by chain in the reported quarter, where the data has them."""
    rows = [
        {"by": "app", "name": platform_label(r), "usd_bn": r["usd"] / 1e9}
        for r in m.platforms(upto, "defi", detail=True)
    ]
    total = m.value("defi", upto) or 0.0
    chains = [c for c in m.chains(upto) if c["chain"]]
    rows += [{"by": "chain", "name": c["chain"], "usd_bn": c["usd"] / 1e9} for c in chains]
    if chains:
        rest = total - sum(c["usd"] for c in chains)
        rows.append({"by": "chain", "name": "not attributed", "usd_bn": rest / 1e9})
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("name:N", sort="-x", title=None),
            x=alt.X("usd_bn:Q", title="borrows, $bn"),
            row=alt.Row("by:N", title=None),
            tooltip=[_t("name:N", "app or chain"), _bn("borrows, $bn")],
        )
        .properties(title=f"DeFi apps by app and chain, {upto}", width=WIDTH - 100, height=80)
        .resolve_scale(y="independent")
    )


def vc_funding(m: MarketMetrics, upto: str) -> alt.Chart:
    """Venture funding of lending/credit companies: share of all crypto VC, where known."""
    rows = [
        {"period": v["period"], "share": v["share_of_crypto_vc"]}
        for v in m.vc
        if v["share_of_crypto_vc"] is not None and period_index(v["period"]) <= period_index(upto)
    ]
    amounts = [
        {"period": v["period"], "usd_m": v["amount_usd"] / 1e6, "method": v["method"]}
        for v in m.vc
        if v["amount_usd"] is not None
    ]
    share = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(color="#b07aa1")
        .encode(
            x=_x(m, upto),
            y=alt.Y("share:Q", title="share of crypto VC", axis=alt.Axis(format=".1%")),
            tooltip=[_q(), _t("share:Q", "share of crypto VC", ".1%")],
        )
    )
    amt = (
        alt.Chart(alt.Data(values=amounts))
        .mark_point(filled=True, size=80)
        .encode(
            x=_x(m, upto),
            y=alt.Y("usd_m:Q", title="raised, $m"),
            shape=alt.Shape("method:N", title="amount"),
            tooltip=[_q(), _t("usd_m:Q", "raised, $m", ",.0f"), _t("method:N", "method")],
        )
    )
    return alt.vconcat(
        share.properties(width=WIDTH, height=120), amt.properties(width=WIDTH, height=120)
    ).properties(title="Venture funding of crypto lending and credit")


CHARTS: dict[str, tuple[str, Callable[[MarketMetrics, str], alt.TopLevelMixin]]] = {
    "size_by_segment": ("Market size by segment", size_by_segment),
    "total_peak_trough": ("Total with and without CDP stablecoins", total_peak_trough),
    "defi_cefi_share": ("DeFi vs CeFi share", defi_cefi_share),
    "cefi_peak_vs_latest": ("CeFi lenders at the peak and now", cefi_peak_vs_latest),
    "cefi_concentration": ("CeFi concentration", cefi_concentration),
    "defi_breakdown": ("DeFi by app and chain", defi_breakdown),
    "vc_funding": ("Venture funding", vc_funding),
}


def spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec with the house font, as the dashboard embeds it."""
    d = chart.configure(font=FONT).configure_view(stroke=None).to_dict()
    d.pop("$schema", None)
    return d


def render(chart: alt.TopLevelMixin) -> tuple[str, bytes]:
    """SVG text and PNG bytes of a chart (the PNG rasterised from the same SVG)."""
    svg = vlc.vegalite_to_svg(spec(chart))
    return svg, vlc.svg_to_png(svg, scale=2)


def render_all(charts: list[alt.TopLevelMixin], workers: int = 2) -> list[tuple[str, bytes]]:
    """Render several charts; vl-convert releases the GIL, so threads use both cores."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(render, charts))

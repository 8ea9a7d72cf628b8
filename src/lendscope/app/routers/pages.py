"""Server-rendered pages (Jinja2) and the whitelisted downloads.

Pages render through :func:`lendscope.app.deps.render`. Charts are the report's Altair specs
(:data:`lendscope.report.charts.CHARTS`), embedded as JSON and drawn in the browser by the
vendored vega-embed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from lendscope.app.data import Data
from lendscope.app.deps import DataDep, render
from lendscope.dataset.schema import SEGMENTS, SERIES, TABLES, UNATTRIBUTED
from lendscope.metrics.params import check_period, find_platform, parse_date
from lendscope.metrics.summary import MarketMetrics
from lendscope.report.charts import CHARTS, spec
from lendscope.report.findings import findings

#: Menu entries (label, path) of this router's pages, in menu order.
NAV = [
    ("Overview", "/"),
    ("Segments", "/segments"),
    ("Platforms", "/platforms"),
    ("DeFi", "/defi"),
    ("Double counting", "/double-counting"),
    ("Methodology & sources", "/methodology"),
    ("Downloads", "/downloads"),
]
MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "pdf": "application/pdf"}
#: The only files ``/downloads/{name}`` serves: name -> kind (export format or the PDF).
DOWNLOADS: dict[str, str] = {
    f"{name}.{kind}": kind for name in [*TABLES, "metrics_quarterly"] for kind in ("csv", "parquet")
} | {"report.pdf": "pdf"}

router = APIRouter(include_in_schema=False)
PagePeriod = Annotated[str | None, Query(pattern=r"^(\d{4}Q[1-4])?$")]
PageVintage = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]


class View:
    """Metrics, quarter and picker context shared by the period-aware pages.

    An empty ``period`` or ``vintage`` (a form sent without JavaScript) means the latest. Both
    are checked as by the API and the CLI (:mod:`lendscope.metrics.params`); a refused value
    is a 422 error page naming the parameter.
    """

    def __init__(self, d: DataDep, period: PagePeriod = None, vintage: PageVintage = None):
        vintage_date = parse_date(vintage) if vintage else None
        self.d = d
        self.m: MarketMetrics = d.metrics(vintage_date)
        self.period = check_period(self.m, period or None)
        self.vintage = vintage_date

    def specs(self, *names: str) -> dict[str, dict]:
        """Vega-Lite specs of the named report charts for this quarter."""
        return {n: self.d.chart_spec(self.m, self.period, n) for n in names}

    def ctx(self, **kw: Any) -> dict[str, Any]:
        """Template context: picker values plus ``kw``."""
        return {
            "picker": True,
            "period": self.period,
            "periods": self.m.periods(),
            "vintage": self.m.vintage,
            "vintage_param": self.vintage,
            "vintages": self.d.vintages,
            "m": self.m,
            "d": self.m.for_period(self.period),
            **kw,
        }


ViewDep = Annotated[View, Depends(View)]


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, v: ViewDep) -> HTMLResponse:
    """Key findings, headline numbers and market size by segment."""
    return render(
        request,
        "overview.html",
        **v.ctx(
            findings=findings(v.m, v.period),
            specs=v.specs("size_by_segment", "total_peak_trough"),
        ),
    )


@router.get("/segments", response_class=HTMLResponse)
def segments(request: Request, v: ViewDep) -> HTMLResponse:
    """Segments over time: sizes, shares, concentration, cycles and funding."""
    charts = ("defi_cefi_share", "cefi_concentration", "cefi_peak_vs_latest", "vc_funding")
    return render(
        request,
        "segments.html",
        **v.ctx(
            table=[v.m.for_period(p) for p in v.m.periods()],
            series=SERIES,
            specs=v.specs(*charts),
            titles={n: CHARTS[n][0] for n in charts},
        ),
    )


def _platforms(m: MarketMetrics) -> dict[str, str]:
    """Named platforms -> segment, in segment order then by name."""
    seen = {(r["segment"], r["platform"]) for r in m.shares if r["named"] and r["platform"] != ""}
    ordered = sorted(seen, key=lambda t: (SEGMENTS.index(t[0]), t[1].lower()))
    return {p: s for s, p in ordered}


@router.get("/platforms", response_class=HTMLResponse)
def platforms(request: Request, v: ViewDep) -> HTMLResponse:
    """Every named platform, with its amount and share in the chosen quarter."""
    rows = {s: v.m.platforms(v.period, s) for s in SEGMENTS}
    return render(request, "platforms.html", **v.ctx(all=_platforms(v.m), rows=rows))


def _platform_spec(name: str, history: list[dict]) -> dict:
    import altair as alt

    values = [
        {"period": r["period"], "usd_bn": r["usd"] / 1e9, "share": r["share"]}
        for r in history
        if r["usd"] is not None
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("period:O", title="quarter", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("usd_bn:Q", title="outstanding, $bn"),
            tooltip=["period:O", alt.Tooltip("usd_bn:Q", format=",.2f"), "share:Q"],
        )
        .properties(title=f"{name}: amount by quarter", width=560, height=220)
    )
    return spec(chart)


@router.get("/platforms/{name}", response_class=HTMLResponse)
def platform(request: Request, name: str, v: ViewDep) -> HTMLResponse:
    """One platform: its history, its share of its segment, and the sources behind it.

    The name matches in any case and the page shows its canonical spelling. An unknown name
    is a 404 (the platform is the resource), not a refused parameter.
    """
    known = _platforms(v.m)
    found = find_platform((k for k in known if k != UNATTRIBUTED), name)
    if found is None:
        raise HTTPException(404, f"no platform named {name!r}")
    name, seg = found, known[found]
    history = [
        {"period": p, **r}
        for p in v.m.periods()
        for r in v.m.platforms(p, seg)
        if r["platform"] == name
    ]
    obs = sorted(
        (r for r in v.d.observations if r["platform"] == name and r["published"] <= v.m.vintage),
        key=lambda r: (r["period"], r["published"]),
    )
    ids = {r["source_id"] for r in obs}
    srcs = [s for s in v.m.sources if s["id"] in ids]
    return render(
        request,
        "platform.html",
        **v.ctx(
            name=name,
            segment=seg,
            history=history,
            observations=obs,
            sources=srcs,
            specs={"platform_history": _platform_spec(name, history)},
        ),
    )


@router.get("/defi", response_class=HTMLResponse)
def defi(request: Request, v: ViewDep) -> HTMLResponse:
    """DeFi borrows by app and by chain."""
    return render(
        request,
        "defi.html",
        **v.ctx(
            apps=v.m.platforms(v.period, "defi"),
            chains=v.m.chains(v.period, "defi"),
            onchain=v.m.onchain_split(v.period, last=8),
            specs=v.specs("defi_breakdown"),
        ),
    )


@router.get("/double-counting", response_class=HTMLResponse)
def double_counting(request: Request, v: ViewDep) -> HTMLResponse:
    """Known overlaps between CeFi books and on-chain borrowing, and the adjusted total."""
    rows = [r for r in v.d.overlap_rows if r["published"] <= v.m.vintage]
    per = [v.m.for_period(p) for p in v.m.periods()]
    return render(request, "overlaps.html", **v.ctx(rows=rows, per=per))


@router.get("/methodology", response_class=HTMLResponse)
def methodology(request: Request, v: ViewDep) -> HTMLResponse:
    """How the numbers are made, every source, and every revision."""
    return render(request, "methodology.html", **v.ctx(picker=False))


@router.get("/downloads", response_class=HTMLResponse)
def downloads(request: Request) -> HTMLResponse:
    """The dataset tables, the quarterly metrics and the PDF report."""
    names = [*TABLES, "metrics_quarterly"]
    return render(request, "downloads.html", names=names)


def download_path(d: Data, filename: str) -> Path:
    """Build (once) and return a whitelisted download; 404 for any other name."""
    kind = DOWNLOADS.get(filename)
    if kind is None:
        raise HTTPException(404, f"no download named {filename!r}")
    out = d.cache_dir / kind
    path = out / filename
    with d.file_lock:
        if not path.exists():
            m = d.metrics()
            if kind == "pdf":
                from lendscope.report.build import build_report

                build_report(m, out, pdf=True)
            else:
                from lendscope.export import export_all

                export_all(d.db, m, out, kind)
    return path


@router.get("/downloads/{filename}")
def download(d: DataDep, filename: str) -> Response:
    """A file from the fixed list, generated on first request into the app's cache dir."""
    path = download_path(d, filename)
    return FileResponse(path, media_type=MEDIA[DOWNLOADS[filename]], filename=filename)

"""Server-rendered pages (Jinja2) and the whitelisted downloads.

Pages render through :func:`lendscope.app.deps.render`; the quarter and vintage come from
:class:`lendscope.app.view.View`. Charts are the dashboard's (:mod:`lendscope.app.charts`):
each spec is embedded as JSON and drawn by the vendored vega-embed, with its data table beside
it (the text alternative, and what shows without JavaScript) and as CSV
(``/charts/{name}.csv``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from lendscope.app.chart_bars import chain_note
from lendscope.app.charts import CHARTS, platform_history
from lendscope.app.data import Data
from lendscope.app.deps import DataDep, render
from lendscope.app.view import View
from lendscope.dataset.schema import SEGMENTS, SERIES, TABLES, UNATTRIBUTED, period_index
from lendscope.metrics.params import find_platform
from lendscope.metrics.summary import MarketMetrics
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
            table=[v.m.for_period(p, detail=True) for p in v.m.periods()],
            series=SERIES,
            specs=v.specs(*charts),
        ),
    )


def _history(m: MarketMetrics, seg: str, name: str, obs: list[dict]) -> list[dict[str, Any]]:
    """Every quarter with a figure of the platform, at the vintage.

    Each row: the latest value, and its share of the segment where the segment's size is known
    (else ``None``), and ``chain``: "" when the figure covers the whole platform, else the only
    chain it covers ("*": several); a withdrawn figure drops its quarter.
    """
    latest: dict[str, dict] = {}
    for r in obs:
        if r["value_usd"] is not None and r["method"] != "withdrawn":
            latest[r["period"]] = r
        elif r["period"] in latest and r["method"] == "withdrawn":
            del latest[r["period"]]
    rows = []
    for p, r in sorted(latest.items(), key=lambda t: period_index(t[0])):
        share = next((x for x in m.platforms(p, seg, detail=True) if x["platform"] == name), None)
        rows.append(
            {
                "period": p,
                "usd": share["usd"] if share else r["value_usd"],
                "share": share["share"] if share else None,
                "chain": (chain := share["chain"] if share else r.get("chain") or ""),
                "covers": chain_note(chain),
                "method": r["method"],
                "source_id": r["source_id"],
            }
        )
    return rows


def _platforms(m: MarketMetrics) -> dict[str, str]:
    """Named platforms -> segment, in segment order then by name."""
    seen = {(r["segment"], r["platform"]) for r in m.shares if r["named"] and r["platform"] != ""}
    ordered = sorted(seen, key=lambda t: (SEGMENTS.index(t[0]), t[1].lower()))
    return {p: s for s, p in ordered}


@router.get("/platforms", response_class=HTMLResponse)
def platforms(request: Request, v: ViewDep) -> HTMLResponse:
    """Every named platform, with its amount and share in the chosen quarter."""
    rows = {s: v.m.platforms(v.period, s, detail=True) for s in SEGMENTS}
    return render(request, "platforms.html", **v.ctx(all=_platforms(v.m), rows=rows))


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
    obs = sorted(
        (r for r in v.d.observations if r["platform"] == name and r["published"] <= v.m.vintage),
        key=lambda r: (r["period"], r["published"]),
    )
    history = _history(v.m, seg, name, obs)
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
            specs={"platform_history": platform_history(name, history, v.period)},
        ),
    )


@router.get("/charts/{name}.csv")
def chart_csv(name: str, v: ViewDep) -> Response:
    """The data table of a dashboard chart, as CSV, for the page's quarter and vintage."""
    if name not in CHARTS:
        raise HTTPException(404, f"no chart named {name!r}")
    text = v.d.chart(v.m, v.period, name).csv()
    filename = f"{name}-{v.period}-{v.m.vintage}.csv"
    return Response(
        text,
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/platforms/{name}/history.csv")
def platform_csv(name: str, v: ViewDep) -> Response:
    """A platform's history table as CSV."""
    known = _platforms(v.m)
    found = find_platform((k for k in known if k != UNATTRIBUTED), name)
    if found is None:
        raise HTTPException(404, f"no platform named {name!r}")
    obs = [r for r in v.d.observations if r["platform"] == found and r["published"] <= v.m.vintage]
    obs.sort(key=lambda r: (r["period"], r["published"]))
    chart = platform_history(found, _history(v.m, known[found], found, obs), v.period)
    return Response(
        chart.csv(),
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="platform-history.csv"'},
    )


@router.get("/defi", response_class=HTMLResponse)
def defi(request: Request, v: ViewDep) -> HTMLResponse:
    """DeFi borrows by app and by chain."""
    return render(
        request,
        "defi.html",
        **v.ctx(
            apps=v.m.platforms(v.period, "defi", detail=True),
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
    """A whitelisted download, from the content-hash cache (:mod:`lendscope.app.downloads`)."""
    from lendscope.app.downloads import cache_for

    path = cache_for(d).path(filename)
    if path is None:
        raise HTTPException(404, f"no download named {filename!r}")
    return path


@router.get("/downloads/{filename}")
def download(d: DataDep, filename: str) -> Response:
    """A file from the fixed list, served from the cache that ``lendscope build`` fills."""
    path = download_path(d, filename)
    return FileResponse(path, media_type=MEDIA[DOWNLOADS[filename]], filename=filename)

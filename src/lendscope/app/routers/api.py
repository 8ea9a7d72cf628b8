"""REST API under ``/api/v1``: metrics, series, platforms, sources, observations, validation.

Every GET is read-only. ``POST /validate`` checks an uploaded disclosure file with the CLI's
validator; it stores nothing. When ``LENDSCOPE_API_TOKEN`` is set, POST endpoints need
``Authorization: Bearer <token>``. The response models live in :mod:`lendscope.app.models`;
``POST /stress`` is in :mod:`lendscope.app.routers.stress`.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, File, HTTPException, Query, UploadFile

from lendscope.app.deps import MAX_UPLOAD, DataDep, read_upload, require_token, upload_name
from lendscope.app.models import (
    Metrics,
    ObservationPage,
    Periods,
    PlatformRow,
    SeriesPoint,
    Source,
    ValidationReport,
)
from lendscope.core import files
from lendscope.dataset import check_files
from lendscope.dataset.schema import ALL_SCOPES, METHODS, SEGMENTS, SERIES
from lendscope.metrics.params import check_period, check_platform, check_query, check_vintage
from lendscope.report.charts import CHARTS

PERIOD_PATTERN = r"^\d{4}Q[1-4]$"
UPLOAD_SUFFIXES = (".csv", ".yaml", ".yml")

Period = Annotated[
    str | None, Query(pattern=PERIOD_PATTERN, description="Quarter YYYYQn (default: latest).")
]
Vintage = Annotated[
    date | None,
    Query(description="Use figures known on this date, YYYY-MM-DD (default: latest)."),
]
SeriesName = Literal["total", "total_ex_cdp", "cefi", "defi", "cdp"]
Segment = Literal["cefi", "defi", "cdp"]
Scope = Literal["cefi", "defi", "cdp", "total", "total_ex_cdp"]
Method = Literal["reported", "onchain", "derived", "estimate", "withdrawn"]
ChartName = Literal[
    "size_by_segment",
    "total_peak_trough",
    "defi_cefi_share",
    "cefi_peak_vs_latest",
    "cefi_concentration",
    "defi_breakdown",
    "vc_funding",
]
for _lit, _names in (
    (SeriesName, SERIES),
    (Segment, SEGMENTS),
    (Scope, ALL_SCOPES),
    (Method, METHODS),
    (ChartName, CHARTS),
):
    if set(get_args(_lit)) != set(_names):  # pragma: no cover - guards schema drift
        raise ImportError(f"API enum {get_args(_lit)} out of date with {tuple(_names)}")

router = APIRouter(
    tags=["api"],
    responses={
        422: {
            "description": "Invalid parameter: malformed, or refused by the data (a quarter "
            "without figures, a future vintage, a since not before the period, an unknown "
            "platform)."
        }
    },
)


# -- routes ------------------------------------------------------------------------------------


@router.get("/metrics", response_model=Metrics, response_model_exclude_unset=True)
def get_metrics(
    d: DataDep,
    period: Period = None,
    vintage: Vintage = None,
    since: Annotated[
        str | None, Query(pattern=PERIOD_PATTERN, description="Also report growth since.")
    ] = None,
) -> dict[str, Any]:
    """Metrics of one quarter: the same JSON as ``lendscope metrics --format json``."""
    m = d.metrics(vintage)
    p, since = check_query(m, period, since)
    out = m.for_period(p)
    if since:
        out["growth_since"] = {"from": since, **{s: m.growth(s, since, p) for s in SERIES}}
    return out


@router.get("/periods", response_model=Periods)
def get_periods(d: DataDep, vintage: Vintage = None) -> dict[str, Any]:
    """Quarters with data at a vintage (oldest first) and the dataset's vintages."""
    m = d.metrics(vintage)
    latest = check_period(m, None)
    return {"vintage": m.vintage, "latest": latest, "periods": m.periods(), "vintages": d.vintages}


@router.get("/series", response_model=list[SeriesPoint])
def get_series(
    d: DataDep,
    name: Annotated[SeriesName | None, Query(description="One series (default: all).")] = None,
    vintage: Vintage = None,
) -> list[dict[str, Any]]:
    """Quarterly values, drawdowns, rebounds and changes of each series."""
    m = d.metrics(vintage)
    keys = SeriesPoint.model_fields
    return [{k: r[k] for k in keys} for r in m.series if name is None or r["series"] == name]


@router.get("/platforms", response_model=list[PlatformRow])
def get_platforms(
    d: DataDep,
    period: Annotated[
        str | None, Query(pattern=PERIOD_PATTERN, description="Quarter YYYYQn (default: all).")
    ] = None,
    segment: Segment | None = None,
    platform: Annotated[str | None, Query(max_length=200)] = None,
    vintage: Vintage = None,
) -> list[dict[str, Any]]:
    """Platform amounts and shares of their segment, per quarter (``platform`` in any case)."""
    m = d.metrics(vintage)
    if platform is not None:
        platform = check_platform((r["platform"] for r in m.shares), platform, m.vintage)
    rows = []
    for p in [check_period(m, period)] if period else m.periods():
        for seg in [segment] if segment else SEGMENTS:
            rows += [
                {"period": p, "segment": seg, **r}
                for r in m.platforms(p, seg)
                if platform is None or r["platform"] == platform
            ]
    return rows


@router.get("/sources", response_model=list[Source])
def get_sources(d: DataDep) -> list[dict[str, Any]]:
    """Every source with the number of figures (rows of any table, any vintage) it backs."""
    return d.metrics().sources


@router.get("/observations", response_model=ObservationPage)
def get_observations(
    d: DataDep,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    segment: Scope | None = None,
    platform: Annotated[str | None, Query(max_length=200)] = None,
    chain: Annotated[str | None, Query(max_length=200)] = None,
    method: Method | None = None,
    source_id: Annotated[str | None, Query(max_length=200)] = None,
    vintage: Annotated[
        date | None, Query(description="Only rows published on or before this date.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Stored figures, every vintage, filtered and paged (``platform=""`` = segment totals).

    ``platform`` matches in any case; ``vintage`` is checked as everywhere (not in the future,
    not before the first figure).
    """
    check_vintage(vintage, d.first_published)
    if platform:
        known = (r["platform"] for r in d.observations if r["platform"])
        platform = check_platform(known, platform, vintage or d.latest)
    want = {
        "period": period,
        "segment": segment,
        "platform": platform,
        "chain": chain,
        "method": method,
        "source_id": source_id,
    }
    want = {k: v for k, v in want.items() if v is not None}
    rows = [
        r
        for r in d.observations
        if all((r[k] or "") == v for k, v in want.items())
        and (vintage is None or r["published"] <= vintage)
    ]
    return {
        "total": len(rows),
        "limit": limit,
        "offset": offset,
        "items": rows[offset : offset + limit],
    }


@router.get("/charts/{name}")
def get_chart(
    d: DataDep, name: ChartName, period: Period = None, vintage: Vintage = None
) -> dict[str, Any]:
    """The report's Vega-Lite spec of a chart, as the dashboard embeds it."""
    m = d.metrics(vintage)
    return d.chart_spec(m, check_period(m, period), name)


def _refuse_unsafe_yaml(content: bytes, name: str) -> None:
    """422 for YAML the shared loader refuses (anchors and aliases, deep nesting, tags).

    A bounded scan of the event stream, stopped at the first offence; a malformed file passes
    here and the validator reports it with its line, as ``lendscope validate`` does.
    """
    try:
        files.check_yaml(files.read_text(content, name, MAX_UPLOAD), name)
    except files.RefusedInput as e:
        raise HTTPException(422, f"file {name!r}: {e.message}") from None
    except files.InputError:
        return


@router.post(
    "/validate",
    response_model=ValidationReport,
    dependencies=[Depends(require_token)],
    responses={
        400: {"description": "Malformed multipart body."},
        401: {"description": "A token is set and the request lacks it."},
        413: {"description": "File over 1 MiB."},
        415: {"description": "Not a .csv, .yaml or .yml file."},
    },
)
def post_validate(
    file: Annotated[UploadFile, File(description="A CSV or YAML disclosure file, at most 1 MiB.")],
) -> dict[str, Any]:
    """Validate a disclosure file as ``lendscope validate`` does; nothing is stored."""
    name = upload_name(file)
    suffix = PurePath(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise HTTPException(415, f"file {name!r}: use a .csv, .yaml or .yml file")
    content = read_upload(file, name)
    if suffix != ".csv":
        _refuse_unsafe_yaml(content, name)
    with tempfile.TemporaryDirectory(prefix="lendscope-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"  # never the client's name
        path.write_bytes(content)
        loaded, problems = check_files([path])
    out = [
        {
            "file": name if p.file == str(path) else p.file,
            "row": p.row,
            "field": p.field,
            "message": p.message.replace(str(path), name),
        }
        for p in problems
    ]
    rows = sum(len(f.rows) for f in loaded)
    return {"file": name, "ok": not out, "rows": rows, "problems": out}

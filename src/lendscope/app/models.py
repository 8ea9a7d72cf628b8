"""Pydantic response models of the REST API (:mod:`lendscope.app.routers`), as in its OpenAPI."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Point(BaseModel):
    """A quarter and its value."""

    period: str
    usd: float | None


class SeriesSummary(BaseModel):
    """ATH, deepest fall, drawdown and rebound of a series up to the quarter."""

    value_usd: float | None
    ath: Point | None
    peak: Point | None
    trough: Point | None
    deepest_fall: float | None = None
    drawdown_from_peak: float | None
    rebound_from_trough: float | None
    qoq_change: float | None
    yoy_change: float | None


class TopPlatform(BaseModel):
    """A CeFi top-3 entry (a group counts as its members)."""

    platform: str
    usd: float | None
    share: float | None
    members: int


class PlatformShare(TopPlatform):
    """A platform's amount and share of its segment."""

    named: bool


class SegmentPlatforms(BaseModel):
    """Platform rows per segment."""

    cefi: list[PlatformShare]
    defi: list[PlatformShare]
    cdp: list[PlatformShare]


class Metrics(BaseModel):
    """The ``lendscope metrics --format json`` object of one quarter."""

    period: str
    vintage: date
    total_usd: float | None
    total_basis: str | None
    cefi_usd: float | None
    defi_usd: float | None
    cdp_usd: float | None
    total_ex_cdp_usd: float | None
    total_ex_cdp_basis: str | None
    defi_share_ex_cdp: float | None
    onchain_share: float | None
    cefi_top3_share: float | None
    cefi_top3_exact: bool | None
    cefi_hhi: float | None
    cefi_hhi_max: float | None
    cefi_attributed_share: float | None
    cefi_top3: list[TopPlatform]
    overlap_usd: float | None
    total_adjusted_usd: float | None
    platforms: SegmentPlatforms
    series: dict[str, SeriesSummary]
    growth_since: dict[str, str | float | None] | None = Field(
        None, description="With ``since``: growth of each series from that quarter."
    )


class Periods(BaseModel):
    """Quarters with data at a vintage, and every vintage in the dataset."""

    vintage: date
    latest: str
    periods: list[str]
    vintages: list[date]


class SeriesPoint(BaseModel):
    """One series in one quarter."""

    series: str
    period: str
    value_usd: float | None
    drawdown_from_peak: float | None
    rebound_from_trough: float | None
    qoq_change: float | None
    yoy_change: float | None


class PlatformRow(BaseModel):
    """A platform's amount and share of its segment in a quarter."""

    period: str
    segment: str
    platform: str
    usd: float | None
    share: float | None
    members: int
    named: bool


class Source(BaseModel):
    """A publication and the number of figures it backs."""

    id: str
    title: str
    publisher: str
    url: str
    published: date | None
    kind: str
    figures: int


class Observation(BaseModel):
    """One figure at one vintage, as stored."""

    period: str
    segment: str
    platform: str | None
    chain: str | None
    metric: str
    value_usd: float | None
    source_id: str
    method: str
    published: date
    note: str | None


class ObservationPage(BaseModel):
    """A page of observations matching the filters."""

    total: int
    limit: int
    offset: int
    items: list[Observation]


class ProblemOut(BaseModel):
    """A validator problem: where (file, row, field) and what."""

    file: str
    row: int
    field: str
    message: str


class ValidationReport(BaseModel):
    """Result of validating one uploaded file against the schema and the bundled data."""

    file: str
    ok: bool
    rows: int
    problems: list[ProblemOut]


class SegmentResult(BaseModel):
    """Totals of one segment."""

    model_config = ConfigDict(extra="allow")
    debt_usd: float
    liquidated_usd: float
    bad_debt_usd: float


class StressResult(BaseModel):
    """The engine's JSON summary (as ``lendscope stress --format json``)."""

    model_config = ConfigDict(extra="allow")
    scenario: str
    seed: int
    bad_debt_usd: float
    liquidated_usd: float
    failed_lenders: list[dict[str, Any]]
    by_segment: dict[Literal["cefi", "defi", "cdp"], SegmentResult]

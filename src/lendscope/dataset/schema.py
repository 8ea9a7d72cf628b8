"""The dataset's schema, in one place: tables, columns, types and allowed values.

Every table is a CSV file bundled under ``lendscope/data``. Users add rows in the same schema
(CSV or YAML) with ``lendscope validate`` / ``lendscope build --add``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

PERIOD_RE = re.compile(r"^(\d{4})Q([1-4])$")
#: Earliest and latest quarter accepted: crypto lending starts with Bitcoin-era lenders.
FIRST_PERIOD = "2012Q1"
LAST_YEAR_AHEAD = 1

SEGMENTS = ("cefi", "defi", "cdp")
AGGREGATES = ("total", "total_ex_cdp")
#: The quarterly series the metrics follow: the aggregates, then each segment.
SERIES = (*AGGREGATES, *SEGMENTS)
ALL_SCOPES = SEGMENTS + AGGREGATES
METRIC_BY_SCOPE = {
    "cefi": "outstanding_loans_usd",
    "defi": "outstanding_loans_usd",
    "cdp": "supply_usd",
    "total": "outstanding_loans_usd",
    "total_ex_cdp": "outstanding_loans_usd",
}
METHODS = ("reported", "onchain", "derived", "estimate", "withdrawn")
SOURCE_KINDS = ("report", "attestation", "filing", "press", "onchain", "estimate")
#: Platform name of the row that closes a segment to its cited total when no split is public.
UNATTRIBUTED = "unattributed"
#: A platform named "A+B" is a group whose split is not public.
GROUP_SEP = "+"


@dataclass(frozen=True)
class Column:
    """One column: its name, type and whether it may be empty."""

    name: str
    type: str  # str | float | int | date | period
    required: bool = True
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """A table: its columns and the columns that identify one fact."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str = ""
    money: tuple[str, ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        return next(c for c in self.columns if c.name == name)


SOURCES = Table(
    "sources",
    (
        Column("id", "str"),
        Column("title", "str"),
        Column("publisher", "str"),
        Column("url", "str"),
        Column("published", "date"),
        Column("kind", "str", choices=SOURCE_KINDS),
        Column("note", "str", required=False),
    ),
    key=("id",),
    doc="Every publication a figure is read from.",
)

#: Optional provenance columns of on-chain observations (cryo-style names).
PROVENANCE = (
    Column("chain_id", "int", required=False),
    Column("block_number", "int", required=False),
    Column("block_timestamp", "int", required=False),
    Column("contract", "str", required=False),
    Column("call", "str", required=False),
    Column("adapter_version", "str", required=False),
    Column("price_source", "str", required=False),
)

OBSERVATIONS = Table(
    "observations",
    (
        Column("period", "period"),
        Column("segment", "str", choices=ALL_SCOPES),
        Column("platform", "str", required=False),
        Column("chain", "str", required=False),
        Column("metric", "str", choices=("outstanding_loans_usd", "supply_usd")),
        Column("value_usd", "float", required=False),
        Column("source_id", "str"),
        Column("method", "str", choices=METHODS),
        Column("published", "date"),
        Column("note", "str", required=False),
        # Provenance of method=onchain rows (empty for reported figures): where and how the
        # figure was read, so anyone with an archive node can re-read it.
        *PROVENANCE,
    ),
    key=("period", "segment", "platform", "chain", "metric", "published"),
    doc=(
        "Quarter-end loan books (CeFi), borrows (DeFi) and crypto-backed CDP supply, one row per "
        "platform and vintage. An empty platform marks a cited total of its segment; segments "
        "`total` and `total_ex_cdp` hold cited aggregates."
    ),
    money=("value_usd",),
)

OVERLAPS = Table(
    "overlaps",
    (
        Column("period", "period"),
        Column("lender", "str"),
        Column("via_platform", "str"),
        Column("amount_usd", "float"),
        Column("source_id", "str"),
        Column("published", "date"),
        Column("note", "str", required=False),
        # Empty means ``reported`` (a cited figure); ``onchain`` rows are written by
        # ``lendscope overlap`` with the same provenance columns as on-chain observations.
        Column("method", "str", required=False, choices=METHODS),
        *PROVENANCE,
    ),
    key=("period", "lender", "via_platform", "published"),
    doc=(
        "Known double counting: a CeFi lender's on-chain borrowing or CDP minting it lends on. "
        "Cited figures, and debt of labelled addresses measured on-chain (method `onchain`)."
    ),
    money=("amount_usd",),
)

VC_FUNDING = Table(
    "vc_funding",
    (
        Column("period", "period"),
        Column("deals", "int", required=False),
        Column("amount_usd", "float", required=False),
        Column("share_of_crypto_vc", "float", required=False),
        Column("source_id", "str"),
        Column("method", "str", choices=METHODS),
        Column("published", "date"),
        Column("note", "str", required=False),
    ),
    key=("period", "published"),
    doc="Venture funding of CeFi and DeFi lending/credit companies.",
    money=("amount_usd",),
)

CITED_METRICS = Table(
    "cited_metrics",
    (
        Column("period", "str"),
        Column("scope", "str"),
        Column("metric", "str"),
        Column("value", "float"),
        Column("source_id", "str"),
        Column("published", "date"),
        Column("note", "str", required=False),
    ),
    key=("period", "scope", "metric", "published"),
    doc="Ratios the reports state (drawdowns, growth, shares): checked against computed metrics.",
)

CONTEXT = Table(
    "context",
    (
        Column("date", "str"),
        Column("segment", "str"),
        Column("platform", "str", required=False),
        Column("chain", "str", required=False),
        Column("metric", "str"),
        Column("value_usd", "float"),
        Column("source_id", "str"),
        Column("note", "str", required=False),
    ),
    key=("date", "segment", "platform", "chain", "metric", "source_id"),
    doc=(
        "Figures recognised and kept out of the market size: deposits, quarter averages, "
        "tracker snapshots with other definitions, treasury-company debt, originations."
    ),
    money=("value_usd",),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (SOURCES, OBSERVATIONS, OVERLAPS, VC_FUNDING, CITED_METRICS, CONTEXT)
}
#: Tables a user may add rows to with ``build --add``.
USER_TABLES = ("sources", "observations", "overlaps", "vc_funding", "cited_metrics")


def period_index(period: str) -> int:
    """Quarter as a consecutive integer (``2024Q4`` -> 8099) for ordering and lags."""
    m = PERIOD_RE.match(period)
    if not m:
        raise ValueError(f"not a quarter YYYYQn: {period!r}")
    return int(m.group(1)) * 4 + int(m.group(2)) - 1


def period_from_index(index: int) -> str:
    """Inverse of :func:`period_index`."""
    return f"{index // 4}Q{index % 4 + 1}"


def period_end(period: str) -> date:
    """Last calendar day of a quarter."""
    i = period_index(period)
    year, month = i // 4, (i % 4 + 1) * 3
    return date(year, month, calendar.monthrange(year, month)[1])

"""Every quarterly metric at one vintage, computed once and served per period as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from lendscope.dataset.schema import period_from_index, period_index
from lendscope.metrics.concentration import hhi, platform_shares, top_n
from lendscope.metrics.cycles import changes, cycles
from lendscope.metrics.frames import (
    SERIES,
    as_of,
    chain_values,
    observations_as_of,
    overlaps_by_period,
    quarterly,
    series_long,
    vc_as_of,
)

Rec = dict[str, Any]


def money(v: float | None) -> float | None:
    """USD rounded to the cent: sums on different engines agree to the last printed digit."""
    return None if v is None else round(float(v), 2)


def frac(v: float | None) -> float | None:
    """A share or change, to 12 decimals."""
    return None if v is None else round(float(v), 12)


def _rows(expr: ir.Table, order: list[str]) -> list[Rec]:
    return expr.order_by(order).to_pyarrow().to_pylist()


def latest_vintage(con) -> date:
    """The newest ``published`` date among observations."""
    v = con.table("observations").published.max().execute()
    return v.date() if hasattr(v, "date") and callable(v.date) else v


def revisions(obs: ir.Table, vintage: date) -> ir.Table:
    """Segment totals and aggregates whose value changed between vintages, up to ``vintage``."""
    t = obs.filter(
        (obs.published <= ibis.literal(vintage)) & (obs.platform == "") & (obs.chain == "")
    )
    w = ibis.window(group_by=["period", "segment"], order_by="published")
    t = t.mutate(
        prev_usd=t.value_usd.lag().over(w),
        prev_published=t.published.lag().over(w),
        prev_method=t.method.lag().over(w),
    )
    return t.filter(
        t.prev_published.notnull()
        & ((t.value_usd != t.prev_usd) | t.value_usd.isnull() != t.prev_usd.isnull())
    ).select(
        "period",
        "segment",
        "prev_usd",
        "prev_published",
        "value_usd",
        "published",
        "method",
        "source_id",
        "note",
    )


def source_usage(con) -> ir.Table:
    """Every source with the number of figures (rows of any table, any vintage) it backs."""
    refs = None
    for name in ("observations", "overlaps", "vc_funding", "cited_metrics", "context"):
        t = con.table(name).select("source_id")
        refs = t if refs is None else refs.union(t, distinct=False)
    counts = refs.group_by("source_id").aggregate(figures=refs.count())
    src = con.table("sources")
    j = src.left_join(counts, src.id == counts.source_id)
    return j.select(
        "id", "title", "publisher", "url", "published", "kind", figures=ibis.coalesce(j.figures, 0)
    )


@dataclass
class MarketMetrics:
    """Results of every metric expression at one vintage, as lists of records."""

    vintage: date
    quarterly: list[Rec]
    series: list[Rec]
    shares: list[Rec]
    top3: list[Rec]
    hhi: list[Rec]
    overlaps: list[Rec]
    vc: list[Rec]
    revisions: list[Rec]
    chain_rows: list[Rec] = field(default_factory=list)
    cited: list[Rec] = field(default_factory=list)
    sources: list[Rec] = field(default_factory=list)

    @classmethod
    def compute(cls, con, vintage: date | None = None) -> MarketMetrics:
        """Run every metric expression on the connection's backend."""
        vintage = vintage or latest_vintage(con)
        return cls(vintage=vintage, **_run(con, vintage))

    # -- lookups -----------------------------------------------------------------------------

    def periods(self) -> list[str]:
        """Quarters with any known size, oldest first."""
        return [r["period"] for r in self.quarterly]

    def latest_period(self) -> str:
        """The latest quarter whose total is known."""
        return [r["period"] for r in self.quarterly if r["total_usd"] is not None][-1]

    def value(self, series: str, period: str) -> float | None:
        """A series' value in a quarter, or None."""
        r = self._series_at(series, period)
        return r["value_usd"] if r and r["period"] == period else None

    def growth(self, series: str, start: str, end: str) -> float | None:
        """``value(end) / value(start) - 1`` for any two quarters of a series."""
        a, b = self.value(series, start), self.value(series, end)
        return frac(b / a - 1) if a and b is not None else None

    def _series_at(self, series: str, period: str) -> Rec | None:
        i = period_index(period)
        rows = [r for r in self.series if r["series"] == series and r["pidx"] <= i]
        return rows[-1] if rows else None

    def _q(self, period: str) -> Rec:
        return next((r for r in self.quarterly if r["period"] == period), {})

    def platforms(self, period: str, segment: str) -> list[Rec]:
        """Platform rows of a segment in a quarter, largest named first, unattributed last."""
        rows = [r for r in self.shares if r["period"] == period and r["segment"] == segment]
        rows.sort(key=lambda r: (not r["named"], r["rank"] or 0))
        return [
            {
                "platform": r["platform"],
                "usd": money(r["usd"]),
                "share": frac(r["share"]),
                "members": r["members"],
                "named": r["named"],
            }
            for r in rows
        ]

    def chains(self, period: str, segment: str = "defi") -> list[Rec]:
        """Per-chain amounts of a segment in a quarter, largest first."""
        rows = [r for r in self.chain_rows if r["period"] == period and r["segment"] == segment]
        return [
            {"chain": r["chain"], "usd": money(r["usd"])}
            for r in sorted(rows, key=lambda r: (-r["usd"], r["chain"]))
        ]

    def series_summary(self, series: str, period: str) -> Rec:
        """ATH, deepest fall, drawdown and rebound of a series up to ``period``."""
        r = self._series_at(series, period)
        if r is None:
            return {
                "value_usd": None,
                "ath": None,
                "peak": None,
                "trough": None,
                "drawdown_from_peak": None,
                "rebound_from_trough": None,
                "qoq_change": None,
                "yoy_change": None,
            }
        here = r["period"] == period

        def point(pidx: int | None, usd: float | None) -> Rec | None:
            return None if pidx is None else {"period": period_from_index(pidx), "usd": money(usd)}

        return {
            "value_usd": money(r["value_usd"]) if here else None,
            "ath": point(r["ath_pidx"], r["ath_usd"]),
            "peak": point(r["peak_pidx"], r["peak_usd"]),
            "trough": point(r["trough_pidx"], r["trough_usd"]),
            "deepest_fall": frac(r["deepest_fall"]) if r["trough_pidx"] is not None else None,
            "drawdown_from_peak": frac(r["drawdown_from_peak"]) if here else None,
            "rebound_from_trough": frac(r["rebound_from_trough"]) if here else None,
            "qoq_change": frac(r["qoq_change"]) if here else None,
            "yoy_change": frac(r["yoy_change"]) if here else None,
        }

    def for_period(self, period: str) -> Rec:
        """The metrics JSON object of one quarter."""
        period_index(period)  # validates the format
        q = self._q(period)
        top = next((r for r in self.top3 if r["period"] == period and r["segment"] == "cefi"), {})
        h = next((r for r in self.hhi if r["period"] == period and r["segment"] == "cefi"), {})
        ov = next((r["overlap_usd"] for r in self.overlaps if r["period"] == period), None)
        cefi = self.platforms(period, "cefi")
        top3 = []
        for p in (p for p in cefi if p["named"]):
            if sum(x["members"] for x in top3) >= 3:
                break
            top3.append({k: p[k] for k in ("platform", "usd", "share", "members")})
        total = q.get("total_usd")
        return {
            "period": period,
            "vintage": self.vintage.isoformat(),
            "total_usd": money(total),
            "total_basis": q.get("total_basis"),
            "cefi_usd": money(q.get("cefi_usd")),
            "defi_usd": money(q.get("defi_usd")),
            "cdp_usd": money(q.get("cdp_usd")),
            "total_ex_cdp_usd": money(q.get("total_ex_cdp_usd")),
            "total_ex_cdp_basis": q.get("total_ex_cdp_basis"),
            "defi_share_ex_cdp": frac(q.get("defi_share_ex_cdp")),
            "onchain_share": frac(q.get("onchain_share")),
            "cefi_top3_share": frac(top.get("top_share")),
            "cefi_top3_exact": top.get("top_exact"),
            "cefi_hhi": frac(h.get("hhi")),
            "cefi_hhi_max": frac(h.get("hhi_max")),
            "cefi_attributed_share": frac(h.get("attributed_share")),
            "cefi_top3": top3 if top else [],
            "overlap_usd": money(ov),
            "total_adjusted_usd": money(total - (ov or 0.0)) if total is not None else None,
            "platforms": {s: self.platforms(period, s) for s in ("cefi", "defi", "cdp")},
            "series": {s: self.series_summary(s, period) for s in SERIES},
        }


def _expressions(con, vintage: date) -> dict[str, tuple[ir.Table, list[str]]]:
    """Every metric table as (Ibis expression, sort order), at ``vintage``."""
    obs = observations_as_of(con.table("observations"), vintage)
    q = quarterly(obs)
    long = series_long(q)
    cyc = cycles(long)
    chg = changes(long).select(
        c_series="series", c_pidx="pidx", qoq_change="qoq_change", yoy_change="yoy_change"
    )
    ser = cyc.left_join(chg, (cyc.series == chg.c_series) & (cyc.pidx == chg.c_pidx)).drop(
        "c_series", "c_pidx"
    )
    sh = platform_shares(obs)
    return {
        "quarterly": (q, ["pidx"]),
        "series": (ser, ["series", "pidx"]),
        "shares": (sh, ["period", "segment", "rank", "platform"]),
        "top3": (top_n(sh, 3), ["period", "segment"]),
        "hhi": (hhi(sh), ["period", "segment"]),
        "overlaps": (overlaps_by_period(con.table("overlaps"), vintage), ["period"]),
        "vc": (vc_as_of(con.table("vc_funding"), vintage), ["pidx"]),
        "revisions": (
            revisions(con.table("observations"), vintage),
            ["period", "segment", "published"],
        ),
        "chain_rows": (chain_values(obs), ["period", "segment", "chain"]),
        "cited": (
            as_of(con.table("cited_metrics"), ["period", "scope", "metric"], vintage),
            ["period", "scope", "metric"],
        ),
        "sources": (source_usage(con), ["id"]),
    }


#: Compiled SQL per table schemas, with the vintage as a placeholder: compiling the Ibis
#: expressions costs ~10x running them, and only the vintage changes between runs.
_SQL: dict[tuple, dict[str, str]] = {}
_SENTINEL = date(1111, 11, 11)
_SENTINEL_SQL = "MAKE_DATE(1111, 11, 11)"


def _schema_key(con) -> tuple:
    return tuple(
        (n, tuple((c, str(t)) for c, t in con.table(n).schema().items()))
        for n in sorted(con.list_tables())
    )


def _run(con, vintage: date) -> dict[str, list[Rec]]:
    """Execute every metric expression; on DuckDB, reuse SQL compiled for the same schemas."""
    if con.name != "duckdb":
        return {k: _rows(e, o) for k, (e, o) in _expressions(con, vintage).items()}
    key = _schema_key(con)
    sqls = _SQL.get(key)
    if sqls is None:
        sqls = {}
        for k, (e, o) in _expressions(con, _SENTINEL).items():
            sql = con.compile(e.order_by(o))
            if _SENTINEL_SQL not in sql and k not in ("sources",):
                return {k: _rows(e, o) for k, (e, o) in _expressions(con, vintage).items()}
            sqls[k] = sql
        _SQL[key] = sqls
    lit = f"MAKE_DATE({vintage.year}, {vintage.month}, {vintage.day})"
    return {k: con.raw_sql(sql.replace(_SENTINEL_SQL, lit)).arrow().read_all().to_pylist()
            for k, sql in sqls.items()}  # fmt: skip

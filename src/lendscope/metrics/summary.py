"""Every quarterly metric at one vintage, computed once and served per period as plain data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lendscope.dataset.schema import SERIES, period_from_index, period_index

Rec = dict[str, Any]


def money(v: float | None) -> float | None:
    """USD rounded to the cent: sums on different engines agree to the last printed digit."""
    return None if v is None else round(float(v), 2)


def frac(v: float | None) -> float | None:
    """A share or change, to 12 decimals."""
    return None if v is None else round(float(v), 12)


def published_range(con) -> tuple[date | None, date | None]:
    """The oldest and newest ``published`` dates among observations (one small query)."""
    t = con.table("observations")
    row = t.aggregate(first=t.published.min(), last=t.published.max()).to_pyarrow().to_pylist()[0]
    # a backend that stores dates as timestamps gives datetimes, which do not compare with dates
    first, last = (v.date() if isinstance(v, datetime) else v for v in (row["first"], row["last"]))
    return first, last


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
    onchain_rows: list[Rec] = field(default_factory=list)
    cited: list[Rec] = field(default_factory=list)
    sources: list[Rec] = field(default_factory=list)
    #: The earliest ``published`` among observations: no vintage before it knows any figure
    #: (the lower bound :func:`lendscope.metrics.params.check_vintage` enforces).
    first_published: date | None = None
    #: Computes the same data's metrics at another vintage (None: unknown); see :meth:`at`.
    recompute: Callable[[date], MarketMetrics | None] | None = field(
        default=None, repr=False, compare=False
    )
    _at: dict[date, MarketMetrics] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def compute(cls, con, vintage: date | None = None, *, compiled: bool = True) -> MarketMetrics:
        """Run every metric query on the connection's backend (DuckDB or PySpark).

        The queries are compiled once per backend and table schemas, and the vintage is bound
        at each run (see :func:`metric_queries`). ``compiled=False`` runs the same Ibis
        expressions through Ibis instead, compiled afresh with the vintage as a literal: the
        reference the compiled queries are tested against.
        """
        from lendscope.metrics.queries import VINTAGE, metric_expressions, metric_queries

        first, last = published_range(con)
        vintage = vintage or last
        if compiled:
            runs = {k: q.run(con, {VINTAGE: vintage}) for k, q in metric_queries(con).items()}
        else:
            runs = {
                k: e.order_by(o).to_pyarrow(params={VINTAGE: vintage})
                for k, (e, o) in metric_expressions(con, VINTAGE).items()
            }
        rows = {k: t.to_pylist() for k, t in runs.items()}
        return cls(
            vintage=vintage,
            first_published=first,
            recompute=lambda v: cls.compute(con, v, compiled=compiled),
            **rows,
        )

    def at(self, vintage: date) -> MarketMetrics | None:
        """The same data's metrics at another vintage (cached), None when they cannot be had."""
        if vintage == self.vintage:
            return self
        if vintage not in self._at:
            if self.recompute is None:
                return None
            got = self.recompute(vintage)
            if got is None:
                return None
            self._at[vintage] = got
        return self._at[vintage]

    def cited_latest(self) -> list[Rec]:
        """The cited ratios, only the latest vintage of each (period, scope, metric)."""
        last: dict[tuple, Rec] = {}
        for c in self.cited:  # oldest vintage first
            last[(c["period"], c["scope"], c["metric"])] = c
        return list(last.values())

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

    def platforms(self, period: str, segment: str, *, detail: bool = False) -> list[Rec]:
        """Platform rows of a segment in a quarter, largest named first, unattributed last.

        ``detail`` adds each row's ``chain``: "" for the whole platform, else the only chain
        its figure covers ("*": several chains, none the whole platform).
        """
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
            | ({"chain": r.get("chain") or ""} if detail else {})
            for r in rows
        ]

    def chains(self, period: str, segment: str = "defi") -> list[Rec]:
        """Per-chain amounts of a segment in a quarter, largest first."""
        rows = [r for r in self.chain_rows if r["period"] == period and r["segment"] == segment]
        return [
            {"chain": r["chain"], "usd": money(r["usd"])}
            for r in sorted(rows, key=lambda r: (-r["usd"], r["chain"]))
        ]

    def onchain_split(self, period: str | None = None, last: int | None = None) -> Rec:
        """Figures read on-chain, app x chain across quarters (up to ``period``, ``last`` ones).

        ``{"periods": [...], "rows": [{platform, chain, segment, usd: [...], blocks: [...]}]}``,
        one ``usd``/``blocks`` entry per period (None where that app was not read).
        """
        upto = period_index(period) if period else None
        recs = [r for r in self.onchain_rows if upto is None or period_index(r["period"]) <= upto]
        periods = sorted({r["period"] for r in recs}, key=period_index)[-last if last else 0 :]
        rows: dict[tuple, Rec] = {}
        for r in recs:
            if r["period"] not in periods:
                continue
            key = (r["segment"], r["platform"], r["chain"])
            row = rows.setdefault(key, {"platform": r["platform"], "chain": r["chain"],
                                        "segment": r["segment"], "usd": [None] * len(periods),
                                        "blocks": [None] * len(periods)})  # fmt: skip
            i = periods.index(r["period"])
            row["usd"][i], row["blocks"][i] = money(r["value_usd"]), r["block_number"]
        return {"periods": periods, "rows": [rows[k] for k in sorted(rows)]}

    def series_summary(self, series: str, period: str, *, detail: bool = False) -> Rec:
        """ATH, deepest fall, drawdown and rebound of a series up to ``period``.

        ``detail`` adds ``drawdown_from_ath`` (1 - value / the highest value so far), distinct
        from ``drawdown_from_peak`` (from the peak before the deepest fall).
        """
        r = self._series_at(series, period)
        if r is None:
            return {
                "value_usd": None,
                "ath": None,
                "peak": None,
                "trough": None,
                **({"deepest_fall": None, "drawdown_from_ath": None} if detail else {}),
                "drawdown_from_peak": None,
                "rebound_from_trough": None,
                "qoq_change": None,
                "yoy_change": None,
            }
        here = r["period"] == period

        def point(pidx: int | None, usd: float | None) -> Rec | None:
            return None if pidx is None else {"period": period_from_index(pidx), "usd": money(usd)}

        dd_ath = 1 - r["value_usd"] / r["ath_usd"] if here and r["ath_usd"] else None
        out = {
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
        return out | {"drawdown_from_ath": frac(dd_ath)} if detail else out

    def for_period(self, period: str, *, detail: bool = False) -> Rec:
        """The metrics JSON object of one quarter.

        ``detail`` adds what the report shows beyond the documented object (the API's and
        ``lendscope metrics``'): ``cefi_top3_coverage`` and ``cefi_top3_max``
        (:func:`top_coverage`), platform rows' ``chain`` and series' ``drawdown_from_ath``.
        """
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
        cover = top_coverage(cefi, top3, top.get("top_share"), top.get("top_exact")) if top else {}
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
            "platforms": {
                s: self.platforms(period, s, detail=detail) for s in ("cefi", "defi", "cdp")
            },
            "series": {s: self.series_summary(s, period, detail=detail) for s in SERIES},
        } | (
            {"cefi_top3_coverage": cover.get("coverage"), "cefi_top3_max": cover.get("max")}
            if detail
            else {}
        )


def _fill(rows: list[Rec], slots: int) -> float:
    """Share of the largest named rows filling ``slots`` places (a group pro rata)."""
    got, left = 0.0, slots
    for r in rows:
        if left <= 0:
            break
        take = min(left, r["members"])
        got += r["share"] * take / r["members"]
        left -= take
    return got


def top_coverage(
    rows: list[Rec], counted: list[Rec], share: float | None, exact: bool | None
) -> Rec:
    """How far a top-3 share of named lenders (``counted``: its rows) holds, and its maximum.

    ``coverage`` is ``lower_bound`` when fewer than three lenders are named, or when the
    unattributed remainder is larger than a counted row (a lender hidden in it could outrank
    it); else ``split`` when a group straddles third place (split evenly), else ``exact``.
    ``max`` is the largest top-3 share the remainder allows: one hidden lender holding all of it.
    """
    if share is None:
        return {"coverage": None, "max": None}
    named = [r for r in rows if r["named"] and r["share"] is not None]
    u = sum(r["share"] or 0.0 for r in rows if not r["named"])
    members = sum(r["members"] for r in named)
    smallest = min((r["share"] for r in counted if r["share"] is not None), default=0.0)
    hidden = u > 1e-9 and (members < 3 or u > smallest)
    top_max = min(1.0, max(share, _fill(named, 2) + u)) if hidden else share
    coverage = "lower_bound" if hidden else ("exact" if exact else "split")
    return {"coverage": coverage, "max": frac(top_max)}

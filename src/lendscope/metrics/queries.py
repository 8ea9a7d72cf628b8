"""The metric queries: every ``MarketMetrics`` table as an Ibis expression at a vintage.

:func:`metric_expressions` builds them; :func:`metric_queries` compiles them once per backend
and table schemas, with the vintage the ``ibis.param`` :data:`VINTAGE`, bound at each run.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from lendscope.dataset.schema import TABLES
from lendscope.metrics.compiled import Query, compile_query, param
from lendscope.metrics.concentration import hhi, platform_shares, top_n
from lendscope.metrics.cycles import changes, cycles
from lendscope.metrics.frames import (
    Vintage,
    chain_values,
    observations_as_of,
    overlaps_by_period,
    quarterly,
    series_long,
    vc_as_of,
    vintage_value,
)


def revisions(obs: ir.Table, vintage: Vintage) -> ir.Table:
    """Segment totals and aggregates whose value changed between vintages, up to ``vintage``."""
    t = obs.filter(
        (obs.published <= vintage_value(vintage)) & (obs.platform == "") & (obs.chain == "")
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


#: Order of the cited ratios: each (period, scope, metric), its vintages oldest first.
CITED_ORDER = ["period", "scope", "metric", "published"]


def cited_up_to(cited: ir.Table, vintage: Vintage) -> ir.Table:
    """Every cited ratio published on or before ``vintage``, restatements included.

    The report reconciles each at its own vintage, so a restated ratio keeps its old row.
    """
    return cited.filter(cited.published <= vintage_value(vintage))


def onchain_rows(obs: ir.Table) -> ir.Table:
    """Figures read on-chain by ``lendscope sync``: quarter, app, chain, value and block."""
    t = obs.filter(obs.method == "onchain")
    return t.select("period", "segment", "platform", "chain", "value_usd", "block_number")


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


def metric_expressions(con, vintage: Vintage) -> dict[str, tuple[ir.Table, list[str]]]:
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
        "onchain_rows": (onchain_rows(obs), ["segment", "platform", "chain", "period"]),
        "cited": (cited_up_to(con.table("cited_metrics"), vintage), CITED_ORDER),
        "sources": (source_usage(con), ["id"]),
    }


#: The vintage of every metric query: bound when a query runs, so one compilation serves all.
VINTAGE = param("date", "vintage")
#: Compiled metric queries per backend and table schemas: compiling the Ibis expressions costs
#: ~10x running them, and only the vintage changes between runs.
_QUERIES: dict[tuple, dict[str, Query]] = {}


def _schema_key(con) -> tuple:
    return (
        con.name,
        *((n, tuple((c, str(t)) for c, t in con.table(n).schema().items())) for n in TABLES),
    )


def metric_queries(con) -> dict[str, Query]:
    """Every metric table as a query compiled for ``con``'s backend, the vintage unbound."""
    key = _schema_key(con)
    if key not in _QUERIES:
        exprs = metric_expressions(con, VINTAGE)
        _QUERIES[key] = {k: compile_query(con, e.order_by(o)) for k, (e, o) in exprs.items()}
    return _QUERIES[key]

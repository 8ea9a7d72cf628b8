"""Point-in-time views of the dataset and the quarterly series, as Ibis expressions.

Every function takes and returns Ibis tables, so the same code runs on DuckDB and PySpark.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from lendscope.dataset.schema import AGGREGATES, GROUP_SEP, SEGMENTS, SERIES, UNATTRIBUTED


def period_idx(period: ir.StringValue) -> ir.IntegerValue:
    """``YYYYQn`` as a consecutive quarter number (``year * 4 + n - 1``)."""
    return period.substr(0, 4).cast("int64") * 4 + period.substr(5, 1).cast("int64") - 1


#: A vintage: a date, or a date ``ibis.param`` bound when the query runs.
Vintage = date | ir.DateScalar


def vintage_value(vintage: Vintage) -> ir.DateScalar:
    """``vintage`` as an Ibis date scalar (a parameter stays a parameter)."""
    return vintage if isinstance(vintage, ir.Value) else ibis.literal(vintage)


def as_of(t: ir.Table, key: list[str], vintage: Vintage) -> ir.Table:
    """Latest row per ``key`` published on or before ``vintage``; withdrawn rows drop out."""
    w = ibis.window(group_by=[t[k] for k in key], order_by=[ibis.desc(t.published)])
    latest = (
        t.filter(t.published <= vintage_value(vintage))
        .mutate(_rn=ibis.row_number().over(w))
        .filter(lambda x: x._rn == 0)
        .drop("_rn")
    )
    if "method" in t.columns:
        latest = latest.filter(latest.method != "withdrawn")
    return latest


def observations_as_of(obs: ir.Table, vintage: Vintage) -> ir.Table:
    """Observations known at ``vintage`` (one row per period/segment/platform/chain/metric)."""
    return as_of(obs, ["period", "segment", "platform", "chain", "metric"], vintage)


def members(platform: ir.StringValue) -> ir.IntegerValue:
    """How many lenders a platform row stands for: ``A+B`` is a group of two."""
    return platform.length() - platform.replace(GROUP_SEP, "").length() + 1


def segment_values(obs: ir.Table) -> ir.Table:
    """One row per (period, segment): the cited total, else rows closed by ``unattributed``.

    ``basis`` says which. Segments with neither are left out.
    """
    seg = obs.filter(obs.segment.isin(SEGMENTS))
    cited = seg.filter((seg.platform == "") & (seg.chain == "")).select(
        "period", "segment", cited_usd="value_usd"
    )
    plat = seg.filter(seg.platform != "")
    closed = (
        plat.group_by(["period", "segment"])
        .aggregate(
            rows_usd=plat.value_usd.sum(),
            closed=(plat.platform == UNATTRIBUTED).any(),
        )
        .filter(lambda x: x.closed)
    )
    j = cited.outer_join(closed, ["period", "segment"])
    return j.select(
        period=ibis.coalesce(j.period, j.period_right),
        segment=ibis.coalesce(j.segment, j.segment_right),
        value_usd=ibis.coalesce(j.cited_usd, j.rows_usd),
        basis=ibis.cases((j.cited_usd.notnull(), "cited"), else_="platforms"),
    )


def quarterly(obs: ir.Table) -> ir.Table:
    """Per period: segments, cited aggregates, and the total / total ex-CDP each metric uses.

    A total is the sum of its segments when all are known (``basis='segments'``), else the
    cited aggregate (``basis='cited'``), else null.
    """
    sv = segment_values(obs)
    segs = sv.group_by("period").aggregate(
        **{f"{s}_usd": sv.value_usd.max(where=sv.segment == s) for s in SEGMENTS}
    )
    ag = obs.filter(obs.segment.isin(AGGREGATES))
    aggs = ag.group_by("period").aggregate(
        **{f"cited_{a}_usd": ag.value_usd.max(where=ag.segment == a) for a in AGGREGATES}
    )
    j = segs.outer_join(aggs, "period")
    j = j.select(
        period=ibis.coalesce(j.period, j.period_right),
        cefi_usd=j.cefi_usd,
        defi_usd=j.defi_usd,
        cdp_usd=j.cdp_usd,
        cited_total_usd=j.cited_total_usd,
        cited_total_ex_cdp_usd=j.cited_total_ex_cdp_usd,
    )
    all3 = j.cefi_usd.notnull() & j.defi_usd.notnull() & j.cdp_usd.notnull()
    both = j.cefi_usd.notnull() & j.defi_usd.notnull()
    j = j.mutate(
        total_usd=ibis.cases((all3, j.cefi_usd + j.defi_usd + j.cdp_usd), else_=j.cited_total_usd),
        total_basis=ibis.cases(
            (all3, "segments"), (j.cited_total_usd.notnull(), "cited"), else_=ibis.null("string")
        ),
        total_ex_cdp_usd=ibis.cases(
            (both, j.cefi_usd + j.defi_usd), else_=j.cited_total_ex_cdp_usd
        ),
        total_ex_cdp_basis=ibis.cases(
            (both, "segments"),
            (j.cited_total_ex_cdp_usd.notnull(), "cited"),
            else_=ibis.null("string"),
        ),
    )
    return j.mutate(
        pidx=period_idx(j.period),
        defi_share_ex_cdp=j.defi_usd / j.total_ex_cdp_usd,
        onchain_share=(j.defi_usd + j.cdp_usd) / j.total_usd,
    )


def series_long(q: ir.Table) -> ir.Table:
    """The five series (total, total ex-CDP, CeFi, DeFi, CDP) stacked, known values only."""
    parts = [
        q.select("period", "pidx", series=ibis.literal(s), value_usd=q[f"{s}_usd"]) for s in SERIES
    ]
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out.filter(out.value_usd.notnull())


def overlaps_by_period(overlaps: ir.Table, vintage: Vintage) -> ir.Table:
    """Known double counting per period at ``vintage``.

    A lender's cited overlaps and its overlaps measured on-chain (``method='onchain'``: the
    debt of its labelled addresses) describe the same borrowing from two sides: the cited
    figure may cover more addresses and protocols, the measured one is exact for the addresses
    and protocols read. So per (period, lender) the larger of the two sums stands, never their
    sum; the latest vintage of each (lender, platform) is taken within each kind.
    """
    if "method" in overlaps.columns:  # an empty method is a cited (reported) figure
        method = ibis.coalesce(overlaps.method.nullif(""), "reported")
    else:  # a database built before the column existed: every row is cited
        method = ibis.literal("reported")
    t = overlaps.mutate(method=method, onchain=method == "onchain")
    o = as_of(t, ["period", "lender", "via_platform", "onchain"], vintage)
    per = o.group_by(["period", "lender"]).aggregate(
        cited=o.amount_usd.sum(where=~o.onchain), measured=o.amount_usd.sum(where=o.onchain)
    )
    per = per.mutate(usd=ibis.greatest(per.cited.fill_null(0.0), per.measured.fill_null(0.0)))
    return per.group_by("period").aggregate(overlap_usd=per.usd.sum())


def vc_as_of(vc: ir.Table, vintage: Vintage) -> ir.Table:
    """The VC funding series at ``vintage``."""
    v = as_of(vc, ["period"], vintage)
    return v.select(
        "period", "deals", "amount_usd", "share_of_crypto_vc", "method", "source_id"
    ).mutate(pidx=period_idx(v.period))


def chain_values(obs: ir.Table) -> ir.Table:
    """Per (period, segment, chain): the cited chain total, else the sum of its platform rows."""
    on = obs.filter(obs.chain != "")
    cited = on.filter(on.platform == "").select("period", "segment", "chain", cited_usd="value_usd")
    plat = on.filter(on.platform != "")
    rows = plat.group_by(["period", "segment", "chain"]).aggregate(rows_usd=plat.value_usd.sum())
    j = cited.outer_join(rows, ["period", "segment", "chain"])
    return j.select(
        period=ibis.coalesce(j.period, j.period_right),
        segment=ibis.coalesce(j.segment, j.segment_right),
        chain=ibis.coalesce(j.chain, j.chain_right),
        usd=ibis.coalesce(j.cited_usd, j.rows_usd),
    )

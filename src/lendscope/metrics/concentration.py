"""Platform shares, top-N share and HHI, honest about groups and unattributed amounts.

A group row (``"Galaxy+Ledn"``) stands for several lenders whose split is not public:

- in the top N it fills as many places as it has members; a group that straddles place N
  counts pro rata (equal split), and the result is flagged inexact;
- in the HHI it counts as members of equal size, the smallest HHI consistent with it.

The ``unattributed`` remainder is in every denominator but is no lender: ``hhi`` treats it as
spread over many small lenders (a lower bound) and ``hhi_max`` as pieces no larger than the
smallest named lender (an upper bound under that ordering).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from lendscope.dataset.schema import UNATTRIBUTED
from lendscope.metrics.frames import members, segment_values


def platform_shares(obs: ir.Table) -> ir.Table:
    """Each platform with its share of its segment, its rank among named ones, and its chain."""
    sv = segment_values(obs).select(s_period="period", s_segment="segment", seg_usd="value_usd")
    p = obs.filter(obs.platform != "")
    p = p.group_by(["period", "segment", "platform"]).aggregate(
        usd=p.value_usd.sum(), chain_lo=p.chain.min(), chain_hi=p.chain.max()
    )
    j = p.inner_join(sv, (p.period == sv.s_period) & (p.segment == sv.s_segment))
    j = j.select(
        "period",
        "segment",
        "platform",
        "usd",
        "seg_usd",
        # "" when a row covers the whole platform; its chain when all its rows are on one
        # chain; "*" when they are on several chains, none covering the whole platform.
        chain=ibis.cases((j.chain_lo == j.chain_hi, j.chain_lo), (j.chain_lo == "", ""), else_="*"),
        share=j.usd / j.seg_usd,
        members=members(j.platform),
        named=j.platform != UNATTRIBUTED,
    )
    w = ibis.window(
        group_by=["period", "segment", "named"],
        order_by=[ibis.desc("usd"), "platform"],
        rows=(None, 0),
    )
    j = j.mutate(cum_members=j.members.sum().over(w), rank=ibis.row_number().over(w) + 1)
    return j.mutate(
        rank=ibis.cases((j.named, j.rank), else_=ibis.null("int64")),
        cum_members=ibis.cases((j.named, j.cum_members), else_=ibis.null("int64")),
    )


def top_n(shares: ir.Table, n: int = 3) -> ir.Table:
    """Share of the N largest named lenders, per period and segment."""
    s = shares.filter(shares.named)
    before = s.cum_members - s.members
    frac = ibis.cases(
        (s.cum_members <= n, 1.0),
        (before < n, (n - before).cast("float64") / s.members),
        else_=0.0,
    )
    s = s.mutate(frac=frac)
    return s.group_by(["period", "segment"]).aggregate(
        top_usd=(s.usd * s.frac).sum(),
        top_share=(s.share * s.frac).sum(),
        top_exact=((s.frac == 1.0) | (s.frac == 0.0)).all(),
        top_members=s.members.sum(where=s.frac > 0),
    )


def hhi(shares: ir.Table) -> ir.Table:
    """Herfindahl-Hirschman index (shares as fractions, 0..1), lower and upper bound."""
    named = shares.filter(shares.named)
    lo = named.group_by(["period", "segment"]).aggregate(
        hhi=(named.share * named.share / named.members).sum(),
        hhi_named=(named.share * named.share).sum(),
        smallest=named.share.min(),
        attributed_share=named.share.sum(),
    )
    un = shares.filter(~shares.named).select(
        u_period="period", u_segment="segment", u_share="share"
    )
    j = lo.left_join(un, (lo.period == un.u_period) & (lo.segment == un.u_segment))
    u = ibis.coalesce(j.u_share, 0.0)
    pieces = (u / j.smallest).floor()
    rest = u - pieces * j.smallest
    return j.select(
        "period",
        "segment",
        "hhi",
        "attributed_share",
        hhi_max=j.hhi_named + pieces * j.smallest * j.smallest + rest * rest,
    )

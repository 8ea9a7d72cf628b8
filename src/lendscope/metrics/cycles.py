"""All-time highs, the deepest peak-to-trough fall, drawdowns and rebounds, per series.

For each series and each quarter t with a value, using only quarters up to t:

- ``ath``: the highest value so far and its quarter;
- the deepest fall: the peak and later trough with the largest decline ``1 - trough/peak``;
- ``drawdown_from_peak = 1 - value / peak`` (negative when the value is above that old peak);
- ``rebound_from_trough = value / trough - 1``.

With no fall yet, the peak is the all-time high and there is no trough.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def cycles(series: ir.Table) -> ir.Table:
    """Add ath/peak/trough columns to a long series table (series, period, pidx, value_usd)."""
    cum = ibis.window(group_by="series", order_by="pidx", rows=(None, 0))
    s = series.mutate(ath_usd=series.value_usd.max().over(cum))
    s = s.mutate(
        ath_pidx=ibis.cases((s.value_usd == s.ath_usd, s.pidx), else_=ibis.null("int64"))
        .max()
        .over(cum),
        fall=1 - s.value_usd / s.ath_usd,
    )
    s = s.mutate(deepest=s.fall.max().over(cum))
    is_trough = (s.fall == s.deepest) & (s.fall > 0)
    s = s.mutate(
        trough_pidx=ibis.cases((is_trough, s.pidx), else_=ibis.null("int64")).max().over(cum),
        # ath is non-decreasing in time, so the latest trough's peak is the running max.
        fall_peak_usd=ibis.cases((is_trough, s.ath_usd), else_=ibis.null("float64"))
        .max()
        .over(cum),
        fall_peak_pidx=ibis.cases((is_trough, s.ath_pidx), else_=ibis.null("int64"))
        .max()
        .over(cum),
    )
    tr = series.select(t_series="series", t_pidx="pidx", trough_usd="value_usd")
    j = s.left_join(tr, (s.series == tr.t_series) & (s.trough_pidx == tr.t_pidx))
    peak_usd = ibis.coalesce(j.fall_peak_usd, j.ath_usd)
    peak_pidx = ibis.coalesce(j.fall_peak_pidx, j.ath_pidx)
    return j.select(
        "series",
        "period",
        "pidx",
        "value_usd",
        "ath_usd",
        "ath_pidx",
        peak_usd=peak_usd,
        peak_pidx=peak_pidx,
        trough_usd=j.trough_usd,
        trough_pidx=j.trough_pidx,
        deepest_fall=j.deepest,
        drawdown_from_peak=1 - j.value_usd / peak_usd,
        rebound_from_trough=j.value_usd / j.trough_usd - 1,
    )


def changes(series: ir.Table) -> ir.Table:
    """Quarter-on-quarter and year-on-year change, where the earlier quarter is known."""
    prev = series.select(p_series="series", p_pidx="pidx", p_usd="value_usd")
    j = series.left_join(prev, (series.series == prev.p_series) & (series.pidx - 1 == prev.p_pidx))
    j = j.select("series", "period", "pidx", "value_usd", qoq_change=j.value_usd / j.p_usd - 1)
    prev4 = series.select(y_series="series", y_pidx="pidx", y_usd="value_usd")
    k = j.left_join(prev4, (j.series == prev4.y_series) & (j.pidx - 4 == prev4.y_pidx))
    return k.select("series", "period", "pidx", "qoq_change", yoy_change=k.value_usd / k.y_usd - 1)

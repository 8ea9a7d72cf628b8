"""``cited_metrics``: what a cited ratio may be, and whether it agrees with the figures.

A row states a ratio a report gives (a drawdown, a growth, a share). The report sets it beside the
value computed from the same vintage ("reported vs computed", ``report/build.py`` RECONCILE); the
validator does that check up front, with the same definitions restated over rows
(:mod:`lendscope.dataset.market`), so that a user's cited 43% that the figures make 4.3% is
refused before it reaches a report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date

from lendscope.core.fmt import usd
from lendscope.dataset.load import Problem, Row
from lendscope.dataset.market import Est, Market, half_unit, snapshot
from lendscope.dataset.schema import (
    FIRST_PERIOD,
    LAST_YEAR_AHEAD,
    PERIOD_RE,
    SEGMENTS,
    SERIES,
    period_end,
    period_index,
)

#: ``2022Q1-2024Q4``: a figure over several quarters (VC totals).
RANGE_RE = re.compile(r"^(\d{4}Q[1-4])-(\d{4}Q[1-4])$")
VC = "vc"
CITED_KEY = ("period", "scope", "metric")

#: What kind of number each metric is: the allowed range, and how it is checked.
SHARE, DECLINE, DRAWDOWN, CHANGE, REBOUND, COUNT, MONEY = (
    "share",
    "decline",
    "drawdown",
    "change",
    "rebound",
    "count",
    "money",
)
_SERIES_METRICS = {
    "drawdown_from_peak": DRAWDOWN,
    "rebound_from_trough": REBOUND,
    "peak_to_trough_decline": DECLINE,
    "qoq_change": CHANGE,
    "yoy_change": CHANGE,
}
#: Known metrics per scope. A platform scope is ``segment:platform`` (``cefi:Tether``).
METRICS: dict[str, dict[str, str]] = {
    **{s: dict(_SERIES_METRICS) for s in SERIES},
    **{s: {**_SERIES_METRICS, "top3_share": SHARE} for s in SEGMENTS},
    VC: {"deals": COUNT, "amount_usd": MONEY, "avg_share_of_crypto_vc": SHARE},
    "platform": {"share": SHARE},
}
METRICS["total"] |= {
    "defi_share_ex_cdp": SHARE,
    "onchain_share": SHARE,
    "cefi_top3_share_of_total": SHARE,
}
#: Cited metrics that are money, so the unit checks cover them too.
MONEY_METRICS = {(VC, "amount_usd")}


def scope_kind(scope: str) -> str | None:
    """The key of :data:`METRICS` a scope falls under, or None when it is not a scope."""
    if scope in METRICS and scope != "platform":
        return scope
    seg, sep, platform = scope.partition(":")
    return "platform" if sep and seg in SEGMENTS and platform.strip() else None


def quarters(period: str) -> tuple[str, str] | None:
    """First and last quarter of ``2024Q4`` or ``2022Q1-2024Q4``; None if neither."""
    if PERIOD_RE.match(period):
        return period, period
    m = RANGE_RE.match(period)
    return (m.group(1), m.group(2)) if m else None


def is_money(r: Row) -> bool:
    """Whether a cited row's ``value`` is an amount in USD."""
    return (r["scope"], r["metric"]) in MONEY_METRICS


def cited_rules(r: Row) -> list[Problem]:
    """Scope, metric, period and value of one cited row (types were checked when read)."""
    out: list[Problem] = []

    def add(field: str, msg: str) -> None:
        out.append(Problem(r["_file"], r["_row"], field, msg))

    kind = scope_kind(r["scope"])
    if kind is None:
        add(
            "scope",
            f"unknown scope {r['scope']!r}; expected one of {', '.join((*SERIES, VC))} "
            "or segment:platform (e.g. cefi:Tether)",
        )
        return out
    what = METRICS[kind].get(r["metric"])
    if what is None:
        add(
            "metric",
            f"unknown metric {r['metric']!r} for scope {r['scope']!r}; expected one of "
            f"{', '.join(METRICS[kind])}",
        )
        return out
    span = quarters(r["period"])
    if span is None:
        add("period", f"{r['period']!r} is not a quarter YYYYQn or a range YYYYQn-YYYYQn")
        return out
    first, last = span
    if first != last and kind != VC:
        add("period", f"a range of quarters is for scope 'vc' only; {r['scope']} takes one quarter")
    elif period_index(first) > period_index(last):
        add("period", f"{r['period']} runs backwards: {first} is after {last}")
    elif period_index(first) < period_index(FIRST_PERIOD):
        add("period", f"{first} is before {FIRST_PERIOD}, the first quarter covered")
    elif period_end(last).year > r["published"].year + LAST_YEAR_AHEAD:
        add("period", f"{last} is more than {LAST_YEAR_AHEAD} year(s) after {r['published']}")
    elif r["published"] < period_end(last):
        add(
            "published",
            f"{r['published']} is before the end of {last} ({period_end(last)}); a ratio "
            "cannot be cited before its quarter ends",
        )
    _value_rules(r["value"], what, add)
    return out


def _value_rules(v: float, what: str, add: Callable[[str, str], None]) -> None:
    """The range each kind of number has; a share written in percent gets the fraction."""
    percent = f"; did you mean {v / 100:g} ({v:g}%)?" if 1 < v <= 100 else ""
    if what in (SHARE, DECLINE) and not 0 <= v <= 1:
        add("value", f"{v:g} is not a fraction in [0, 1]; ratios are fractions{percent}")
    elif what == DRAWDOWN and v > 1:
        add("value", f"{v:g} is above 1: a drawdown 1 - value/peak cannot exceed 100%{percent}")
    elif what == CHANGE and v < -1:
        add("value", f"{v:g} is below -1: a value cannot fall by more than 100%")
    elif what == REBOUND and v < 0:
        add("value", f"{v:g} is negative: the value is never below the trough it rebounds from")
    elif what in (COUNT, MONEY) and v < 0:
        add("value", f"is negative ({v:g})")
    elif what == COUNT and not float(v).is_integer():
        add("value", f"{v:g} is not a whole number of deals")


# --- the cross-check ---------------------------------------------------------------------------


def computed(m: Market, scope: str, metric: str, period: str) -> tuple[Est, str] | None:
    """The value of a cited ratio at ``m``'s vintage, and how it was computed.

    None when the vintage lacks the figures; the report then shows no computed value either.
    """
    if not m.has(period):
        return None
    if scope_kind(scope) == "platform":
        seg, _, name = scope.partition(":")
        p = next((p for p in m.platforms(seg, period) if p.name == name), None)
        total = m.value(seg, period)
        return p and (p.share, f"{name} {_usd(p.usd)} / {seg} {_usd(total)}")
    if metric in _SERIES_METRICS and metric.endswith("_change"):
        ch = m.change(scope, period, 1 if metric == "qoq_change" else 4)
        if ch is None:
            return None
        now = m.value(scope, period)
        return ch[0], f"{_usd(now)} / {_usd(ch[2])} ({ch[1]}) - 1"
    if metric in _SERIES_METRICS:
        return _cycle_metric(m, scope, metric, period)
    return _share_metric(m, scope, metric, period)


def _cycle_metric(m: Market, scope: str, metric: str, period: str) -> tuple[Est, str] | None:
    c = m.cycle(scope, period)
    if c is None:
        return None
    (pp, peak), trough = c.peak, c.trough
    if metric == "peak_to_trough_decline":
        if trough is None or c.deepest_fall is None:
            return None
        how = f"1 - trough {_usd(trough[1])} ({trough[0]}) / peak {_usd(peak)} ({pp})"
        return c.deepest_fall, how
    if c.value is None:
        return None
    if metric == "drawdown_from_peak":
        d = c.value.over(peak)
        return d and (d.one_minus(), f"1 - {_usd(c.value)} / peak {_usd(peak)} ({pp})")
    if trough is None:
        return None
    r = c.value.over(trough[1])
    return r and (r.minus_one(), f"{_usd(c.value)} / trough {_usd(trough[1])} ({trough[0]}) - 1")


def _share_metric(m: Market, scope: str, metric: str, period: str) -> tuple[Est, str] | None:
    if metric == "top3_share":
        top = m.top(scope, period)
        total = m.value(scope, period)
        usd_top = Est(0.0) if top is None else sum((p.usd for p in top[1]), Est(0.0))
        return top and (top[0], f"top 3 {_usd(usd_top)} / {scope} {_usd(total)}")
    defi, cdp = m.value("defi", period), m.value("cdp", period)
    if metric == "defi_share_ex_cdp":
        ex = m.value("total_ex_cdp", period)
        r = None if defi is None or ex is None else defi.over(ex)
        return r and (r, f"defi {_usd(defi)} / total ex-CDP {_usd(ex)}")
    total = m.value("total", period)
    if total is None:
        return None
    if metric == "onchain_share":
        r = None if defi is None or cdp is None else (defi + cdp).over(total)
        return r and (r, f"(defi {_usd(defi)} + cdp {_usd(cdp)}) / total {_usd(total)}")
    if metric == "cefi_top3_share_of_total":
        top = m.top("cefi", period)
        if top is None:
            return None
        u = sum((p.usd for p in top[1]), Est(0.0))
        r = u.over(total)
        return r and (r, f"CeFi top 3 {_usd(u)} / total {_usd(total)}")
    return None


def _usd(x: Est | None) -> str:
    return "n/a" if x is None else usd(x.v, digits=4, sig=True, billions_from=1e8)


def stated(ratio: float) -> float:
    """Half a unit of the precision a ratio is cited with, taken as at least a whole percent.

    ``0.50`` reads back as ``0.5``, which would otherwise allow +-5 points.
    """
    return min(half_unit(ratio), 0.005)


def check_cited(cited: list[Row], obs: list[Row], vc: list[Row], user: set[str]) -> list[Problem]:
    """Each user's cited ratio against the figures of its own vintage (bundled + the files).

    The allowed difference is half a unit of the digits the ratio is cited with, plus what the
    rounding of the figures it is made of can move the computed value. VC counts and averages
    are checked against the quarters of ``vc_funding`` their range covers; a cited VC amount goes
    through the unit checks (``evidence.py``).
    """
    problems = []
    markets: dict[date, Market] = {}
    for c in cited:
        if c["_file"] not in user or is_money(c):
            continue
        if c["scope"] == VC:
            problems += _check_vc(c, vc)
            continue
        if c["published"] not in markets:  # one market per vintage, shared by its rows
            markets[c["published"]] = Market(obs, c["published"])
        got = computed(markets[c["published"]], c["scope"], c["metric"], c["period"])
        if got is None:
            continue
        est, how = got
        tol = stated(c["value"]) + est.e + 1e-9
        if abs(c["value"] - est.v) <= tol:
            continue
        hint = next(
            (
                f"; did you mean {c['value'] / 10**k:g}?"
                + (" ratios are fractions (0.43 for 43%)" if k == 2 else "")
                for k in (2, 1, -1, -2)
                if abs(c["value"] / 10**k - est.v) <= stated(c["value"] / 10**k) + est.e + 1e-9
            ),
            "",
        )
        problems.append(
            Problem(
                c["_file"],
                c["_row"],
                "value",
                f"{c['value']:g} disagrees with the {c['metric']} of {c['scope']} in "
                f"{c['period']} computed from the figures published by {c['published']}: "
                f"{est.v:.4g} = {how} (rounding allows +-{tol:.2g}){hint}",
            )
        )
    return problems


def _check_vc(c: Row, vc: list[Row]) -> list[Problem]:
    """A VC count or average over a range against the quarterly rows known at its vintage."""
    first, last = quarters(c["period"]) or (c["period"], c["period"])
    span = range(period_index(first), period_index(last) + 1)
    rows = [
        r
        for r in snapshot(vc, c["published"], ("period",)).values()
        if period_index(r["period"]) in span
    ]
    col = "deals" if c["metric"] == "deals" else "share_of_crypto_vc"
    known = [r[col] for r in rows if r[col] is not None]
    complete = len(known) == len(span)
    where = (
        f"{len(known)} of the {len(span)} quarter(s) in vc_funding as published by {c['published']}"
    )
    if col == "deals":
        s = sum(known)
        if s > c["value"] or (complete and s != c["value"]):
            relation = "more than" if s > c["value"] else "not"
            return [
                Problem(
                    c["_file"],
                    c["_row"],
                    "value",
                    f"{where} count {s} deals, {relation} the cited {c['value']:g}",
                )
            ]
    elif complete and known:
        avg = math.fsum(known) / len(known)
        if abs(avg - c["value"]) > half_unit(c["value"]) + max(map(half_unit, known)):
            return [
                Problem(
                    c["_file"],
                    c["_row"],
                    "value",
                    f"{c['value']:g} is not the average {avg:.4g} of the {where}",
                )
            ]
    return []

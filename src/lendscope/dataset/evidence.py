"""The unit and sum checks over the tables: relations built from rows, decided, put in words.

Every money column takes part (``Table.money``, plus cited VC amounts): observations, overlaps,
vc_funding and context. For each figure in a user's file, :func:`relations` collects

- pairs with the same fact in other vintages or sources, and with the same series in the
  neighbouring quarters (``NEIGHBOUR_QUARTERS``);
- the sums it takes part in at every vintage: platform rows against their cited segment or chain
  total, segments against the cited ``total`` and ``total_ex_cdp``, an overlap against the whole
  market of its quarter, VC quarters against a cited VC total over their range.

:func:`lendscope.dataset.units.decide` then picks the figures that are off, and
:func:`check_units` words one problem per rescaled figure (with the fix) and one per relation
that stays unexplained.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

from lendscope.core.fmt import usd
from lendscope.dataset.cited import CITED_KEY, VC, is_money, quarters
from lendscope.dataset.load import Problem, Row
from lendscope.dataset.market import aggregate_value, segment_value, snapshot
from lendscope.dataset.schema import AGGREGATES, PERIOD_RE, SEGMENTS, TABLES, UNATTRIBUTED
from lendscope.dataset.schema import period_index as _pidx
from lendscope.dataset.units import (
    NEIGHBOUR_QUARTERS,
    Decision,
    Figure,
    Pair,
    Sum,
    decide,
)

#: Values a user's figure is compared with, at most.
MAX_PARTNERS = 8


def money(v: float) -> str:
    """A figure in a message: three significant digits, billions from $100M."""
    return usd(v, digits=3, sig=True, billions_from=1e8)


def where(row: Row) -> str:
    """``file row N``, as a message names another row."""
    return f"{row['_file']} row {row['_row']}"


def _quarter_of(text: str) -> int | None:
    """A context ``date`` (YYYY-MM-DD or YYYYQn) as a quarter number."""
    if PERIOD_RE.match(text):
        return _pidx(text)
    try:
        d = date.fromisoformat(text)
    except ValueError:
        return None
    return d.year * 4 + (d.month - 1) // 3


#: Per table: the columns naming a series, the column naming its time, and that time as a
#: quarter number (None: no neighbours; a cited range is compared with its own vintages only).
SERIES: dict[str, tuple[tuple[str, ...], str, Callable[[str], int | None]]] = {
    "observations": (("segment", "platform", "chain", "metric"), "period", _pidx),
    "overlaps": (("lender", "via_platform"), "period", _pidx),
    "vc_funding": ((), "period", _pidx),
    "context": (("segment", "platform", "chain", "metric"), "date", _quarter_of),
    "cited_metrics": (("scope", "metric"), "period", lambda _: None),
}


class Figures:
    """One :class:`Figure` per money cell, shared by every relation that cell is in."""

    def __init__(self, user: set[str]):
        self.user = user
        self._by: dict[tuple[int, str], Figure] = {}

    def __call__(self, row: Row, field: str = "value_usd") -> Figure:
        """The figure of ``row[field]``, made on first use."""
        k = (id(row), field)
        if k not in self._by:
            self._by[k] = Figure(row, field, row["_file"] in self.user, len(self._by))
        return self._by[k]


def _money_cells(rows: dict[str, list[Row]]) -> list[tuple[str, Row, str]]:
    """(table, row, column) of every non-zero money value."""
    out = []
    for name in SERIES:
        cols = ("value",) if name == "cited_metrics" else TABLES[name].money
        for r in rows.get(name, []):
            if name == "cited_metrics" and not is_money(r):
                continue
            out += [(name, r, c) for c in cols if r.get(c)]
    return out


def pairs(rows: dict[str, list[Row]], fig: Figures) -> tuple[list[Pair], list[list[Figure]]]:
    """Pairs of comparable values with a user's figure in them, and each file's series.

    A user's figure is paired with its :data:`MAX_PARTNERS` closest values: the same fact first,
    then the nearest quarters, bundled before the user's own. Enough to outvote one odd
    neighbour, and it keeps a file of a thousand vintages of one figure from a million pairs.
    """
    series: dict[tuple, list[Figure]] = defaultdict(list)
    for name, r, col in _money_cells(rows):
        cols, _, _ = SERIES[name]
        series[(name, col, *(r[c] for c in cols))].append(fig(r, col))
    out: list[Pair] = []
    seen: set[tuple[int, int]] = set()
    groups: dict[tuple, list[Figure]] = defaultdict(list)
    for key, figs in series.items():
        _, when, quarter = SERIES[key[0]]
        by_q: dict[int | None, dict[str, list[Figure]]] = defaultdict(lambda: defaultdict(list))
        for f in sorted(figs, key=lambda f: (f.user, f.order)):
            by_q[quarter(f.row[when])][f.row[when]].append(f)
        for a in (f for f in figs if f.user):
            groups[(*key, a.row["_file"])].append(a)
            for b, same, dist in _partners(a, a.row[when], quarter(a.row[when]), by_q):
                k = (min(a.order, b.order), max(a.order, b.order))
                if k not in seen:
                    seen.add(k)
                    out.append(Pair(a, b, same=same, distance=dist))
    return out, [g for g in groups.values() if len(g) > 1]


def _partners(a: Figure, token: str, q: int | None, by_q: dict) -> list[tuple[Figure, bool, int]]:
    """Up to MAX_PARTNERS values to compare ``a`` with, closest first."""
    out: list[tuple[Figure, bool, int]] = []

    def take(fs: list[Figure], same: bool, dist: int) -> None:
        for f in fs:
            if len(out) >= MAX_PARTNERS:
                return
            if f is not a:
                out.append((f, same, dist))

    take(by_q[q][token], True, 0)
    if q is None:
        return out
    for d in range(NEIGHBOUR_QUARTERS + 1):
        for qq in dict.fromkeys((q - d, q + d)):
            for t, fs in by_q.get(qq, {}).items():
                if t != token:
                    take(fs, False, d)
    return out


def _blame_order(rows: list[Row], fig: Figures) -> list[Figure]:
    figs = [fig(r) for r in rows]
    return [f for f in figs if f.user] + [f for f in figs if not f.user]


def observation_sums(obs: list[Row], fig: Figures) -> list[Sum]:
    """Platform rows against cited totals, and segments against cited aggregates, per vintage."""
    out: dict[tuple, Sum] = {}

    def add(parts: list[Row], whole: list[Row], exact: bool, text: str, blame: list[Row]) -> None:
        s = Sum([fig(r) for r in parts], [fig(r) for r in whole], exact, text)
        s.blame = _blame_order(blame, fig)
        out.setdefault((tuple(map(id, s.parts)), tuple(map(id, s.whole)), exact), s)

    by_period: dict[str, list[Row]] = defaultdict(list)
    for r in obs:
        by_period[r["period"]].append(r)
    for period, prs in by_period.items():
        for as_of in sorted({r["published"] for r in prs}):
            snap = list(snapshot(prs, as_of).values())
            _sums_at(snap, f"{period} as published by {as_of}", add)
    return list(out.values())


def _sums_at(snap: list[Row], when: str, add) -> None:
    for t in (r for r in snap if not r["platform"] and r["segment"] in SEGMENTS):
        comps = [
            r
            for r in snap
            if r["segment"] == t["segment"]
            and r["platform"]
            and (not t["chain"] or r["chain"] == t["chain"])
        ]
        if not comps:
            continue
        s = sum(r["value_usd"] for r in comps)
        closed = not t["chain"] and any(r["platform"] == UNATTRIBUTED for r in comps)
        label = t["segment"] + (f" on {t['chain']}" if t["chain"] else "")
        what = "sum to" if s > t["value_usd"] else f"incl. '{UNATTRIBUTED}' sum to"
        rel = "more than" if s > t["value_usd"] else "not"
        add(
            comps,
            [t],
            closed,
            f"{label} platforms {what} {money(s)}, {rel} the cited {label} total "
            f"{money(t['value_usd'])} ({where(t)}) for {when}",
            [*comps, t],
        )
    for agg in AGGREGATES:
        rows = [r for r in snap if r["segment"] == agg]
        if not rows:
            continue
        t, parts = rows[0], ("cefi", "defi", "cdp") if agg == "total" else ("cefi", "defi")
        known = [(p, *segment_value(snap, p)) for p in parts]
        known = [(p, v, rs) for p, v, rs in known if v is not None]
        s = sum(v for _, v, _ in known)
        involved = [r for _, _, rs in known for r in rs]
        if not known:
            continue
        names = " + ".join(p for p, _, _ in known)
        verb = "exceeds" if s > t["value_usd"] else "does not sum to"
        add(
            involved,
            [t],
            len(known) == len(parts),
            f"{names} = {money(s)} {verb} the cited {agg} {money(t['value_usd'])} "
            f"({where(t)}) for {when}",
            [t, *involved],
        )


def overlap_sums(overlaps: list[Row], obs: list[Row], fig: Figures) -> list[Sum]:
    """A quarter's overlaps against its whole market (the latest total known).

    An overlap is part of the market it double counts, so the overlaps cannot exceed it.
    """
    out = []
    latest: dict[str, list[Row]] = defaultdict(list)
    for r in snapshot(obs, date.max).values():
        latest[r["period"]].append(r)
    by_period: dict[str, list[Row]] = defaultdict(list)
    for o in overlaps:
        by_period[o["period"]].append(o)
    for period, os_ in by_period.items():
        if not any(o["_file"] in fig.user and o["amount_usd"] for o in os_):
            continue
        total, rows = aggregate_value(latest[period], "total")
        if total is None:
            continue
        for as_of in sorted({o["published"] for o in os_}):
            cur = list(snapshot(os_, as_of, ("period", "lender", "via_platform")).values())
            s = sum(o["amount_usd"] for o in cur)
            text = (
                f"overlaps for {period} as published by {as_of} sum to {money(s)}, more than "
                f"the whole market {money(total)} ({where(rows[0])})"
            )
            rel = Sum([fig(o, "amount_usd") for o in cur], [fig(r) for r in rows], False, text)
            rel.blame = [f for f in rel.parts if f.user] or rel.parts
            out.append(rel)
    return out


def vc_sums(cited: list[Row], vc: list[Row], fig: Figures) -> list[Sum]:
    """VC amounts of the quarters a cited VC total covers, at each vintage, against it."""
    out = []
    for c in (c for c in cited if is_money(c) and c["scope"] == VC):
        first, last = quarters(c["period"]) or (c["period"], c["period"])
        span = range(_pidx(first), _pidx(last) + 1)
        inside = [r for r in vc if _pidx(r["period"]) in span]
        later = (r["published"] for r in inside if r["published"] > c["published"])
        dates = {c["published"], *later}
        for as_of in sorted(dates):
            key = tuple(c[k] for k in CITED_KEY)
            if snapshot(cited, as_of, CITED_KEY).get(key) is not c:
                continue  # a later vintage of the cited total supersedes this one
            cur = [r for r in snapshot(inside, as_of, ("period",)).values() if r["amount_usd"]]
            if not cur:
                continue
            s = sum(r["amount_usd"] for r in cur)
            exact = len(cur) == len(span)
            rel = "more than" if s > c["value"] else "not"
            text = (
                f"vc_funding amounts of {len(cur)} of the {len(span)} quarter(s) in {c['period']} "
                f"as published by {as_of} sum to {money(s)}, {rel} the cited total "
                f"{money(c['value'])} ({where(c)})"
            )
            r = Sum([fig(x, "amount_usd") for x in cur], [fig(c, "value")], exact, text)
            r.blame = [f for f in r.figures if f.user] + [f for f in r.figures if not f.user]
            out.append(r)
    return out


def check_units(rows: dict[str, list[Row]], user: set[str]) -> list[Problem]:
    """Sums and unit errors over every money column; ``rows`` hold only rows fit to compare."""
    fig = Figures(user)
    obs = rows.get("observations", [])
    prs, groups = pairs(rows, fig)
    sums = observation_sums(obs, fig)
    sums += overlap_sums(rows.get("overlaps", []), obs, fig)
    sums += vc_sums(rows.get("cited_metrics", []), rows.get("vc_funding", []), fig)
    return words(decide([*prs, *sums], groups))


def _ratio(r: float) -> str:
    """``10x``, ``0.1x``, ``1000x``: three significant digits, never an exponent."""
    return f"{r:,.0f}x" if r >= 100 else f"{r:.3g}x"


def _factor(k: int) -> str:
    return f"{10**k:g}x" if k > 0 else f"1/{10**-k:g}x"


def _pair_text(f: Figure, p: Pair) -> str:
    other = p.b if p.a is f else p.a
    what = "the same figure" if p.same else "its neighbour"
    label = other.row.get("period") or other.row.get("date")
    return (
        f"{_ratio(f.value / other.value)} {what} {money(other.value)} for {label} "
        f"({where(other.row)})"
    )


def words(d: Decision) -> list[Problem]:
    """One problem per rescaled figure, with the fix, then those of unexplained relations.

    An unexplained relation is pinned on one figure, and a figure gets the first such relation
    of each kind only (relations come in vintage order).
    """
    out: dict[tuple, Problem] = {}

    def add(f: Figure, kind: str, msg: str) -> None:
        cell = (f.row["_file"], f.row["_row"], f.field)
        out.setdefault((*cell, kind), Problem(*cell, msg))

    repaired = [r for r in d.failing if r not in d.unresolved]
    for f, move in sorted(d.moves.items(), key=lambda fm: fm[0].order):
        fix = f"did you mean {money(f.value * 10.0**move.k)}?"
        own = [r for r in repaired if f in r.figures]
        ps = sorted((r for r in own if isinstance(r, Pair)), key=lambda p: _closeness(f, p))
        ss = [r.text for r in own if isinstance(r, Sum)]
        if ps:
            also = f"; also {ss[0]}" if ss else ""
            also += f" (and {len(ss) - 1} more sum(s))" if len(ss) > 1 else ""
            msg = f"probable unit error: {money(f.value)} is {_pair_text(f, ps[0])}{also}; {fix}"
        elif ss:
            msg = f"{ss[0]}; probable unit error: {fix}"
        else:  # moved with the rest of its series in the file, which the evidence is about
            others = ", ".join(where(g.row) for g in move.figures if g is not f)
            msg = (
                f"probable unit error: {money(f.value)} is on the scale of {others}, the same "
                f"series, which is {_factor(-move.k)} off; {fix}"
            )
        add(f, "unit", msg)
    pairs_left = sorted(
        (r for r in d.unresolved if isinstance(r, Pair)), key=lambda p: (not p.same, p.distance)
    )
    for p in pairs_left:
        tail = (
            "nothing else says which of the two is off: check both"
            if p in d.ambiguous
            else "the other figures disagree on which is off: check both"
        )
        for f in (x for x in p.figures if x.user):
            add(f, "pair", f"probable unit error: {money(f.value)} is {_pair_text(f, p)}; {tail}")
    for r in (r for r in d.unresolved if isinstance(r, Sum)):
        culprit = next((f for f in r.blame if f.user and f not in d.moves), r.blame[0])
        tail = (
            "; probable unit error, but nothing else says whether the total or its parts are "
            "off: check both"
            if r in d.ambiguous
            else ""
        )
        add(culprit, "sum", r.text + tail)
    return list(out.values())


def _closeness(f: Figure, p: Pair) -> tuple:
    """The same fact first, then the nearest quarter, then file order."""
    other = p.b if p.a is f else p.a
    return (not p.same, p.distance, other.row["_row"])

"""The market at one vintage, in plain Python over validated rows, for the validator.

The validator checks a cited ratio against the figures, but the dataset layer may not import the
metrics layer (the import contract), and the Ibis expressions need an engine anyway. So the few
definitions a cited ratio needs are restated here, each after the expression it mirrors:

- :func:`snapshot` is ``frames.as_of``: the latest row per fact published by the vintage;
- :func:`segment_value` and :func:`aggregate_value` are ``frames.segment_values`` and
  ``frames.quarterly``: a cited total, else platform rows closed by ``unattributed``; a total is
  the sum of its segments when all are known, else the cited aggregate;
- :meth:`Market.cycle` is ``cycles.cycles``, :meth:`Market.change` is ``cycles.changes``;
- :meth:`Market.platforms` and :meth:`Market.top` are ``concentration.platform_shares`` and
  ``top_n``.

``tests/dataset/test_cited.py`` holds them equal to the report's "reported vs computed" values at
every bundled vintage. Each value carries the rounding of the figures it is made of (:class:`Est`),
because a cited ratio can only agree with the computed one within what rounded inputs allow.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lendscope.dataset.load import Row
from lendscope.dataset.schema import (
    AGGREGATES,
    GROUP_SEP,
    SEGMENTS,
    UNATTRIBUTED,
    period_from_index,
    period_index,
)

OBS_KEY = ("period", "segment", "platform", "chain", "metric")
#: The segments each cited aggregate is the sum of.
AGGREGATE_PARTS = {"total": SEGMENTS, "total_ex_cdp": ("cefi", "defi")}


def half_unit(x: float) -> float:
    """Half a unit of the last digit written: ``36.5e9`` was rounded to $0.1B, so +-0.05e9.

    ``repr`` gives the shortest text that reads back as ``x``, which for a parsed cell is the digits
    the source printed (``0.43`` -> 0.005, ``0.9325e9`` -> 5e4). Trailing zeros do not survive
    parsing (``16.0e9`` reads as ``16e9``), so at least two significant digits are assumed: a
    round ``20e9`` is taken as +-0.5e9, not +-5e9.
    """
    if not x or not math.isfinite(x):
        return 0.0
    d = Decimal(repr(x)).normalize()
    last, lead = d.as_tuple().exponent, d.adjusted()
    return 0.5 * 10.0 ** min(last, lead - 1)


@dataclass(frozen=True)
class Est:
    """A value and the bound ``e`` on how far the rounding of its inputs can move it."""

    v: float
    e: float = 0.0

    @classmethod
    def of(cls, rows: Iterable[Row], field: str = "value_usd") -> Est:
        """The sum of the rows' figures, each rounded to the digits it was published with."""
        vals = [r[field] for r in rows]
        return cls(math.fsum(vals), math.fsum(half_unit(v) for v in vals))

    def __add__(self, o: Est) -> Est:
        return Est(self.v + o.v, self.e + o.e)

    def __sub__(self, o: Est) -> Est:
        return Est(self.v - o.v, self.e + o.e)

    def scale(self, k: float) -> Est:
        """``k`` times this value (``k`` exact)."""
        return Est(self.v * k, self.e * abs(k))

    def over(self, o: Est) -> Est | None:
        """``self / o`` (None when ``o`` is zero); d(a/b) <= (da + |a/b| db) / |b|."""
        if not o.v:
            return None
        r = self.v / o.v
        return Est(r, (self.e + abs(r) * o.e) / abs(o.v))

    def one_minus(self) -> Est:
        """``1 - self``."""
        return Est(1 - self.v, self.e)

    def minus_one(self) -> Est:
        """``self - 1``."""
        return Est(self.v - 1, self.e)


def snapshot(rows: Iterable[Row], as_of: date, key: tuple[str, ...] = OBS_KEY) -> dict[tuple, Row]:
    """Latest row per ``key`` published on or before ``as_of``; withdrawn rows drop out.

    Rows with the same key and date keep the first (the bundled row before a user's conflicting
    one, which the duplicate check reports).
    """
    best: dict[tuple, Row] = {}
    for r in rows:
        if r["published"] > as_of:
            continue
        k = tuple(r[c] for c in key)
        if k not in best or r["published"] > best[k]["published"]:
            best[k] = r
    return {k: r for k, r in best.items() if r.get("method") != "withdrawn"}


def segment_value(snap: list[Row], seg: str) -> tuple[float | None, list[Row]]:
    """A segment's size in a snapshot: its cited total, else its rows closed by `unattributed`."""
    total = [r for r in snap if r["segment"] == seg and not r["platform"] and not r["chain"]]
    if total:
        return total[0]["value_usd"], total
    comps = [r for r in snap if r["segment"] == seg and r["platform"]]
    if any(r["platform"] == UNATTRIBUTED for r in comps):
        return math.fsum(r["value_usd"] for r in comps), comps
    return None, comps


def aggregate_value(snap: list[Row], agg: str) -> tuple[float | None, list[Row]]:
    """``total`` or ``total_ex_cdp``: its segments summed when all are known, else the cited one."""
    parts = [segment_value(snap, s) for s in AGGREGATE_PARTS[agg]]
    if all(v is not None for v, _ in parts):
        return math.fsum(v for v, _ in parts), [r for _, rs in parts for r in rs]
    cited = [r for r in snap if r["segment"] == agg]
    if cited:
        return max(r["value_usd"] for r in cited), cited[:1]
    return None, []


def members(platform: str) -> int:
    """How many lenders a platform row stands for: ``A+B`` is a group of two."""
    return platform.count(GROUP_SEP) + 1


@dataclass(frozen=True)
class Platform:
    """One platform of a segment in a quarter, with its share of the segment."""

    name: str
    usd: Est
    share: Est
    members: int

    @property
    def named(self) -> bool:
        """False for the `unattributed` remainder, which is in the denominator but no lender."""
        return self.name != UNATTRIBUTED


@dataclass(frozen=True)
class Cycle:
    """A series up to a quarter: its value there (None if absent), the peak and the trough."""

    value: Est | None
    peak: tuple[str, Est]
    trough: tuple[str, Est] | None
    deepest_fall: Est | None


class Market:
    """Every quarter's segments and totals at one vintage, from observation rows."""

    def __init__(self, obs: Iterable[Row], as_of: date):
        self.as_of = as_of
        self.rows: dict[str, list[Row]] = defaultdict(list)
        for r in snapshot(obs, as_of).values():
            self.rows[r["period"]].append(r)
        self._series: dict[str, list[tuple[int, Est]]] = defaultdict(list)
        for period in sorted(self.rows, key=period_index):
            for s in (*AGGREGATES, *SEGMENTS):
                v = self.value(s, period)
                if v is not None:
                    self._series[s].append((period_index(period), v))

    def has(self, period: str) -> bool:
        """Whether the quarter has any figure at this vintage (the report's ``periods()``)."""
        return any(self.value(s, period) is not None for s in (*AGGREGATES, *SEGMENTS))

    def value(self, series: str, period: str) -> Est | None:
        """A series' value in a quarter, with the rounding of the rows it is made of."""
        snap = self.rows.get(period, [])
        v, rows = (aggregate_value if series in AGGREGATES else segment_value)(snap, series)
        return None if v is None else Est(v, Est.of(rows).e)

    def cycle(self, series: str, period: str) -> Cycle | None:
        """Peak, trough and deepest fall of a series using quarters up to ``period`` only.

        As ``cycles.cycles``: the peak of the deepest fall ``1 - trough/peak`` (the latest one on
        ties), else the all-time high; no trough while the series has not fallen.
        """
        at = period_index(period)
        pts = [(p, x) for p, x in self._series.get(series, []) if p <= at]
        if not pts:
            return None
        ath: tuple[int, Est] | None = None
        deepest = -math.inf
        trough = peak = None
        for p, x in pts:
            if ath is None or x.v >= ath[1].v:
                ath = (p, x if ath is None or x.v > ath[1].v else ath[1])
            fall = 1 - x.v / ath[1].v
            deepest = max(deepest, fall)
            if fall == deepest and fall > 0:
                trough, peak = (p, x), ath
        here = pts[-1][1] if pts[-1][0] == at else None
        pk = peak or ath
        return Cycle(
            value=here,
            peak=(period_from_index(pk[0]), pk[1]),
            trough=None if trough is None else (period_from_index(trough[0]), trough[1]),
            deepest_fall=None if trough is None else trough[1].over(peak[1]).one_minus(),
        )

    def change(self, series: str, period: str, lag: int) -> tuple[Est, str, Est] | None:
        """``value / value lag quarters earlier - 1`` with the earlier quarter and its value."""
        now = self.value(series, period)
        before = period_from_index(period_index(period) - lag)
        prev = self.value(series, before)
        if now is None or prev is None or not prev.v:
            return None
        return now.over(prev).minus_one(), before, prev

    def platforms(self, seg: str, period: str) -> list[Platform]:
        """The segment's platform rows (summed over chains), named largest first, then the rest."""
        total = self.value(seg, period)
        if total is None or not total.v:
            return []
        by_name: dict[str, list[Row]] = defaultdict(list)
        for r in self.rows.get(period, []):
            if r["segment"] == seg and r["platform"]:
                by_name[r["platform"]].append(r)
        out = []
        for name, rows in by_name.items():
            usd = Est.of(rows)
            out.append(Platform(name, usd, usd.over(total), members(name)))
        return sorted(out, key=lambda p: (not p.named, -p.usd.v, p.name))

    def top(self, seg: str, period: str, n: int = 3) -> tuple[Est, list[Platform]] | None:
        """Share of the N largest named lenders, a group straddling place N counted pro rata."""
        named = [p for p in self.platforms(seg, period) if p.named]
        if not named:
            return None
        share, before = Est(0.0), 0
        for p in named:
            frac = 1.0 if before + p.members <= n else max(0.0, (n - before) / p.members)
            share = share + p.share.scale(frac)
            before += p.members
        whole: list[Platform] = []  # the report's cefi_top3: whole rows until N members
        for p in named:
            if sum(x.members for x in whole) >= n:
                break
            whole.append(p)
        return share, whole

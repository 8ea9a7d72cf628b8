"""Which figures are in the wrong unit: the decision, from every piece of evidence at once.

A figure typed 10x (or 100x, 1000x) too large or too small shows up as relations that fail:

- a :class:`Pair`: two values of one figure, the same fact in another vintage or a neighbouring
  quarter, a whole number of decades apart;
- a :class:`Sum`: parts that should add up to a total (platform rows and their cited segment
  total, segments and a cited aggregate, quarters and a cited VC total) and do not.

A failing relation says that one of its figures is off, not which. Deciding per relation blames
the wrong one: when a file's components are garbled and its total is right, the total's own
relation "sum of parts = total" fails too, and rescaling the total would make it hold. So
:func:`decide` weighs all relations together. It greedily applies the rescaling of the user's
figures (one figure, or several together) that repairs the most relations and breaks the fewest,
until none helps. A correct figure agrees with its other vintages and neighbours, so rescaling it
breaks more than it repairs and it is never blamed. When two disjoint rescalings repair the same
relations equally (a total against components that are all in the same file, with nothing else
known), the evidence cannot tell them apart: both are left unblamed and the relation is reported
as ambiguous.

Only figures from the user's files (``Figure.user``) are ever rescaled; bundled figures are the
reference.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field

from lendscope.dataset.load import Row

#: Published figures are rounded (often to $0.1B); sums may miss a cited total by this much.
SUM_TOLERANCE = 0.01
#: A ratio within this many decades (log10) of a whole power of ten is a unit slip: 10**0.75 to
#: 10**1.25 for 10x.
DECADE_SLACK = 0.25
#: The largest slip considered: thousands for millions (or billions).
MAX_DECADES = 3
#: Neighbours closer than this many quarters are compared.
NEIGHBOUR_QUARTERS = 2

Scale = dict["Figure", int]


@dataclass(eq=False)
class Figure:
    """One money cell: the value of ``row[field]``; ``user`` if it is in a file being added."""

    row: Row
    field: str
    user: bool
    order: int = 0  # creation order, for stable choices

    @property
    def value(self) -> float:
        """The value as written in the file."""
        return self.row[self.field]

    def at(self, scale: Scale) -> float:
        """The value after the rescaling under consideration."""
        return self.value * 10.0 ** scale.get(self, 0)


def decades(ratio: float) -> int:
    """``k`` when ``ratio`` is about ``10**k`` (0 < |k| <= MAX_DECADES), else 0."""
    if ratio <= 0 or not math.isfinite(ratio):
        return 0
    d = math.log10(ratio)
    k = round(d)
    return k if 0 < abs(k) <= MAX_DECADES and abs(d - k) <= DECADE_SLACK else 0


@dataclass(eq=False)
class Pair:
    """Two values of one figure that should be of one order: ``same`` fact, or neighbours."""

    a: Figure
    b: Figure
    same: bool
    distance: int = 0

    @property
    def figures(self) -> tuple[Figure, ...]:
        """Both figures."""
        return (self.a, self.b)

    def violated(self, scale: Scale) -> bool:
        """Whether the two are a whole number of decades apart, or further than any slip.

        The second case matters while deciding: rescaling a figure the wrong way must count as
        breaking the pair, not as moving it out of sight.
        """
        return self.fails(self.a.at(scale) / self.b.at(scale))

    @staticmethod
    def fails(ratio: float) -> bool:
        """:meth:`violated` for a given ratio of the two values."""
        return decades(ratio) != 0 or abs(math.log10(ratio)) > MAX_DECADES + DECADE_SLACK


@dataclass(eq=False)
class Sum:
    """``parts`` add up to ``whole`` (``exact``), or at least do not exceed it.

    ``text`` words the failure with the values as written; ``blame`` lists the figures in the
    order the problem is pinned on when no rescaling explains it (the user's first).
    """

    parts: list[Figure]
    whole: list[Figure]
    exact: bool
    text: str
    blame: list[Figure] = field(default_factory=list)

    @property
    def figures(self) -> tuple[Figure, ...]:
        """Every figure on either side."""
        return (*self.parts, *self.whole)

    def sides(self, scale: Scale) -> tuple[float, float]:
        """Sum of the parts and of the whole after rescaling."""
        return (
            math.fsum(f.at(scale) for f in self.parts),
            math.fsum(f.at(scale) for f in self.whole),
        )

    def violated(self, scale: Scale) -> bool:
        """Parts above the whole, or (exact) below it, beyond rounding."""
        return self.fails(*self.sides(scale))

    def fails(self, s: float, t: float) -> bool:
        """:meth:`violated` for given sums of the parts and of the whole."""
        tol = 1 + SUM_TOLERANCE
        return s > t * tol or (self.exact and s * tol < t)

    def fits(self, s: float, t: float, gone: float) -> bool:
        """Whether sides ``s`` and ``t`` agree, and the moved parts (``gone``) matter to it.

        Agreement must be tight (within rounding), not merely "no longer exceeds": dividing any
        too-large part by 10 eventually stops it exceeding. And a moved part whose removal would
        fit as well proves nothing about its scale (a small extra lender on a closed total).
        """
        if abs(s - t) > SUM_TOLERANCE * t:
            return False
        return not gone or abs(s - gone - t) > SUM_TOLERANCE * t


Relation = Pair | Sum


@dataclass(frozen=True)
class Move:
    """Rescale ``figures`` by ``10**k`` together."""

    figures: tuple[Figure, ...]
    k: int


@dataclass
class Decision:
    """The outcome: figures to rescale (by the move that did it), and what stays unexplained."""

    moves: dict[Figure, Move]
    #: Relations failing before any rescaling.
    failing: list[Relation]
    #: Relations still failing after the rescaling.
    unresolved: list[Relation]
    #: Unresolved relations that two rival rescalings explain equally well.
    ambiguous: set[Relation]

    @property
    def scale(self) -> Scale:
        """Decades per rescaled figure: the suggested fix is ``value * 10**k``."""
        return {f: m.k for f, m in self.moves.items()}


class _Search:
    """The greedy search of :func:`decide`, kept incremental so that large files stay fast.

    The sides of each sum are kept up to date as moves are applied, so a candidate is scored
    from the few figures it changes; and after a move only the candidates sharing a relation with
    it are scored again (a heap holds the rest, stale entries skipped).
    """

    KS = tuple(k for d in range(1, MAX_DECADES + 1) for k in (-d, d))

    def __init__(self, relations: list[Relation], groups: list[list[Figure]]):
        self.relations = relations
        self.groups = groups
        self.touching: dict[Figure, list[Relation]] = defaultdict(list)
        for r in relations:
            for f in r.figures:
                self.touching[f].append(r)
        self.scale: Scale = {}
        self.sides = {r: r.sides({}) for r in relations if isinstance(r, Sum)}
        self.failing = {r: r.violated({}) for r in relations}
        self.done: set[Figure] = set()  # rescaled or frozen as ambiguous: each moves once
        self.gains: dict[Move, int] = {}
        self.by_figure: dict[Figure, set[Move]] = defaultdict(set)
        self.heap: list[tuple] = []
        self.seq = 0

    # -- scoring ----------------------------------------------------------------------------

    def _after(self, r: Relation, delta: dict[Figure, int]) -> tuple[bool, bool]:
        """Whether ``r`` fails after ``delta``, and (sums) whether it then fits tightly."""
        if isinstance(r, Pair):
            a, b = (f.at(self.scale) * 10.0 ** delta.get(f, 0) for f in r.figures)
            return r.fails(a / b), True
        s, t = self.sides[r]
        gone = 0.0
        for f, k in delta.items():
            if f not in r.figures:
                continue
            now = f.at(self.scale)
            new = now * 10.0**k
            if f in r.parts:
                s += new - now
                gone += new
            else:
                t += new - now
        return r.fails(s, t), r.fits(s, t, gone)

    def gain(self, delta: dict[Figure, int]) -> int:
        """Relations ``delta`` repairs (a sum only when it then fits) minus those it breaks."""
        rels = {id(r): r for f in delta for r in self.touching[f]}.values()
        gain = 0
        for r in rels:
            fails, fits = self._after(r, delta)
            if self.failing[r] and not fails:
                gain += 1 if fits else 0
            elif fails and not self.failing[r]:
                gain -= 1
        return gain

    # -- candidates -------------------------------------------------------------------------

    def _push(self, m: Move) -> None:
        g = self.gain(dict.fromkeys(m.figures, m.k))
        self.gains[m] = g
        self.seq += 1
        key = (-g, len(m.figures), abs(m.k), min(f.order for f in m.figures), self.seq)
        heapq.heappush(self.heap, (*key, m))

    def add_candidates(self, rels: list[Relation]) -> None:
        """Candidate moves of the user's figures in these failing relations.

        Each figure alone, the user's parts of a sum together, and the series in one file that
        a figure belongs to (a whole series typed in thousands).
        """
        sets: list[tuple[Figure, ...]] = []
        involved = [f for r in rels for f in r.figures if f.user and f not in self.done]
        sets += [(f,) for f in involved]
        for r in rels:
            if isinstance(r, Sum):
                sets.append(tuple(f for f in r.parts if f.user and f not in self.done))
        inv = set(involved)
        for g in self.groups:
            if inv & set(g):
                sets.append(tuple(f for f in g if f not in self.done))
        for figs in sets:
            if not figs or (len(figs) > 1 and len(set(figs)) < len(figs)):
                continue
            for k in self.KS:
                m = Move(figs, k)
                if m not in self.gains:
                    for f in figs:
                        self.by_figure[f].add(m)
                    self._push(m)

    def _valid(self, entry: tuple) -> bool:
        m = entry[-1]
        return self.gains.get(m) == -entry[0] and not any(f in self.done for f in m.figures)

    def best(self) -> list[Move]:
        """The valid candidates of the highest positive gain, best first."""
        while self.heap and not self._valid(self.heap[0]):
            heapq.heappop(self.heap)
        if not self.heap or -self.heap[0][0] <= 0:
            return []
        g, tops = self.heap[0][0], []
        while self.heap and self.heap[0][0] == g:
            e = heapq.heappop(self.heap)
            if self._valid(e):
                tops.append(e)
        for e in tops:  # they stay candidates; the chosen one is dropped when applied
            heapq.heappush(self.heap, e)
        return [e[-1] for e in tops]

    # -- applying ---------------------------------------------------------------------------

    def apply(self, m: Move) -> None:
        """Rescale the move's figures, then rescore every candidate sharing a relation."""
        delta = dict.fromkeys(m.figures, m.k)
        rels = list({id(r): r for f in m.figures for r in self.touching[f]}.values())
        for r in rels:
            if isinstance(r, Sum):
                s, t = self.sides[r]
                for f in m.figures:
                    if f in r.figures:
                        now = f.at(self.scale)
                        if f in r.parts:
                            s += now * 10.0**m.k - now
                        else:
                            t += now * 10.0**m.k - now
                self.sides[r] = (s, t)
        for f, k in delta.items():
            self.scale[f] = self.scale.get(f, 0) + k
        newly = []
        for r in rels:
            was = self.failing[r]
            self.failing[r] = (
                r.fails(*self.sides[r]) if isinstance(r, Sum) else r.violated(self.scale)
            )
            if self.failing[r] and not was:
                newly.append(r)
        self.done.update(m.figures)
        self.rescore(rels)
        self.add_candidates(newly)

    def rescore(self, rels: list[Relation]) -> None:
        """Score again the live candidates touching any figure of ``rels``."""
        figs = {f for r in rels for f in r.figures}
        for m in {m for f in figs for m in self.by_figure[f]}:
            if not any(f in self.done for f in m.figures):
                self._push(m)


def decide(relations: list[Relation], groups: list[list[Figure]] = ()) -> Decision:
    """Choose the rescalings that best explain the failing relations (see the module doc).

    ``groups`` are figures that may be off together (one series in one file).
    """
    search = _Search(relations, list(groups))
    failing = [r for r in relations if search.failing[r]]
    search.add_candidates(failing)
    moves: dict[Figure, Move] = {}
    ambiguous: set[Relation] = set()
    while tops := search.best():
        first, best = tops[0], search.gains[tops[0]]
        near = {id(r) for f in first.figures for r in search.touching[f]}
        delta = dict.fromkeys(first.figures, first.k)
        rivals = [
            m
            for m in tops[1:]
            if not set(m.figures) & set(first.figures)
            and any(id(r) in near for f in m.figures for r in search.touching[f])
            and search.gain({**delta, **dict.fromkeys(m.figures, m.k)}) - best < best
        ]
        if rivals:  # the evidence cannot tell them apart: freeze all, blame none
            for m in (first, *rivals):
                search.done.update(m.figures)
                ambiguous.update(
                    r for f in m.figures for r in search.touching[f] if search.failing[r]
                )
            continue
        search.apply(first)
        for f in first.figures:
            moves[f] = first
    unresolved = [r for r in relations if search.failing[r]]
    return Decision(moves, failing, unresolved, ambiguous & set(unresolved))

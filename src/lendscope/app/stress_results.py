"""What the stress page shows around a run: scenario descriptions, kept runs, CSV of a result.

- :func:`scenario_info`: each built-in scenario's title, window, notes and cited sources, read
  from its YAML (the header comment, ``notes``, ``market_debt_source`` and every path's
  ``source``), for the form.
- :class:`RunStore`: the last :data:`KEEP_RUNS` results in memory, each under a random id, so
  that a result has a permalink (``/stress-test/runs/<id>``) and JSON/CSV downloads. Bounded in
  count and per result; nothing is written to disk and a restart forgets them.
- :func:`result_csv`: the tables of a result as one tidy CSV (``section,name,metric,value``),
  text cells that a spreadsheet would run as a formula prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lendscope.risk.scenarios import BUILTIN_DIR, builtin_names, load_builtin

#: Results kept for their permalinks (the oldest is dropped first).
KEEP_RUNS = 64
#: A run id: 16 URL-safe characters (96 random bits).
RUN_ID = r"^[A-Za-z0-9_-]{16}$"
_URL = re.compile(r"https?://[^\s;,)]+")
_FORMULA = re.compile(r"^[=+\-@\t\r]")


@dataclass(frozen=True)
class ScenarioInfo:
    """A built-in scenario as the form describes it."""

    name: str
    title: str
    start: str
    end: str
    days: int
    notes: str
    #: (what, citation, links) for the market's debt, each dated path and each price history.
    sources: list[tuple[str, str, list[str]]] = field(default_factory=list)
    approximate: list[str] = field(default_factory=list)


def _title(name: str) -> str:
    """The YAML's header comment up to its first parenthesis or comma-free sentence end."""
    lines = []
    for line in (BUILTIN_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    text = " ".join(lines)
    return re.split(r" \(|, on real| on real|\. ", text, maxsplit=1)[0].strip(" .") or name


@cache
def scenario_info() -> tuple[ScenarioInfo, ...]:
    """Every built-in scenario, described (read once)."""
    out = []
    for name in builtin_names():
        sc = load_builtin(name)
        sources: list[tuple[str, str, list[str]]] = []
        if sc.market_debt_source:
            text = sc.market_debt_source
            sources.append(("market debt the history contains", text, _URL.findall(text)))
        for asset, text in sc.sources.items():
            sources.append((asset, text, _URL.findall(text)))
        out.append(
            ScenarioInfo(
                name=name,
                title=_title(name),
                start=sc.dates[0].isoformat(),
                end=sc.dates[-1].isoformat(),
                days=sc.steps,
                notes=sc.notes,
                sources=sources,
                approximate=[a for a, approx in sc.approximate.items() if approx],
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Run:
    """A kept result and the inputs that made it."""

    id: str
    result: dict[str, Any]
    inputs: dict[str, Any]


class RunStore:
    """The last ``keep`` runs in memory, by random id (thread-safe)."""

    def __init__(self, keep: int = KEEP_RUNS):
        self.keep = keep
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, result: dict[str, Any], inputs: dict[str, Any]) -> Run:
        """Keep ``result`` under a new id; the oldest run goes when over ``keep``."""
        run = Run(secrets.token_urlsafe(12), result, inputs)
        with self._lock:
            self._runs[run.id] = run
            while len(self._runs) > self.keep:
                self._runs.popitem(last=False)
        return run

    def get(self, run_id: str) -> Run | None:
        """The run, or ``None`` when unknown or no longer kept."""
        with self._lock:
            return self._runs.get(run_id)

    def __len__(self) -> int:
        return len(self._runs)


def _cell(v: Any) -> Any:
    if isinstance(v, str) and _FORMULA.match(v):
        return "'" + v
    if v is None:
        return ""
    return v


def result_csv(result: dict[str, Any]) -> str:
    """The run's tables as CSV rows ``section,name,metric,value`` (``synthetic`` in ``book``)."""
    rows: list[tuple[str, str, str, Any]] = [
        ("run", "", k, result.get(k)) for k in ("scenario", "seed", "start", "end", "days")
    ]
    book = result.get("book", {})
    rows += [("book", "", k, v) for k, v in book.items() if not isinstance(v, list | dict)]
    rows += [("book", "", "sources", "; ".join(map(str, book.get("sources", []))))]
    for k in ("liquidated_usd", "bad_debt_usd", "peak_bad_debt_usd", "voluntary_repaid_usd"):
        rows.append(("total", "", k, result.get(k)))
    for seg, vals in result.get("by_segment", {}).items():
        rows += [("segment", seg, k, v) for k, v in vals.items()]
    for p in result.get("by_platform", []):
        name = f"{p.get('segment')}/{p.get('platform')}"
        rows += [("platform", name, k, p.get(k)) for k in ("liquidated_usd", "bad_debt_usd")]
    for asset, vals in result.get("by_asset", {}).items():
        rows += [("asset", asset, k, v) for k, v in vals.items()]
    for asset, vals in result.get("prices", {}).items():
        rows += [("price", asset, k, v) for k, v in vals.items()]
    for lender in result.get("cefi", {}).get("lenders", []):
        name = str(lender.get("lender", ""))
        rows += [("lender", name, k, v) for k, v in lender.items() if k != "lender"]
    rows += [("count", "", k, v) for k, v in result.get("counts", {}).items()]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "name", "metric", "value"])
    w.writerows(tuple(_cell(c) for c in r) for r in rows)
    return buf.getvalue()

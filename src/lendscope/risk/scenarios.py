"""Stress scenarios: dated per-asset price-multiplier paths with liquidity and depeg metadata.

Two YAML forms are accepted (see the built-ins in ``risk/scenarios/*.yaml``):

* **paths** — a daily date grid (``dates: {start, end}``) and, per asset, either ``values`` (one
  multiplier per day) or ``points`` (dated knots, filled log-linearly between them), optionally
  ``relative_to`` another asset (e.g. stETH as a ratio to ETH), with a ``source`` citation.
* **shocks** — ``days: N`` and per-asset shocks reached by the last day, e.g.
  ``{ETH: -0.43, stETH: {depeg: 0.0625}, UST: {to_zero: true}}``.
* **history** (with ``paths`` or alone) — ``history: [BTC, ETH, …]``: the bundled daily closes
  of :mod:`lendscope.risk.history` (multipliers of the start day's close), and ``lows: [{asset,
  date}]`` to use a cited intraday low for that day instead of its close.

Assets a scenario does not name follow their underlying (:mod:`lendscope.risk.prices`).
``liquidity`` is given per pool (an asset names its pool: wstETH → stETH).

Every error names the file, the field and, where relevant, the index.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lendscope.core import files
from lendscope.core.assets import ASSETS, PEGS
from lendscope.risk import history, prices
from lendscope.risk.prices import PoolLiquidity

#: Price multiplier used for "to zero": prices must stay > 0 for log-space maths.
ZERO_FLOOR = 1e-6
BUILTIN_DIR = Path(__file__).with_suffix("")  # risk/scenarios/ beside this module
IMPACT_KINDS = {"none": 0, "sqrt": 1, "cpmm": 2}
#: Longest scenario, in daily steps (ten years); the engine's cost grows with it.
MAX_DAYS = 3660


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file, field and index."""


Liquidity = PoolLiquidity  # the name user code imported before pools


@dataclasses.dataclass(frozen=True)
class Scenario:
    """Dated price multipliers (``steps + 1`` rows x assets, row 0 = start = 1.0)."""

    name: str
    assets: tuple[str, ...]
    dates: tuple[dt.date, ...]
    multipliers: np.ndarray
    liquidity: Mapping[str, Liquidity]
    depeg: Mapping[str, bool]
    sources: Mapping[str, str]
    approximate: Mapping[str, bool]
    notes: str = ""
    #: USD close of each history asset on the start day (others: the book's start prices).
    usd_start: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: Debt of the market whose selling the history already contains (USD); the engine then
    #: applies price impact only to the modelled book's excess over it. None: all of it.
    history_market_debt_usd: float | None = None
    market_debt_source: str = ""

    @property
    def steps(self) -> int:
        """Number of daily steps after the start row."""
        return len(self.dates) - 1

    def path(self, asset: str) -> np.ndarray:
        """The multiplier path of one asset (its underlying's if the scenario does not name it)."""
        if asset not in ASSETS:
            raise KeyError(f"unknown asset {asset!r}")
        return self.full_paths()[:, ASSETS.index(asset)]

    def full_paths(self) -> np.ndarray:
        """Multipliers for every asset in ``ASSETS`` order, shape (steps + 1, len(ASSETS))."""
        named = {a: self.multipliers[:, i] for i, a in enumerate(self.assets)}
        return prices.complete_paths(named, self.steps)

    def worst(self) -> np.ndarray:
        """Per-asset minimum multiplier over the scenario, in ``ASSETS`` order."""
        return self.full_paths().min(axis=0)


def builtin_names() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def load_builtin(name: str) -> Scenario:
    """Load a bundled scenario by name (``2022``, ``black-thursday``, …)."""
    path = BUILTIN_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(f"{name}: no built-in scenario (have {', '.join(builtin_names())})")
    return load_scenario(path)


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario YAML file."""
    try:  # the one bounded reader of user files: 1 MiB, no anchors or aliases, depth capped
        data = files.load_yaml(files.read_text(path, str(path)), str(path))
    except files.InputError as e:
        raise ScenarioError(str(e)) from None
    return scenario_from_dict(data, source=str(path))


def scenario_from_dict(data: Any, source: str = "<dict>") -> Scenario:
    """Build a Scenario from parsed YAML; ``source`` names the file in error messages."""
    v = _Validator(source)
    if not isinstance(data, dict):
        v.fail("<root>", "expected a mapping")
    name = str(v.need(data, "name", "name"))
    liquidity = prices.parse_liquidity(v, data.get("liquidity") or {})
    if "paths" in data and "shocks" in data:
        v.fail("paths/shocks", "give either 'paths' or 'shocks', not both")
    if "shocks" in data and "history" in data:
        v.fail("history", "history goes with 'paths', not 'shocks'")
    usd: dict[str, float] = {}
    if "paths" in data or "history" in data:
        dates, cols, meta = _from_paths(v, data, usd)
    elif "shocks" in data:
        dates, cols, meta = _from_shocks(v, data)
    else:
        v.fail("paths", "missing field (or 'shocks' or 'history')")
    assets = tuple(a for a in ASSETS if a in cols)  # canonical order
    mult = np.stack([cols[a] for a in assets], axis=1) if assets else np.ones((len(dates), 0))
    market = data.get("history_market_debt_usd")
    if market is not None:
        market = v.positive(market, "history_market_debt_usd")
        v.need(data, "market_debt_source", "market_debt_source")
    return Scenario(
        name=name,
        assets=assets,
        dates=tuple(dates),
        multipliers=mult,
        liquidity=liquidity,
        depeg={a: meta[a][0] for a in assets},
        sources={a: meta[a][1] for a in assets},
        approximate={a: meta[a][2] for a in assets},
        notes=str(data.get("notes", "")).strip(),
        usd_start=usd,
        history_market_debt_usd=market,
        market_debt_source=str(data.get("market_debt_source", "")),
    )


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, msg: str) -> Any:
        raise ScenarioError(f"{self.source}: {field}: {msg}")

    def need(self, d: Mapping, key: str, field: str) -> Any:
        if not isinstance(d, Mapping) or key not in d or d[key] is None:
            self.fail(field, "missing field")
        return d[key]

    def asset(self, name: Any, field: str) -> str:
        if name not in ASSETS:
            self.fail(field, f"unknown asset {name!r} (known: {', '.join(ASSETS)})")
        return name

    def date(self, x: Any, field: str) -> dt.date:
        if isinstance(x, dt.datetime):
            return x.date()
        if isinstance(x, dt.date):
            return x
        try:
            return dt.date.fromisoformat(str(x))
        except ValueError:
            return self.fail(field, f"not an ISO date: {x!r}")

    def positive(self, x: Any, field: str) -> float:
        try:
            f = float(x)
        except (TypeError, ValueError):
            return self.fail(field, f"not a number: {x!r}")
        if not f > 0 or not math.isfinite(f):
            self.fail(field, f"price multiplier must be > 0 and finite, got {x!r}")
        return f


def _grid(v: _Validator, data: Mapping) -> list[dt.date]:
    spec = v.need(data, "dates", "dates")
    start = v.date(v.need(spec, "start", "dates.start"), "dates.start")
    end = v.date(v.need(spec, "end", "dates.end"), "dates.end")
    if end <= start:
        v.fail("dates.end", f"{end} is not after start {start} (dates must increase)")
    if (end - start).days > MAX_DAYS:
        v.fail("dates.end", f"{(end - start).days} days after start; at most {MAX_DAYS}")
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _from_paths(
    v: _Validator, data: Mapping, usd: dict[str, float]
) -> tuple[list[dt.date], dict, dict]:
    dates = _grid(v, data)
    paths = data.get("paths") or {}
    if not isinstance(paths, Mapping) or not (paths or data.get("history")):
        v.fail("paths", "expected a non-empty mapping of asset → path")
    raw: dict[str, np.ndarray] = {}
    meta: dict[str, tuple[bool, str, bool]] = {}
    for asset, col in _from_history(v, data, dates, usd).items():
        raw[asset], meta[asset] = col
    for asset, spec in paths.items():
        f = f"paths.{asset}"
        v.asset(asset, f)
        if asset in raw:
            v.fail(f, "asset also comes from history; give it once")
        if not isinstance(spec, Mapping):
            v.fail(f, "expected a mapping with 'points' or 'values'")
        raw[asset] = _path_values(v, spec, dates, f)
        src = str(v.need(spec, "source", f"{f}.source"))
        meta[asset] = (bool(spec.get("depeg", False)), src, bool(spec.get("approximate", True)))
    cols: dict[str, np.ndarray] = {}

    def resolve(asset: str, seen: tuple[str, ...]) -> np.ndarray:
        if asset in cols:
            return cols[asset]
        base = paths[asset].get("relative_to") if asset in paths else None
        if base is None:
            cols[asset] = raw[asset]
        else:
            f = f"paths.{asset}.relative_to"
            v.asset(base, f)
            if base not in raw:
                v.fail(f, f"{base!r} has no path in this scenario")
            if base in seen:
                v.fail(f, f"circular relative_to via {base!r}")
            cols[asset] = raw[asset] * resolve(base, (*seen, asset))
        return cols[asset]

    for asset in raw:
        resolve(asset, ())
    return dates, cols, meta


def _from_history(
    v: _Validator, data: Mapping, dates: list[dt.date], usd: dict[str, float]
) -> dict[str, tuple[np.ndarray, tuple[bool, str, bool]]]:
    """Assets read from the bundled daily closes, as multipliers of the start day's close."""
    names = data.get("history") or []
    if not isinstance(names, list):
        v.fail("history", "expected a list of assets with bundled daily closes")
    if not names:
        if data.get("lows"):
            v.fail("lows", "lows need 'history'")
        return {}
    h = history.load()
    out = {}
    for i, item in enumerate(names):
        # An item is an asset, or {asset, hold_after_last} for a source that stops early.
        spec = item if isinstance(item, Mapping) else {"asset": item}
        a = v.asset(v.need(spec, "asset", f"history[{i}].asset"), f"history[{i}]")
        hold = spec.get("hold_after_last", False) is True
        try:
            s = h.get(a)
            closes = s.daily(dates[0], dates[-1], hold)
        except history.HistoryError as e:
            v.fail(f"history[{i}]", str(e))
        usd[a] = float(closes[0])
        src = "bundled daily closes (lendscope/risk/history): " + ", ".join(s.sources)
        if hold and dates[-1] > s.last:
            src += f"; last close of {s.last} held after it"
        out[a] = [closes / closes[0], (a in PEGS and PEGS[a] is None, src, False)]
    lows = data.get("lows") or []
    if not isinstance(lows, list):
        v.fail("lows", "expected a list of {asset, date}")
    for j, lo in enumerate(lows):
        f = f"lows[{j}]"
        a = v.asset(v.need(lo, "asset", f"{f}.asset"), f"{f}.asset")
        day = v.date(v.need(lo, "date", f"{f}.date"), f"{f}.date")
        if a not in out:
            v.fail(f"{f}.asset", f"{a} is not in history")
        if not dates[0] < day <= dates[-1]:
            v.fail(f"{f}.date", f"{day} outside {dates[1]}..{dates[-1]}")
        try:
            cited = h.low(a, day)
        except history.HistoryError as e:
            v.fail(f, str(e))
        k = (day - dates[0]).days
        ratio = cited.low / (out[a][0][k] * usd[a])  # the low against that day's close
        for b in out:  # assets priced through ``a`` keep their ratio to it at the low
            if b == a or a in prices.chain(b):
                out[b][0][k] *= ratio
        out[a][1] = (out[a][1][0], f"{out[a][1][1]}; intraday low {day}: {cited.source}", False)
    return {a: (c, tuple(m)) for a, (c, m) in out.items()}  # type: ignore[misc]


def _path_values(v: _Validator, spec: Mapping, dates: list[dt.date], f: str) -> np.ndarray:
    if "values" in spec:
        vals = spec["values"]
        if not isinstance(vals, list) or len(vals) != len(dates):
            v.fail(f"{f}.values", f"expected a list of {len(dates)} multipliers (one per day)")
        return np.array([v.positive(x, f"{f}.values[{i}]") for i, x in enumerate(vals)])
    pts = v.need(spec, "points", f"{f}.points")
    if not isinstance(pts, Mapping) or not pts:
        v.fail(f"{f}.points", "expected a mapping of date → multiplier")
    days, logs = [], []
    for i, (d, x) in enumerate(pts.items()):
        day = v.date(d, f"{f}.points[{i}]")
        if days and day <= dates[0] + dt.timedelta(days=days[-1]):
            v.fail(f"{f}.points[{i}]", f"date {day} is not after the previous one (non-monotone)")
        if not dates[0] <= day <= dates[-1]:
            v.fail(f"{f}.points[{i}]", f"date {day} outside {dates[0]}..{dates[-1]}")
        days.append((day - dates[0]).days)
        logs.append(math.log(v.positive(x, f"{f}.points[{i}]")))
    # Log-linear between knots; held flat before the first and after the last knot.
    return np.exp(np.interp(np.arange(len(dates)), days, logs))


def _from_shocks(v: _Validator, data: Mapping) -> tuple[list[dt.date], dict, dict]:
    n = v.need(data, "days", "days")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        v.fail("days", f"must be a positive integer, got {n!r}")
    if n > MAX_DAYS:
        v.fail("days", f"at most {MAX_DAYS} (ten years), got {n}")
    start = v.date(data.get("start", "2000-01-01"), "start")
    if start > dt.date.max - dt.timedelta(days=n):
        v.fail("start", f"{start} plus {n} days is past the year 9999")
    dates = [start + dt.timedelta(days=i) for i in range(n + 1)]
    shocks = data["shocks"]
    if not isinstance(shocks, Mapping) or not shocks:
        v.fail("shocks", "expected a non-empty mapping of asset → shock")
    t = np.arange(n + 1) / n
    targets: dict[str, tuple[float, bool]] = {}
    for asset, s in shocks.items():
        f = f"shocks.{asset}"
        v.asset(asset, f)
        targets[asset] = _shock_target(v, s, f)
    cols = {}
    for asset, (final, _) in targets.items():
        # Log-linear glide from 1 to the target over the N days.
        cols[asset] = np.exp(t * math.log(final))
    for asset, (_, is_depeg) in targets.items():
        peg = PEGS.get(asset)
        if is_depeg and peg in cols:  # a depeg is relative to its (possibly shocked) peg
            cols[asset] = cols[asset] * cols[peg]
    src = f"user shock file {v.source}"
    meta = {a: (targets[a][1], src, False) for a in targets}
    return dates, cols, meta


def _shock_target(v: _Validator, s: Any, f: str) -> tuple[float, bool]:
    """Final multiplier and depeg flag of one shock spec."""
    if isinstance(s, int | float) and not isinstance(s, bool):
        if not s > -1:
            v.fail(f, f"change {s} gives a price <= 0 (use {{to_zero: true}})")
        return 1.0 + float(s), False
    if not isinstance(s, Mapping):
        v.fail(f, "expected a number (relative change) or a mapping")
    unknown = set(s) - {"change", "depeg", "to_zero"}
    if unknown:
        v.fail(f"{f}.{sorted(unknown)[0]}", "unknown field (use change, depeg or to_zero)")
    if len(s) != 1:
        v.fail(f, "give exactly one of change, depeg, to_zero")
    if s.get("to_zero"):
        return ZERO_FLOOR, True
    if "depeg" in s:
        d = s["depeg"]
        if not isinstance(d, int | float) or not 0 <= d < 1:
            v.fail(f"{f}.depeg", f"must be a fraction in [0, 1), got {d!r}")
        return 1.0 - float(d), True
    if "change" in s:
        return _shock_target(v, s["change"], f"{f}.change")
    return v.fail(f, "to_zero must be true")

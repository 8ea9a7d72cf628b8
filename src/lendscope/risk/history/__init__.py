"""Bundled daily price history: real closes with provenance, checked against their checksums.

``daily.csv`` (``date,series,value,source``) holds one close per calendar day per series (ETF
series such as GBTC on trading days only), ``lows.csv`` the cited intraday lows of the days
where a scenario's stress is intraday, ``provenance.yaml`` which public dataset each ``source``
id is (repository, commit, path, upstream SHA-256) and ``SHA256SUMS`` the bundled files' hashes.
Scenarios use these days directly (``history:`` in a scenario file), never interpolation.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
DAILY, LOWS = HERE / "daily.csv", HERE / "lows.csv"
PROVENANCE, SUMS = HERE / "provenance.yaml", HERE / "SHA256SUMS"


class HistoryError(ValueError):
    """The bundled history is missing, altered, or has no data for a requested day."""


@dataclasses.dataclass(frozen=True)
class Series:
    """One series' observed days (sorted) and values."""

    name: str
    days: np.ndarray  # int64 ordinal days (date.toordinal())
    values: np.ndarray
    sources: tuple[str, ...]

    @property
    def first(self) -> dt.date:
        """First observed day."""
        return dt.date.fromordinal(int(self.days[0]))

    @property
    def last(self) -> dt.date:
        """Last observed day."""
        return dt.date.fromordinal(int(self.days[-1]))

    def on(self, day: dt.date, hold: bool = False) -> float:
        """The close of ``day``, or of the last observed day before it (weekends of an ETF).

        ``hold``: past the series' last day, keep its last close (a source that stops early).
        """
        i = int(np.searchsorted(self.days, day.toordinal(), side="right")) - 1
        if i < 0 or (day > self.last and not hold):
            raise HistoryError(f"{self.name}: no close on {day} (data {self.first}..{self.last})")
        if day.toordinal() - int(self.days[i]) > 5 and day <= self.last:
            raise HistoryError(f"{self.name}: no close within 5 days before {day}")
        return float(self.values[i])

    def daily(self, start: dt.date, end: dt.date, hold: bool = False) -> np.ndarray:
        """Closes of every calendar day ``start..end`` (last close carried over closed days)."""
        n = (end - start).days + 1
        return np.array([self.on(start + dt.timedelta(days=i), hold) for i in range(n)])


@dataclasses.dataclass(frozen=True)
class Low:
    """A cited intraday low."""

    day: dt.date
    series: str
    low: float
    source: str
    note: str


@dataclasses.dataclass(frozen=True)
class History:
    """All bundled series and cited lows."""

    series: dict[str, Series]
    lows: tuple[Low, ...]

    def get(self, name: str) -> Series:
        """One series by name; the error lists what is bundled."""
        if name not in self.series:
            raise HistoryError(f"no bundled history for {name!r} (have {', '.join(self.series)})")
        return self.series[name]

    def low(self, name: str, day: dt.date) -> Low:
        """The cited intraday low of ``name`` on ``day``."""
        for lo in self.lows:
            if lo.series == name and lo.day == day:
                return lo
        raise HistoryError(f"no cited intraday low of {name} on {day} in {LOWS.name}")


def verify() -> None:
    """Check the bundled files against ``SHA256SUMS`` (a changed file is refused)."""
    for line in SUMS.read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        path = HERE / name.lstrip("*")
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != digest:
            raise HistoryError(f"{path.name}: SHA-256 {got} does not match SHA256SUMS {digest}")


@functools.cache
def load() -> History:
    """Read and verify the bundled history (once per process)."""
    verify()
    cols: dict[str, tuple[list[int], list[float], set[str]]] = {}
    lines = DAILY.read_text().splitlines()
    if lines[0] != "date,series,value,source":
        raise HistoryError(f"{DAILY.name}: row 1: header is not date,series,value,source")
    for i, line in enumerate(lines[1:], start=2):  # a plain split: the file is ours, checksummed
        try:
            date, name, value, source = line.split(",")
            day, x = dt.date.fromisoformat(date).toordinal(), float(value)
        except ValueError as e:
            raise HistoryError(f"{DAILY.name}: row {i}: {e}") from None
        d, v, s = cols.setdefault(name, ([], [], set()))
        d.append(day), v.append(x), s.add(source)
    series = {}
    for name, (d, v, s) in cols.items():
        o = np.argsort(d, kind="stable")
        series[name] = Series(name, np.array(d)[o], np.array(v)[o], tuple(sorted(s)))
    rows = csv.DictReader(io.StringIO(LOWS.read_text()))
    lows = tuple(
        Low(dt.date.fromisoformat(r["date"]), r["series"], float(r["low"]), r["source"], r["note"])
        for r in rows
    )
    return History(series, lows)

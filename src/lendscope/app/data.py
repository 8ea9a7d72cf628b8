"""The read-only data the app serves: the dataset loaded once, metrics and chart specs cached.

The app only calls what the CLI calls: :func:`~lendscope.dataset.store.load_tables` and
:meth:`~lendscope.metrics.MarketMetrics.compute`, plus the report's chart specs (for the API)
and the dashboard's own charts (:mod:`lendscope.app.charts`). Nothing here writes to the
database.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendscope.core import settings
from lendscope.dataset.store import connect_tables, load_tables
from lendscope.metrics.params import check_vintage
from lendscope.metrics.summary import MarketMetrics
from lendscope.report.charts import CHARTS, spec

if TYPE_CHECKING:
    from lendscope.app.chartkit import Chart

#: Tables whose ``published`` dates are vintages: the metrics change only on these dates.
VINTAGED = ("observations", "overlaps", "vc_funding", "cited_metrics")


class Data:
    """The dataset loaded once (read-only) and the metrics per vintage, computed on demand."""

    def __init__(self, db: Path | None = None, cache_size: int = 8):
        self.db = Path(db) if db else settings.db_path()
        self.tables = load_tables(self.db)
        self.observations = self.tables["observations"].to_pylist()
        self.overlap_rows = self.tables["overlaps"].to_pylist()
        dates: set[date] = set()
        for name in VINTAGED:
            dates.update(d for d in self.tables[name].column("published").to_pylist() if d)
        #: Every date on which some figure became known: metrics change only on these.
        self.vintages = sorted(dates)
        #: The CLI's default vintage: the newest ``published`` among observations.
        self.latest = max(r["published"] for r in self.observations)
        #: The first figure's date: earlier vintages are refused (as by the CLI).
        self.first_published = min(r["published"] for r in self.observations)
        self._cache: dict[date, MarketMetrics] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._specs: dict[tuple, Any] = {}
        self.file_lock = threading.Lock()

    @cached_property
    def data_vintages(self) -> list[date]:
        """The vintages at which some quarter has a known size: the ones the picker lists.

        Figures only accumulate, so the first such vintage is found by bisection (a few metric
        computations, cached) and every later one has data too.
        """
        lo, hi = 0, len(self.vintages) - 1
        if not self.metrics(self.vintages[hi]).periods():
            return []
        while lo < hi:
            mid = (lo + hi) // 2
            if self.metrics(self.vintages[mid]).periods():
                hi = mid
            else:
                lo = mid + 1
        return self.vintages[lo:]

    def with_data(self, vintage: date | None) -> date | None:
        """``vintage``, or the first vintage with data when no quarter has data at ``vintage``.

        ``None`` (the latest) stays ``None``. Call it on a checked vintage.
        """
        if vintage is None or not self.data_vintages:
            return vintage
        return max(vintage, self.data_vintages[0])

    @cached_property
    def cache_dir(self) -> Path:
        """Where downloads are generated (created on first use, removed at shutdown)."""
        return Path(tempfile.mkdtemp(prefix="lendscope-serve-"))

    def effective(self, vintage: date | None) -> date:
        """The last date on or before ``vintage`` when a figure was published.

        Call it on a checked vintage (:meth:`metrics` checks): one on or after the first
        observation always has such a date.
        """
        v = vintage or self.latest
        return max(d for d in self.vintages if d <= v)

    def metrics(self, vintage: date | None = None) -> MarketMetrics:
        """Metrics exactly as ``lendscope metrics --vintage`` computes them (cached).

        The vintage is checked as the CLI checks it (:func:`check_vintage`): a
        :class:`~lendscope.metrics.params.ParamError`, answered 422, for a future date or one
        before the first figure.
        """
        check_vintage(vintage, self.first_published)
        eff = self.effective(vintage)
        with self._lock:
            m = self._cache.get(eff)
            if m is None:
                m = MarketMetrics.compute(connect_tables(self.tables), eff)
                if len(self._cache) >= self._cache_size:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[eff] = m
        want = vintage or self.latest
        # Same figures at every date between two publications: only the label differs.
        return m if m.vintage == want else replace(m, vintage=want)

    def chart_spec(self, m: MarketMetrics, period: str, name: str) -> dict[str, Any]:
        """The report's Vega-Lite spec of chart ``name`` for a quarter (cached)."""
        key = (self.effective(m.vintage), period, name)
        if key not in self._specs:
            self._specs[key] = spec(CHARTS[name][1](m, period))
        return self._specs[key]

    def chart(self, m: MarketMetrics, period: str, name: str) -> Chart:
        """The dashboard's chart ``name`` (:mod:`lendscope.app.charts`) for a quarter (cached)."""
        from lendscope.app.charts import build

        key = ("app", self.effective(m.vintage), period, name)
        if key not in self._specs:
            self._specs[key] = build(name, m, period)
        return self._specs[key]

    def close(self) -> None:
        """Remove generated downloads."""
        if "cache_dir" in self.__dict__:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

"""Test utilities shared across the suite (conftest holds fixtures only)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest

from lendscope.dataset.store import connect, connect_tables
from lendscope.metrics.summary import MarketMetrics

#: Every backend the metric suite runs on: DuckDB always, PySpark under the ``spark`` marker.
BACKENDS = ["duckdb", pytest.param("pyspark", marks=pytest.mark.spark)]
ARTIFACTS = Path(__file__).parent / "artifacts"
NO_DB = Path("/nonexistent/lendscope.duckdb")  # forces the bundled data


@cache
def bundled_metrics(vintage: date | None, backend: str = "duckdb") -> MarketMetrics:
    """Metrics of the bundled data at a vintage, computed once per session and backend."""
    return MarketMetrics.compute(connect(NO_DB, backend), vintage)


def metrics_of(tables: dict, backend: str, vintage: date | None = None) -> MarketMetrics:
    """Metrics of hand-made tables on a backend."""
    return MarketMetrics.compute(connect_tables(tables, backend), vintage)

"""Shared fixtures: one metric suite, run on every backend (DuckDB always, PySpark as `spark`)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest

from lendscope.dataset.store import connect, connect_tables
from lendscope.metrics import MarketMetrics

BACKENDS = ["duckdb", pytest.param("pyspark", marks=pytest.mark.spark)]
ARTIFACTS = Path(__file__).parent / "artifacts"
NO_DB = Path("/nonexistent/lendscope.duckdb")  # forces the bundled data


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path, monkeypatch):
    """No test reads or writes the user's database."""
    monkeypatch.setenv("LENDSCOPE_DB", str(tmp_path / "lendscope.duckdb"))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@cache
def bundled_metrics(vintage: date | None, backend: str = "duckdb") -> MarketMetrics:
    """Metrics of the bundled data at a vintage, computed once per session and backend."""
    return MarketMetrics.compute(connect(NO_DB, backend), vintage)


def metrics_of(tables: dict, backend: str, vintage: date | None = None) -> MarketMetrics:
    """Metrics of hand-made tables on a backend."""
    return MarketMetrics.compute(connect_tables(tables, backend), vintage)

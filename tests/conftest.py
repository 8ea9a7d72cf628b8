"""Shared fixtures: one metric suite, run on every backend (DuckDB always, PySpark as `spark`)."""

from __future__ import annotations

import pytest

from tests.helpers import BACKENDS


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path, monkeypatch):
    """No test reads or writes the user's database or downloads cache."""
    monkeypatch.setenv("LENDSCOPE_DB", str(tmp_path / "lendscope.duckdb"))
    # Beside the test's folder, not in it: tests list their folder's files.
    monkeypatch.setenv("LENDSCOPE_CACHE_DIR", str(tmp_path.parent / f"{tmp_path.name}-cache"))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """The backend a metric test runs on; session-scoped, so module fixtures can take it and
    pytest runs every test of one backend together (one SparkSession, started once)."""
    return request.param

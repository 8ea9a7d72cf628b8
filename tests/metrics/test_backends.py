"""One code path on every backend: the compiled metric queries, checked against Ibis itself.

Every backend runs the metric queries compiled once with the vintage as a bound parameter; the
reference is the same Ibis expressions run through the backend's own Ibis execution, with the
vintage compiled in as a literal.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from lendscope.dataset.store import connect
from lendscope.metrics.summary import MarketMetrics
from tests.helpers import NO_DB, bundled_metrics

APRIL = date(2025, 4, 14)


def same_floats(rec: dict) -> dict:
    """A record with floats to 12 significant digits: engines may differ in the last bit."""
    return {k: float(f"{v:.12g}") if isinstance(v, float) else v for k, v in rec.items()}


def records(m: MarketMetrics) -> dict:
    return {
        k: [same_floats(r) for r in v] if isinstance(v, list) else v
        for k, v in dataclasses.asdict(m).items()
        if not callable(v)  # the recompute hook is code, not a record
    }


def test_compiled_queries_equal_ibis_on_the_bundled_data(backend):
    con = connect(NO_DB, backend)
    assert MarketMetrics.compute(con, APRIL) == MarketMetrics.compute(con, APRIL, compiled=False)


@pytest.mark.spark
@pytest.mark.parametrize("vintage", [APRIL, None])
def test_every_record_is_identical_on_every_backend(vintage):
    duck, spark = bundled_metrics(vintage, "duckdb"), bundled_metrics(vintage, "pyspark")
    assert records(spark) == records(duck)

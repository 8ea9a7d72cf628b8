"""Every mark of every report chart (also served by /api/v1/charts) has titled tooltips."""

from __future__ import annotations

import pytest

from lendscope.report.charts import CHARTS, spec
from tests.helpers import bundled_metrics


@pytest.fixture(scope="module")
def metrics():
    return bundled_metrics(None, "duckdb")


def _marks(node):
    """Every (mark, encoding) in a Vega-Lite spec, through layers, concats and facets."""
    if isinstance(node, dict):
        if "mark" in node:
            yield node["mark"], node.get("encoding", {})
        for key in ("layer", "vconcat", "hconcat", "concat"):
            for child in node.get(key, []):
                yield from _marks(child)
        if "spec" in node:
            yield from _marks(node["spec"])


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_mark_has_titled_tooltips(name, metrics):
    _title, fn = CHARTS[name]
    s = spec(fn(metrics, metrics.latest_period()))
    marks = list(_marks(s))
    assert marks
    for mark, enc in marks:
        tips = enc.get("tooltip")
        assert tips, f"{name}: a {mark} mark has no tooltip"
        tips = tips if isinstance(tips, list) else [tips]
        assert all(t.get("title") for t in tips), f"{name}: untitled tooltip field"
        for t in tips:
            if t.get("type") == "quantitative":
                assert t.get("format"), f"{name}: {t['field']} is shown unrounded"

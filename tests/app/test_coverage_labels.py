"""The dashboard shows honest coverage (issue 14): top-3 bounds, chain-only rows, both drawdowns.

Server-rendered HTML through the ASGI app (no browser): the figures come from the bundled data
at its latest vintage, with ``MarketMetrics.for_period(..., detail=True)`` as the reference.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from lendscope.app.chart_bars import chain_note, platform_label
from lendscope.app.view import top3_label
from lendscope.core.fmt import pct
from tests.helpers import NO_DB, bundled_metrics


@pytest.fixture(scope="module")
def app_client() -> Iterator[TestClient]:
    with TestClient(create_app(NO_DB, token="", warm=False)) as c:
        yield c


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _element(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found, pattern
    return _text(found.group(0))


def test_top3_bound_2021q4_latest_vintage(app_client: TestClient) -> None:
    d = bundled_metrics(None).for_period("2021Q4", detail=True)
    assert d["cefi_top3_coverage"] == "lower_bound"
    share, named = pct(d["cefi_top3_share"]), pct(d["cefi_attributed_share"])
    want = f"≥ {share} named lenders hold {named} of CeFi"

    r = app_client.get("/", params={"period": "2021Q4"})
    assert r.status_code == 200
    kpi = _element(r.text, r'<dd id="kpi-top3">.*?</dd>')
    assert kpi.startswith(want), kpi

    r = app_client.get("/segments", params={"period": "2021Q4"})
    row = _element(r.text, r'<tr class="current">.*?</tr>')
    assert want in row, row


def test_top3_label_kinds() -> None:
    base = {"cefi_top3_share": 0.5, "cefi_attributed_share": 0.6, "cefi_top3_max": 0.8}
    assert top3_label(base | {"cefi_top3_coverage": "exact"}) == {"value": "50%", "note": ""}
    assert top3_label(base | {"cefi_top3_coverage": "split"})["value"] == "≈ 50%"
    low = top3_label(base | {"cefi_top3_coverage": "lower_bound"})
    assert low == {"value": "≥ 50%", "note": "named lenders hold 60% of CeFi; at most 80%"}
    assert top3_label({"cefi_top3_share": None})["value"] == "n/a"


def test_plasma_only_on_defi_page_2025q3(app_client: TestClient) -> None:
    rows = bundled_metrics(None).platforms("2025Q3", "defi", detail=True)
    assert any(r["platform"] == "Aave" and r["chain"] == "plasma" for r in rows)

    r = app_client.get("/defi", params={"period": "2025Q3"})
    assert r.status_code == 200
    apps = _element(r.text, r'<table class="data" id="defi-apps">.*?</table>')
    assert "Aave (plasma only)" in apps, apps
    chart = _element(r.text, r'<table class="data" id="table-defi_breakdown">.*?</table>')
    assert "Aave (plasma only)" in chart, chart

    r = app_client.get("/platforms", params={"period": "2025Q3"})
    assert "Aave (plasma only)" in _text(r.text)


def test_chain_labels() -> None:
    assert chain_note("") == ""
    assert chain_note("*") == "several chains"
    assert platform_label({"platform": "Aave", "named": True, "chain": "plasma"}) == (
        "Aave (plasma only)"
    )
    assert platform_label({"platform": "Aave", "named": True, "chain": ""}) == "Aave"
    assert platform_label({"platform": "", "named": False}) == "not attributed"


def _dd(v: float) -> str:
    """A drawdown as the dashboard writes it: a negative one is "… above" the high or peak."""
    return f"{pct(-v)} above" if v < 0 else pct(v)


def test_both_drawdowns_named(app_client: TestClient) -> None:
    period = "2025Q3"
    t = bundled_metrics(None).series_summary("total", period, detail=True)
    # the total is at a new high, above the peak before its deepest fall: the two differ
    assert t["ath"]["period"] != t["peak"]["period"]
    assert _dd(t["drawdown_from_ath"]) != _dd(t["drawdown_from_peak"])

    r = app_client.get("/segments", params={"period": period})
    assert r.status_code == 200
    table = re.search(r'<table class="data wide" id="cycles-table">.*?</table>', r.text, re.S)
    assert table
    heads = [_text(h) for h in re.findall(r"<th[^>]*>.*?</th>", table.group(0), re.S)]
    assert "drawdown from all-time high" in heads
    assert "drawdown from pre-fall peak" in heads
    cells = re.search(r"<tr><td>total</td>(.*?)</tr>", table.group(0), re.S)
    assert cells
    tds = [_text(c) for c in re.findall(r"<td>(.*?)</td>", cells.group(1), re.S)]
    assert tds[heads.index("drawdown from all-time high") - 1] == _dd(t["drawdown_from_ath"])
    assert tds[heads.index("drawdown from pre-fall peak") - 1] == _dd(t["drawdown_from_peak"])

    r = app_client.get("/", params={"period": period})
    ath = _element(r.text, r"<div><dt>Total below its all-time high.*?</div>")
    peak = _element(r.text, r"<div><dt>Total below its pre-fall peak.*?</div>")
    assert _dd(t["drawdown_from_ath"]) in ath and "ATH" in ath
    assert _dd(t["drawdown_from_peak"]) in peak and "peak before the deepest fall" in peak


def test_downloads_text_says_built_ahead(app_client: TestClient) -> None:
    text = _text(app_client.get("/downloads").text)
    assert "first request" not in text
    assert "lendscope build" in text

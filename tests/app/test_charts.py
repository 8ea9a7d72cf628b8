"""The dashboard's charts: tooltips on every mark, responsive, temporal with gaps, the selected
quarter shaded, a CSV and a captioned data table per chart (and tables captioned everywhere)."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import pytest

from tests.helpers import bundled_metrics

PAGES = {
    "/": ["size_by_segment", "total_peak_trough"],
    "/segments": ["defi_cefi_share", "cefi_concentration", "cefi_peak_vs_latest", "vc_funding"],
    "/defi": ["defi_breakdown"],
    "/platforms/Tether": ["platform_history"],
    "/?period=2022Q4": ["size_by_segment", "total_peak_trough"],
}
TIME_CHARTS = {"size_by_segment", "total_peak_trough", "defi_cefi_share", "cefi_concentration"}
TIME_CHARTS |= {"vc_funding", "platform_history"}


def specs(client, path: str) -> dict[str, dict]:
    html = client.get(path).text
    found = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html)
    return json.loads(found.group(1))


def layers(spec: dict) -> list[dict]:
    return [x for x in spec.get("layer", [spec]) if "mark" in x]


@pytest.mark.parametrize("path", PAGES)
def test_every_mark_has_a_formatted_tooltip(client, path):
    got = specs(client, path)
    assert sorted(got) == sorted(PAGES[path])
    for name, spec in got.items():
        assert spec["width"] == "container", name
        for layer in layers(spec):
            tips = layer["encoding"].get("tooltip")
            assert tips, f"{name}: a {layer['mark']} without tooltip"
            for t in tips:
                assert t.get("title") and "_" not in t["title"], (name, t)  # no raw field names
                if t["type"] == "quantitative":
                    assert t["format"] in ("$,.2f", "$,.0f", ".1%"), (name, t)


@pytest.mark.parametrize("path", PAGES)
def test_time_axes_are_temporal_and_the_quarter_is_shaded(client, path):
    for name, spec in specs(client, path).items():
        if name not in TIME_CHARTS:
            continue
        ls = layers(spec)
        assert all(x["encoding"]["x"]["type"] == "temporal" for x in ls), name
        bands = [x for x in ls if x["mark"]["type"] == "rect"]
        assert len(bands) == 1, name


def test_lines_break_at_missing_quarters(client):
    spec = specs(client, "/")["total_peak_trough"]
    line = next(x for x in layers(spec) if x["mark"]["type"] == "line")
    vals = line["data"]["values"]
    total = {r["period"]: r["usd_bn"] for r in vals if r["series"] == "total incl. CDP"}
    assert total["2022Q2"] is None and total["2021Q4"] is not None  # a gap, not a straight line
    assert spec["config"]["mark"]["invalid"] == "break-paths-show-domains"


def test_2022q4_segment_chart_shows_the_known_segments(client):
    spec = specs(client, "/?period=2022Q4")["size_by_segment"]
    bars = next(x for x in layers(spec) if x["mark"]["type"] == "bar")["data"]["values"]
    q4 = {r["segment"]: r["usd_bn"] for r in bars if r["period"] == "2022Q4"}
    assert q4 == {"CeFi lenders": 7.8, "DeFi apps": 1.8}


def test_platform_page_shows_every_quarter_with_a_figure(client):
    obs = client.get("/api/v1/observations", params={"platform": "Tether", "limit": 1000}).json()
    quarters = {r["period"] for r in obs["items"] if r["method"] != "withdrawn"}
    spec = specs(client, "/platforms/Tether")["platform_history"]
    bars = next(x for x in layers(spec) if x["mark"]["type"] == "bar")["data"]["values"]
    assert {r["period"] for r in bars} == quarters
    assert len(quarters) >= 14


@pytest.mark.parametrize("path", PAGES)
def test_each_chart_has_a_data_table_and_a_csv(client, path):
    html = client.get(path).text
    for name in PAGES[path]:
        fig = re.search(rf'<figure class="chart" id="figure-{name}">(.*?)</figure>', html, re.S)
        assert fig, name
        body = fig.group(1)
        assert '<details class="chart-data" open>' in body  # shown without JavaScript
        assert "<caption>" in body and '<th scope="col">' in body and '<th scope="row">' in body
        href = unescape(re.search(r'<a class="csv" href="([^"]+)" download>', body).group(1))
        r = client.get(href)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        heads = re.findall(r'<th scope="col">(.*?)</th>', body)
        assert rows[0] == [unescape(h) for h in heads]
        assert len(rows) - 1 == max(1, body.count("<tr>") - 1) or len(rows) == 1


def test_chart_csv_values_are_raw(client):
    r = client.get("/charts/size_by_segment.csv", params={"period": "2022Q4"})
    rows = {row["quarter"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert float(rows["2022Q4"]["CeFi lenders"]) == bundled_metrics(None).value("cefi", "2022Q4")
    assert client.get("/charts/nope.csv").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/segments",
        "/platforms",
        "/platforms/Tether",
        "/defi",
        "/double-counting",
        "/methodology",
        "/downloads",
    ],
)
def test_tables_have_captions_and_scope(client, path):
    html = client.get(path).text
    tables = re.findall(r'<table class="data[^"]*".*?</table>', html, re.S)
    assert tables
    for t in tables:
        assert "<caption>" in t, t[:120]
        heads = re.findall(r"<th(?: [^>]*)?>", t)
        assert heads and all("scope=" in h for h in heads), t[:120]


def test_tooltip_in_the_browser_is_formatted(browser, base_url):
    """Hovering a bar shows readable titles and a rounded $bn figure."""
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    try:
        pg.goto("/platforms/Tether", wait_until="networkidle")
        bar = pg.locator("#chart-platform_history svg path[aria-roledescription='bar']").last
        bar.wait_for(state="attached", timeout=20_000)
        bar.hover()
        tip = pg.locator("#vg-tooltip-element")
        tip.wait_for(state="visible", timeout=5_000)
        text = tip.inner_text()
        assert "outstanding, $bn" in text and "quarter" in text
        assert re.search(r"\$\d+\.\d\d\b", text), text
    finally:
        ctx.close()


def test_without_javascript_the_tables_stand_in(browser, base_url):
    ctx = browser.new_context(base_url=base_url, java_script_enabled=False)
    pg = ctx.new_page()
    try:
        pg.goto("/", wait_until="load")
        assert pg.locator("#table-size_by_segment").is_visible()
        assert pg.locator("#table-size_by_segment caption").inner_text().startswith("Crypto")
    finally:
        ctx.close()

"""The pages router: every page in a real browser (Chromium, Playwright), and the downloads."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest

from lendscope.core.fmt import usd
from tests.app.helpers import SHOTS
from tests.helpers import bundled_metrics

PAGES = {
    "overview": ("/", ["size_by_segment", "total_peak_trough"]),
    "segments": (
        "/segments",
        ["defi_cefi_share", "cefi_concentration", "cefi_peak_vs_latest", "vc_funding"],
    ),
    "platforms": ("/platforms", []),
    "platform": ("/platforms/Tether", ["platform_history"]),
    "group": ("/platforms/Galaxy%2BLedn", ["platform_history"]),
    "defi": ("/defi", ["defi_breakdown"]),
    "double_counting": ("/double-counting", []),
    "methodology": ("/methodology", []),
    "downloads": ("/downloads", []),
    "old_vintage": ("/?period=2024Q4&vintage=2025-04-14", ["size_by_segment", "total_peak_trough"]),
}


@pytest.fixture
def page(browser, base_url) -> Iterator:
    ctx = browser.new_context(base_url=base_url, accept_downloads=True)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    pg.errors = errors
    yield pg
    ctx.close()


def wait_for_charts(page, names: list[str]) -> None:
    for n in names:
        el = page.locator(f"#chart-{n}")
        el.locator("svg, canvas").first.wait_for(state="attached", timeout=20_000)
        assert el.get_attribute("data-rendered") == "true"


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_errors_and_draws_charts(page, name):
    path, charts = PAGES[name]
    resp = page.goto(path, wait_until="networkidle")
    assert resp.status == 200
    wait_for_charts(page, charts)
    assert page.locator(".vega[data-chart]").count() == len(charts)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert page.errors == []


def test_period_picker_changes_the_numbers(page):
    m = bundled_metrics(None)
    page.goto("/", wait_until="networkidle")
    latest = m.latest_period()
    assert page.locator("#kpi-total").inner_text() == usd(m.for_period(latest)["total_usd"])
    with page.expect_navigation():
        page.select_option("#period", "2022Q4")
    assert "period=2022Q4" in page.url and "vintage" not in page.url
    total = page.locator("#kpi-total").inner_text()
    assert (
        total == usd(m.for_period("2022Q4")["total_usd"]) != usd(m.for_period(latest)["total_usd"])
    )
    wait_for_charts(page, ["size_by_segment"])
    with page.expect_navigation():
        page.select_option("#vintage", "2025-04-14")
    assert "vintage=2025-04-14" in page.url and "period=2022Q4" in page.url
    assert page.locator("footer").inner_text().count("2025-04-14") == 1
    page.screenshot(path=str(SHOTS / "picker.png"), full_page=True)
    assert page.errors == []


def test_platform_link_from_index(page):
    page.goto("/platforms", wait_until="networkidle")
    with page.expect_navigation():
        page.locator("#platform-index a", has_text="Galaxy+Ledn").click()
    assert page.locator("h1").inner_text().startswith("Galaxy+Ledn")
    wait_for_charts(page, ["platform_history"])
    assert page.errors == []


def test_csv_download(page, tmp_path):
    page.goto("/downloads", wait_until="networkidle")
    with page.expect_download() as info:
        page.click("a[href='/downloads/observations.csv']")
    dl = info.value
    assert dl.suggested_filename == "observations.csv"
    path = tmp_path / "observations.csv"
    dl.save_as(path)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and {"period", "segment", "value_usd", "source_id"} <= set(rows[0])
    assert page.errors == []


def test_error_page_is_html(page):
    resp = page.goto("/?period=2024Q9")
    assert resp.status == 422
    assert "period" in page.locator("#error-message").inner_text()


def test_csv_and_parquet_downloads(client):
    import io

    import pyarrow.parquet as pq

    r = client.get("/downloads/observations.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="observations.csv"' in r.headers["content-disposition"]
    assert r.text.splitlines()[0].startswith('"period","segment"')
    r = client.get("/downloads/metrics_quarterly.parquet")
    t = pq.read_table(io.BytesIO(r.content))
    assert t.num_rows == len(bundled_metrics(None).periods())


def test_pdf_report_on_demand(client):
    r = client.get("/downloads/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/?period=1999Q1", "query parameter &#39;period&#39;: 1999Q1 has no data"),
        ("/segments?vintage=9999-12-31", "query parameter &#39;vintage&#39;: 9999-12-31 is in"),
        ("/defi?vintage=2001-01-01", "earliest is"),
        ("/?vintage=2025-02-30", "is not a date"),
    ],
)
def test_picker_refuses_what_the_api_refuses(client, path, needle):
    r = client.get(path)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert needle in r.text


def test_platform_page_in_any_case_shows_the_canonical_name(client):
    r = client.get("/platforms/tether")
    assert r.status_code == 200
    assert "<h1>Tether" in r.text and "<h1>tether" not in r.text
    assert client.get("/platforms/GALAXY%2BLEDN").status_code == 200
    assert client.get("/platforms/nope").status_code == 404
    assert client.get("/platforms/Unattributed").status_code == 404


def test_csv_downloads_neutralise_formulas(tmp_path):
    """The app's CSV downloads are the CLI's export: a user's formula note arrives as text."""
    import csv

    from lendscope.app.data import Data
    from lendscope.app.routers.pages import download_path
    from lendscope.dataset.store import build

    formula = '=HYPERLINK("https://evil.example","open")'
    user = tmp_path / "acme.csv"
    head = "period,segment,platform,chain,metric,value_usd,source_id,method,published,note"
    row = "2025Q4,cefi,Acme,,outstanding_loans_usd,1.5e8,galaxy-2025-04-state-of-crypto-lending,"
    with user.open("w", newline="") as f:
        f.write(f"{head}\n{row}estimate,2026-02-15,")
        csv.writer(f).writerow([formula])
    build([user], tmp_path / "l.duckdb")
    d = Data(tmp_path / "l.duckdb")
    try:
        with download_path(d, "observations.csv").open(newline="") as f:
            acme = next(r for r in csv.DictReader(f) if r["platform"] == "Acme")
    finally:
        d.close()
    assert acme["note"] == "'" + formula and acme["value_usd"] == "150000000"

"""The stress page in Chromium: described scenarios, busy indicator, permalink, downloads."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lendscope.app.stress_results import RunStore, result_csv, scenario_info
from tests.app.helpers import SHOTS, csrf_token, same_origin

EX = Path(__file__).parents[2] / "src/lendscope/risk/examples"
RUN_URL = re.compile(r"/stress-test/runs/[A-Za-z0-9_-]{16}$")


@pytest.fixture
def page(browser, base_url) -> Iterator:
    ctx = browser.new_context(base_url=base_url, accept_downloads=True)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    ctx.close()


def run_form(page, scenario: str = "black-thursday", positions: int = 50) -> None:
    page.goto("/stress-test", wait_until="networkidle")
    page.check(f"#scenario-{scenario}")
    page.fill("input[name=positions]", str(positions))
    # Seen from inside the page: after stress.js's submit handler, is the indicator shown?
    page.evaluate(
        """() => document.getElementById('stress-form').addEventListener('submit', () => {
            const busy = document.getElementById('stress-busy');
            sessionStorage.setItem('busy', String(!busy.hidden));
            sessionStorage.setItem('ariaBusy', document.getElementById('stress-form')
                .getAttribute('aria-busy'));
        })"""
    )
    with page.expect_navigation():
        page.click("#stress-run")
    page.wait_for_selector("#stress-summary")


def test_scenarios_are_described_with_their_sources(page):
    page.goto("/stress-test", wait_until="networkidle")
    infos = scenario_info()
    assert page.locator(".scenario").count() == len(infos) == 4
    page.click("#about-2022 summary")
    about = page.locator("#about-2022")
    assert "Terra" in about.inner_text() and "Galaxy Research" in about.inner_text()
    assert about.locator("a[href^='https://www.galaxy.com/']").count() >= 1
    assert "2022-05-01 to 2023-01-31" in page.locator("label[for=scenario-2022]").inner_text()
    assert page.locator("link[href='/static/stress.css']").count() == 1
    assert page.errors == []


def test_run_shows_busy_then_a_labelled_result_at_its_permalink(page, tmp_path):
    run_form(page)
    assert page.evaluate("sessionStorage.getItem('busy')") == "true"
    assert page.evaluate("sessionStorage.getItem('ariaBusy')") == "true"
    assert RUN_URL.search(page.url), page.url  # the permalink replaced /stress-test
    link = page.get_attribute("#permalink", "href")
    assert page.url.endswith(link)
    # synthetic balance sheets of real lenders' names are labelled as such, row by row
    assert page.locator("#synthetic-note").is_visible()
    rows = page.locator("#stress-lenders tbody tr")
    assert rows.count() >= 1
    assert page.locator("#stress-lenders tbody .badge.synthetic").count() == rows.count()
    assert "synthetic" in page.locator("#stress-lenders caption").inner_text()
    summary = page.locator("#stress-summary").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "stress_result.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#download-json")
    data = json.loads(Path(info.value.path()).read_text())
    assert data["scenario"] == "black-thursday" and data["book"]["synthetic"] is True
    with page.expect_download() as info:
        page.click("#download-csv")
    assert info.value.suggested_filename.endswith(".csv")
    with open(info.value.path(), newline="") as f:
        rows_csv = list(csv.DictReader(f))
    assert {"section": "book", "name": "", "metric": "synthetic", "value": "True"} in rows_csv
    assert any(r["section"] == "lender" for r in rows_csv)

    # the permalink opens the same result in a fresh page, with the form as it was sent
    other = page.context.new_page()
    other.goto(link, wait_until="networkidle")
    assert other.locator("#stress-summary").inner_text() == summary
    assert other.is_checked("#scenario-black-thursday")
    assert other.input_value("input[name=positions]") == "50"
    assert page.errors == []


def test_without_javascript_the_post_returns_the_result_page(browser, base_url):
    ctx = browser.new_context(base_url=base_url, java_script_enabled=False)
    pg = ctx.new_page()
    pg.goto("/stress-test")
    assert pg.locator("noscript").count() >= 1
    pg.check("#scenario-aug-2024")
    pg.fill("input[name=positions]", "30")
    with pg.expect_navigation():
        pg.click("#stress-run")
    assert pg.url.endswith("/stress-test")  # no script: the POST's own page
    assert pg.locator("#stress-summary").count() == 1
    assert RUN_URL.search(pg.get_attribute("#permalink", "href"))
    ctx.close()


def test_stress_page_fits_a_phone(browser, base_url):
    ctx = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 800})
    pg = ctx.new_page()
    run_form(pg, "usdc-depeg-2023", 40)
    box = pg.evaluate(
        "() => { const s = document.querySelector('.stress');"
        " return [s.getBoundingClientRect().right, s.scrollWidth, s.clientWidth]; }"
    )
    assert box[0] <= 390 and box[1] <= box[2], box
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "stress_result_390.png"), full_page=True)
    ctx.close()


# -- without a browser ------------------------------------------------------------------------


def test_post_answers_its_permalink_and_unknown_runs_are_404(base_url):
    with httpx.Client(base_url=base_url, headers=same_origin(base_url), timeout=60) as c:
        tok = csrf_token(c)
        r = c.post("/stress-test", data={"positions": "20", "csrf_token": tok})
        assert r.status_code == 200
        link = r.headers["content-location"]
        assert RUN_URL.search(link) and f'href="{link}"' in r.text
        j = c.get(link + ".json")
        assert j.status_code == 200 and "attachment" in j.headers["content-disposition"]
        assert j.json()["book"]["synthetic"] is True
        gone = c.get("/stress-test/runs/AAAAAAAAAAAAAAAA")
        assert gone.status_code == 404 and "run it again" in gone.text
        assert c.get("/stress-test/runs/AAAAAAAAAAAAAAAA.csv").status_code == 404
        assert c.get("/stress-test/runs/..%2Fetc.json").status_code in (404, 422)


def test_an_uploaded_book_is_not_labelled_synthetic_and_its_csv_is_safe(base_url):
    tape = (EX / "loan_tape.csv").read_text().replace("ExampleLend", "=HYPERLINK(1)")
    files = {
        "loan_tape": ("tape.csv", tape.encode(), "text/csv"),
        "funding": ("f.yaml", (EX / "funding.yaml").read_text().replace(
            "ExampleLend", "=HYPERLINK(1)").encode(), "text/yaml"),
    }  # fmt: skip
    with httpx.Client(base_url=base_url, headers=same_origin(base_url), timeout=60) as c:
        r = c.post("/stress-test", data={"csrf_token": csrf_token(c)}, files=files)
        assert r.status_code == 200, r.text[-500:]
        assert 'id="synthetic-note"' not in r.text and 'id="uploaded-note"' in r.text
        text = c.get(r.headers["content-location"] + ".csv").text
    assert "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_the_store_keeps_the_last_runs_only():
    store = RunStore(keep=2)
    a, b, c = (store.add({"scenario": str(i)}, {}) for i in range(3))
    assert store.get(a.id) is None and store.get(b.id) and store.get(c.id) and len(store) == 2
    assert len({a.id, b.id, c.id}) == 3
    assert result_csv({"scenario": "@x"}).splitlines()[1] == "run,,scenario,'@x"


def test_with_a_token_a_kept_run_is_shown_only_past_the_guard():
    from fastapi.testclient import TestClient

    from lendscope.app import create_app
    from tests.helpers import NO_DB

    bearer = {"Authorization": "Bearer t0k"}
    with TestClient(create_app(NO_DB, token="t0k", warm=False)) as c:
        r = c.post("/stress-test", data={"positions": "20"}, headers=bearer)
        link = r.headers["content-location"]
        for suffix in ("", ".json", ".csv"):
            assert c.get(link + suffix).status_code == 401
            assert c.get(link + suffix, headers=bearer).status_code == 200

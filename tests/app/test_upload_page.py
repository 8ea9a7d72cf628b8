"""The upload page in Chromium and over HTTP: several files checked together, problems by
file, row and field, CSRF and the token, hostile-input bounds."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from lendscope.app.deps import MAX_UPLOAD
from lendscope.app.upload_service import MAX_FILES
from tests.app.helpers import SHOTS, csrf_token, same_origin
from tests.helpers import NO_DB

SOURCES = (
    b"id,title,publisher,url,published,kind,note\n"
    b"newlend-2026-01-q4,NewLend Q4 2025 loan book,NewLend,https://newlend.example/q4,"
    b"2026-01-20,report,\n"
)
OBSERVATIONS = (
    b"period,segment,platform,chain,metric,value_usd,source_id,method,published,note\n"
    b"2025Q4,cefi,NewLend,,outstanding_loans_usd,1.2e8,newlend-2026-01-q4,reported,"
    b"2026-01-20,\n"
)


def part(name: str, content: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return ("files", (name, content, "text/csv"))


@pytest.fixture
def page(browser, base_url) -> Iterator:
    ctx = browser.new_context(base_url=base_url)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    ctx.close()


def upload(page, files: dict[str, bytes]) -> None:
    page.goto("/upload", wait_until="networkidle")
    payload = [{"name": n, "mimeType": "text/csv", "buffer": b} for n, b in files.items()]
    page.set_input_files("#upload-files", payload)
    with page.expect_navigation():
        page.click("#upload-check")
    page.wait_for_selector("#upload-result")


def test_a_new_lenders_sources_and_observations_pass_together(page):
    assert page.goto("/upload").status == 200
    assert page.locator("nav a[href='/upload']").count() == 1  # in the menu
    upload(page, {"sources.csv": SOURCES, "observations.csv": OBSERVATIONS})
    assert page.locator("#upload-ok").is_visible()
    files = page.locator("#upload-files-table tbody tr")
    assert files.count() == 2
    assert files.nth(0).inner_text().split("\t")[:3] == ["sources.csv", "sources", "1"]
    assert page.locator("#upload-problems").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "upload_ok.png"), full_page=True)
    assert page.errors == []


def test_each_problem_is_shown_by_file_row_and_field(page):
    bad_sources = SOURCES.replace(b",report,", b",company,")
    upload(page, {"sources.csv": bad_sources, "observations.csv": OBSERVATIONS})
    rows = page.locator("#upload-problems tbody tr")
    cells = [rows.nth(i).locator("th, td").all_inner_texts() for i in range(rows.count())]
    assert cells[0][:3] == ["sources.csv", "2", "kind"] and "company" in cells[0][3]
    assert cells[1][:3] == ["observations.csv", "2", "source_id"]
    assert "unknown source 'newlend-2026-01-q4'" in cells[1][3]
    assert "2 problems found" in page.locator("#upload-result-title").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "upload_problems.png"), full_page=True)


def test_alone_the_observations_fail_on_their_source(base_url):
    with httpx.Client(base_url=base_url, timeout=60) as c:
        r = c.post("/api/v1/validate/files", files=[part("observations.csv", OBSERVATIONS)])
        both = c.post(
            "/api/v1/validate/files",
            files=[part("sources.csv", SOURCES), part("observations.csv", OBSERVATIONS)],
        )
    assert r.status_code == 200 and r.json()["ok"] is False
    assert r.json()["problems"][0]["field"] == "source_id"
    assert both.json() == {
        "ok": True,
        "files": [
            {"file": "sources.csv", "table": "sources", "rows": 1},
            {"file": "observations.csv", "table": "observations", "rows": 1},
        ],
        "problems": [],
    }


def test_hostile_uploads_are_bounded_and_reported_by_file(base_url):
    with httpx.Client(base_url=base_url, timeout=60) as c:
        many = [part(f"f{i}.csv", SOURCES) for i in range(MAX_FILES + 1)]
        assert c.post("/api/v1/validate/files", files=many).status_code == 413
        r = c.post(
            "/api/v1/validate/files",
            files=[
                part("../../etc/sources.csv", SOURCES),
                part("big.csv", b"a" * (MAX_UPLOAD + 1)),
                part("x.exe", b"MZ"),
                part("a.yaml", b"a: &x 1\nb: *x\n"),
                part("sources.csv", b"\xff\xfe\x00"),
            ],
        )
    assert r.status_code == 200
    by_file = {p["file"]: p["message"] for p in r.json()["problems"]}
    assert "over 1048576 bytes" in by_file["big.csv"]
    assert "use a .csv" in by_file["x.exe"]
    assert "anchors and aliases" in by_file["a.yaml"]
    assert "sources.csv (2)" in by_file  # a repeated name stays one file's
    assert "/tmp" not in r.text and "upload-" not in r.text  # no server path leaks


def test_the_form_needs_csrf_and_a_signed_in_session_when_a_token_is_set(base_url):
    with httpx.Client(base_url=base_url, headers=same_origin(base_url), timeout=60) as c:
        csrf_token(c, "/upload")
        r = c.post("/upload", data={"csrf_token": "x"}, files=[part("s.csv", SOURCES)])
        assert r.status_code == 403
        empty = c.post(
            "/upload", data={"csrf_token": csrf_token(c, "/upload")}, files=[part("", b"")]
        )
        assert empty.status_code in (400, 422) and 'id="error-message"' in empty.text
    app = create_app(NO_DB, token="t0k", warm=False)
    with TestClient(
        app, base_url="https://testserver", headers=same_origin("https://testserver")
    ) as c:
        tok = {"csrf_token": csrf_token(c, "/upload")}
        assert c.post("/upload", data=tok, files=[part("s.csv", SOURCES)]).status_code == 401
        api = c.post("/api/v1/validate/files", files=[part("s.csv", SOURCES)])
        assert api.status_code == 401
        ok = c.post(
            "/upload",
            files=[part("s.csv", SOURCES)],
            headers={"Authorization": "Bearer t0k"},
        )
        assert ok.status_code == 200 and 'id="upload-ok"' in ok.text


def test_upload_page_fits_a_phone(browser, base_url):
    ctx = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 800})
    pg = ctx.new_page()
    upload(pg, {"sources.csv": SOURCES.replace(b",report,", b",company,")})
    box = pg.evaluate(
        "() => { const s = document.querySelector('.stress');"
        " return [s.getBoundingClientRect().right, s.scrollWidth, s.clientWidth]; }"
    )
    assert box[0] <= 390 and box[1] <= box[2], box
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "upload_problems_390.png"), full_page=True)
    ctx.close()


def test_every_hostile_disclosure_is_refused_by_file_beside_a_good_one(base_url):
    """The hostile suite's disclosure files, each sent with a valid file: a problem of that
    file only, never a 5xx, never a server path in the answer."""
    from tests.hostile.cases import CASES

    disclosures = [c for c in CASES if c.kind == "disclosure"]
    assert disclosures
    with httpx.Client(base_url=base_url, timeout=120) as c:
        for case in disclosures:
            files = [part("sources.csv", SOURCES), ("files", (case.name, case.content))]
            r = c.post("/api/v1/validate/files", files=files)
            assert r.status_code < 500, (case.id, r.status_code)
            if r.status_code != 200:
                continue  # the body's own bound (over MAX_BODY) or a nameless part
            body = r.json()
            assert body["ok"] is False, case.id
            assert {p["file"] for p in body["problems"]} - {"sources.csv"}, case.id
            assert "sources.csv" not in {p["file"] for p in body["problems"]}, case.id
            assert "/tmp/" not in r.text and "Traceback" not in r.text, case.id

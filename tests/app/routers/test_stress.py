"""The stress router: its page and ``POST /api/v1/stress``; books, the guard, the run pool."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from lendscope.app.runs import Limits
from tests.app.helpers import Server, csrf_token, same_origin
from tests.helpers import NO_DB

EX = Path(__file__).parents[3] / "src/lendscope/risk/examples"
TAPE = (EX / "loan_tape.csv").read_bytes()
FUND = (EX / "funding.yaml").read_bytes()


@pytest.fixture(scope="module")
def c():
    with TestClient(
        create_app(NO_DB, token=""), headers=same_origin("http://testserver")
    ) as client:
        yield client


def files(tape: bytes = TAPE, fund: bytes = FUND, tape_name: str = "tape.csv") -> dict:
    return {"loan_tape": (tape_name, tape, "text/csv"), "funding": ("f.yaml", fund, "text/yaml")}


def test_synthetic_stress_json_is_deterministic(c):
    form = {"scenario": "2022", "seed": "4", "positions": "200"}
    a, b = c.post("/api/v1/stress", data=form).json(), c.post("/api/v1/stress", data=form).json()
    assert a.pop("elapsed_s") < 5 and b.pop("elapsed_s") < 5
    assert a == b and list(a["by_segment"]) == ["cefi", "defi", "cdp"]
    assert a["book"]["debt_usd"] > 1e10  # sized like the latest quarter


def test_uploaded_loan_tape(c):
    r = c.post("/api/v1/stress", data={"scenario": "2022"}, files=files())
    assert r.status_code == 200, r.text
    # Without a credit file no counterparty is named, so ExampleLend's unsecured loans default
    # only past their drawn drawdown thresholds; the book is the uploaded one, not synthetic.
    assert r.json()["cefi"]["lenders"][0]["lender"] == "ExampleLend"
    assert r.json()["book"]["synthetic"] is False
    assert r.json()["book"]["loans"] == 8


@pytest.mark.parametrize(
    ("data", "upload", "status", "msg"),
    [
        ({"positions": "999999"}, None, 422, "positions"),
        ({"scenario": "1929"}, None, 422, "scenario"),
        ({}, files(TAPE.replace(b"0.5,0.7,0.8", b"0.8,0.7,0.8", 1)), 422,
         "tape.csv: row 2: margin_call_ltv: LTV ladder out of order"),
        ({}, files(fund=FUND.replace(b"2000000", b"-2000000")), 422,
         "f.yaml: own_capital_usd: must be >= 0"),
        ({}, {"loan_tape": ("tape.csv", TAPE, "text/csv")}, 422, "upload both"),
        ({}, files(tape_name="tape.xlsx"), 415, "use a .csv file"),
        ({}, files(tape=b"\xff\xfe\x00"), 422, "not UTF-8"),
    ],
)  # fmt: skip
def test_bad_requests(c, data, upload, status, msg):
    r = c.post("/api/v1/stress", data=data, files=upload)
    assert r.status_code == status
    assert msg in r.text


def test_page_form_and_result(c):
    page = c.get("/stress-test")
    assert page.status_code == 200 and 'id="stress-form"' in page.text
    assert 'href="/stress-test"' in page.text  # in the menu
    tok = {"csrf_token": csrf_token(c)}
    r = c.post("/stress-test", data={"scenario": "black-thursday", "positions": "100", **tok})
    assert r.status_code == 200 and 'id="stress-summary"' in r.text
    bad = c.post("/stress-test", data=tok, files=files(fund=b"lender: X\n"))
    assert 'id="error-message"' in bad.text and "own_capital_usd: missing field" in bad.text


def test_post_needs_the_token_when_set():
    with TestClient(create_app(NO_DB, token="t0k", warm=False)) as c:
        assert c.post("/api/v1/stress", data={"positions": "50"}).status_code == 401
        ok = c.post(
            "/api/v1/stress", data={"positions": "50"}, headers={"Authorization": "Bearer t0k"}
        )
        assert ok.status_code == 200


def test_the_form_needs_a_signed_in_session_when_a_token_is_set():
    app = create_app(NO_DB, token="t0k", warm=False)
    with TestClient(
        app, base_url="https://testserver", headers=same_origin("https://testserver")
    ) as c:
        tok = {"csrf_token": csrf_token(c)}  # an anonymous session: not signed in
        r = c.post("/stress-test", data={"positions": "50", **tok})
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert 'id="sign-in-link"' in r.text and "/sign-in?next=/stress-test" in r.text
        assert 'id="stress-summary"' not in r.text
        # a script may use the bearer token on the form route too (no cookie, no CSRF token)
        bearer = {"Authorization": "Bearer t0k"}
        ok = c.post("/stress-test", data={"positions": "50"}, headers=bearer)
        assert ok.status_code == 200 and 'id="stress-summary"' in ok.text
        wrong = c.post(
            "/stress-test", data={"positions": "50"}, headers={"Authorization": "Bearer x"}
        )
        assert wrong.status_code == 401


# -- the run pool: limits, queue, deadline ------------------------------------------------------


def test_a_full_pool_answers_429_with_retry_after_on_the_api_and_the_page():
    app = create_app(NO_DB, token="", warm=False, limits=Limits(workers=1, queue=0))
    with TestClient(app, headers=same_origin("http://testserver")) as c:
        tok = {"csrf_token": csrf_token(c)}
        with app.state.runs.slot():  # the only slot is taken and nothing may wait
            api = c.post("/api/v1/stress", data={"positions": "10"})
            page = c.post("/stress-test", data={"positions": "10", **tok})
        assert api.status_code == 429 and api.headers["retry-after"] == "2"
        assert api.json()["detail"] == (
            "busy: all 1 stress run slots and 0 queue places are taken; retry in 2 s"
        )
        assert page.status_code == 429 and page.headers["retry-after"] == "2"
        assert 'id="stress-form"' in page.text and "busy:" in page.text  # the form, kept
        assert c.post("/api/v1/stress", data={"positions": "10"}).status_code == 200  # freed


def test_a_run_past_the_deadline_is_stopped_with_504():
    app = create_app(NO_DB, token="", warm=False, limits=Limits(run_timeout_s=0.01))
    with TestClient(app) as c:
        r = c.post("/api/v1/stress", data={"positions": "10"})
        assert r.status_code == 504
        assert r.json()["detail"].startswith("stress run stopped after 0.01 s (the limit)")
        assert app.state.runs._idle == []  # the worker was killed, not kept


def test_many_concurrent_requests_get_429_instead_of_piling_up():
    """24 small runs at once on 1 worker + 1 queued: the rest are turned away at once."""
    app = create_app(NO_DB, token="", warm=True, limits=Limits(workers=1, queue=1))
    n = 24
    barrier = threading.Barrier(n)

    def post(client: httpx.Client) -> httpx.Response:
        barrier.wait()
        return client.post("/api/v1/stress", data={"positions": "10", "scenario": "2022"})

    with Server(app) as s, httpx.Client(base_url=s.url, timeout=60) as client:
        t0 = time.monotonic()
        with ThreadPoolExecutor(n) as pool:
            answers = list(pool.map(post, [client] * n))
        elapsed = time.monotonic() - t0
    codes = Counter(r.status_code for r in answers)
    assert set(codes) <= {200, 429}, codes
    assert 1 <= codes[200] <= n // 2 and codes[429] >= n // 2, codes
    busy = [r for r in answers if r.status_code == 429]
    assert all(r.headers["retry-after"] == "2" for r in busy)
    assert all(r.json()["detail"].startswith("busy: all 1 stress run slots") for r in busy)
    assert elapsed < 20  # answered, not queued up: 50 x 5,000 positions used to take 34 s


def test_upload_without_a_file_name_is_a_clear_422(c):
    r = c.post("/api/v1/stress", files={"loan_tape": ("", TAPE), "funding": ("f.yaml", FUND)})
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "form field 'loan_tape': not a file: send the file as a file upload, with its file name"
    )
    assert "UploadFile" not in r.text and "loc" not in r.json() and "ExampleLend" not in r.text

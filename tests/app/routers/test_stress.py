"""The stress router: its page and ``POST /api/v1/stress``; synthetic and uploaded books."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from tests.helpers import NO_DB

EX = Path(__file__).parents[3] / "src/lendscope/risk/examples"
TAPE = (EX / "loan_tape.csv").read_bytes()
FUND = (EX / "funding.yaml").read_bytes()


@pytest.fixture(scope="module")
def c():
    with TestClient(create_app(NO_DB, token="")) as client:
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
    assert r.json()["failed_lenders"][0]["lender"] == "ExampleLend"
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
    r = c.post("/stress-test", data={"scenario": "black-thursday", "positions": "100"})
    assert r.status_code == 200 and 'id="stress-summary"' in r.text
    bad = c.post("/stress-test", data={}, files=files(fund=b"lender: X\n"))
    assert 'id="error-message"' in bad.text and "own_capital_usd: missing field" in bad.text


def test_post_needs_the_token_when_set():
    with TestClient(create_app(NO_DB, token="t0k", warm=False)) as c:
        assert c.post("/api/v1/stress", data={"positions": "50"}).status_code == 401
        ok = c.post(
            "/api/v1/stress", data={"positions": "50"}, headers={"Authorization": "Bearer t0k"}
        )
        assert ok.status_code == 200

"""Uploads go through the shared loader: hostile YAML is refused early with a 4xx (JSON for the
API, the HTML page for the form), never a 500 or a plain-text error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from tests.app.helpers import csrf_token, same_origin
from tests.core.bombs import YAML_BOMBS
from tests.helpers import NO_DB

EX = Path(__file__).parents[3] / "src/lendscope/risk/examples"
TAPE = (EX / "loan_tape.csv").read_bytes()
ALIASES = b"lender: ExampleLend\nown_capital_usd: &c 1\nliquid_assets_usd: *c\ndeposits: []\n"


@pytest.fixture(scope="module")
def c():
    app = create_app(NO_DB, token="")
    with TestClient(app, headers=same_origin("http://testserver")) as client:
        yield client


@pytest.mark.parametrize(
    ("bomb", "words"),
    [
        ("brackets_80k", "YAML nested deeper than 32 levels"),  # was 53 s of CPU, then a 500
        ("dashes_10k", "YAML nested deeper than 32 levels"),  # was a 500 at once
        ("billion_laughs", "anchors and aliases"),
        ("python_tag", "is not accepted"),
    ],
)
def test_validate_refuses_unsafe_yaml_with_422(c, bomb, words):
    t = time.process_time()
    r = c.post("/api/v1/validate", files={"file": ("deep.yaml", YAML_BOMBS[bomb].encode())})
    assert time.process_time() - t < 1.0
    assert r.status_code == 422 and words in r.json()["detail"], r.text[:300]
    assert "deep.yaml" in r.json()["detail"]


def test_validate_reports_malformed_yaml_as_a_problem_at_its_line(c):
    bad = b"observations:\n  - {period: 2025Q4}\n  - {period: 2025Q4, period: 2024Q4}\n"
    d = c.post("/api/v1/validate", files={"file": ("dup.yaml", bad)}).json()
    assert d["ok"] is False and [(p["file"], p["row"]) for p in d["problems"]] == [("dup.yaml", 3)]
    assert "duplicate key 'period'" in d["problems"][0]["message"]


@pytest.mark.parametrize(
    ("fund", "words"),
    [
        (ALIASES, "f.yaml: row 2: YAML anchors and aliases"),
        (YAML_BOMBS["brackets_80k"].encode(), "f.yaml: row 1: YAML nested deeper than 32"),
        (b"lender: X\n\x00", "f.yaml: row 2: not UTF-8 text (a NUL byte"),
    ],
    ids=["aliases", "deep", "nul"],
)
def test_stress_uploads_refuse_like_validate(c, fund, words):
    files = {"loan_tape": ("tape.csv", TAPE), "funding": ("f.yaml", fund)}
    r = c.post("/api/v1/stress", data={"scenario": "2022"}, files=files)
    assert r.status_code == 422 and words in r.json()["detail"], r.text[:300]
    page = c.post("/stress-test", data={"csrf_token": csrf_token(c)}, files=files)
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="error-message"' in page.text and words.split(": ", 1)[1] in page.text

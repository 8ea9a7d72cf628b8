"""The REST API router against a real uvicorn server: read endpoints, uploads, the token."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import httpx
import pytest

from lendscope.dataset.store import connect
from lendscope.metrics.summary import MarketMetrics
from tests.helpers import NO_DB, bundled_metrics

GOOD_YAML = b"""sources:
  - {id: acme-2026-02-q4, title: Acme Q4 2025 report, publisher: Acme,
     url: "https://acme.example/q4", published: 2026-02-15, kind: report}
observations:
  - {period: 2025Q4, segment: cefi, platform: "", metric: outstanding_loans_usd,
     value_usd: 25.0e9, source_id: acme-2026-02-q4, method: reported, published: 2026-02-15}
  - {period: 2025Q4, segment: cefi, platform: Acme, metric: outstanding_loans_usd,
     value_usd: 2.0e9, source_id: acme-2026-02-q4, method: reported, published: 2026-02-15}
"""


def upload(client: httpx.Client, name: str, content: bytes, **kw) -> httpx.Response:
    return client.post("/api/v1/validate", files={"file": (name, content)}, **kw)


# -- metrics -----------------------------------------------------------------------------------


def test_metrics_default_is_the_cli_json(client):
    m = bundled_metrics(None)
    got = client.get("/api/v1/metrics").json()
    assert got == json.loads(json.dumps(m.for_period(m.latest_period())))


@pytest.mark.parametrize("vintage", ["2025-04-14", "2025-05-01"])
def test_metrics_at_a_vintage_is_the_cli_json(client, vintage):
    """Between two publication dates the figures are those of the earlier one, labelled as asked."""
    want = MarketMetrics.compute(connect(NO_DB), date.fromisoformat(vintage)).for_period("2024Q4")
    r = client.get("/api/v1/metrics", params={"period": "2024Q4", "vintage": vintage})
    assert r.status_code == 200
    assert r.json() == json.loads(json.dumps(want))
    assert r.json()["total_usd"] == 36.5e9


def test_metrics_since(client):
    d = client.get("/api/v1/metrics", params={"period": "2024Q4", "since": "2023Q4"}).json()
    m = bundled_metrics(None)
    assert d["growth_since"]["from"] == "2023Q4"
    assert d["growth_since"]["total"] == m.growth("total", "2023Q4", "2024Q4")


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"period": "2024-Q4"}, 422, "query parameter 'period'"),
        ({"period": "2024Q5"}, 422, "query parameter 'period'"),
        ({"vintage": "yesterday"}, 422, "query parameter 'vintage'"),
        ({"since": "24Q4"}, 422, "query parameter 'since'"),
        ({"period": "1999Q1"}, 422, "quarters with data"),
        ({"vintage": "2001-01-01"}, 422, "earliest is"),
    ],
)
def test_metrics_bad_requests_are_4xx_with_a_message(client, params, status, needle):
    r = client.get("/api/v1/metrics", params=params)
    assert r.status_code == status
    body = r.json()
    assert needle in (body.get("message") or body["detail"])


@pytest.mark.parametrize(
    ("params", "param", "needle"),
    [
        ({"period": "1999Q1"}, "period", "1999Q1 has no data at vintage"),
        ({"period": "2024Q2"}, "period", "(nearest: 2023Q4, 2024Q4;"),
        ({"vintage": "9999-12-31"}, "vintage", "9999-12-31 is in the future (today is "),
        ({"vintage": "2022-05-30"}, "vintage", "earliest is 2022-05-31"),
        ({"vintage": "2022-06-01"}, "vintage", "no quarter has data at vintage 2022-06-01"),
        ({"period": "2021Q4", "since": "2025Q3"}, "since", "is not before the period 2021Q4"),
        ({"period": "2024Q4", "since": "2024Q4"}, "since", "2024Q4 is not before the period"),
        ({"since": "2025Q3"}, "since", "2025Q3 is not before the period 2025Q3"),
        ({"since": "2019Q4"}, "since", "2019Q4 has no data at vintage"),
        ({"period": "2024Q4", "vintage": "2025-04-14", "since": "2025Q1"}, "since",
         "2025Q1 has no data at vintage 2025-04-14"),
    ],
)  # fmt: skip
def test_metrics_refused_parameters_are_422_like_malformed_ones(client, params, param, needle):
    """The data's refusals (worded as the CLI's) come in the app's validation error format."""
    r = client.get("/api/v1/metrics", params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"].startswith(f"query parameter '{param}': ") and needle in body["message"]
    malformed = client.get("/api/v1/metrics", params={param: "x"})
    assert malformed.status_code == 422 and set(malformed.json()) == set(body)


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/api/v1/periods", {"vintage": "9999-12-31"}, "vintage"),
        ("/api/v1/series", {"vintage": "2001-01-01"}, "vintage"),
        ("/api/v1/platforms", {"period": "1999Q1"}, "period"),
        ("/api/v1/platforms", {"platform": "nope"}, "platform"),
        ("/api/v1/observations", {"vintage": "9999-12-31"}, "vintage"),
        ("/api/v1/observations", {"platform": "nope"}, "platform"),
        ("/api/v1/charts/size_by_segment", {"period": "1999Q1"}, "period"),
        ("/api/v1/charts/size_by_segment", {"vintage": "9999-12-31"}, "vintage"),
    ],
)
def test_every_endpoint_refuses_the_same_values(client, path, params, param):
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith(f"query parameter '{param}': ")


# -- other read endpoints -------------------------------------------------------------------------


def test_periods(client):
    d = client.get("/api/v1/periods").json()
    m = bundled_metrics(None)
    assert d["periods"] == m.periods() and d["latest"] == m.latest_period()
    assert d["vintages"][-1] == str(m.vintage)


def test_series(client):
    rows = client.get("/api/v1/series", params={"name": "total"}).json()
    assert {r["series"] for r in rows} == {"total"}
    m = bundled_metrics(None)
    assert [r["value_usd"] for r in rows] == [
        r["value_usd"] for r in m.series if r["series"] == "total"
    ]
    assert client.get("/api/v1/series", params={"name": "nope"}).status_code == 422


def test_platforms(client):
    rows = client.get("/api/v1/platforms", params={"period": "2024Q4", "segment": "cefi"}).json()
    assert rows == [
        {"period": "2024Q4", "segment": "cefi", **r}
        for r in bundled_metrics(None).platforms("2024Q4", "cefi")
    ]
    tether = client.get("/api/v1/platforms", params={"platform": "Tether"}).json()
    assert tether and {r["platform"] for r in tether} == {"Tether"}
    # any case, answered with the canonical name
    assert client.get("/api/v1/platforms", params={"platform": "tETHER"}).json() == tether
    group = client.get("/api/v1/platforms", params={"platform": "galaxy+ledn"}).json()
    assert group and {r["platform"] for r in group} == {"Galaxy+Ledn"}


def test_sources(client):
    rows = client.get("/api/v1/sources").json()
    assert len(rows) == len(bundled_metrics(None).sources)
    assert all(r["figures"] >= 0 and r["url"].startswith("http") for r in rows)


def test_observations_filters_and_paging(client):
    full = client.get("/api/v1/observations", params={"limit": 1000}).json()
    assert full["total"] == len(full["items"]) > 100
    page = client.get("/api/v1/observations", params={"limit": 7, "offset": 5}).json()
    assert page["items"] == full["items"][5:12] and page["total"] == full["total"]
    cefi = client.get(
        "/api/v1/observations", params={"segment": "cefi", "method": "reported", "limit": 1000}
    ).json()
    assert cefi["items"] and all(
        r["segment"] == "cefi" and r["method"] == "reported" for r in cefi["items"]
    )
    totals = client.get("/api/v1/observations", params={"platform": "", "segment": "cefi"}).json()
    assert all(r["platform"] == "" for r in totals["items"])
    tether = client.get("/api/v1/observations", params={"platform": "Tether"}).json()
    assert tether["total"] > 0
    assert client.get("/api/v1/observations", params={"platform": "TETHER"}).json() == tether
    early = client.get("/api/v1/observations", params={"vintage": "2025-04-14"}).json()
    assert 0 < early["total"] < full["total"]
    assert all(r["published"] <= "2025-04-14" for r in early["items"])


@pytest.mark.parametrize(
    "params",
    [{"limit": 1001}, {"limit": 0}, {"offset": -1}, {"segment": "cex"}, {"method": "guess"}],
)
def test_observations_bad_params(client, params):
    r = client.get("/api/v1/observations", params=params)
    assert r.status_code == 422
    assert next(iter(params)) in r.json()["message"]


def test_chart_specs_are_the_report_specs(client):
    from lendscope.report.charts import CHARTS, spec

    m = bundled_metrics(None)
    got = client.get("/api/v1/charts/size_by_segment", params={"period": "2024Q4"}).json()
    assert got == json.loads(json.dumps(spec(CHARTS["size_by_segment"][1](m, "2024Q4"))))
    assert client.get("/api/v1/charts/nope").status_code == 422


# -- validate upload ---------------------------------------------------------------------------


def _upload_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("lendscope-upload-*")}


def test_validate_good_file(client):
    before = _upload_dirs()
    r = upload(client, "acme.yaml", GOOD_YAML)
    assert r.status_code == 200, r.text
    assert r.json() == {"file": "acme.yaml", "ok": True, "rows": 3, "problems": []}
    assert _upload_dirs() == before  # written to a temporary directory and deleted


def test_validate_reports_problems_like_the_cli(client):
    bad = GOOD_YAML.replace(b"value_usd: 2.0e9", b"value_usd: 20.0e9").replace(
        b"value_usd: 25.0e9", b"value_usd: 2.5e9"
    )
    d = upload(client, "../../etc/acme.yaml", bad).json()
    assert d["file"] == "acme.yaml" and not d["ok"]
    assert d["problems"] and all(p["file"] == "acme.yaml" for p in d["problems"])
    assert any(p["field"] == "value_usd" for p in d["problems"])


def test_validate_csv_and_non_utf8(client):
    d = upload(client, "x.csv", b"period,segment\n2024Q4,cefi\n").json()
    assert not d["ok"] and "columns match no table" in d["problems"][0]["message"]
    d = upload(client, "x.csv", b"\xff\xfe\x00garbage").json()
    assert not d["ok"] and "UTF-8" in d["problems"][0]["message"]


def test_validate_limits(client):
    assert upload(client, "big.csv", b"a," * (600 * 1024)).status_code == 413
    assert upload(client, "big.csv", b"a" * (1024 * 1024 + 10)).status_code == 413
    r = upload(client, "run.sh", b"#!/bin/sh\necho hi\n")
    assert r.status_code == 415 and ".csv" in r.json()["detail"]
    r = upload(client, "bomb.yaml", b"a: &a [1, 2]\nb: [*a, *a]\n")
    assert r.status_code == 422 and "alias" in r.json()["detail"]
    r = client.post("/api/v1/validate")
    assert r.status_code == 422 and "file" in r.json()["message"]


def test_validate_chunked_body_over_the_limit(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = client.post(
        "/api/v1/validate", content=chunks(), headers={"Content-Type": "multipart/form-data"}
    )
    assert r.status_code == 413


def test_token_guards_post_only(token_url):
    with httpx.Client(base_url=token_url, timeout=60) as c:
        assert upload(c, "acme.yaml", GOOD_YAML).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert upload(c, "acme.yaml", GOOD_YAML, headers=wrong).status_code == 401
        good = {"Authorization": "Bearer s3cret-token"}
        assert upload(c, "acme.yaml", GOOD_YAML, headers=good).json()["ok"]
        assert c.get("/api/v1/periods").status_code == 200

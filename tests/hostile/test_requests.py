"""Hostile requests: bad parameters, path tricks, header injection, oversized bodies, methods.

Each runs against the app with no token and with a token set; none may answer 5xx, leak
internals, or echo an injected header.
"""

from __future__ import annotations

import pytest

from tests.hostile.helpers import measured, server_error

BIG = "x" * 20_000
NO_AUTH = {"Authorization": ""}

# (id, method, path, request kwargs, acceptable statuses)
REQUESTS = [
    ("since_after_period", "GET", "/api/v1/metrics?period=2021Q4&since=2025Q3", {}, {422}),
    ("since_without_data", "GET", "/api/v1/metrics?period=2024Q4&since=2019Q1", {}, {422}),
    ("period_without_data", "GET", "/api/v1/metrics?period=2019Q1", {}, {422}),
    ("future_vintage", "GET", "/api/v1/metrics?vintage=9999-12-31", {}, {422}),
    ("vintage_before_data", "GET", "/api/v1/metrics?vintage=2001-01-01", {}, {422}),
    ("vintage_not_a_date", "GET", "/api/v1/metrics?vintage=yesterday", {}, {422}),
    ("period_sql", "GET", "/api/v1/metrics?period=2024Q4%27%3B%20DROP%20TABLE%20x", {}, {422}),
    ("period_huge", "GET", f"/api/v1/metrics?period={BIG}", {}, {414, 422, 431}),
    ("platform_unknown", "GET", "/api/v1/platforms?platform=nope", {}, {404, 422}),
    ("platform_long", "GET", "/api/v1/platforms?platform=" + "a" * 5000, {}, {422}),
    ("offset_negative", "GET", "/api/v1/observations?offset=-1", {}, {422}),
    ("limit_nan", "GET", "/api/v1/observations?limit=nan", {}, {422}),
    ("limit_huge", "GET", "/api/v1/observations?limit=99999999999999999999", {}, {422}),
    ("series_unknown", "GET", "/api/v1/series?name=%00", {}, {422}),
    ("chart_traversal", "GET", "/api/v1/charts/..%2f..%2fpyproject.toml", {}, {404, 422}),
    ("static_traversal", "GET", "/static/../../pyproject.toml", {}, {404}),
    ("static_encoded_traversal", "GET", "/static/%2e%2e/%2e%2e/pyproject.toml", {}, {404}),
    ("download_traversal", "GET", "/downloads/..%2fpyproject.toml", {}, {404}),
    ("platform_page_crlf", "GET", "/platforms/Acme%0d%0aX-Injected:%201", {}, {404}),
    ("platform_page_script", "GET", "/platforms/%3Cscript%3Ealert(1)%3C%2Fscript%3E", {}, {404}),
    ("put_metrics", "PUT", "/api/v1/metrics", {}, {405}),
    ("delete_sources", "DELETE", "/api/v1/sources", {}, {405}),
    ("trace_root", "TRACE", "/", {}, {405}),
    ("validate_no_file", "POST", "/api/v1/validate", {}, {422}),
    ("validate_json_body", "POST", "/api/v1/validate", {"json": {"file": "x"}}, {422}),
    ("validate_text_part", "POST", "/api/v1/validate", {"data": {"file": "x"}}, {422}),
    ("validate_empty_name", "POST", "/api/v1/validate", {"files": {"file": ("", b"a")}}, {422}),
    (
        "validate_crlf_name",
        "POST",
        "/api/v1/validate",
        {"files": {"file": ("a\r\nX-Injected: 1.csv", b"period\n")}},
        {200, 415, 422},
    ),
    (
        "validate_over_cap",
        "POST",
        "/api/v1/validate",
        {"files": {"file": ("big.csv", b"x" * (2 * 1024 * 1024))}},
        {413},
    ),
    (
        "validate_no_token",
        "POST",
        "/api/v1/validate",
        {"files": {"file": ("a.csv", b"period\n")}, "headers": NO_AUTH},
        {200, 401},
    ),
    ("stress_positions_negative", "POST", "/api/v1/stress", {"data": {"positions": "-1"}}, {422}),
    ("stress_positions_nan", "POST", "/api/v1/stress", {"data": {"positions": "nan"}}, {422}),
    ("stress_positions_huge", "POST", "/api/v1/stress", {"data": {"positions": "10000000"}}, {422}),
    ("stress_seed_overflow", "POST", "/api/v1/stress", {"data": {"seed": "9" * 40}}, {422}),
    ("stress_unknown_scenario", "POST", "/api/v1/stress", {"data": {"scenario": "../2022"}}, {422}),
    (
        "stress_only_tape",
        "POST",
        "/api/v1/stress",
        {"files": {"loan_tape": ("t.csv", b"loan_id\n")}},
        {422},
    ),
    ("stress_no_token", "POST", "/api/v1/stress", {"headers": NO_AUTH}, {200, 401}),
    (
        "stress_form_no_csrf",
        "POST",
        "/stress-test",
        {"data": {"scenario": "2022"}, "headers": NO_AUTH},
        {401, 403},
    ),
    (
        "stress_form_foreign_origin",
        "POST",
        "/stress-test",
        {"data": {"scenario": "2022"}, "headers": {**NO_AUTH, "Origin": "https://evil.example"}},
        {303, 401, 403},
    ),
    (
        "sign_in_wrong_token",
        "POST",
        "/sign-in",
        {"data": {"token": "guess"}, "headers": {"Origin": "http://testserver"}},
        {401, 403},
    ),
    ("sign_in_open_redirect", "GET", "/sign-in?next=https://evil.example/", {}, {200, 404}),
    (
        "host_header_injection",
        "GET",
        "/api/v1/sources",
        {"headers": {"Host": "evil\r\nX: 1"}},
        {200, 400},
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "ok"),
    [pytest.param(*r[1:], id=r[0]) for r in REQUESTS],
)
def test_request_is_refused_cleanly(api, method, path, kwargs, ok, request) -> None:
    case = request.node.callspec.id.split("-")[-1]
    api.cookies.clear()  # each request arrives as a new client would send it
    try:
        r = measured(
            case, lambda: api.request(method, path, follow_redirects=False, **kwargs), wall=True
        )
    except ValueError:  # the HTTP client itself refuses to send an illegal header
        return
    server_error(case, r.status_code)
    if path.startswith(("/api/v1/validate", "/api/v1/stress")) and api.mode == "token":
        ok = ok - {200} if kwargs.get("headers") == NO_AUTH else ok
    assert r.status_code in ok, (r.status_code, r.text[r.text.find("<main") :][:600])
    assert "x-injected" not in {k.lower() for k in r.headers}
    assert "Traceback" not in r.text
    assert "<script>alert(1)" not in r.text
    if r.status_code == 422 and r.headers.get("content-type", "").startswith("application/json"):
        errors = r.json().get("errors", [])
        assert all("input" not in e and "loc" not in e for e in errors), errors


def test_catalogue_is_large_enough() -> None:
    from tests.hostile.cases import CASES

    assert len(CASES) + len(REQUESTS) >= 60

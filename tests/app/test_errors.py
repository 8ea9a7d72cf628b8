"""Error answers: every 422 in the app's own format, with no input echoed and no internals."""

from __future__ import annotations

import httpx
import pytest

from tests.app.helpers import csrf_token, same_origin

SECRET = b"period,segment\nSECRET-CONTENT,cefi\n"  # must never come back in an answer
#: FastAPI's raw error keys, framework words, and the uploaded text.
LEAKS = ('"loc"', '"input"', '"ctx"', '"type"', "pydantic", "UploadFile", "<class", "Value error")


def multipart(name: str, filename: str | None, content: bytes) -> tuple[bytes, dict]:
    """A one-part form body, written by hand: httpx drops an empty ``filename``."""
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    body = (
        f"--b\r\nContent-Disposition: {disposition}\r\nContent-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n--b--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=b"}


def assert_clean(r: httpx.Response, status: int = 422) -> dict:
    assert r.status_code == status, r.text
    for leak in (*LEAKS, SECRET.decode().split("\n")[1]):
        assert leak not in r.text, (leak, r.text)
    return r.json() if r.headers["content-type"].startswith("application/json") else {}


@pytest.mark.parametrize(
    ("filename", "content", "detail"),
    [
        (None, SECRET, "form field 'file': not a file: send the file as a file upload, with its"),
        ("", SECRET, "the uploaded file has no name: send it with its file name, which ends"),
        ("", b"", "form field 'file': required"),  # what a browser sends with no file chosen
        ("dir/", SECRET, None),  # a name after all ("dir"), but not a .csv/.yaml: 415
    ],
)
def test_upload_without_a_file_name(client, filename, content, detail):
    body, headers = multipart("file", filename, content)
    r = client.post("/api/v1/validate", content=body, headers=headers)
    got = assert_clean(r, 415 if detail is None else 422)
    if detail:
        assert got["detail"].startswith(detail)


def test_validation_errors_name_the_field_in_the_apps_format(client):
    r = client.post("/api/v1/stress", data={"seed": "abc", "positions": "999999"})
    got = assert_clean(r)
    assert set(got) == {"detail", "message", "errors"} and got["detail"] == got["message"]
    assert [(e["in"], e["name"]) for e in got["errors"]] == [
        ("form", "seed"),
        ("form", "positions"),
    ]
    assert got["detail"].startswith("form field 'seed': Input should be a valid integer")
    assert all(set(e) == {"in", "name", "message"} for e in got["errors"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/metrics", {"period": "2024-Q4"}),
        ("/api/v1/metrics", {"vintage": "yesterday"}),
        ("/api/v1/metrics", {"period": "1999Q1"}),  # refused by the data, answered alike
        ("/api/v1/observations", {"limit": "0", "segment": "cex"}),
        ("/api/v1/series", {"name": "x" * 5000}),
        ("/api/v1/charts/nope", {}),
    ],
)
def test_every_query_422_is_clean(client, path, params):
    got = assert_clean(client.get(path, params=params))
    assert got["errors"] and all(e["in"] in ("query", "path") for e in got["errors"])
    assert "x" * 300 not in str(got)


def test_stress_upload_parts_sent_as_text_are_clean(client):
    r = client.post("/api/v1/stress", data={"loan_tape": SECRET.decode(), "funding": "x"})
    got = assert_clean(r)
    assert {e["name"] for e in got["errors"]} == {"loan_tape", "funding"}


def test_html_422_pages_are_clean(client, base_url):
    assert_clean(client.get("/", params={"period": "2024Q9"}))
    tok = {"csrf_token": csrf_token(client)}
    r = client.post("/stress-test", data={"seed": "abc", **tok}, headers=same_origin(base_url))
    assert_clean(r)
    assert "form field &#39;seed&#39;" in r.text or "form field 'seed'" in r.text

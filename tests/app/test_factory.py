"""The assembled app: OpenAPI, security, file whitelists, the menu, CORS, ``lendscope serve``."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from tests.helpers import NO_DB, bundled_metrics


def test_openapi(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/v1/metrics", "/api/v1/observations", "/api/v1/validate"} <= paths
    assert not any(p.startswith("/downloads") for p in paths)
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN


# -- security ----------------------------------------------------------------------------------


def test_security_headers_and_no_cors(client):
    r = client.get("/api/v1/periods", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    pre = client.options(
        "/api/v1/validate",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers


def test_read_only(client):
    for method in ("PUT", "DELETE", "PATCH"):
        assert client.request(method, "/api/v1/observations").status_code == 405
    assert client.post("/api/v1/metrics").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/downloads/../pyproject.toml",
        "/downloads/..%2f..%2fpyproject.toml",
        "/downloads/%2e%2e%2fcli.py",
        "/downloads/observations.csv%00.txt",
        "/downloads/observations.txt",
        "/downloads//etc/passwd",
        "/static/../main.py",
        "/static/%2e%2e/main.py",
        "/static/..%2fmain.py",
    ],
)
def test_no_path_traversal(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "def " not in r.text and "root:" not in r.text


def test_menu_links_every_router_page():
    with TestClient(create_app(NO_DB, warm=False)) as c:
        assert c.get("/stress-test").status_code == 200
        assert 'href="/stress-test"' in c.get("/downloads").text


def test_cors_only_for_listed_origins():
    with TestClient(create_app(NO_DB, warm=False, cors_origins=["https://ok.example"])) as c:
        ok = c.get("/api/v1/sources", headers={"Origin": "https://ok.example"})
        assert ok.headers["access-control-allow-origin"] == "https://ok.example"
        other = c.get("/api/v1/sources", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_serve_command(tmp_path):
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "lendscope.cli", "serve", "--port", str(port), "--db", str(NO_DB)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/periods", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["latest"] == bundled_metrics(None).latest_period()
    finally:
        proc.terminate()
        proc.wait(15)

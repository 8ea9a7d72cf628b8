"""The ASGI middleware: HEAD wherever GET is answered, the body deadline, security headers."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from lendscope.app import create_app
from tests.app.helpers import Server
from tests.helpers import NO_DB

GETS = [
    "/",
    "/stress-test",
    "/sign-in",
    "/platforms/Tether",
    "/api/v1/periods",
    "/api/v1/metrics?period=2024Q4",
    "/openapi.json",
    "/static/app.css",
    "/downloads/observations.csv",
    "/nope",  # a 404 too: the same headers as its GET
]


@pytest.mark.parametrize("path", GETS)
def test_head_answers_like_get_without_a_body(client, path):
    get = client.get(path)
    head = client.head(path)  # the same session cookie (the client keeps it): the same page
    assert head.status_code == get.status_code and head.content == b""
    skip = {"date", "set-cookie"}
    assert {k: v for k, v in head.headers.items() if k not in skip} == {
        k: v for k, v in get.headers.items() if k not in skip
    }
    assert int(head.headers["content-length"]) == len(get.content)


def test_head_is_still_405_where_there_is_no_get(client):
    assert client.head("/api/v1/validate").status_code == 405
    assert client.head("/sign-out").status_code == 405


def test_referrer_policy_keeps_the_origin_of_our_own_forms(client):
    assert client.get("/").headers["referrer-policy"] == "same-origin"


def _raw(port: int, request: bytes) -> bytes:
    """Send ``request`` and read the answer's head, without ever finishing the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)


def test_a_trickled_body_is_cut_off_with_408():
    """A client that never finishes its upload holds nothing past the deadline."""
    app = create_app(NO_DB, token="", warm=False, body_timeout_s=0.5)
    with Server(app) as s:
        head = (
            b"POST /api/v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 5000\r\n\r\n"
        )
        t0 = time.monotonic()
        answer = _raw(s.port, head + b"--x\r\n")
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - t0 < 5
        # and a normal request on a new connection is answered as usual
        assert httpx.get(f"{s.url}/api/v1/periods", timeout=30).status_code == 200

"""Browser sessions: the signed cookie value, the CSRF token, the origin and transport checks."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from lendscope.app import sessions
from lendscope.app.sessions import MAX_AGE_S, Session, session_key

KEY = session_key(b"s" * 32, "the-token")


def request(url: str, headers: dict[str, str] | None = None, server=("127.0.0.1", 8000)):
    """A bare Starlette request for ``url`` as a browser would send it."""
    scheme, rest = url.split("://")
    host, _, path = rest.partition("/")
    raw = [(b"host", host.encode())] + [
        (k.lower().encode(), v.encode()) for k, v in (headers or {}).items()
    ]
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": scheme,
        "server": server,
        "path": "/" + path,
        "query_string": b"",
        "headers": raw,
        "app": SimpleNamespace(state=SimpleNamespace(session_key=KEY)),
    }
    return Request(scope)


def test_a_session_round_trips_and_never_holds_the_token():
    s = Session.new(signed_in=True)
    value = s.encode(KEY)
    assert Session.decode(KEY, value) == s and s.signed_in
    assert "the-token" not in value and len(value.split(".")) == 4
    assert Session.new().sid != Session.new().sid  # 128 random bits each


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: "s" + v[1:],  # an anonymous session promoted to signed in
        lambda v: v[:-1] + ("0" if v[-1] != "0" else "1"),  # a forged MAC
        lambda v: v.replace(".", "", 1),  # malformed
        lambda v: "",
    ],
)
def test_a_tampered_cookie_is_no_session(tamper):
    value = Session.new().encode(KEY)
    assert Session.decode(KEY, tamper(value)) is None


def test_the_key_depends_on_the_token_and_the_app_secret():
    value = Session.new(signed_in=True).encode(KEY)
    assert Session.decode(session_key(b"s" * 32, "another-token"), value) is None
    assert Session.decode(session_key(b"t" * 32, "the-token"), value) is None  # a restart


def test_sessions_expire():
    s = Session("s", "abc", int(time.time()) - MAX_AGE_S - 1)
    assert Session.decode(KEY, s.encode(KEY)) is None
    assert Session.decode(KEY, s.encode(KEY), now=s.issued + 60) == s


def test_csrf_tokens_are_per_session():
    a, b = Session.new(), Session.new()
    assert a.csrf(KEY) != b.csrf(KEY) and a.csrf(KEY) == Session(a.kind, a.sid, 0).csrf(KEY)


def test_same_secret_is_plain_equality():
    assert sessions.same_secret("abc", "abc")
    assert not sessions.same_secret("abc", "abd") and not sessions.same_secret("", "abc")


@pytest.mark.parametrize(
    ("url", "headers", "ok"),
    [
        ("http://127.0.0.1:8000/x", {"Origin": "http://127.0.0.1:8000"}, True),
        ("https://lend.example/x", {"Origin": "https://lend.example:443"}, True),
        ("https://lend.example/x", {"Origin": "HTTPS://LEND.EXAMPLE"}, True),
        ("http://127.0.0.1:8000/x", {"Referer": "http://127.0.0.1:8000/stress-test"}, True),
        ("http://127.0.0.1:8000/x", {"Origin": "http://127.0.0.1:8001"}, False),
        ("http://127.0.0.1:8000/x", {"Origin": "https://evil.example"}, False),
        ("https://lend.example/x", {"Origin": "http://lend.example"}, False),  # a downgrade
        ("http://127.0.0.1:8000/x", {"Origin": "null"}, False),  # a sandboxed frame
        ("http://127.0.0.1:8000/x", {"Referer": "https://evil.example/page"}, False),
        ("http://127.0.0.1:8000/x", {}, False),
    ],
)
def test_origin_check(url, headers, ok):
    why = sessions.origin_error(request(url, headers))
    assert (why is None) is ok, why
    if not ok:
        assert why.startswith("cross-site form refused")


@pytest.mark.parametrize(
    ("url", "server", "ok"),
    [
        ("http://127.0.0.1:8000/", ("127.0.0.1", 8000), True),
        ("http://localhost:8000/", ("127.0.0.1", 8000), True),
        ("http://[::1]:8000/", ("::1", 8000), True),
        ("http://lend.example/", ("127.0.0.1", 8000), False),  # a local proxy, a public name
        ("http://127.0.0.1:8000/", ("10.0.0.5", 8000), False),  # a forged Host
        ("http://192.168.1.9:8000/", ("192.168.1.9", 8000), False),
        ("https://127.0.0.1:8000/", ("127.0.0.1", 8000), False),  # not plain http
    ],
)
def test_plain_loopback(url, server, ok):
    assert sessions.plain_loopback(request(url, server=server)) is ok

"""Sign-in and sign-out: cookie flags, CSRF on every form, plain http, and Chromium end to end."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from lendscope.app.sessions import COOKIE
from tests.app.helpers import SHOTS, csrf_token, same_origin
from tests.helpers import NO_DB

TOKEN = "s3cret-token"  # the token_url fixture's
HTTPS = "https://testserver"


@pytest.fixture
def c() -> Iterator[TestClient]:
    """The app with a token, over https, posting forms as a browser on its own page would."""
    app = create_app(NO_DB, token=TOKEN, warm=False)
    with TestClient(app, base_url=HTTPS, headers=same_origin(HTTPS)) as client:
        yield client


def sign_in(c, token: str = TOKEN, **extra) -> httpx.Response:
    data = {"token": token, "csrf_token": csrf_token(c, "/sign-in"), **extra}
    return c.post("/sign-in", data=data, follow_redirects=False)


def set_cookie(r: httpx.Response) -> str:
    [header] = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    return header


def test_sign_in_sets_a_strict_secure_session_cookie_without_the_token(c):
    r = sign_in(c, next="/stress-test?x=1")
    assert r.status_code == 303 and r.headers["location"] == "/stress-test?x=1"
    cookie = set_cookie(r)
    flags = {f.strip().split("=")[0].lower() for f in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path", "max-age"} <= flags
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    value = cookie.split(";")[0].removeprefix(f"{COOKIE}=")
    assert TOKEN not in value and value.startswith("s.")
    page = c.get("/stress-test")
    assert 'id="sign-out"' in page.text and 'id="stress-sign-in"' not in page.text
    assert page.headers["cache-control"] == "no-store"


def test_signed_in_the_form_runs_and_signing_out_ends_it(c):
    c.get("/sign-in")
    before = c.cookies[COOKIE]
    sign_in(c)
    assert c.cookies[COOKIE] != before  # a new session id: one planted before is worthless
    tok = {"csrf_token": csrf_token(c)}
    r = c.post("/stress-test", data={"positions": "20", **tok})
    assert r.status_code == 200 and 'id="stress-summary"' in r.text
    # the API ignores the cookie: it wants the bearer token
    assert c.post("/api/v1/stress", data={"positions": "20"}).status_code == 401
    out = c.post("/sign-out", data=tok, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    again = c.post("/stress-test", data={"positions": "20", "csrf_token": csrf_token(c)})
    assert again.status_code == 401 and 'id="sign-in-link"' in again.text


def test_a_wrong_token_shows_the_form_again_with_401(c):
    r = sign_in(c, token="s3cret-tokem")
    assert r.status_code == 401 and 'id="sign-in-form"' in r.text
    assert "wrong token" in r.text and not r.headers.get("location")
    assert not c.cookies[COOKIE].startswith("s.")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_sign_in_redirects_only_within_the_site(c, target):
    assert sign_in(c, next=target).headers["location"] == "/stress-test"


def test_every_form_refuses_a_missing_csrf_token_or_another_origin(c):
    tok = csrf_token(c, "/sign-in")
    sign_in_data = {"token": TOKEN, "csrf_token": tok}
    # login CSRF: another site may not sign a browser in with its own token
    assert c.post("/sign-in", data={"token": TOKEN}).status_code == 403
    evil = {"Origin": "https://evil.example"}
    assert c.post("/sign-in", data=sign_in_data, headers=evil).status_code == 403
    assert sign_in(c).status_code == 303
    tok = csrf_token(c)
    for path, data in (("/stress-test", {"positions": "20"}), ("/sign-out", {})):
        missing = c.post(path, data=data)
        assert missing.status_code == 403 and "security token" in missing.text
        stale = c.post(path, data={**data, "csrf_token": "0" * 64})
        assert stale.status_code == 403
        cross = c.post(path, data={**data, "csrf_token": tok}, headers=evil)
        assert cross.status_code == 403 and "cross-site form refused" in cross.text
        bare = c.post(path, data={**data, "csrf_token": tok}, headers={"Origin": ""})
        assert bare.status_code == 403
    ok = c.post("/stress-test", data={"positions": "20", "csrf_token": tok})
    assert ok.status_code == 200  # still signed in: the refusals changed nothing


def test_without_a_token_the_forms_stay_open_but_csrf_still_applies():
    app = create_app(NO_DB, token="", warm=False)
    with TestClient(app, base_url=HTTPS, headers=same_origin(HTTPS)) as c:
        page = c.get("/stress-test")
        assert 'id="nav-sign-in"' not in page.text and 'id="sign-out"' not in page.text
        assert c.post("/stress-test", data={"positions": "20"}).status_code == 403
        ok = c.post("/stress-test", data={"positions": "20", "csrf_token": csrf_token(c)})
        assert ok.status_code == 200
        assert c.post("/api/v1/stress", data={"positions": "20"}).status_code == 200
        assert "no access token" in c.get("/sign-in").text


def test_no_sign_in_over_plain_http_except_on_loopback(token_url):
    # TestClient's http://testserver is plain http to a host that is not loopback
    with TestClient(create_app(NO_DB, token=TOKEN, warm=False)) as plain:
        plain.headers.update(same_origin("http://testserver"))
        assert 'id="sign-in-form"' not in plain.get("/sign-in").text  # a warning instead
        data = {"token": TOKEN, "csrf_token": csrf_token(plain)}  # the stress page's form
        r = plain.post("/sign-in", data=data)
        assert r.status_code == 403 and "sign in over https" in r.text
    # a real server on 127.0.0.1: accepted, and the cookie is not Secure (it could not come back)
    with httpx.Client(base_url=token_url, headers=same_origin(token_url), timeout=60) as local:
        r = sign_in(local)
        assert r.status_code == 303
        cookie = set_cookie(r).lower()
        assert "secure" not in cookie and "httponly" in cookie and "samesite=strict" in cookie
        tok = csrf_token(local)
        ok = local.post("/stress-test", data={"positions": "20", "csrf_token": tok})
        assert ok.status_code == 200 and 'id="stress-summary"' in ok.text


def test_sign_in_and_run_a_stress_test_in_chromium(browser, token_url):
    ctx = browser.new_context(base_url=token_url)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto("/stress-test")
        page.fill("input[name=positions]", "50")
        with page.expect_navigation():
            page.click("#stress-form button[type=submit]")
        assert page.locator("h1").inner_text() == "401"
        with page.expect_navigation():
            page.click("#sign-in-link")
        page.fill("#token", "not-the-token")
        with page.expect_navigation():
            page.click("#sign-in-form button[type=submit]")
        assert page.locator("#error-message").inner_text() == "wrong token"
        page.fill("#token", TOKEN)
        with page.expect_navigation():
            page.click("#sign-in-form button[type=submit]")
        assert page.url.endswith("/stress-test")
        [cookie] = [k for k in ctx.cookies() if k["name"] == COOKIE]
        assert (
            cookie["httpOnly"] and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
        )
        page.check("#scenario-black-thursday")
        page.fill("input[name=positions]", "50")
        with page.expect_navigation():
            page.click("#stress-form button[type=submit]")
        assert page.locator("#result").inner_text().startswith("black-thursday")
        assert page.locator("#stress-summary tbody tr").count() >= 2
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "stress_signed_in.png"), full_page=True)
        with page.expect_navigation():
            page.click("#sign-out")
        assert page.locator("#nav-sign-in").count() == 1
        assert errors == []
    finally:
        ctx.close()

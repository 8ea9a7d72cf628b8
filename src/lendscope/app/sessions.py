"""Browser sessions for the HTML forms: a signed cookie, its CSRF token, and the origin check.

The cookie :data:`COOKIE` holds ``<kind>.<sid>.<issued>.<mac>``, never the token:

- ``kind`` is ``a`` (anonymous: it only binds the CSRF token) or ``s`` (signed in with the
  token); ``sid`` is 128 random bits, new at every sign-in and sign-out, so a session planted
  before sign-in is worthless after it; ``issued`` is in Unix seconds, and a session older than
  :data:`MAX_AGE_S` is ignored;
- ``mac`` is HMAC-SHA256 of the rest under the session key, which is HMAC-SHA256 of the token
  under a random per-app secret (:func:`session_key`). A stolen cookie therefore tells nothing
  about the token, not even to offline guessing, and a new token or a restart ends every session.

The CSRF token of a session is HMAC(key, ``csrf.<sid>``): bound to the cookie, stored nowhere.
A form passes the check when it carries that token in its ``csrf_token`` field and comes from
this very origin (:func:`origin_error`); SameSite=Strict is a third layer, not the only one.

Flags: HttpOnly, SameSite=Strict, Path=/, and Secure whenever the request came over https.
Over plain http the cookie cannot be Secure (a browser would not send it back to
http://127.0.0.1), so :mod:`lendscope.app.routers.auth` accepts a sign-in over plain http only
on a loopback host (:func:`plain_loopback`); elsewhere the token would cross the network in
clear, and sign-in needs https (directly, or through a proxy that sets ``X-Forwarded-Proto``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "lendscope_session"
#: Lifetime of a session, signed in or not (seconds): a working day.
MAX_AGE_S = 12 * 3600
CSRF_FIELD = "csrf_token"
_DEFAULT_PORT = {"http": "80", "https": "443"}


def session_key(secret: bytes, token: str | None) -> bytes:
    """The key that signs sessions: the token (or none) under the app's random secret."""
    return hmac.new(secret, (token or "").encode(), hashlib.sha256).digest()


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality; hashing first hides the length of ``expected`` too."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


@dataclass(frozen=True)
class Session:
    """One browser session: anonymous or signed in, with its id and issue time."""

    kind: str
    sid: str
    issued: int

    @classmethod
    def new(cls, signed_in: bool = False) -> Session:
        """A fresh session with a new random id."""
        return cls("s" if signed_in else "a", secrets.token_urlsafe(16), int(time.time()))

    @property
    def signed_in(self) -> bool:
        """Whether the token was entered for this session."""
        return self.kind == "s"

    def csrf(self, key: bytes) -> str:
        """The CSRF token the session's forms carry."""
        return _mac(key, f"csrf.{self.sid}")

    def encode(self, key: bytes) -> str:
        """The cookie value."""
        body = f"{self.kind}.{self.sid}.{self.issued}"
        return f"{body}.{_mac(key, body)}"

    @classmethod
    def decode(cls, key: bytes, value: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie value; ``None`` when absent, forged, stale or malformed."""
        parts = (value or "").split(".")
        if len(parts) != 4 or parts[0] not in ("a", "s") or not parts[2].isdigit():
            return None
        kind, sid, issued, mac = parts
        if not hmac.compare_digest(mac, _mac(key, f"{kind}.{sid}.{issued}")):
            return None
        age = (time.time() if now is None else now) - int(issued)
        return cls(kind, sid, int(issued)) if 0 <= age < MAX_AGE_S else None


def read(request: Request) -> Session | None:
    """The request's valid session, if any."""
    return Session.decode(request.app.state.session_key, request.cookies.get(COOKIE))


def set_cookie(request: Request, response: Response, session: Session) -> None:
    """Send ``session`` as the cookie: HttpOnly, SameSite=Strict, Secure over https."""
    response.set_cookie(
        COOKIE,
        session.encode(request.app.state.session_key),
        max_age=MAX_AGE_S,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_loopback(request: Request) -> bool:
    """Plain http on a loopback host: by the name the browser used and the socket it reached.

    Both must be loopback: a proxy on the same machine connects from 127.0.0.1 but forwards
    the public ``Host``, which is not.
    """
    server = request.scope.get("server") or (None, None)
    return request.url.scheme == "http" and _loopback(request.url.hostname) and _loopback(server[0])


def _origin(scheme: str, netloc: str) -> str:
    """``scheme://host[:port]`` in lower case, without the scheme's default port."""
    scheme, netloc = scheme.lower(), netloc.lower()
    default = _DEFAULT_PORT.get(scheme)
    if default and netloc.endswith(f":{default}"):
        netloc = netloc[: -len(default) - 1]
    return f"{scheme}://{netloc}"


def origin_error(request: Request) -> str | None:
    """Why a form post does not come from this origin, or ``None`` when it does.

    ``Origin`` decides when the browser sent one; else ``Referer`` must be a page of this origin.
    Neither (or ``Origin: null``, as from a sandboxed frame) is refused: every browser sends
    ``Origin`` on a POST, and the pages' ``Referrer-Policy: same-origin`` keeps it for ours.
    """
    own = _origin(request.url.scheme, request.url.netloc)
    origin = request.headers.get("origin")
    if origin is not None:
        got = urlsplit(origin)
        if origin != "null" and _origin(got.scheme, got.netloc) == own:
            return None
        return f"cross-site form refused: it came from {origin[:100]!r}, not {own}"
    referer = request.headers.get("referer")
    if referer:
        got = urlsplit(referer)
        if _origin(got.scheme, got.netloc) == own:
            return None
        return f"cross-site form refused: it was sent from another site, not {own}"
    return "cross-site form refused: the browser sent neither Origin nor Referer"

"""Sign-in and sign-out for browsers: the token entered once, then a signed session cookie.

``GET /sign-in`` shows the form. ``POST /sign-in`` checks the form (same origin, CSRF token),
the transport (https, or plain http on a loopback host) and the token (constant time), then
starts a new signed-in session (:mod:`lendscope.app.sessions`) and redirects (303) to ``next``,
a path on this site. ``POST /sign-out`` replaces the session with a new anonymous one. API
clients never sign in: they send ``Authorization: Bearer`` with each request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lendscope.app import sessions
from lendscope.app.deps import check_form, render
from lendscope.app.sessions import Session

SIGN_IN = "/sign-in"
SIGN_OUT = "/sign-out"
#: Where a sign-in goes when ``next`` is absent or not a path on this site.
DEFAULT_NEXT = "/stress-test"

router = APIRouter(include_in_schema=False)
Next = Annotated[str, Query(max_length=200)]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site (never ``//host`` or a URL), else the default."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return DEFAULT_NEXT


@router.get(SIGN_IN)
def sign_in_page(request: Request, next: Next = DEFAULT_NEXT) -> HTMLResponse:
    """The sign-in form (or, when signed in, the sign-out button; over plain http, a warning)."""
    insecure = request.url.scheme != "https" and not sessions.plain_loopback(request)
    return render(request, "sign_in.html", next=safe_next(next), error=None, insecure=insecure)


@router.post(SIGN_IN)
async def sign_in(
    request: Request,
    token: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=200)] = DEFAULT_NEXT,
) -> Response:
    """Check the token and start a signed-in session; 401 with the form again when wrong."""
    await check_form(request, sessions.read(request))
    target = safe_next(next)
    expected = request.app.state.token
    if expected is None:  # nothing to sign in to: the forms are open
        return RedirectResponse(target, status_code=303)
    if request.url.scheme != "https" and not sessions.plain_loopback(request):
        raise HTTPException(
            403,
            "sign in over https: over plain http the token would cross the network in clear "
            "(plain http is accepted on 127.0.0.1 and localhost only)",
        )
    if not sessions.same_secret(token, expected):
        return render(
            request,
            "sign_in.html",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="lendscope"'},
            next=target,
            error="wrong token",
            insecure=False,
        )
    response = RedirectResponse(target, status_code=303)
    sessions.set_cookie(request, response, Session.new(signed_in=True))  # a new id: no fixation
    return response


@router.post(SIGN_OUT)
async def sign_out(request: Request) -> Response:
    """End the session: a new anonymous one replaces it."""
    await check_form(request, sessions.read(request))
    response = RedirectResponse("/", status_code=303)
    sessions.set_cookie(request, response, Session.new())
    return response

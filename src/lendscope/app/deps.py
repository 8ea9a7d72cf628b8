"""What every router shares: the app's data, the one guard, uploads, and page rendering.

Routers import this module; it imports no router and not the factory. The state it reads is
set by :func:`lendscope.app.factory.create_app`: ``app.state.data`` (a :class:`Data`),
``app.state.token`` (``None`` = no token), ``app.state.session_key`` (signs browser sessions,
:mod:`lendscope.app.sessions`), ``app.state.runs`` (the :class:`RunPool`) and
``app.state.nav`` (the menu).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined

from lendscope.app import sessions
from lendscope.app.data import Data
from lendscope.app.runs import RunPool
from lendscope.app.sessions import CSRF_FIELD, Session
from lendscope.core import fmt
from lendscope.report.charts import SEG_LABEL
from lendscope.report.findings import SERIES_NAME

#: Largest accepted upload (the file itself) and request body (file plus multipart framing).
MAX_UPLOAD = 1024 * 1024
MAX_BODY = MAX_UPLOAD + 64 * 1024

__all__ = [
    "MAX_BODY",
    "MAX_UPLOAD",
    "DataDep",
    "RunsDep",
    "check_form",
    "error_page",
    "get_data",
    "get_runs",
    "read_upload",
    "render",
    "require_token",
    "templates",
    "upload_name",
]


# -- data and token ----------------------------------------------------------------------------


def get_data(request: Request) -> Data:
    """The app's dataset (a FastAPI dependency)."""
    return request.app.state.data


DataDep = Annotated[Data, Depends(get_data)]


def get_runs(request: Request) -> RunPool:
    """The app's pool for stress runs (a FastAPI dependency)."""
    return request.app.state.runs


RunsDep = Annotated[RunPool, Depends(get_runs)]
_bearer = HTTPBearer(auto_error=False, description="Needed only when LENDSCOPE_API_TOKEN is set.")


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer realm="lendscope"'})


async def check_form(request: Request, session: Session | None) -> None:
    """403 unless a form post comes from this origin with its session's CSRF token.

    Used by :func:`require_token` and by the sign-in and sign-out forms, which need it before
    there is any signed-in session.
    """
    why = sessions.origin_error(request)
    if why is not None:
        raise HTTPException(403, why)
    sent = (await request.form()).get(CSRF_FIELD)
    if (
        session is None
        or not isinstance(sent, str)
        or not sessions.same_secret(sent, session.csrf(request.app.state.session_key))
    ):
        raise HTTPException(
            403,
            "the form's security token is missing or out of date (cookies off, or the page "
            "was open too long): reload the page and send the form again",
        )


async def require_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The one guard of every route that takes a file or runs a computation.

    - When a token is set, ``Authorization: Bearer`` (API clients, scripts; any route) must
      match it, compared in constant time. No CSRF check then: a browser never sends that
      header by itself, and another site cannot make it (CORS is off).
    - Otherwise, under ``/api/``: 401 when a token is set; open when none is (as before).
    - Otherwise (an HTML form): 401 unless the session cookie is signed in, when a token is
      set; then, token or not, the CSRF check of :func:`check_form` (403).
    """
    token = request.app.state.token
    if token is not None and creds is not None:
        if not sessions.same_secret(creds.credentials, token):
            raise _unauthorized("missing or wrong bearer token")
        return
    if request.url.path.startswith("/api/"):
        if token is not None:
            raise _unauthorized("missing or wrong bearer token")
        return
    session = sessions.read(request)
    if token is not None and (session is None or not session.signed_in):
        raise _unauthorized(
            "sign in first: this server asks for its access token before it runs a form"
        )
    await check_form(request, session)


# -- uploads -----------------------------------------------------------------------------------


def upload_name(f: UploadFile) -> str:
    """The client's file name without any directory, at most 200 characters; 422 if none.

    The name's suffix says how the file is read, so a part without one is refused by name.
    """
    name = PurePath((f.filename or "").replace("\\", "/")).name[:200]
    if not name:
        raise HTTPException(
            422,
            "the uploaded file has no name: send it with its file name, which ends in .csv, "
            ".yaml or .yml",
        )
    return name


def read_upload(f: UploadFile, name: str) -> bytes:
    """The uploaded bytes; 413 over :data:`MAX_UPLOAD`."""
    content = f.file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise HTTPException(413, f"file {name!r} is over {MAX_UPLOAD} bytes (1 MiB)")
    return content


# -- pages -------------------------------------------------------------------------------------


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("lendscope", "app/templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )
    env.filters.update(
        usd=fmt.usd,
        pct=fmt.pct,
        quarter=fmt.quarter,
        spct=lambda v: fmt.pct(v, signed=True),
    )
    env.filters["safe_url"] = lambda u: u if str(u).startswith(("https://", "http://")) else ""
    env.globals.update(SEG_LABEL=SEG_LABEL, SERIES_NAME=SERIES_NAME)
    return env


templates = Jinja2Templates(env=_env())


def render(
    request: Request,
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    session: Session | None = None,
    **ctx: Any,
) -> HTMLResponse:
    """Render a page template with the menu, the current path, the session's form token and ``ctx``.

    A browser without a valid session gets a new anonymous one (its cookie binds the CSRF token
    of the page's forms). Pages are ``no-store``: they carry that token and the sign-in state.
    """
    ctx.setdefault("specs", {})
    ctx.setdefault("picker", False)
    known = session or sessions.read(request)
    current = known or Session.new()
    response = templates.TemplateResponse(
        request,
        template,
        {
            "nav": request.app.state.nav,
            "path": request.url.path,
            "csrf_token": current.csrf(request.app.state.session_key),
            "signed_in": current.signed_in,
            "token_set": request.app.state.token is not None,
            **ctx,
        },
        status_code=status,
        headers=headers,
    )
    if session is not None or known is None:
        sessions.set_cookie(request, response, current)
    response.headers["cache-control"] = "no-store"
    return response


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """An HTML error page (pages only; the API answers JSON); a 401 links to the sign-in form."""
    return render(
        request, "error.html", status=status, headers=headers, status_code=status, message=message
    )

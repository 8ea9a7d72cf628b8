"""What every router shares: the app's data, the token guard, uploads, and page rendering.

Routers import this module; it imports no router and not the factory. The state it reads is
set by :func:`lendscope.app.factory.create_app`: ``app.state.data`` (a :class:`Data`),
``app.state.token`` (``None`` = no token) and ``app.state.nav`` (the menu).
"""

from __future__ import annotations

import secrets
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined

from lendscope.app.data import Data
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
    "error_page",
    "get_data",
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
_bearer = HTTPBearer(auto_error=False, description="Needed only when LENDSCOPE_API_TOKEN is set.")


def require_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless the bearer token matches ``LENDSCOPE_API_TOKEN`` (when one is set)."""
    token = request.app.state.token
    if token is None:
        return
    if creds is None or not secrets.compare_digest(creds.credentials.encode(), token.encode()):
        raise HTTPException(
            401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
        )


# -- uploads -----------------------------------------------------------------------------------


def upload_name(f: UploadFile) -> str:
    """The client's file name without any directory, at most 200 characters."""
    return PurePath((f.filename or "upload").replace("\\", "/")).name[:200] or "upload"


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


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render a page template with the menu, the current path and ``ctx``."""
    ctx.setdefault("specs", {})
    ctx.setdefault("picker", False)
    return templates.TemplateResponse(
        request,
        template,
        {"nav": request.app.state.nav, "path": request.url.path, **ctx},
        status_code=status,
    )


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An HTML error page (pages only; the API answers JSON)."""
    return render(request, "error.html", status=status, status_code=status, message=message)

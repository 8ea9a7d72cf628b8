"""Error responses: JSON for the API, an HTML page for everything else.

Validation errors never echo large or binary input back.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from lendscope.app.deps import error_page


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path != "/openapi.json"


def _describe(errors: list[dict]) -> str:
    parts = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ())]
        where = f"{loc[0]} parameter '{'.'.join(loc[1:])}'" if len(loc) > 1 else ".".join(loc)
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


async def invalid(request: Request, exc: RequestValidationError) -> Response:
    """422 with the errors (API) or an error page naming the bad parameters."""
    errors = [{k: v for k, v in e.items() if k != "ctx"} for e in exc.errors()]
    for e in errors:  # never echo large or binary input back
        if (
            not isinstance(e.get("input"), str | int | float | None)
            or len(str(e.get("input"))) > 200
        ):
            e.pop("input", None)
    message = _describe(errors)
    if _wants_html(request):
        return error_page(request, 422, message)
    return JSONResponse({"detail": errors, "message": message}, status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """The HTTP error as JSON ``{"detail": ...}`` (API, and 405 everywhere) or an error page."""
    if _wants_html(request) and exc.status_code != 405:
        return error_page(request, exc.status_code, str(exc.detail))
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer validation and HTTP errors with :func:`invalid` and :func:`http_error`."""
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)

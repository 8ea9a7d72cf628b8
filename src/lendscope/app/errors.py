"""Error responses: JSON for the API, an HTML page for everything else.

Every error is JSON ``{"detail": "<a sentence>"}`` (a 422 adds the bad fields, see
:func:`invalid`) or an HTML page; none echoes the input or names framework internals. A query
parameter the data refuses (:class:`~lendscope.metrics.params.ParamError`: a quarter without
data, a future vintage...) is answered exactly like a malformed one, 422 in the same format,
so a client handles one shape.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from lendscope.app.deps import error_page
from lendscope.metrics.params import ParamError


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path != "/openapi.json"


#: How messages name each place of a request (``in``; FastAPI's ``body`` is always a form here).
PLACES = {
    "query": "query parameter",
    "path": "path parameter",
    "form": "form field",
    "header": "header",
    "cookie": "cookie",
}


def _field(error: dict) -> dict[str, str]:
    """One validation error in the app's words (place, name, message); never its input."""
    loc = [str(x) for x in error.get("loc", ())]
    place = loc[0] if loc else "request"
    msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if "Expected UploadFile" in msg:  # a form part without a file name arrives as text
        msg = "not a file: send the file as a file upload, with its file name"
    elif error.get("type") == "missing":
        msg = "required"
    return {"in": "form" if place == "body" else place, "name": ".".join(loc[1:]), "message": msg}


def _describe(fields: list[dict[str, str]]) -> str:
    parts = []
    for f in fields:
        label = PLACES.get(f["in"], f["in"])
        parts.append(
            f"{label} '{f['name']}': {f['message']}" if f["name"] else f"{label}: {f['message']}"
        )
    return "; ".join(parts)


async def invalid(request: Request, exc: RequestValidationError) -> Response:
    """422 naming each bad parameter (API: JSON; pages: an error page).

    The JSON is the app's own, like every other error: ``detail`` (one sentence, also as
    ``message``) and ``errors``, a list of ``{"in", "name", "message"}``. FastAPI's raw errors
    (``loc``, ``input``, ``ctx``) are never sent: they echo the input (an upload's text, for
    one) and speak of the framework's types.
    """
    fields = [_field(e) for e in exc.errors()]
    for f in fields:
        f["message"] = f["message"][:300]
    message = _describe(fields)
    if _wants_html(request):
        return error_page(request, 422, message)
    return JSONResponse({"detail": message, "message": message, "errors": fields}, status_code=422)


async def refused(request: Request, exc: ParamError) -> Response:
    """A refused parameter as a 422 validation error on ``query`` parameter ``exc.param``."""
    value = exc.value if isinstance(exc.value, str | int | float | None) else str(exc.value)
    error = {"type": "value_error", "loc": ("query", exc.param), "msg": exc.message}
    return await invalid(request, RequestValidationError([{**error, "input": value}]))


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """The HTTP error as JSON ``{"detail": ...}`` (API, and 405 everywhere) or an error page."""
    if _wants_html(request) and exc.status_code != 405:
        return error_page(request, exc.status_code, str(exc.detail), headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer validation, refused-parameter and HTTP errors (invalid, refused, http_error)."""
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(ParamError, refused)
    app.add_exception_handler(StarletteHTTPException, http_error)

"""The web app: FastAPI factory, the read-only data it serves, and its security middleware.

The app only calls what the CLI calls: :func:`~lendscope.dataset.store.load_tables`,
:meth:`~lendscope.metrics.MarketMetrics.compute`, the report's chart specs and findings, and
the CLI's validator. Nothing it serves writes to the database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lendscope import __version__
from lendscope.dataset.store import default_db_path, load_tables
from lendscope.metrics import MarketMetrics

HERE = Path(__file__).parent
#: Largest accepted upload (the file itself) and request body (file plus multipart framing).
MAX_UPLOAD = 1024 * 1024
MAX_BODY = MAX_UPLOAD + 64 * 1024
VINTAGED = ("observations", "overlaps", "vc_funding", "cited_metrics")
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)  # 'unsafe-eval': Vega compiles its expressions with Function()
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
]


class Data:
    """The dataset loaded once (read-only) and the metrics per vintage, computed on demand."""

    def __init__(self, db: Path | None = None, cache_size: int = 8):
        self.db = Path(db) if db else default_db_path()
        self.tables = load_tables(self.db)
        self.observations = self.tables["observations"].to_pylist()
        self.overlap_rows = self.tables["overlaps"].to_pylist()
        dates: set[date] = set()
        for name in VINTAGED:
            dates.update(d for d in self.tables[name].column("published").to_pylist() if d)
        #: Every date on which some figure became known: metrics change only on these.
        self.vintages = sorted(dates)
        #: The CLI's default vintage: the newest ``published`` among observations.
        self.latest = max(r["published"] for r in self.observations)
        self._cache: dict[date, MarketMetrics] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._specs: dict[tuple, dict] = {}
        self.file_lock = threading.Lock()

    @cached_property
    def cache_dir(self) -> Path:
        """Where downloads are generated (created on first use, removed at shutdown)."""
        return Path(tempfile.mkdtemp(prefix="lendscope-serve-"))

    def effective(self, vintage: date | None) -> date:
        """The last date on or before ``vintage`` when a figure was published; 404 if none."""
        v = vintage or self.latest
        eff = max((d for d in self.vintages if d <= v), default=None)
        if eff is None:
            raise HTTPException(
                404, f"vintage {v}: no figures published by then; earliest is {self.vintages[0]}"
            )
        return eff

    def metrics(self, vintage: date | None = None) -> MarketMetrics:
        """Metrics exactly as ``lendscope metrics --vintage`` computes them (cached)."""
        from lendscope.dataset.store import connect_tables

        eff = self.effective(vintage)
        with self._lock:
            m = self._cache.get(eff)
            if m is None:
                m = MarketMetrics.compute(connect_tables(self.tables), eff)
                if len(self._cache) >= self._cache_size:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[eff] = m
        want = vintage or self.latest
        # Same figures at every date between two publications: only the label differs.
        return m if m.vintage == want else replace(m, vintage=want)

    def period(self, m: MarketMetrics, period: str | None) -> str:
        """``period`` if it has data at this vintage (default: the latest); 404 otherwise."""
        periods = m.periods()
        if not periods:
            raise HTTPException(404, f"no quarter has data at vintage {m.vintage}")
        if period is None:
            try:
                return m.latest_period()
            except IndexError:  # no quarter has a known total yet
                return periods[-1]
        if period not in periods:
            raise HTTPException(
                404,
                f"period {period}: no data at vintage {m.vintage}; "
                f"quarters with data: {', '.join(periods)}",
            )
        return period

    def chart_spec(self, m: MarketMetrics, period: str, name: str) -> dict[str, Any]:
        """The report's Vega-Lite spec of chart ``name`` for a quarter (cached)."""
        from lendscope.report.charts import CHARTS, spec

        key = (self.effective(m.vintage), period, name)
        if key not in self._specs:
            self._specs[key] = spec(CHARTS[name][1](m, period))
        return self._specs[key]

    def close(self) -> None:
        """Remove generated downloads."""
        if "cache_dir" in self.__dict__:
            shutil.rmtree(self.cache_dir, ignore_errors=True)


class SecurityHeaders:
    """Pure ASGI middleware adding security headers to every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in SECURITY_HEADERS if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Reject request bodies over ``max_body`` bytes with 413 before any parsing."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY):
        self.app = app
        self.max_body = max_body

    async def _reject(self, scope: Scope, receive: Receive, send: Send, status: int, msg: str):
        await JSONResponse({"detail": msg}, status_code=status)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer a request body up to the limit, then replay it to the app."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_big = f"request body over {self.max_body} bytes (uploads are limited to 1 MiB)"
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and not length.isdigit():
            await self._reject(scope, receive, send, 400, "invalid Content-Length header")
            return
        if length is not None and int(length) > self.max_body:
            await self._reject(scope, receive, send, 413, too_big)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body:
                await self._reject(scope, receive, send, 413, too_big)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path != "/openapi.json"


def _describe(errors: list[dict]) -> str:
    parts = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ())]
        where = f"{loc[0]} parameter '{'.'.join(loc[1:])}'" if len(loc) > 1 else ".".join(loc)
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    from lendscope.app.pages import error_page

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request) and exc.status_code != 405:
            return error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )


def create_app(
    db: Path | None = None,
    *,
    token: str | None = None,
    cors_origins: list[str] | None = None,
    warm: bool = True,
) -> FastAPI:
    """The dashboard and REST API over ``db`` (default: as the CLI; bundled data if absent).

    ``token`` (default ``$LENDSCOPE_API_TOKEN``; ``""`` for none) protects POST endpoints;
    ``cors_origins`` enables CORS for those origins only (off by default); ``warm`` computes
    the latest metrics at startup.
    """
    from lendscope.app import api, pages, stress, stress_routes  # noqa: F401 (registers)

    data = Data(db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            data.metrics()
        yield
        data.close()

    app = FastAPI(
        title="lendscope",
        version=__version__,
        summary="Crypto lending market metrics from a cited, vintaged dataset (read-only).",
        docs_url=None,  # Swagger UI and ReDoc load JavaScript from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.data = data
    env_token = os.environ.get("LENDSCOPE_API_TOKEN")
    app.state.token = (token if token is not None else env_token) or None  # "" = no token
    app.state.nav_extra = [(e.nav, e.path) for e in stress.EXTENSIONS if e.nav]
    _install_error_handlers(app)
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(pages.router)
    for ext in stress.EXTENSIONS:
        app.include_router(ext.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimit, max_body=MAX_BODY)
    app.add_middleware(SecurityHeaders)
    return app

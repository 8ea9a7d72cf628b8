"""The app factory: FastAPI with every router, the menu, error handlers and middleware.

Every router is included here, explicitly; nothing registers itself on import and nothing
imports this module back. The app only calls what the CLI calls (see :mod:`lendscope.app.data`);
nothing it serves writes to the database. Every route that takes a file or runs a computation
depends on :func:`lendscope.app.deps.require_token`; stress runs share one bounded
:class:`~lendscope.app.runs.RunPool`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from lendscope import __version__
from lendscope.app.data import Data
from lendscope.app.deps import MAX_BODY
from lendscope.app.downloads import cache_for
from lendscope.app.errors import install_error_handlers
from lendscope.app.middleware import BodyLimit, HeadAsGet, SecurityHeaders
from lendscope.app.routers import api, auth, pages, stress, upload
from lendscope.app.runs import Limits, RunPool
from lendscope.app.sessions import session_key
from lendscope.app.stress_results import RunStore
from lendscope.core import settings

HERE = Path(__file__).parent
#: The menu on every page: (label, path), each path served by a router included below.
NAV: list[tuple[str, str]] = [*pages.NAV, *stress.NAV, *upload.NAV]


def create_app(
    db: Path | None = None,
    *,
    token: str | None = None,
    cors_origins: list[str] | None = None,
    warm: bool = True,
    limits: Limits | None = None,
    body_timeout_s: float = 30.0,
) -> FastAPI:
    """The dashboard and REST API over ``db`` (default: as the CLI; bundled data if absent).

    ``token`` (default ``$LENDSCOPE_API_TOKEN``; ``""`` for none) guards the uploads, the stress
    runs and the forms (:func:`~lendscope.app.deps.require_token`); ``cors_origins`` enables
    CORS for those origins only (off by default); ``warm`` computes the latest metrics, starts
    a stress worker and builds the downloads not yet cached (in the background) at startup;
    ``limits`` bounds the stress runs (default :class:`Limits`); ``body_timeout_s`` is the time
    a client has to send a request body.
    """
    data = Data(db)
    runs = RunPool(limits)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            data.metrics()
            runs.start()
            cache_for(data).start_background()  # the downloads, unless cached for this data
        yield
        runs.close()
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
    app.state.token = (token if token is not None else settings.api_token()) or None  # "" = none
    # Random per app: sessions end with the process, and a cookie reveals nothing of the token.
    app.state.session_key = session_key(secrets.token_bytes(32), app.state.token)
    app.state.runs = runs
    app.state.stress_runs = RunStore()  # kept page runs, for their permalinks
    app.state.nav = NAV
    install_error_handlers(app)
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(stress.api_router, prefix="/api/v1")
    app.include_router(upload.api_router, prefix="/api/v1")
    app.include_router(pages.router)
    app.include_router(stress.page_router)
    app.include_router(upload.page_router)
    app.include_router(auth.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimit, max_body=MAX_BODY, timeout_s=body_timeout_s)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)  # outermost: everything inside sees the GET
    return app

"""The dashboard command."""

from __future__ import annotations

from typing import Annotated

import typer

from lendscope.cli._common import (
    DbOpt,
    _fail,
    app,
)
from lendscope.core import settings
from lendscope.dataset import DatasetError


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    db: DbOpt = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin", help="Allow browser calls from this origin (CORS is off by default)."
        ),
    ] = None,
) -> None:
    """Serve the dashboard and the read-only REST API (/api/v1, OpenAPI at /openapi.json)."""
    import uvicorn

    from lendscope.app import create_app

    try:
        web = create_app(db, cors_origins=cors_origin)
    except DatasetError as e:
        _fail(e)
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_token():
        typer.echo(
            f"note: listening on {host} without LENDSCOPE_API_TOKEN: uploads, stress runs and "
            "the stress form are open to anyone who can reach it",
            err=True,
        )
    uvicorn.run(web, host=host, port=port, log_level="info", server_header=False)

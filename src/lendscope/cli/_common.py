"""Shared pieces of the command line: the Typer app, output options and helpers."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lendscope.core import settings
from lendscope.dataset import DatasetError

app = typer.Typer(
    name="lendscope",
    help="Measure, explain and stress-test the crypto lending market.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, quiet=settings.quiet_progress())


class Fmt(StrEnum):
    """Output formats of data commands."""

    json = "json"
    table = "table"


class ExportFmt(StrEnum):
    """File formats of ``export``."""

    parquet = "parquet"
    csv = "csv"
    json = "json"


class Backend(StrEnum):
    """Engines the metrics run on."""

    duckdb = "duckdb"
    pyspark = "pyspark"


DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="DuckDB file (default: $LENDSCOPE_DB or the user data dir; bundled data if absent).",
    ),
]
SinceOpt = Annotated[str | None, typer.Option(help="Also report growth since this quarter.")]
VintageOpt = Annotated[
    str | None,
    typer.Option("--vintage", help="Use figures known on this date, YYYY-MM-DD (default: latest)."),
]


def _date(text: str | None, opt: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint=opt) from None


def _fail(e: DatasetError) -> None:
    typer.echo(str(e), err=True)
    raise typer.Exit(1)


def _metrics(db: Path | None, vintage: str | None, backend: Backend = Backend.duckdb):
    """Metrics at a vintage: on DuckDB from the shipped SQL when the tables match it (no Ibis)."""
    when = _date(vintage, "--vintage")
    if backend is Backend.duckdb:
        from lendscope.metrics import precompiled

        try:
            m = precompiled.compute(db, when)
        except DatasetError as e:
            _fail(e)
        if m is not None:
            return m
    from lendscope.dataset.store import connect
    from lendscope.metrics.summary import MarketMetrics

    try:
        con = connect(db, backend.value)
    except DatasetError as e:
        _fail(e)
    with err.status(f"computing metrics on {backend.value}"):
        return MarketMetrics.compute(con, when)

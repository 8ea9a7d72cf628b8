"""Shared pieces of the command line: the Typer app, output options and helpers."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from lendscope.core import settings
from lendscope.dataset import DatasetError
from lendscope.metrics.params import ParamError, check_vintage, parse_date, parse_period

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
    """A date option; a malformed one is a usage error (exit 2), as Click reports it."""
    if text is None:
        return None
    try:
        return parse_date(text, opt.lstrip("-"))
    except ParamError as e:
        raise typer.BadParameter(e.message, param_hint=opt) from None


def _quarter(text: str | None, opt: str) -> str | None:
    """A quarter option (``--period``, ``--since``); malformed is a usage error (exit 2)."""
    if text is None:
        return None
    try:
        return parse_period(text, opt.lstrip("-"))
    except ParamError as e:
        raise typer.BadParameter(e.message, param_hint=opt) from None


def _fail(e: DatasetError) -> NoReturn:
    typer.echo(str(e), err=True)
    raise typer.Exit(1)


def _refuse(e: ParamError) -> NoReturn:
    """A well-formed value the data refuses (no data, future vintage...): exit 1, never nulls."""
    typer.echo(f"Invalid value for --{e.param}: {e.message}", err=True)
    raise typer.Exit(1)


def _metrics(db: Path | None, vintage: str | None, backend: Backend = Backend.duckdb):
    """Metrics at a vintage: on DuckDB from the shipped SQL when the tables match it (no Ibis).

    The vintage is checked against the data once the metrics are computed: its lower bound
    is the first publication, which the metrics carry (``first_published``).
    """
    when = _date(vintage, "--vintage")
    m = _compute(db, when, backend)
    try:
        check_vintage(when, m.first_published)
    except ParamError as e:
        _refuse(e)
    return m


def _compute(db: Path | None, when: date | None, backend: Backend):
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

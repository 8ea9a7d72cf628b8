"""Risk commands: book synth, stress, var, backtest."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lendscope.cli._common import (
    DbOpt,
    Fmt,
    _metrics,
    _quarter,
    _refuse,
    app,
)

book_app = typer.Typer(help="Lending books for the risk engine.", no_args_is_help=True)
app.add_typer(book_app, name="book")
BookOpt = Annotated[
    list[Path] | None,
    typer.Option("--book", help="Book file (DeFi positions, CDP vaults, loan tape, funding)."),
]
SynthOpt = Annotated[
    bool, typer.Option("--synthetic", help="Use a synthetic book sized like the latest quarter.")
]
PositionsOpt = Annotated[int, typer.Option("--positions", min=10, max=1_000_000)]
PeriodOpt = Annotated[
    str | None,
    typer.Option("--period", help="Size the synthetic book like this quarter (default: latest)."),
]


def _latest_calibration(
    db: Path | None, period: str | None = None
) -> tuple[str, dict[str, dict[str, float]]]:
    """(quarter, calibration) from the dataset (the bundled data when ``db`` is absent)."""
    from lendscope.metrics.params import ParamError, check_period
    from lendscope.risk.synth import calibration

    m = _metrics(db, None)
    if period is None:
        return m.latest_period(), calibration(m)
    try:
        q = check_period(m, _quarter(period, "--period"))
    except ParamError as e:
        _refuse(e)
    return q, calibration(m, q)


def _risk_book(
    books: list[Path] | None, synthetic: bool, n: int, seed: int, start, db, period=None
):
    """The book to stress: files, or a synthetic book calibrated to a quarter (default latest)."""
    from lendscope.risk.book_types import BookError
    from lendscope.risk.books import load_books
    from lendscope.risk.synth import synth_book

    if bool(books) == synthetic:
        raise typer.BadParameter("give --book FILE... or --synthetic (not both)")
    if books:
        try:
            return load_books(books)
        except BookError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from None
    _, calib = _latest_calibration(db, period)
    return synth_book(calib, n, seed, start)


@book_app.command("synth")
def book_synth(
    positions: PositionsOpt = 2000,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    out: Annotated[Path, typer.Option("--out", help="Directory for the book files.")] = Path(
        "book"
    ),
    db: DbOpt = None,
) -> None:
    """Write a synthetic market book calibrated to the dataset's latest quarter."""
    from lendscope.risk.synth import synth_book, write_book

    period, calib = _latest_calibration(db)
    end = {"1": (3, 31), "2": (6, 30), "3": (9, 30), "4": (12, 31)}[period[-1]]
    book = synth_book(calib, positions, seed, date(int(period[:4]), *end))
    for p in write_book(book, out):
        typer.echo(str(p))


@app.command()
def stress(
    scenario: Annotated[str, typer.Option(help="Built-in scenario name or a scenario YAML.")],
    book: BookOpt = None,
    synthetic: SynthOpt = False,
    positions: PositionsOpt = 2000,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    out: Annotated[Path | None, typer.Option("--out", help="Write stress.json and charts.")] = None,
    db: DbOpt = None,
    period: PeriodOpt = None,
) -> None:
    """Run a book through a stress scenario: liquidations, bad debt, failed lenders."""
    from lendscope.report import stress as render
    from lendscope.risk import results
    from lendscope.risk.scenarios import ScenarioError, load_builtin, load_scenario

    try:
        sc = load_scenario(scenario) if Path(scenario).suffix in (".yaml", ".yml") else None
        sc = sc or load_builtin(scenario)
    except ScenarioError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    b = _risk_book(book, synthetic, positions, seed, sc.dates[0], db, period)
    s = results.stress_summary(b, sc, seed)
    typer.echo(results.to_json(s) if fmt is Fmt.json else render.table(s))
    if out is not None:
        for p in render.write_outputs(s, out):
            typer.echo(str(p), err=True)


@app.command()
def backtest(
    case: Annotated[str, typer.Argument(help="Bundled case (2022).")] = "2022",
    seed: Annotated[int, typer.Option(min=0)] = 2022,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
) -> None:
    """Run a cited book of a past market through what happened and score the prediction."""
    from lendscope.report import backtest as render
    from lendscope.risk.backtest import run_backtest
    from lendscope.risk.backtest.case import case_names
    from lendscope.risk.results import to_json

    if case not in case_names():
        typer.echo(f"error: no bundled case {case!r} (have {', '.join(case_names())})", err=True)
        raise typer.Exit(1)
    r = run_backtest(case, seed)
    typer.echo(to_json(r) if fmt is Fmt.json else render.table(r))


class Horizon(StrEnum):
    """VaR horizons."""

    d1 = "1d"
    d7 = "7d"


class ExecutorName(StrEnum):
    """Where Monte Carlo blocks run (identical results on each)."""

    serial = "serial"
    local = "local"
    dask = "dask"
    spark = "spark"


@app.command("var")
def var_cmd(
    paths: Annotated[int, typer.Option("--paths", min=1, max=10_000_000)] = 10_000,
    horizon: Annotated[Horizon, typer.Option("--horizon")] = Horizon.d1,
    book: BookOpt = None,
    synthetic: SynthOpt = False,
    positions: PositionsOpt = 2000,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    executor: Annotated[
        ExecutorName, typer.Option("--executor", help="local (process pool), serial, dask or spark")
    ] = ExecutorName.local,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    db: DbOpt = None,
) -> None:
    """Monte Carlo VaR95 and EVaR99 of bad debt, and LaR95 of liquidations."""
    from lendscope.risk.var import run_var

    b = _risk_book(book, synthetic, positions, seed, date.today(), db)
    r = run_var(b, paths, horizon.value, seed, executor.value)
    if fmt is Fmt.json:
        typer.echo(json.dumps(r, indent=2))
        return
    typer.echo(f"{paths} paths, horizon {horizon.value}, seed {seed}")
    for k in ("var95_usd", "evar99_usd", "lar95_usd"):
        typer.echo(f"{k.removesuffix('_usd').upper():7} ${r[k]:,.0f}")


# -- on-chain: sync, positions, devnet ------------------------------------------------------

"""Dataset commands: validate, build, metrics, export, sources, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from lendscope.cli._common import (
    Backend,
    DbOpt,
    ExportFmt,
    Fmt,
    SinceOpt,
    VintageOpt,
    _date,
    _fail,
    _metrics,
    _quarter,
    _refuse,
    app,
    err,
)
from lendscope.core import fmt
from lendscope.dataset import DatasetError, check_files
from lendscope.metrics.params import ParamError, check_period, check_query


@app.command("validate")
def validate_cmd(files: Annotated[list[Path], typer.Argument(help="CSV or YAML files.")]) -> None:
    """Check disclosure files against the schema and the bundled dataset."""
    paths = [str(f) for f in dict.fromkeys(files)]
    loaded, problems = check_files(paths)
    for p in problems:
        typer.echo(str(p))
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {len(paths)} file(s)", err=True)
        raise typer.Exit(1)
    n = sum(len(f.rows) for f in loaded)
    typer.echo(f"ok: {n} row(s) in {len(paths)} file(s)", err=True)


@app.command()
def build(
    add: Annotated[list[Path] | None, typer.Option("--add", help="User file to add.")] = None,
    db: DbOpt = None,
    downloads: Annotated[
        bool, typer.Option(help="Also build the app's downloads (exports, PDF) into its cache.")
    ] = True,
) -> None:
    """Load the bundled data plus validated user files into DuckDB (all or nothing)."""
    from lendscope.dataset.store import build as do_build

    try:
        res = do_build(add or [], db)
    except DatasetError as e:
        _fail(e)
    added = sum(res.added.values())
    typer.echo(f"{res.db}: {sum(res.rows.values())} rows ({added} new)")
    if downloads:
        from lendscope.app.downloads import prebuild

        typer.echo(f"downloads cached in {prebuild(res.db)}", err=True)


@app.command()
def metrics(
    period: Annotated[str | None, typer.Option(help="Quarter YYYYQn (default: latest).")] = None,
    vintage: VintageOpt = None,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.json,
    since: SinceOpt = None,
    backend: Annotated[Backend, typer.Option(help="Engine for the metrics.")] = Backend.duckdb,
    db: DbOpt = None,
) -> None:
    """Market size, shares, concentration and cycle metrics of one quarter."""
    from lendscope.dataset.schema import SERIES

    period, since = _quarter(period, "--period"), _quarter(since, "--since")
    m = _metrics(db, vintage, backend)
    try:
        period, since = check_query(m, period, since)
    except ParamError as e:
        _refuse(e)
    out = m.for_period(period)
    if since:
        out["growth_since"] = {"from": since, **{s: m.growth(s, since, period) for s in SERIES}}
    if fmt is Fmt.json:
        typer.echo(json.dumps(out, indent=2))
        return
    Console().print(_metrics_table(out))


def _metrics_table(out: dict) -> RichTable:
    def usd(v: float | None) -> str:
        return fmt.usd(v, digits=2, billions_from=0, missing="—")

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.1%}"

    t = RichTable(title=f"Crypto lending, {out['period']} (vintage {out['vintage']})")
    for c in ("series", "value", "ATH", "peak → trough", "drawdown", "rebound", "QoQ"):
        t.add_column(c, justify="right" if c != "series" else "left")
    for name, s in out["series"].items():
        fall = (
            (
                f"{s['peak']['period']} {usd(s['peak']['usd'])} → {s['trough']['period']} "
                f"{usd(s['trough']['usd'])}"
            )
            if s["trough"]
            else "—"
        )
        t.add_row(
            name,
            usd(s["value_usd"]),
            f"{s['ath']['period']} {usd(s['ath']['usd'])}" if s["ath"] else "—",
            fall,
            pct(s["drawdown_from_peak"]),
            pct(s["rebound_from_trough"]),
            pct(s["qoq_change"]),
        )
    t.caption = (
        f"DeFi share ex-CDP {pct(out['defi_share_ex_cdp'])} · on-chain share "
        f"{pct(out['onchain_share'])} · CeFi top 3 {pct(out['cefi_top3_share'])} · "
        f"CeFi HHI {'—' if out['cefi_hhi'] is None else round(out['cefi_hhi'], 3)}"
    )
    return t


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    fmt: Annotated[ExportFmt, typer.Option("--format")] = ExportFmt.parquet,
    vintage: VintageOpt = None,
    db: DbOpt = None,
) -> None:
    """Write every table plus the quarterly metrics as Parquet, CSV or JSON."""
    from lendscope.export import export_all

    m = _metrics(db, vintage)
    for p in export_all(db, m, out, fmt.value):
        typer.echo(str(p))


@app.command()
def sources(
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    db: DbOpt = None,
) -> None:
    """Every source with the number of figures it backs."""
    from lendscope.export import source_counts

    rows = source_counts(db)
    if fmt is Fmt.json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    t = RichTable(title=f"{len(rows)} sources")
    for c in ("id", "publisher", "published", "kind", "figures", "url"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(
            r["id"], r["publisher"], str(r["published"]), r["kind"], str(r["figures"]), r["url"]
        )
    Console(width=200).print(t)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out"),
    period: Annotated[str | None, typer.Option(help="Quarter to report (default: latest).")] = None,
    vintage: VintageOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date printed on the report (default: the vintage)."),
    ] = None,
    pdf: Annotated[bool, typer.Option(help="Also write report.pdf.")] = True,
    db: DbOpt = None,
) -> None:
    """Write report.html, report.pdf and every chart as SVG and PNG."""
    from lendscope.report.build import build_report

    period, as_of_date = _quarter(period, "--period"), _date(as_of, "--as-of")
    m = _metrics(db, vintage)
    try:
        period = check_period(m, period)
    except ParamError as e:
        _refuse(e)
    with err.status("writing the report"):
        paths = build_report(m, out, period=period, as_of=as_of_date, pdf=pdf)
    for p in paths:
        typer.echo(str(p))

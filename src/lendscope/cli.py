"""The ``lendscope`` command line: each command calls one function of a layer."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from lendscope.dataset import DatasetError, read_file, validate
from lendscope.dataset.load import bundled_files

app = typer.Typer(
    name="lendscope",
    help="Measure, explain and stress-test the crypto lending market.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, quiet=not sys.stderr.isatty() or bool(os.environ.get("CI")))


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
    from lendscope.dataset.store import connect
    from lendscope.metrics import MarketMetrics

    try:
        con = connect(db, backend.value)
    except DatasetError as e:
        _fail(e)
    with err.status(f"computing metrics on {backend.value}"):
        return MarketMetrics.compute(con, _date(vintage, "--vintage"))


@app.command("validate")
def validate_cmd(files: Annotated[list[Path], typer.Argument(help="CSV or YAML files.")]) -> None:
    """Check disclosure files against the schema and the bundled dataset."""
    paths = [str(f) for f in dict.fromkeys(files)]
    loaded, problems = [], []
    for p in paths:
        f, probs = read_file(p)
        loaded += f
        problems += probs
    problems += validate(bundled_files() + loaded, set(paths))
    problems = sorted(set(problems))
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
) -> None:
    """Load the bundled data plus validated user files into DuckDB (all or nothing)."""
    from lendscope.dataset.store import build as do_build

    try:
        res = do_build(add or [], db)
    except DatasetError as e:
        _fail(e)
    added = sum(res.added.values())
    typer.echo(f"{res.db}: {sum(res.rows.values())} rows ({added} new)")


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
    from lendscope.dataset.schema import PERIOD_RE
    from lendscope.metrics import SERIES

    for name, val in (("--period", period), ("--since", since)):
        if val is not None and not PERIOD_RE.match(val):
            raise typer.BadParameter(f"{val!r} is not a quarter YYYYQn", param_hint=name)
    m = _metrics(db, vintage, backend)
    period = period or m.latest_period()
    out = m.for_period(period)
    if since:
        out["growth_since"] = {"from": since, **{s: m.growth(s, since, period) for s in SERIES}}
    if fmt is Fmt.json:
        typer.echo(json.dumps(out, indent=2))
        return
    Console().print(_metrics_table(out))


def _metrics_table(out: dict) -> RichTable:
    def usd(v):
        return "—" if v is None else f"${v / 1e9:,.2f}B"

    def pct(v):
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

    m = _metrics(db, vintage)
    with err.status("writing the report"):
        paths = build_report(m, out, period=period, as_of=_date(as_of, "--as-of"), pdf=pdf)
    for p in paths:
        typer.echo(str(p))


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
    if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get("LENDSCOPE_API_TOKEN"):
        typer.echo(
            f"note: listening on {host} without LENDSCOPE_API_TOKEN: POST /api/v1/validate is open",
            err=True,
        )
    uvicorn.run(web, host=host, port=port, log_level="info", server_header=False)


def _rate_opt(help_: str):
    return typer.Option(help=help_)


@app.command()
def rates(
    model: Annotated[str, typer.Argument(help="aave-v3 | compound-v3 | morpho-adaptive")],
    utilization: Annotated[float | None, typer.Option(help="Utilization, 0..1.")] = None,
    curve: Annotated[bool, typer.Option(help="Print the whole curve over 0..1.")] = False,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    optimal: Annotated[float | None, _rate_opt("aave-v3: optimal usage ratio.")] = None,
    base: Annotated[float | None, _rate_opt("aave-v3: base borrow rate (APR).")] = None,
    slope1: Annotated[float | None, _rate_opt("aave-v3: slope below optimal.")] = None,
    slope2: Annotated[float | None, _rate_opt("aave-v3: slope above optimal.")] = None,
    reserve_factor: Annotated[float | None, _rate_opt("aave-v3: reserve factor.")] = None,
    ltv: Annotated[float | None, _rate_opt("aave-v3: LTV (checked against LT).")] = None,
    liquidation_threshold: Annotated[float | None, _rate_opt("aave-v3: LT.")] = None,
    kink: Annotated[float | None, _rate_opt("compound-v3: kink utilization.")] = None,
    supply_base: Annotated[float | None, _rate_opt("compound-v3: supply base rate.")] = None,
    supply_slope_low: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    supply_slope_high: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    borrow_base: Annotated[float | None, _rate_opt("compound-v3: borrow base rate.")] = None,
    borrow_slope_low: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    borrow_slope_high: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    rate_at_target: Annotated[float | None, _rate_opt("morpho-adaptive: APR at 90%.")] = None,
    fee: Annotated[float | None, _rate_opt("morpho-adaptive: market fee.")] = None,
) -> None:
    """Borrow and supply APR/APY of a protocol rate model at a utilization."""
    from lendscope.mechanics.rates import RateParamError, evaluate
    from lendscope.mechanics.rates import curve as rate_curve

    params = {k: v for k, v in locals().items() if k not in
              ("model", "utilization", "curve", "fmt", "rate_curve", "evaluate",
               "RateParamError")}  # fmt: skip
    if utilization is None and not curve:
        raise typer.BadParameter("give --utilization U or --curve", param_hint="--utilization")
    try:
        rows = rate_curve(model, **params) if curve else [evaluate(model, utilization, **params)]
    except RateParamError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    data = [r.as_dict() for r in rows]
    if fmt is Fmt.json:
        typer.echo(json.dumps(data if curve else data[0], indent=2))
        return
    t = RichTable(title=f"{model} rates")
    for c in ("utilization", "borrow APR", "supply APR", "borrow APY", "supply APY"):
        t.add_column(c, justify="right")
    for d in data:
        t.add_row(*(f"{d[k]:.2%}" for k in ("utilization", "borrow_apr", "supply_apr",
                                            "borrow_apy", "supply_apy")))  # fmt: skip
    Console().print(t)


# -- risk engine -----------------------------------------------------------------------------
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


def _risk_book(books: list[Path] | None, synthetic: bool, n: int, seed: int, start, db):
    """The book to stress: files, or a synthetic book calibrated to the latest quarter."""
    from lendscope.risk.books import BookError, load_books
    from lendscope.risk.synth import latest_calibration, synth_book

    if bool(books) == synthetic:
        raise typer.BadParameter("give --book FILE... or --synthetic (not both)")
    if books:
        try:
            return load_books(books)
        except BookError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from None
    try:
        _, calib = latest_calibration(db)
    except DatasetError as e:
        _fail(e)
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
    from lendscope.risk.synth import latest_calibration, synth_book, write_book

    try:
        period, calib = latest_calibration(db)
    except DatasetError as e:
        _fail(e)
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
) -> None:
    """Run a book through a stress scenario: liquidations, bad debt, failed lenders."""
    from lendscope.risk import results
    from lendscope.risk.scenarios import ScenarioError, load_builtin, load_scenario

    try:
        sc = load_scenario(scenario) if Path(scenario).suffix in (".yaml", ".yml") else None
        sc = sc or load_builtin(scenario)
    except ScenarioError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    b = _risk_book(book, synthetic, positions, seed, sc.dates[0], db)
    s = results.stress_summary(b, sc, seed)
    typer.echo(results.to_json(s) if fmt is Fmt.json else results.table(s))
    if out is not None:
        for p in results.write_outputs(s, out):
            typer.echo(str(p), err=True)


class Horizon(StrEnum):
    """VaR horizons."""

    d1 = "1d"
    d7 = "7d"


class ExecutorName(StrEnum):
    """Where Monte Carlo blocks run (identical results on each)."""

    serial = "serial"
    local = "local"
    dask = "dask"


@app.command("var")
def var_cmd(
    paths: Annotated[int, typer.Option("--paths", min=1, max=10_000_000)] = 10_000,
    horizon: Annotated[Horizon, typer.Option("--horizon")] = Horizon.d1,
    book: BookOpt = None,
    synthetic: SynthOpt = False,
    positions: PositionsOpt = 2000,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    executor: Annotated[ExecutorName, typer.Option("--executor")] = ExecutorName.serial,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    db: DbOpt = None,
) -> None:
    """Monte Carlo VaR95 and EVaR99 of bad debt, and LaR95 of liquidations."""
    from lendscope.risk.engine import run_var

    b = _risk_book(book, synthetic, positions, seed, date.today(), db)
    r = run_var(b, paths, horizon.value, seed, executor.value)
    if fmt is Fmt.json:
        typer.echo(json.dumps(r, indent=2))
        return
    typer.echo(f"{paths} paths, horizon {horizon.value}, seed {seed}")
    for k in ("var95_usd", "evar99_usd", "lar95_usd"):
        typer.echo(f"{k.removesuffix('_usd').upper():7} ${r[k]:,.0f}")


# -- on-chain: sync, positions, devnet ------------------------------------------------------

RpcOpt = Annotated[
    str | None, typer.Option("--rpc", help="JSON-RPC URL (default: $<CHAIN>_RPC or $ETH_RPC_URL).")
]
ChainOpt = Annotated[str, typer.Option("--chain", help="Chain name in the registry.")]
RegistryOpt = Annotated[
    Path | None, typer.Option("--registry", help="Registry TOML (default: the bundled ones).")
]


def _rpc_url(rpc: str | None, chain: str) -> str:
    from lendscope.sources.sync import default_rpc

    url = rpc or default_rpc(chain)
    if not url:
        raise typer.BadParameter(
            f"no RPC URL: pass --rpc or set {chain.upper()}_RPC or ETH_RPC_URL", param_hint="--rpc"
        )
    return url


@app.command()
def sync(
    rpc: RpcOpt = None,
    chain: ChainOpt = "ethereum",
    period: Annotated[str | None, typer.Option(help="Quarter to read at its last block.")] = None,
    block: Annotated[str | None, typer.Option(help="Block number or 'latest'.")] = None,
    protocol: Annotated[
        list[str] | None, typer.Option("--protocol", help="Protocol or deployment id.")
    ] = None,
    registry: RegistryOpt = None,
    db: DbOpt = None,
    allow_unsafe_head: Annotated[
        bool, typer.Option("--allow-unsafe-head", help="Accept blocks near the head (reorgs).")
    ] = False,
    summary_json: Annotated[Path | None, typer.Option("--summary-json")] = None,
) -> None:
    """Read DeFi borrows and CDP supply on-chain at a block into the database (resumable)."""
    from lendscope.chain import ChainError
    from lendscope.sources.sync import SyncRequest, run_sync

    if bool(period) == bool(block):
        raise typer.BadParameter("give exactly one of --period or --block", param_hint="--period")
    req = SyncRequest(
        _rpc_url(rpc, chain), chain, period, block, list(protocol or []), registry, db,
        allow_unsafe_head=allow_unsafe_head,
    )  # fmt: skip
    with err.status(f"sync {chain}") as status:

        def hook(event: str, dep, info: dict) -> None:
            if event == "start":
                status.update(f"sync {chain}: reading {dep.id}")
            else:
                err.print(
                    f"[green]done[/] {dep.id} on {chain}: {info['markets']} markets, "
                    f"${info['value_usd']:,.0f}, {info['http_requests']} round trips"
                )

        try:
            s = run_sync(req, hook=hook)
        except (ChainError, ValueError, RuntimeError) as e:
            typer.echo(f"sync failed: {e}", err=True)
            typer.echo("rerun the same command to resume; finished snapshots are kept", err=True)
            raise typer.Exit(1) from None
    out = s.as_json()
    if summary_json:
        summary_json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    typer.echo(
        f"block {s.block} ({s.period}): {len(s.snapshots)} snapshots written, "
        f"{len(s.skipped)} already stored, {s.rows_written} rows, {s.rpc_requests} requests, "
        f"{s.cache_hits} cache hits"
    )


@app.command()
def positions(
    protocol: Annotated[str, typer.Option("--protocol", help="Protocol or deployment id.")],
    block: Annotated[str, typer.Option(help="Block number or 'latest'.")],
    out: Annotated[Path, typer.Option("--out", help="DeFi positions CSV (docs/books.md).")],
    rpc: RpcOpt = None,
    chain: ChainOpt = "ethereum",
    registry: RegistryOpt = None,
) -> None:
    """Every borrower's collateral and debt at a block, as a risk book for stress/var."""
    from lendscope.chain import CallCache, Caller, RpcClient, resolve_block
    from lendscope.sources.abi import Reader
    from lendscope.sources.positions import read_positions, write_positions
    from lendscope.sources.registry import load_registry

    reg = load_registry(registry)
    deps = reg.select(chain, [protocol])
    if not deps:
        raise typer.BadParameter(f"no {protocol!r} deployment on {chain}", param_hint="--protocol")
    with RpcClient(_rpc_url(rpc, chain), chain_id=reg.chains[chain]) as client:
        client.check_chain_id()
        number = resolve_block(client, block)
        reader = Reader(Caller(client, CallCache()))
        rows = [r for d in deps for r in read_positions(reader, d, number)]
    write_positions(rows, out)
    typer.echo(f"{len(rows)} positions at block {number} -> {out}")


@app.command()
def devnet(
    registry_out: Annotated[
        Path | None, typer.Option("--registry-out", help="Where to write the devnet registry.")
    ] = None,
    port: Annotated[int, typer.Option(help="Port (0: any free one).")] = 0,
) -> None:
    """Start anvil with real Aave v3.6 and Morpho Blue and a few borrowers; runs until Ctrl-C."""
    import time

    from lendscope.sources.devnet import start_devnet, write_registry

    net = start_devnet(port=port)
    try:
        path = write_registry(net, registry_out or Path("devnet-registry.toml"))
        typer.echo(net.url)  # first line of stdout: scripts read the URL from here
        typer.echo(
            f"registry: {path}\ntry: lendscope sync --rpc {net.url} --chain devnet "
            f"--block latest --registry {path} --allow-unsafe-head",
        )
        sys.stdout.flush()
        while net.anvil.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        net.stop()


if __name__ == "__main__":  # pragma: no cover
    app()

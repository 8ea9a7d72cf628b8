"""On-chain commands: sync, positions, devnet."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from lendscope.cli._common import (
    DbOpt,
    app,
    err,
)

RpcOpt = Annotated[
    str | None, typer.Option("--rpc", help="JSON-RPC URL (default: $<CHAIN>_RPC or $ETH_RPC_URL).")
]
ChainOpt = Annotated[str, typer.Option("--chain", help="Chain name in the registry.")]
RegistryOpt = Annotated[
    Path | None, typer.Option("--registry", help="Registry TOML (default: the bundled ones).")
]
UnsafeOpt = Annotated[
    bool, typer.Option("--allow-unsafe-head", help="Accept blocks near the head (reorgs).")
]
ConfirmationsOpt = Annotated[
    int, typer.Option("--confirmations", min=0, help="Blocks on top needed to call a block safe.")
]
MaxBytesOpt = Annotated[
    int,
    typer.Option("--max-request-bytes", min=1, help="Largest JSON-RPC request body sent (bytes)."),
]


def _rpc_url(rpc: str | None, chain: str) -> str:
    from lendscope.core.settings import rpc_url

    url = rpc or rpc_url(chain)
    if not url:
        raise typer.BadParameter(
            f"no RPC URL: pass --rpc or set {chain.upper()}_RPC or ETH_RPC_URL", param_hint="--rpc"
        )
    return url


@app.command()
def sync(
    rpc: RpcOpt = None,
    chain: ChainOpt = "ethereum",
    period: Annotated[
        str | None,
        typer.Option(help="Quarter to read at its last block, or a range: 2021Q1..2025Q3."),
    ] = None,
    block: Annotated[str | None, typer.Option(help="Block number or 'latest'.")] = None,
    protocol: Annotated[
        list[str] | None, typer.Option("--protocol", help="Protocol or deployment id.")
    ] = None,
    registry: RegistryOpt = None,
    db: DbOpt = None,
    allow_unsafe_head: UnsafeOpt = False,
    summary_json: Annotated[Path | None, typer.Option("--summary-json")] = None,
    confirmations: ConfirmationsOpt = 64,
    max_request_bytes: MaxBytesOpt = 1_000_000,
) -> None:
    """Read DeFi borrows and CDP supply on-chain at a block into the database (resumable).

    ``--period A..B`` (or ``--chain all``) fills every chain x quarter in one resumable run.
    """
    from lendscope.chain import ChainError
    from lendscope.onchain.history import is_history
    from lendscope.onchain.sync import SyncRequest

    if bool(period) == bool(block):
        raise typer.BadParameter("give exactly one of --period or --block", param_hint="--period")
    if is_history(period, chain):
        if block:
            raise typer.BadParameter(
                "--block reads one chain: give --chain NAME", param_hint="--block"
            )
        _sync_history(
            rpc, chain, str(period), list(protocol or []), registry, db, allow_unsafe_head,
            summary_json, confirmations, max_request_bytes,
        )  # fmt: skip
        return
    req = SyncRequest(
        _rpc_url(rpc, chain), chain, period, block, list(protocol or []), registry, db,
        allow_unsafe_head=allow_unsafe_head, confirmations=confirmations,
        max_request_bytes=max_request_bytes,
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
            s = _runner(registry, chain)(req, hook=hook)
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
    for dep_id, why in s.not_deployed.items():
        typer.echo(f"skipped {dep_id}: not deployed ({why})")


def _runner(registry: Path | None, chain: str):
    """``run_sync``, or the Solana sync for a ``kind = "solana"`` chain."""
    from lendscope.onchain.registry import RegistryError, load_registry
    from lendscope.onchain.sync import run_sync

    try:
        kind = load_registry(registry).chain(chain).kind
    except RegistryError:
        kind = "evm"  # run_sync names the unknown chain
    if kind == "solana":
        from lendscope.onchain.solana_sync import run_solana_sync

        return run_solana_sync
    return run_sync


def _sync_history(
    rpc: str | None,
    chain: str,
    period: str,
    protocols: list[str],
    registry: Path | None,
    db: Path | None,
    allow_unsafe_head: bool,
    summary_json: Path | None,
    confirmations: int,
    max_request_bytes: int,
) -> None:
    """``sync --period A..B [--chain all]``: every chain x quarter, a progress bar, one summary."""
    from rich.progress import Progress

    from lendscope.onchain.history import HistoryRequest, parse_period_range, run_history

    try:
        parse_period_range(period)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--period") from None
    req = HistoryRequest(
        period, chain, rpc, protocols, registry, db, allow_unsafe_head=allow_unsafe_head,
        confirmations=confirmations, max_request_bytes=max_request_bytes,
    )  # fmt: skip
    with Progress(console=err) as bar:
        task = bar.add_task("sync", total=None)

        def hook(event: str, info: dict) -> None:
            if event == "plan":
                bar.update(task, total=info["cells"])
            elif event == "reading":
                bar.update(
                    task, description=f"{info['chain']} {info['period']}: {info['deployment']}"
                )
            else:
                bar.advance(task)

        try:
            s = run_history(req, hook=hook)
        except ValueError as e:
            typer.echo(f"sync failed: {e}", err=True)
            raise typer.Exit(1) from None
    if summary_json:
        summary_json.write_text(json.dumps(s.as_json(), indent=2, default=str) + "\n")
    for line in s.lines():
        typer.echo(line)
    if s.failed:
        typer.echo("rerun the same command to resume; finished snapshots are kept", err=True)
        raise typer.Exit(1)


@app.command()
def positions(
    protocol: Annotated[str, typer.Option("--protocol", help="Protocol or deployment id.")],
    block: Annotated[str, typer.Option(help="Block number or 'latest'.")],
    out: Annotated[
        Path, typer.Option("--out", help="DeFi positions or CDP vaults CSV (docs/books.md).")
    ],
    rpc: RpcOpt = None,
    chain: ChainOpt = "ethereum",
    registry: RegistryOpt = None,
    allow_unsafe_head: UnsafeOpt = False,
    confirmations: ConfirmationsOpt = 64,
    max_request_bytes: MaxBytesOpt = 1_000_000,
) -> None:
    """Every borrower's collateral and debt at a block, as a risk book for stress/var."""
    from lendscope.chain import CallCache, Caller, ChainError, RpcClient, check_safe_head
    from lendscope.onchain.abi import Reader
    from lendscope.onchain.positions import CDP_FAMILIES, COLUMNS, iter_positions, write_positions
    from lendscope.onchain.positions_cdp import CDP_COLUMNS
    from lendscope.onchain.registry import load_registry

    reg = load_registry(registry)
    deps = reg.select(chain, [protocol])
    if not deps:
        raise typer.BadParameter(f"no {protocol!r} deployment on {chain}", param_hint="--protocol")
    cdp = {d.family in CDP_FAMILIES for d in deps}
    if len(cdp) > 1:
        raise typer.BadParameter(
            "pick CDP and lending deployments separately", param_hint="--protocol"
        )
    columns = CDP_COLUMNS if cdp == {True} else COLUMNS
    url = _rpc_url(rpc, chain)
    try:
        with RpcClient(url, chain_id=reg.chains[chain], max_request_bytes=max_request_bytes) as c:
            caller = Caller(c, CallCache(), confirmations=confirmations)
            pin = caller.pin(block)  # hash + head: the same reorg rule as sync
            c.check_chain_id()
            number = pin.number
            check_safe_head(c, number, confirmations, allow_unsafe_head, head=pin.head)
            reader = Reader(caller)
            # Rows stream to a temporary file renamed at the end: bounded memory, no half file.
            at = [d.at(number, pin.timestamp) for d in deps]  # the contracts of that block
            rows = (r for d in at for r in iter_positions(reader, d, number))
            _, n = write_positions(rows, out, columns)
    except (ChainError, RuntimeError, ValueError) as e:
        typer.echo(f"positions failed: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{n} positions at block {number} -> {out}")


@app.command()
def devnet(
    registry_out: Annotated[
        Path | None, typer.Option("--registry-out", help="Where to write the devnet registry.")
    ] = None,
    port: Annotated[int, typer.Option(help="Port (0: any free one).")] = 0,
    borrowers: Annotated[
        int, typer.Option(min=0, help="Borrowers in a drawn mix (0: the small 3-borrower devnet).")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the borrower mix.")] = 0,
) -> None:
    """Start anvil with real Aave v3.6 and Morpho Blue and borrowers; runs until Ctrl-C.

    ``--borrowers N`` builds the scale devnet (nine reserves, e-mode, isolation, four Morpho
    markets, N borrowers drawn from ``--seed``); without it, the small devnet with three.
    """
    import signal
    import time

    from lendscope.onchain.devnet import start_devnet, write_registry
    from lendscope.onchain.devnet_scale import start_scale_devnet, try_commands

    def _stop(signum, frame):  # `kill` gets the same clean shutdown as Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    net = start_scale_devnet(borrowers, seed, port=port) if borrowers else start_devnet(port=port)
    try:
        path = write_registry(net, registry_out or Path("devnet-registry.toml"))
        typer.echo(net.url)  # first line of stdout: scripts read the URL from here
        typer.echo(f"registry: {path}")
        if borrowers:
            typer.echo(f"{borrowers} borrowers (seed {seed}) in {net.seconds['total']:.1f}s")
        for line in try_commands(net, path):
            typer.echo(f"try: {line}")
        sys.stdout.flush()
        while net.anvil.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        net.stop()

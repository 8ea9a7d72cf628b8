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
    period: Annotated[str | None, typer.Option(help="Quarter to read at its last block.")] = None,
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
    """Read DeFi borrows and CDP supply on-chain at a block into the database (resumable)."""
    from lendscope.chain import ChainError
    from lendscope.onchain.sync import SyncRequest, run_sync

    if bool(period) == bool(block):
        raise typer.BadParameter("give exactly one of --period or --block", param_hint="--period")
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
    for dep_id, why in s.not_deployed.items():
        typer.echo(f"skipped {dep_id}: not deployed ({why})")


@app.command()
def positions(
    protocol: Annotated[str, typer.Option("--protocol", help="Protocol or deployment id.")],
    block: Annotated[str, typer.Option(help="Block number or 'latest'.")],
    out: Annotated[Path, typer.Option("--out", help="DeFi positions CSV (docs/books.md).")],
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
    from lendscope.onchain.positions import read_positions, write_positions
    from lendscope.onchain.registry import load_registry

    reg = load_registry(registry)
    deps = reg.select(chain, [protocol])
    if not deps:
        raise typer.BadParameter(f"no {protocol!r} deployment on {chain}", param_hint="--protocol")
    url = _rpc_url(rpc, chain)
    try:
        with RpcClient(url, chain_id=reg.chains[chain], max_request_bytes=max_request_bytes) as c:
            caller = Caller(c, CallCache(), confirmations=confirmations)
            pin = caller.pin(block)  # hash + head: the same reorg rule as sync
            c.check_chain_id()
            number = pin.number
            check_safe_head(c, number, confirmations, allow_unsafe_head, head=pin.head)
            reader = Reader(caller)
            rows = [r for d in deps for r in read_positions(reader, d, number)]
    except ChainError as e:
        typer.echo(f"positions failed: {e}", err=True)
        raise typer.Exit(1) from None
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
    import signal
    import time

    from lendscope.onchain.devnet import start_devnet, write_registry

    def _stop(signum, frame):  # `kill` gets the same clean shutdown as Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
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

"""``lendscope overlap``: CeFi lenders' on-chain borrowing, measured at a quarter's last block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lendscope.cli._common import DbOpt, app, err
from lendscope.cli.chain import (
    ChainOpt,
    ConfirmationsOpt,
    MaxBytesOpt,
    RegistryOpt,
    RpcOpt,
    UnsafeOpt,
    _rpc_url,
)


@app.command()
def overlap(
    period: Annotated[str, typer.Option(help="Quarter to read at its last block (2024Q4).")],
    rpc: RpcOpt = None,
    chain: ChainOpt = "ethereum",
    protocol: Annotated[
        list[str] | None, typer.Option("--protocol", help="Protocol or deployment id.")
    ] = None,
    registry: RegistryOpt = None,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Label CSV (default: the bundled cefi_labels.csv)."),
    ] = None,
    db: DbOpt = None,
    allow_unsafe_head: UnsafeOpt = False,
    summary_json: Annotated[Path | None, typer.Option("--summary-json")] = None,
    confirmations: ConfirmationsOpt = 64,
    max_request_bytes: MaxBytesOpt = 1_000_000,
) -> None:
    """Write the debt of CeFi lenders' labelled addresses per protocol into overlaps (onchain)."""
    from lendscope.chain import ChainError
    from lendscope.onchain.labels import LabelError
    from lendscope.onchain.overlap import OverlapRequest, run_overlap

    req = OverlapRequest(
        _rpc_url(rpc, chain), period, chain, list(protocol or []), registry, labels, db,
        allow_unsafe_head=allow_unsafe_head, confirmations=confirmations,
        max_request_bytes=max_request_bytes,
    )  # fmt: skip
    try:
        with err.status(f"overlap {chain} {period}"):
            s = run_overlap(req)
    except LabelError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    except (ChainError, ValueError, RuntimeError) as e:
        typer.echo(f"overlap failed: {e}", err=True)
        raise typer.Exit(1) from None
    if summary_json:
        summary_json.write_text(json.dumps(s.as_json(), indent=2, default=str) + "\n")
    for r in s.rows:
        typer.echo(f"{r['lender']} via {r['via_platform']}: ${r['amount_usd']:,.2f}")
    typer.echo(
        f"block {s.block} ({s.period}): {len(s.read)} deployments read, {len(s.skipped)} already "
        f"stored, {len(s.rows)} overlap rows, {s.labelled} labelled addresses, "
        f"{s.rpc_requests} requests"
    )
    for dep_id, why in s.not_deployed.items():
        typer.echo(f"skipped {dep_id}: not deployed ({why})")

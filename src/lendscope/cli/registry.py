"""Registry command: every deployment the on-chain reader knows, with its cited addresses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from lendscope.cli._common import Fmt, app


def _addresses_cell(d: dict[str, Any]) -> str:
    lines = []
    for a in d["addresses"]:
        cited = "" if a["url"] == d["source"] else f"\n    {a['url']}"
        lines.append(f"{a['key']} {a['address']} ({a['label']}){cited}")
    return "\n".join(lines)


def _versions_cell(d: dict[str, Any]) -> str:
    out = []
    for v in d["versions"]:
        lo = v["from_block"] if v["from_block"] is not None else v["from_time"]
        hi = v["until_block"] if v["until_block"] is not None else v["until_time"]
        keys = ",".join(a["key"] for a in v["addresses"])
        out.append(f"[{lo or '…'}, {hi or '…'}) {keys}")
    return "\n".join(out)


def _table(out: dict[str, Any]) -> RichTable:
    s = out["summary"]
    t = RichTable(
        title=f"{s['deployments']} deployments, {s['apps']} apps, {s['chains']} chains "
        f"({', '.join(s['chain_kinds'])})",
        show_lines=True,
    )
    for c in ("id", "app", "platform", "family", "chain", "kind", "segment", "start"):
        t.add_column(c, overflow="fold")
    t.add_column("addresses: key address (label), citation if not the entry's", min_width=80)
    t.add_column("source", overflow="fold", max_width=40)
    t.add_column("versions", overflow="fold", min_width=20)
    for d in out["deployments"]:
        start = "" if d["start_block"] is None else f"{d['start_unit']} {d['start_block']}"
        t.add_row(
            d["id"], d["app"], d["platform"], d["family"], d["chain"], d["chain_kind"],
            d["segment"], start, _addresses_cell(d), d["source"], _versions_cell(d),
        )  # fmt: skip
    return t


@app.command("registry")
def registry_cmd(
    chain: Annotated[
        str | None, typer.Option("--chain", help="Only this chain's deployments.")
    ] = None,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Registry TOML (default: the bundled ones).")
    ] = None,
) -> None:
    """List every deployment: app, family, chain and kind, cited addresses, first block."""
    from lendscope.onchain.registry import RegistryError, load_registry
    from lendscope.onchain.registry.listing import describe

    try:
        reg = load_registry(registry)
    except (RegistryError, OSError) as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    if chain is not None and chain not in reg.chains:
        raise typer.BadParameter(
            f"{chain!r} is not in the registry ({', '.join(sorted(reg.chains))})",
            param_hint="--chain",
        )
    out = describe(reg, chain)
    if fmt is Fmt.json:
        typer.echo(json.dumps(out, indent=2))
        return
    Console(width=240).print(_table(out))

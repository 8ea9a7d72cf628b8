"""The registry as plain data: what ``lendscope registry --format json`` prints.

The JSON is stable (``schema`` 1; fields are only ever added)::

    {"schema": 1,
     "files": ["ethereum.toml", ...],                  # bundled or given registry files
     "summary": {"deployments": 80, "apps": 12, "chains": 30, "chain_kinds": ["evm", ...]},
     "chains": [{"name", "kind", "chain_id", "genesis_hash", "chain_identifier",
                 "deployments"}],                      # chains with at least one deployment
     "deployments": [{
         "id", "app", "platform", "family", "chain", "chain_kind", "chain_id", "segment",
         "source",                                     # citation of the entry
         "start_block",                                # first block (Solana: slot), or null
         "start_unit",                                 # "block" or "slot"
         "addresses": [{"key", "address", "label", "url"}],
         "versions": [{"from_block", "until_block", "from_time", "until_time",
                       "source", "addresses": [...]}]  # times ISO-8601 UTC, absent bound null
     }]}

``app`` is the registry's ``protocol``. Deployments are listed in registry order (file by file),
chains by name. Addresses are in the form the registry stores: EIP-55 on EVM chains, base58
``T...`` on Tron, base58 on Solana, ``0x`` + 64 hex on Sui.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lendscope.onchain.registry import Address, Deployment, Registry, Version

SCHEMA = 1


def _time(t: int | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _addresses(addrs: dict[str, Address]) -> list[dict[str, str]]:
    return [
        {"key": k, "address": a.address, "label": a.label, "url": a.url} for k, a in addrs.items()
    ]


def _version(v: Version) -> dict[str, Any]:
    return {
        "from_block": v.from_block,
        "until_block": v.until_block,
        "from_time": _time(v.from_time),
        "until_time": _time(v.until_time),
        "source": v.source,
        "addresses": _addresses(v.addresses),
    }


def start_of(d: Deployment) -> tuple[int | None, str]:
    """The deployment's first block (or Solana slot, ``start_slot``) and which it is."""
    if "start_slot" in d.config:
        return int(d.config["start_slot"]), "slot"
    s = d.config.get("start_block")
    return (None if s is None else int(s)), "slot" if d.chain_kind == "solana" else "block"


def deployment_record(d: Deployment) -> dict[str, Any]:
    """One deployment as JSON-ready data."""
    start, unit = start_of(d)
    return {
        "id": d.id,
        "app": d.protocol,
        "platform": d.platform,
        "family": d.family,
        "chain": d.chain,
        "chain_kind": d.chain_kind,
        "chain_id": d.chain_id,
        "segment": d.segment,
        "source": d.source,
        "start_block": start,
        "start_unit": unit,
        "addresses": _addresses(d.addresses),
        "versions": [_version(v) for v in d.versions],
    }


def describe(reg: Registry, chain: str | None = None) -> dict[str, Any]:
    """The registry (its deployments on ``chain`` only, if given) as JSON-ready data."""
    deps = [d for d in reg.deployments if chain is None or d.chain == chain]
    used = sorted({d.chain for d in deps})
    chains = []
    for name in used:
        c = reg.chain(name)
        chains.append(
            {
                "name": name,
                "kind": c.kind,
                "chain_id": c.chain_id,
                "genesis_hash": c.genesis_hash,
                "chain_identifier": c.chain_identifier,
                "deployments": sum(d.chain == name for d in deps),
            }
        )
    return {
        "schema": SCHEMA,
        "files": [Path(f).name for f in reg.files],
        "summary": {
            "deployments": len(deps),
            "apps": len({d.protocol for d in deps}),
            "chains": len(used),
            "chain_kinds": sorted({reg.chain(n).kind for n in used}),
        },
        "chains": chains,
        "deployments": [deployment_record(d) for d in deps],
    }

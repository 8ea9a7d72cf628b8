"""``lendscope sync --period A..B [--chain all]``: every (chain, quarter) in one resumable run.

Each (chain, quarter) cell is one :func:`~lendscope.onchain.sync.run_sync` at the quarter's last
block, over one :class:`RpcClient` per chain, so stored snapshots are skipped as in a single
sync (keyed on the block hash) and a rerun writes nothing twice. A quarter ending after the
chain's head is "not yet ended", one ending before its genesis block "before genesis", and a
quarter-end block with too few confirmations on top "not yet safe": reported, not errors. When a
chain's node fails, that chain stops (its remaining quarters are "not attempted") and the other
chains go on; the summary lists the failure, and a rerun resumes where it stopped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lendscope.chain import (
    DEFAULT_MAX_REQUEST_BYTES,
    BlockNotFinalError,
    ChainError,
    ChainIdMismatchError,
    RpcClient,
    RpcTransportError,
    UnsafeBlockError,
    quarter_end_timestamp,
)
from lendscope.chain.rpc import redact_url
from lendscope.core.settings import rpc_url
from lendscope.dataset.schema import PERIOD_RE, period_from_index, period_index
from lendscope.onchain.registry import load_registry
from lendscope.onchain.sync import SyncRequest, run_sync

ALL = "all"
#: Cell statuses, in the order the text summary counts them.
STATUSES = ("read", "before genesis", "not yet ended", "not yet safe", "failed", "not attempted")

HistoryHook = Callable[[str, dict[str, Any]], None]


def _quarter(text: str, spec: str) -> int:
    q = re.sub(r"[\s-]", "", text).upper()
    if not PERIOD_RE.match(q):
        raise ValueError(f"{text.strip()!r} in --period {spec!r} is not a quarter like 2024Q4")
    return period_index(q)


def parse_period_range(spec: str) -> list[str]:
    """Quarters of ``A..B`` (both included), or the one quarter ``A``, oldest first."""
    parts = spec.split("..")
    if len(parts) > 2 or not all(p.strip() for p in parts):
        raise ValueError(
            f"--period must be a quarter (2024Q4) or a range (2021Q1..2025Q3): {spec!r}"
        )
    lo, hi = _quarter(parts[0], spec), _quarter(parts[-1], spec)
    if hi < lo:
        raise ValueError(
            f"--period {spec!r} ends before it starts ({period_from_index(hi)} is before "
            f"{period_from_index(lo)})"
        )
    return [period_from_index(i) for i in range(lo, hi + 1)]


def is_history(period: str | None, chain: str) -> bool:
    """Whether a ``sync`` is a history run (a quarter range, or every chain)."""
    return chain == ALL or (period is not None and ".." in period)


@dataclass
class HistoryRequest:
    """Arguments of one history sync (mirrors the CLI)."""

    period: str  # "2021Q1..2025Q3" or one quarter
    chain: str = "ethereum"  # a registry chain, or "all"
    rpc: str | None = None  # one chain only; else $<CHAIN>_RPC ($ETH_RPC_URL for ethereum)
    protocols: list[str] = field(default_factory=list)
    registry: Path | None = None
    db: Path | None = None
    cache: Path | None = None
    allow_unsafe_head: bool = False
    confirmations: int = 64
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES


@dataclass
class Cell:
    """One (chain, quarter): what its sync did."""

    chain: str
    period: str
    status: str = "not attempted"
    block: int | None = None
    written: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # already stored: skipped
    not_deployed: dict[str, str] = field(default_factory=dict)
    rows_written: int = 0
    rpc_requests: int = 0
    note: str = ""


@dataclass
class HistorySummary:
    """What a history sync did; written as the ``--summary-json`` file."""

    arguments: dict[str, Any]
    periods: list[str]
    chains: dict[str, str] = field(default_factory=dict)  # chain -> "read" or why skipped
    cells: list[Cell] = field(default_factory=list)
    rpc_requests: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> list[Cell]:
        """Cells whose sync failed."""
        return [c for c in self.cells if c.status == "failed"]

    def totals(self) -> dict[str, int]:
        """Counts over every cell: statuses, snapshots, rows and requests."""
        out = {s: sum(c.status == s for c in self.cells) for s in STATUSES}
        out["snapshots_written"] = sum(len(c.written) for c in self.cells)
        out["snapshots_stored"] = sum(len(c.stored) for c in self.cells)
        out["not_deployed"] = sum(len(c.not_deployed) for c in self.cells)
        out["rows_written"] = sum(c.rows_written for c in self.cells)
        out["rpc_requests"] = self.rpc_requests
        return out

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {**asdict(self), "totals": self.totals()}

    def lines(self) -> list[str]:
        """The text summary: one row per cell, then the totals and the skipped chains."""
        out = [f"{'chain':<10} {'quarter':<7} {'status':<14} {'block':>10}  written stored "
               "not-deployed   rows  requests"]  # fmt: skip
        for c in self.cells:
            block = "" if c.block is None else str(c.block)
            out.append(
                f"{c.chain:<10} {c.period:<7} {c.status:<14} {block:>10}  {len(c.written):>7} "
                f"{len(c.stored):>6} {len(c.not_deployed):>12} {c.rows_written:>6} "
                f"{c.rpc_requests:>9}" + (f"  {c.note}" if c.note else "")
            )
        t = self.totals()
        counts = ", ".join(f"{t[s]} {s}" for s in STATUSES if t[s])
        out.append(
            f"total: {len(self.cells)} chain-quarters ({counts}); {t['snapshots_written']} "
            f"snapshots written, {t['snapshots_stored']} already stored, {t['not_deployed']} "
            f"not deployed, {t['rows_written']} rows, {t['rpc_requests']} requests"
        )
        out += [f"skipped {ch}: {why}" for ch, why in self.chains.items() if why != "read"]
        return out


def _urls(req: HistoryRequest, chains: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """RPC URL per chain, and the chains without one (why)."""
    if req.rpc:
        return {chains[0]: req.rpc}, {}
    urls, skipped = {}, {}
    for ch in chains:
        url = rpc_url(ch, any_chain_fallback=req.chain != ALL)
        if url:
            urls[ch] = url
        else:
            env = f"{ch.upper()}_RPC" + (" or ETH_RPC_URL" if ch == "ethereum" else "")
            skipped[ch] = f"no RPC URL (set {env})"
    return urls, skipped


def _chains(req: HistoryRequest) -> tuple[dict[str, int], list[str], dict[str, str]]:
    """Registry chain ids, the chains to read, and those without a matching deployment."""
    reg = load_registry(req.registry)
    if req.chain != ALL and req.chain not in reg.chains:
        raise ValueError(f"chain {req.chain!r} is not in the registry ({', '.join(reg.chains)})")
    names = list(reg.chains) if req.chain == ALL else [req.chain]
    if req.rpc and len(names) > 1:
        raise ValueError("--rpc names one node: give --chain NAME, or set <CHAIN>_RPC per chain")
    have = [c for c in names if reg.select(c, req.protocols)]
    if not have:
        raise ValueError(f"no deployments on {req.chain} match {req.protocols or 'any'}")
    # Tron and Solana nodes serve only current state: no past quarter can be read from them.
    now_only = {
        c: f"{reg.chain(c).kind} nodes serve only current state: sync it with --block"
        for c in have
        if reg.chain(c).kind != "evm"
    }
    evm = [c for c in have if c not in now_only]
    if not evm:
        raise ValueError(f"{req.chain}: " + next(iter(now_only.values())))
    skipped = {c: "no matching deployments" for c in names if c not in have}
    return reg.chains, evm, {**skipped, **now_only}


def _span(client: RpcClient) -> tuple[int, int]:
    """Timestamps of the genesis block and the head (one round trip)."""
    genesis, head = client.batch(
        [("eth_getBlockByNumber", ["0x0", False]), ("eth_getBlockByNumber", ["latest", False])]
    )
    return int(genesis["timestamp"], 16), int(head["timestamp"], 16)


def _cell(
    req: HistoryRequest, chain: str, url: str, period: str, client: RpcClient, hook: HistoryHook
) -> Cell:
    cell = Cell(chain, period)

    def on_sync(event: str, dep: Any, info: dict[str, Any]) -> None:
        if event == "start":
            hook("reading", {"chain": chain, "period": period, "deployment": dep.id})

    sreq = SyncRequest(
        url, chain, period, None, list(req.protocols), req.registry, req.db, req.cache,
        req.allow_unsafe_head, req.confirmations, req.max_request_bytes,
    )  # fmt: skip
    before = client.stats.http_requests
    try:
        s = run_sync(sreq, client=client, hook=on_sync)
    except BlockNotFinalError:
        cell.status = "not yet ended"
    except UnsafeBlockError as e:
        cell.status, cell.note = "not yet safe", str(e)
    else:
        cell.status, cell.block = "read", s.block
        cell.written = [x["deployment"] for x in s.snapshots]
        cell.stored, cell.not_deployed = list(s.skipped), dict(s.not_deployed)
        cell.rows_written = s.rows_written
    finally:
        cell.rpc_requests = client.stats.http_requests - before
    return cell


def run_history(
    req: HistoryRequest,
    *,
    transport: httpx.BaseTransport | None = None,
    clients: dict[str, RpcClient] | None = None,
    hook: HistoryHook | None = None,
) -> HistorySummary:
    """Sync every (chain, quarter); ``hook(event, info)`` sees 'plan', 'reading' and 'cell'."""
    started = time.perf_counter()
    periods = parse_period_range(req.period)
    chain_ids, chains, no_deps = _chains(req)
    urls, no_rpc = _urls(req, chains)
    if not urls:
        raise ValueError(
            "no chain has an RPC URL: " + "; ".join(f"{c}: {w}" for c, w in no_rpc.items())
        )
    args = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(req).items()}
    args["rpc"] = None if req.rpc is None else redact_url(req.rpc)
    summary = HistorySummary(args, periods, {**{c: "read" for c in urls}, **no_rpc, **no_deps})
    hook = hook or (lambda event, info: None)
    hook("plan", {"cells": len(urls) * len(periods), "chains": list(urls)})
    clients = dict(clients or {})
    for chain, url in urls.items():
        own = chain not in clients
        client = clients.get(chain) or RpcClient(
            url, chain_id=chain_ids[chain], transport=transport,
            max_request_bytes=req.max_request_bytes,
        )  # fmt: skip
        before, error = client.stats.http_requests, None
        try:
            try:
                client.check_chain_id(chain_ids[chain])
                genesis, head = _span(client)
            except ChainError as e:
                error = str(e)
            for period in periods:
                end = quarter_end_timestamp(period)
                if error is not None:
                    cell = Cell(chain, period)
                    if not any(c.chain == chain and c.note == error for c in summary.cells):
                        cell.status, cell.note = "failed", error
                elif end < genesis:
                    cell = Cell(chain, period, "before genesis")
                elif end >= head:
                    cell = Cell(chain, period, "not yet ended")
                else:
                    try:
                        cell = _cell(req, chain, url, period, client, hook)
                    except (RpcTransportError, ChainIdMismatchError) as e:
                        error = str(e)  # the node is gone: this chain stops here
                        cell = Cell(chain, period, "failed", note=error)
                    except (ChainError, RuntimeError) as e:  # this quarter only
                        cell = Cell(chain, period, "failed", note=str(e))
                summary.cells.append(cell)
                hook("cell", asdict(cell))
        finally:
            summary.rpc_requests += client.stats.http_requests - before
            if own:
                client.close()
    summary.seconds = round(time.perf_counter() - started, 4)
    return summary

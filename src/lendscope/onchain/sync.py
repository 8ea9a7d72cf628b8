"""``lendscope sync``: read every registry deployment at one block into the dataset, resumably.

Each protocol snapshot is written in its own transaction keyed by (chain_id, block,
deployment), so an interrupted sync rerun skips finished snapshots and rewrites nothing twice.
A stored snapshot counts as done only if it was read at the same block *hash* (recorded in its
source note), asked once per run with ``eth_getBlockByNumber``: after a reorg, or on another
chain with the same id at the same height, the block is read again and the rows replaced. A
rerun with every snapshot stored costs that one round trip. Blocks with fewer than
``confirmations`` blocks on top (``allow_unsafe_head``) are never skipped nor cached.
A deployment with a contract that has no code at the block (a block before it was deployed,
or before its ``start_block``) is skipped cleanly and listed in ``not_deployed``: every address
it reads is checked in one batch, so a contract added later (a new data provider) makes an
earlier block a skip, not a failed read. Registry versions (:meth:`Deployment.at`) pick the
addresses valid at the block.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx

from lendscope.chain import (
    DEFAULT_MAX_REQUEST_BYTES,
    CallCache,
    Caller,
    RpcClient,
    check_safe_head,
    quarter_end_block,
)
from lendscope.chain.tron import tron_client
from lendscope.dataset.schema import METRIC_BY_SCOPE
from lendscope.dataset.store import (
    OnchainSnapshot,
    default_db_path,
    onchain_done,
    onchain_period_block,
    record_period_block,
    upsert_onchain,
)
from lendscope.onchain.abi import Reader
from lendscope.onchain.protocols import Snapshot, adapter
from lendscope.onchain.registry import Deployment, load_registry


def period_of(ts: int) -> str:
    """Quarter (``2024Q4``) containing a unix timestamp (UTC)."""
    d = datetime.fromtimestamp(ts, UTC)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


@dataclass
class SyncRequest:
    """Arguments of one sync (mirrors the CLI)."""

    rpc: str
    chain: str = "ethereum"
    period: str | None = None
    block: str | None = None  # a number or "latest"
    protocols: list[str] = field(default_factory=list)
    registry: Path | None = None
    db: Path | None = None
    cache: Path | None = None
    allow_unsafe_head: bool = False
    confirmations: int = 64
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES


@dataclass
class SyncSummary:
    """What a sync did; written as the ``--summary-json`` file."""

    arguments: dict[str, Any]
    chain_id: int
    block: int | None = None
    block_timestamp: int | None = None
    block_hash: str | None = None
    period: str | None = None
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    not_deployed: dict[str, str] = field(default_factory=dict)  # deployment id -> why
    rows_written: int = 0
    rpc_requests: int = 0
    rpc_calls: int = 0
    retries: int = 0
    cache_hits: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


Hook = Callable[[str, Deployment, dict[str, Any]], None]


def _probe_keys(d: Deployment) -> list[str]:
    """Addresses whose code ``not_deployed`` checks: all but the unread ``pending_*`` ones."""
    return [k for k in d.addresses if not k.startswith("pending_")]


def _source_id(d: Deployment, block: int) -> str:
    return f"onchain-{d.id}-{d.chain_id}-{block}"


def _hash_note(block_hash: str) -> str:
    return f"block_hash {block_hash.lower()}"


def _record(
    snap: Snapshot, ts: int, period: str, block_hash: str, version: int | None = None
) -> OnchainSnapshot:
    d = snap.deployment
    entry = d.id if version is None else f"{d.id} versions[{version}]"
    published = datetime.fromtimestamp(ts, UTC).date()
    sid = _source_id(d, snap.block)
    markets = [
        {
            "chain_id": d.chain_id,
            "block_number": snap.block,
            "deployment": d.id,
            "protocol": d.protocol,
            "market": r.market,
            "asset": r.asset,
            "symbol": r.symbol,
            "decimals": r.decimals,
            "debt_raw": str(r.debt_raw),  # u256 as an exact string (stack notes §3)
            "amount": r.amount,
            "price_raw": None if r.price_raw is None else str(r.price_raw),
            "price_unit": str(r.price_unit),
            "value_usd": r.value_usd,
            "counted": r.counted and r.price_raw is not None,
            "contract": r.contract,
            "call": r.call,
            "price_source": r.price_source,
            "adapter_version": snap.adapter_version,
            "note": r.note,
        }
        for r in snap.rows
    ]
    source = {
        "id": sid,
        "title": f"{d.platform} on {d.chain}: on-chain read at block {snap.block}",
        "publisher": d.platform,
        "url": d.source,
        "published": published,
        "kind": "onchain",
        "note": f"chain_id {d.chain_id}; {_hash_note(block_hash)}; registry entry {entry}",
    }
    obs = {
        "period": period,
        "segment": d.segment,
        "platform": d.platform,
        "chain": d.chain,
        "metric": METRIC_BY_SCOPE[d.segment],
        "value_usd": snap.value_usd,
        "source_id": sid,
        "method": "onchain",
        "published": published,
        "note": snap.note(),
        "chain_id": d.chain_id,
        "block_number": snap.block,
        "block_timestamp": ts,
        "contract": snap.contract if snap.contract.startswith("T") else snap.contract.lower(),
        "call": snap.call,
        "adapter_version": f"{d.family}/{snap.adapter_version}",
        "price_source": snap.price_source,
    }
    return OnchainSnapshot(
        d.chain_id, snap.block, ts, d.id, period, source, obs, markets, snap.adapter_version
    )


def stored_at_hash(
    db: Path | None, chain_id: int, block: int, block_hash: str, deps: list[Deployment]
) -> set[str]:
    """Deployments stored at ``block`` *and* read at ``block_hash`` (not another chain's)."""
    done = onchain_done(db, chain_id, block)
    wanted = {_source_id(d, block): d.id for d in deps if d.id in done}
    if not wanted:
        return set()
    con = duckdb.connect(str(Path(db) if db else default_db_path()), read_only=True)
    try:
        marks = ",".join("?" * len(wanted))
        rows = con.execute(
            f"SELECT id, note FROM sources WHERE id IN ({marks})", list(wanted)
        ).fetchall()
    finally:
        con.close()
    tag = _hash_note(block_hash)
    return {wanted[sid] for sid, note in rows if note and tag in note.split("; ")}


def not_deployed(client: RpcClient, deps: list[Deployment], block: int, ts: int) -> dict[str, str]:
    """Deployments that do not exist yet at ``block`` (one batch of eth_getCode)."""
    out: dict[str, str] = {}
    probe: list[tuple[Deployment, str, str]] = []
    for d in deps:
        start = int(d.config.get("start_block", 0) or 0)
        if block < start:
            out[d.id] = f"block {block} is before start_block {start}"
            continue
        at = d.at(block, ts)
        probe += [(at, k, at.addr(k)) for k in _probe_keys(d)]
    codes = client.batch([("eth_getCode", [a, hex(block)]) for _, _, a in probe])
    for (d, key, a), code in zip(probe, codes, strict=True):
        if code in (None, "", "0x") and d.id not in out:
            out[d.id] = f"{d.label(key)} ({a}) has no code at block {block}"
    return out


def _plan_block(req: SyncRequest, chain_id: int) -> tuple[int | None, int | None]:
    """(block, timestamp) known without the node: a number, or a stored quarter-end block."""
    if req.period:
        got = onchain_period_block(req.db, chain_id, req.period.upper())
        return got if got else (None, None)
    if req.block and req.block.strip().isdigit():
        return int(req.block), None
    return None, None


def _client(
    req: SyncRequest, kind: str, chain_id: int | None, transport: httpx.BaseTransport | None
) -> RpcClient:
    """The JSON-RPC client of the chain's kind (Tron: latest-only state, refused for quarters)."""
    if kind == "tron":
        if req.period:
            raise ValueError(
                f"{req.chain} is a Tron chain: its nodes serve only the latest state, so a past "
                "quarter cannot be read; sync it with --block latest"
            )
        return tron_client(req.rpc, chain_id=chain_id, transport=transport,
                           max_request_bytes=req.max_request_bytes)  # fmt: skip
    if kind != "evm":
        raise ValueError(f"{req.chain} is a {kind} chain: sync reads EVM and Tron chains")
    return RpcClient(
        req.rpc, chain_id=chain_id, transport=transport, max_request_bytes=req.max_request_bytes
    )


def run_sync(
    req: SyncRequest,
    *,
    transport: httpx.BaseTransport | None = None,
    client: RpcClient | None = None,
    hook: Hook | None = None,
) -> SyncSummary:
    """Run a sync; ``hook(event, deployment, info)`` sees 'start' / 'done' per snapshot."""
    if bool(req.period) == bool(req.block):
        raise ValueError("give exactly one of period or block")
    started = time.perf_counter()
    reg = load_registry(req.registry)
    if req.chain not in reg.chains:
        raise ValueError(f"chain {req.chain!r} is not in the registry ({', '.join(reg.chains)})")
    chain_id = reg.chains[req.chain]
    deps = reg.select(req.chain, req.protocols)
    if not deps:
        raise ValueError(f"no deployments on {req.chain} match {req.protocols or 'any'}")
    args = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(req).items()}
    args["rpc"] = None if req.rpc is None else _redact(req.rpc)
    summary = SyncSummary(args, chain_id)
    block, _ts = _plan_block(req, chain_id)
    own = client is None
    client = client or _client(req, reg.chain(req.chain).kind, chain_id, transport)
    cache = CallCache(req.cache) if req.cache else CallCache()
    try:
        caller = Caller(client, cache, chain_id=chain_id, confirmations=req.confirmations)
        if block is None:
            client.check_chain_id(chain_id)
            block = quarter_end_block(client, req.period) if req.period else None
        # One round trip: the block's hash and timestamp, the head, the chain id, Multicall3.
        pin = caller.pin(block if block is not None else (req.block or "latest"))
        client.check_chain_id(chain_id)
        block = pin.number
        check_safe_head(client, block, req.confirmations, req.allow_unsafe_head, head=pin.head)
        ts = pin.timestamp
        period = req.period.upper() if req.period else period_of(ts)
        summary.block, summary.block_timestamp, summary.period = block, ts, period
        summary.block_hash = pin.hash
        safe = pin.is_safe(req.confirmations)
        done = stored_at_hash(req.db, chain_id, block, pin.hash, deps) if safe else set()
        todo = [d for d in deps if d.id not in done]
        summary.not_deployed = not_deployed(client, todo, block, ts) if todo else {}
        if req.period and len(summary.not_deployed) < len(todo):
            record_period_block(req.db, chain_id, req.period.upper(), block, ts)
        reader = Reader(caller)
        for d in deps:
            if d.id in done:
                summary.skipped.append(d.id)
                continue
            if d.id in summary.not_deployed:
                continue
            if hook:
                hook("start", d, {})
            before, t0 = client.stats.http_requests, time.perf_counter()
            version = d.version_at(block, ts)
            snap = adapter(d.family).snapshot(reader, d.at(block, ts), block)
            rec = _record(snap, ts, period, pin.hash, version)
            upsert_onchain(req.db, rec)
            info = {
                "deployment": d.id,
                "protocol": d.protocol,
                "registry_version": version,
                "markets": len(snap.rows),
                "value_usd": snap.value_usd,
                "http_requests": client.stats.http_requests - before,
                "seconds": round(time.perf_counter() - t0, 4),
            }
            summary.snapshots.append(info)
            summary.rows_written += 1 + len(rec.markets)
            if hook:
                hook("done", d, info)
    finally:
        s = client.stats
        summary.rpc_requests, summary.rpc_calls = s.http_requests, s.calls
        summary.retries, summary.cache_hits = s.retries, s.cache_hits
        summary.seconds = round(time.perf_counter() - started, 4)
        cache.close()
        if own:
            client.close()
    return summary


def _redact(url: str) -> str:
    from lendscope.chain.rpc import redact_url

    return redact_url(url)

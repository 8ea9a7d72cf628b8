"""``lendscope sync``: read every registry deployment at one block into the dataset, resumably.

Each protocol snapshot is written in its own transaction keyed by (chain_id, block,
deployment), so an interrupted sync rerun skips finished snapshots and rewrites nothing twice.
Nothing is asked of the node when every snapshot is already stored (a rerun is free).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from lendscope.chain import (
    CallCache,
    Caller,
    RpcClient,
    block_timestamps,
    check_safe_head,
    quarter_end_block,
    resolve_block,
)
from lendscope.dataset.schema import METRIC_BY_SCOPE
from lendscope.dataset.store import (
    OnchainSnapshot,
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


@dataclass
class SyncSummary:
    """What a sync did; written as the ``--summary-json`` file."""

    arguments: dict[str, Any]
    chain_id: int
    block: int | None = None
    block_timestamp: int | None = None
    period: str | None = None
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
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


def _record(snap: Snapshot, ts: int, period: str) -> OnchainSnapshot:
    d = snap.deployment
    published = datetime.fromtimestamp(ts, UTC).date()
    sid = f"onchain-{d.id}-{d.chain_id}-{snap.block}"
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
        "note": f"chain_id {d.chain_id}; registry entry {d.id}",
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
        "contract": snap.contract.lower(),
        "call": snap.call,
        "adapter_version": f"{d.family}/{snap.adapter_version}",
        "price_source": snap.price_source,
    }
    return OnchainSnapshot(
        d.chain_id, snap.block, ts, d.id, period, source, obs, markets, snap.adapter_version
    )


def _plan_block(req: SyncRequest, chain_id: int) -> tuple[int | None, int | None]:
    """(block, timestamp) known without the node: a number, or a stored quarter-end block."""
    if req.period:
        got = onchain_period_block(req.db, chain_id, req.period.upper())
        return got if got else (None, None)
    if req.block and req.block.strip().isdigit():
        return int(req.block), None
    return None, None


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
    block, ts = _plan_block(req, chain_id)
    if block is not None:
        done = onchain_done(req.db, chain_id, block)
        if all(d.id in done for d in deps):  # nothing to read: ask the node nothing
            summary.block, summary.block_timestamp = block, ts
            summary.skipped = [d.id for d in deps]
            summary.period = req.period.upper() if req.period else None
            summary.seconds = time.perf_counter() - started
            return summary
    own = client is None
    client = client or RpcClient(req.rpc, chain_id=chain_id, transport=transport)
    cache = CallCache(req.cache) if req.cache else CallCache()
    try:
        client.check_chain_id(chain_id)
        if block is None:
            block = (
                quarter_end_block(client, req.period)
                if req.period
                else resolve_block(client, req.block or "latest")
            )
        check_safe_head(client, block, req.confirmations, req.allow_unsafe_head)
        ts = ts or block_timestamps(client, [block])[block]
        if req.period:
            record_period_block(req.db, chain_id, req.period.upper(), block, ts)
        period = req.period.upper() if req.period else period_of(ts)
        summary.block, summary.block_timestamp, summary.period = block, ts, period
        caller = Caller(client, cache, chain_id=chain_id)
        caller.has_multicall(block)  # once per block, outside any protocol snapshot
        reader = Reader(caller)
        done = onchain_done(req.db, chain_id, block)
        for d in deps:
            if d.id in done:
                summary.skipped.append(d.id)
                continue
            if hook:
                hook("start", d, {})
            before, t0 = client.stats.http_requests, time.perf_counter()
            snap = adapter(d.family).snapshot(reader, d, block)
            rec = _record(snap, ts, period)
            upsert_onchain(req.db, rec)
            info = {
                "deployment": d.id,
                "protocol": d.protocol,
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

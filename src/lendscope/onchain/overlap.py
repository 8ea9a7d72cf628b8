"""``lendscope overlap``: the debt of CeFi lenders' labelled addresses, measured on-chain.

At a quarter's last block, every registry deployment with a position reader is asked for the
positions of the labelled addresses only (:func:`~lendscope.onchain.positions.read_positions`
with ``owners``). Their debt in USD is summed per (lender, platform) and written into
``overlaps`` with ``method=onchain``, the block's provenance (chain id, number, timestamp,
contract, reader, price source) and a source row whose note holds the block hash, the registry
entry and the label file's digest. The per-address debts go to ``onchain_overlap_accounts``.

Like ``sync``, each deployment's read is one transaction keyed by (chain id, block, deployment):
a rerun at the same block hash with the same labels reads nothing again and writes no
duplicate; after a reorg, or with other labels, the rows are replaced. Blocks within the
confirmation depth (``allow_unsafe_head``) are always read again.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from lendscope.chain import (
    DEFAULT_MAX_REQUEST_BYTES,
    CallCache,
    Caller,
    RpcClient,
    check_safe_head,
    quarter_end_block,
    quarter_end_timestamp,
)
from lendscope.chain.rpc import redact_url
from lendscope.dataset.store import (
    OnchainOverlap,
    onchain_overlap_done,
    onchain_period_block,
    record_period_block,
    upsert_onchain_overlap,
)
from lendscope.onchain.abi import Reader
from lendscope.onchain.labels import LabelSet, load_labels
from lendscope.onchain.positions import READERS, read_positions
from lendscope.onchain.registry import Deployment, load_registry
from lendscope.onchain.sync import not_deployed

#: ``call`` of every overlap row: which reader measured it.
CALL = "read_positions(owners)"


@dataclass
class OverlapRequest:
    """Arguments of one overlap measurement (mirrors the CLI)."""

    rpc: str
    period: str
    chain: str = "ethereum"
    protocols: list[str] = field(default_factory=list)
    registry: Path | None = None
    labels: Path | None = None
    db: Path | None = None
    cache: Path | None = None
    allow_unsafe_head: bool = False
    confirmations: int = 64
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES


@dataclass
class OverlapSummary:
    """What a measurement did; ``rows``: the overlap rows written by this run."""

    arguments: dict[str, Any]
    chain_id: int
    period: str
    labels_file: str
    labelled: int
    labels_digest: str
    block: int | None = None
    block_timestamp: int | None = None
    block_hash: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    not_deployed: dict[str, str] = field(default_factory=dict)
    rpc_requests: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def source_id(d: Deployment, block: int) -> str:
    """Source id of one deployment's overlap read at ``block``."""
    return f"onchain-overlap-{d.id}-{d.chain_id}-{block}"


def debt_usd(row: dict[str, Any]) -> float:
    """USD debt of one position row: ``debt_usd`` (CDP vault rows) or amount x price."""
    if "debt_usd" in row:
        return float(row["debt_usd"] or 0.0)
    if not row.get("debt_asset"):
        return 0.0
    return float(row["debt_amount"] or 0.0) * float(row["debt_price_usd"] or 0.0)


def owner_debts(rows: list[dict[str, Any]], owners: dict[str, str]) -> dict[str, float]:
    """Lower-case owner -> USD debt, for the rows of labelled owners only."""
    out: dict[str, float] = defaultdict(float)
    for r in rows:
        who = str(r["owner"]).lower()
        if who in owners:  # the reader was asked for these owners only; checked again here
            out[who] += debt_usd(r)
    return dict(out)


def _price_source(d: Deployment) -> str | None:
    for key in ("oracle", "price_oracle"):
        if key in d.addresses:
            return f"{d.label(key)} {d.addr(key)}"
    return None


def build_record(
    d: Deployment,
    labels: LabelSet,
    debts: dict[str, float],
    *,
    period: str,
    block: int,
    block_hash: str,
    ts: int,
) -> OnchainOverlap:
    """The source, overlap and account rows of one deployment's read."""
    owners = labels.on(d.chain)
    published = datetime.fromtimestamp(ts, UTC).date()
    sid = source_id(d, block)
    digest = labels.digest(d.chain)
    per: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for who, usd in sorted(debts.items()):
        if usd > 0:
            per[owners[who]].append((who, usd))
    contract = next(iter(d.addresses.values())).address.lower() if d.addresses else None
    overlaps = []
    for lender, found in sorted(per.items()):
        shown = ", ".join(a for a, _ in found[:3]) + (" ..." if len(found) > 3 else "")
        overlaps.append({
            "period": period, "lender": lender, "via_platform": d.platform,
            "amount_usd": sum(u for _, u in found), "source_id": sid, "published": published,
            "note": f"debt of {len(found)} labelled address(es) on {d.platform} at block "
                    f"{block}: {shown}",
            "method": "onchain", "chain_id": d.chain_id, "block_number": block,
            "block_timestamp": ts, "contract": contract, "call": CALL,
            "adapter_version": f"{d.family}/positions", "price_source": _price_source(d),
        })  # fmt: skip
    accounts = []
    for who, usd in sorted(debts.items()):
        first = labels.sources(d.chain, who)[0]
        accounts.append({"lender": owners[who], "owner": first.address, "debt_usd": usd,
                         "label_kind": first.kind, "label_source": first.source})  # fmt: skip
    source = {
        "id": sid,
        "title": f"Debt of labelled CeFi addresses on {d.platform} ({d.chain}) at block {block}",
        "publisher": d.platform,
        "url": d.source,
        "published": published,
        "kind": "onchain",
        "note": f"chain_id {d.chain_id}; block_hash {block_hash.lower()}; registry entry {d.id}; "
        f"labels {labels.path} sha256 {digest}; {len(owners)} labelled addresses",
    }
    return OnchainOverlap(
        d.chain_id, block, block_hash.lower(), d.id, period, digest, len(owners), source,
        overlaps, accounts,
    )  # fmt: skip


def run_overlap(
    req: OverlapRequest,
    *,
    transport: httpx.BaseTransport | None = None,
    client: RpcClient | None = None,
) -> OverlapSummary:
    """Measure the labelled addresses' debt at ``req.period``'s last block into the database."""
    started = time.perf_counter()
    period = req.period.strip().upper()
    quarter_end_timestamp(period)  # ValueError for anything but YYYYQn
    reg = load_registry(req.registry)
    if req.chain not in reg.chains:
        raise ValueError(f"chain {req.chain!r} is not in the registry ({', '.join(reg.chains)})")
    chain_id = reg.chains[req.chain]
    deps = [d for d in reg.select(req.chain, req.protocols) if d.family in READERS]
    if not deps:
        raise ValueError(
            f"no deployment on {req.chain} matching {req.protocols or 'any'} has a position "
            f"reader ({', '.join(READERS)})"
        )
    labels = load_labels(req.labels)
    owners = labels.on(req.chain)
    if not owners:
        raise ValueError(f"{labels.path} labels no address on {req.chain}")
    args = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(req).items()}
    args["rpc"] = redact_url(req.rpc) if req.rpc else None
    digest = labels.digest(req.chain)
    summary = OverlapSummary(args, chain_id, period, labels.path, len(owners), digest)
    stored = onchain_period_block(req.db, chain_id, period)
    own = client is None
    client = client or RpcClient(
        req.rpc, chain_id=chain_id, transport=transport, max_request_bytes=req.max_request_bytes
    )
    cache = CallCache(req.cache) if req.cache else CallCache()
    try:
        caller = Caller(client, cache, chain_id=chain_id, confirmations=req.confirmations)
        if stored is None:
            client.check_chain_id(chain_id)
        block = stored[0] if stored else quarter_end_block(client, period)
        pin = caller.pin(block)  # hash, timestamp and head in one round trip
        client.check_chain_id(chain_id)
        check_safe_head(client, pin.number, req.confirmations, req.allow_unsafe_head,
                        head=pin.head)  # fmt: skip
        block, ts = pin.number, pin.timestamp
        summary.block, summary.block_timestamp, summary.block_hash = block, ts, pin.hash
        safe = pin.is_safe(req.confirmations)
        done = onchain_overlap_done(req.db, chain_id, block, pin.hash, digest) if safe else set()
        todo = [d for d in deps if d.id not in done]
        summary.not_deployed = not_deployed(client, todo, block, ts) if todo else {}
        if stored is None and len(summary.not_deployed) < len(todo):
            record_period_block(req.db, chain_id, period, block, ts)
        reader = Reader(caller)
        wanted = sorted(owners)
        for d in deps:
            if d.id in done:
                summary.skipped.append(d.id)
                continue
            if d.id in summary.not_deployed:
                continue
            rows = read_positions(reader, d.at(block, ts), block, owners=wanted)
            rec = build_record(d, labels, owner_debts(rows, owners), period=period,
                               block=block, block_hash=pin.hash, ts=ts)  # fmt: skip
            upsert_onchain_overlap(req.db, rec)
            summary.read.append(d.id)
            summary.rows += [
                {k: o[k] for k in ("lender", "via_platform", "amount_usd")} for o in rec.overlaps
            ]
    finally:
        summary.rpc_requests = client.stats.http_requests
        summary.seconds = round(time.perf_counter() - started, 4)
        cache.close()
        if own:
            client.close()
    return summary

"""``sync`` for a Solana chain: every deployment's accounts read at one finalized slot, resumably.

A Solana "block" is a slot. All reads of a sync (each deployment's ``getProgramAccounts`` and
one ``getMultipleAccounts`` of every program and market) go in one JSON-RPC batch at the node's
current finalized slot (:class:`~lendscope.onchain.solana.reader.SolanaReader`); the slot's
``getBlock`` gives its blockhash and time, and the reads are cached under (genesis hash, slot,
blockhash). Each snapshot is then written in its own transaction, as :func:`~.sync.run_sync` does;
a rerun with ``block=<that slot>`` serves every read from the cache and skips the snapshots
already stored at that slot and blockhash, so an interrupted sync finishes without new reads.

Standard Solana RPC keeps no past account state, so a past quarter cannot be read: ``period``
finds the quarter's last slot (``getBlockTime`` search) and is refused unless its reads are
cached, or the node's finalized slot is at most ``max_period_lag_slots`` past it (a sync run
right at quarter end). The dataset keys rows on an integer chain id: a Solana chain without one
in the registry is keyed on the first 6 bytes of its genesis hash (:func:`store_chain_id`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import httpx

from lendscope.chain.solana import (
    Query,
    SolanaClient,
    StateNotAvailableError,
    b58decode,
    redact_url,
)
from lendscope.chain.solana_slots import SlotCache, quarter_end_slot
from lendscope.dataset.store import onchain_period_block, record_period_block, upsert_onchain
from lendscope.onchain.protocols import adapter
from lendscope.onchain.registry import Deployment, load_registry
from lendscope.onchain.registry.chains import Chain
from lendscope.onchain.solana.reader import SolanaReader
from lendscope.onchain.sync import (
    Hook,
    SyncRequest,
    SyncSummary,
    _record,
    period_of,
    stored_at_hash,
)

#: Slots per second on Solana mainnet (400 ms slots), for messages only.
SLOTS_PER_SECOND = 2.5


def store_chain_id(chain: Chain) -> int:
    """The dataset's integer key for a chain: its chain id, else 6 bytes of its genesis hash."""
    if chain.chain_id is not None:
        return chain.chain_id
    if not chain.genesis_hash:
        raise ValueError(f"chain {chain.name!r} has neither chain_id nor genesis_hash")
    return int.from_bytes(b58decode(chain.genesis_hash)[:6], "big")


def identity_query(deps: list[Deployment]) -> Query:
    """One ``getMultipleAccounts`` of every deployment's program and market account."""
    keys = sorted({d.addr(k) for d in deps for k in ("program", "market")})
    return Query.accounts(keys, data_slice=(0, 0))


def not_deployed(reader: SolanaReader, q: Query, deps: list[Deployment]) -> dict[str, str]:
    """Deployments whose program is not an executable account, or market not owned by it."""
    got = dict(zip(q.keys, reader.get(q).accounts, strict=True))
    out = {}
    for d in deps:
        prog, market = got[d.addr("program")], got[d.addr("market")]
        if prog is None or not prog.executable:
            out[d.id] = f"{d.label('program')} ({d.addr('program')}) is not a deployed program"
        elif market is None or market.owner != d.addr("program"):
            owner = market.owner if market else "no account"
            out[d.id] = f"{d.label('market')} ({d.addr('market')}) is not the program's: {owner}"
    return out


def _target_slot(
    req: SyncRequest, client: SolanaClient, cache: SlotCache, chain_id: int, lag: int
) -> tuple[int | None, int | None]:
    """(slot to read at or ``None`` for the finalized slot now, the quarter's last slot).

    Raises :class:`StateNotAvailableError` for a quarter whose state cannot be read any more.
    """
    if req.block is not None:
        b = req.block.strip().lower()
        if b in ("latest", "finalized"):
            return None, None
        if not b.isdigit():
            raise ValueError(f"block must be a slot number, 'finalized' or 'latest', not {b!r}")
        return int(b), None
    assert req.period is not None
    stored = onchain_period_block(req.db, chain_id, req.period.upper())
    if stored:
        return stored[0], None
    end = quarter_end_slot(client, req.period)
    if any(s == end for s, _ in cache.slots(client.genesis_hash())):
        return end, end
    head = client.get_slot()
    if head - end <= lag:
        return None, end
    days = (head - end) / SLOTS_PER_SECOND / 86_400
    raise StateNotAvailableError(
        f"{req.period.upper()} ended at slot {end}, {head - end} slots (~{days:.0f} days) before "
        f"the node's finalized slot {head}: standard Solana RPC serves current account state "
        "only (getProgramAccounts and getMultipleAccounts take no slot; minContextSlot is a "
        "floor), so the quarter's state cannot be read now. Sync Solana with --block finalized "
        "(recorded under the current quarter), or at quarter end."
    )


def run_solana_sync(
    req: SyncRequest,
    *,
    transport: httpx.BaseTransport | None = None,
    client: SolanaClient | None = None,
    hook: Hook | None = None,
    max_period_lag_slots: int = 0,
) -> SyncSummary:
    """Sync ``req.chain`` (a ``kind = "solana"`` chain); ``hook`` as in :func:`~.sync.run_sync`."""
    if bool(req.period) == bool(req.block):
        raise ValueError("give exactly one of period or block")
    started = time.perf_counter()
    reg = load_registry(req.registry)
    chain = reg.chain(req.chain)
    if chain.kind != "solana":
        raise ValueError(f"chain {req.chain!r} is a {chain.kind} chain, not solana")
    chain_id = store_chain_id(chain)
    deps = [replace(d, chain_id=chain_id) for d in reg.select(req.chain, req.protocols)]
    if not deps:
        raise ValueError(f"no deployments on {req.chain} match {req.protocols or 'any'}")
    args = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(req).items()}
    args["rpc"] = None if req.rpc is None else redact_url(req.rpc)
    summary = SyncSummary(args, chain_id)
    own = client is None
    client = client or SolanaClient(
        req.rpc, transport=transport, max_request_bytes=req.max_request_bytes
    )
    cache = SlotCache(req.cache) if req.cache else SlotCache()
    try:
        client.check_genesis(chain.genesis_hash)
        slot, end = _target_slot(req, client, cache, chain_id, max_period_lag_slots)
        ident = identity_query(deps)
        per = {d.id: adapter(d.family).queries(d) for d in deps}
        reader = SolanaReader(client, cache)
        pin = reader.fetch([ident, *(q for qs in per.values() for q in qs)], slot)
        ts = pin.block_time
        period = req.period.upper() if req.period else period_of(ts)
        summary.block, summary.block_timestamp, summary.period = pin.slot, ts, period
        summary.block_hash = pin.blockhash
        summary.cache_hits = len(per) + 1 if reader.from_cache else 0
        lo, hi = reader.slots
        done = stored_at_hash(req.db, chain_id, pin.slot, pin.blockhash, deps)
        summary.not_deployed = not_deployed(reader, ident, [d for d in deps if d.id not in done])
        if req.period and len(summary.not_deployed) < len(deps):
            record_period_block(req.db, chain_id, period, pin.slot, ts)
        for d in deps:
            if d.id in done:
                summary.skipped.append(d.id)
                continue
            if d.id in summary.not_deployed:
                continue
            if hook:
                hook("start", d, {})
            t0 = time.perf_counter()
            snap = adapter(d.family).snapshot(reader, d, pin.slot)
            rec = _record(snap, ts, period, pin.blockhash)
            rec.observation["contract"] = snap.contract  # base58 is case-sensitive
            if lo != hi:
                rec.observation["note"] += f"; accounts read at slots {lo}-{hi}"
            if end is not None and pin.slot > end:
                rec.observation["note"] += (
                    f"; read {pin.slot - end} slots after {period}'s last slot {end}"
                )
            upsert_onchain(req.db, rec)
            info = {
                "deployment": d.id,
                "protocol": d.protocol,
                "registry_version": None,
                "markets": len(snap.rows),
                "value_usd": snap.value_usd,
                "http_requests": 0,  # all reads went in the one batch above
                "seconds": round(time.perf_counter() - t0, 4),
            }
            summary.snapshots.append(info)
            summary.rows_written += 1 + len(rec.markets)
            if hook:
                hook("done", d, info)
    finally:
        s = client.stats
        summary.rpc_requests, summary.rpc_calls, summary.retries = (
            s.http_requests,
            s.calls,
            s.retries,
        )
        summary.seconds = round(time.perf_counter() - started, 4)
        cache.close()
        if own:
            client.close()
    return summary

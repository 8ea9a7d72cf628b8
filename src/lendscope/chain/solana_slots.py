"""Solana slots: the slot at a time (``getBlockTime`` search) and the slot-keyed read cache.

A slot is Solana's block number; its identity is the block's ``blockhash`` (``getBlock``) on a
cluster named by its genesis hash. :class:`SlotCache` keys reads on all three, so a read stored
at a slot is never served for another cluster's slot of the same number.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import time
import zlib
from collections.abc import Iterable
from pathlib import Path

from lendscope.chain.blocks import BlockNotFinalError, quarter_end_timestamp
from lendscope.chain.cache import default_cache_path
from lendscope.chain.rpc import ChainError
from lendscope.chain.solana import FINALIZED, Account, PinnedSlot, Query, Read, SolanaClient


def slot_by_time(client: SolanaClient, ts: int, *, probes_per_round: int = 8) -> int:
    """The last slot with a block whose ``blockTime`` is <= ``ts`` (skipped slots stepped over).

    A k-ary search over ``getBlockTime`` batches between the node's first available block and
    the finalized slot; the last few dozen slots are listed with ``getBlocks``. Raises
    :class:`BlockNotFinalError` unless a finalized block newer than ``ts`` exists.
    """
    lo, hi = int(client.request("getFirstAvailableBlock")), client.get_slot()
    times = client.block_times([lo, hi])
    if times[lo] is None or times[hi] is None:
        raise ChainError(f"no block time for slot {lo} or {hi}")
    if ts < times[lo]:
        raise ValueError(f"timestamp {ts} is before the node's first available block {lo}")
    if ts >= times[hi]:
        raise BlockNotFinalError(f"timestamp {ts} is not before finalized slot {hi} ({times[hi]})")
    shift = 0  # moved on when every probe of a round lands on a skipped slot
    while hi - lo > 1:  # invariant: blocks at lo and hi, time(lo) <= ts < time(hi)
        gap = hi - lo
        if gap <= 4 * probes_per_round or shift > 3:
            slots = [
                int(s)
                for s in client.request("getBlocks", [lo + 1, hi - 1, {"commitment": FINALIZED}])
            ]
            got = client.block_times(slots)
            return max([lo] + [s for s in slots if (got[s] is not None and got[s] <= ts)])
        probes = sorted(
            {
                min(hi - 1, lo + gap * (i + 1) // (probes_per_round + 1) + shift)
                for i in range(probes_per_round)
            }
        )
        got = client.block_times(probes)
        known = [(p, t) for p, t in ((p, got[p]) for p in probes) if t is not None]
        shift = shift + 1 if not known else 0
        for p, t in known:
            if t <= ts:
                lo = p
            else:
                hi = p
                break
    return lo


def quarter_end_slot(client: SolanaClient, quarter: str) -> int:
    """The last slot at or before the last second of ``quarter`` (UTC)."""
    return slot_by_time(client, quarter_end_timestamp(quarter))


SLOT_CACHE_VERSION = 1
_SLOT_SCHEMA = """
CREATE TABLE IF NOT EXISTS solana_reads (
    key BLOB PRIMARY KEY, schema_version INTEGER NOT NULL, genesis_hash TEXT NOT NULL,
    slot INTEGER NOT NULL, blockhash TEXT NOT NULL, request TEXT NOT NULL,
    result BLOB NOT NULL, stored_at REAL NOT NULL
) WITHOUT ROWID
"""


class SlotCache:
    """SQLite cache of account reads keyed on (genesis hash, slot, blockhash, request).

    A table next to :class:`~lendscope.chain.cache.CallCache`'s in the same file by default.
    Only finalized reads are stored; a blockhash that differs (another cluster, a fork that
    never finalized) matches nothing.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute(_SLOT_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> SlotCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _digest(pin: PinnedSlot, request: str) -> bytes:
        head = f"{SLOT_CACHE_VERSION}|{pin.genesis_hash}|{pin.slot}|{pin.blockhash}|"
        return hashlib.sha256((head + request).encode()).digest()

    def get(self, pin: PinnedSlot, query: Query) -> Read | None:
        """The read of ``query`` stored at ``pin``, or ``None``."""
        row = self._conn.execute(
            "SELECT result FROM solana_reads WHERE key = ?", (self._digest(pin, query.key()),)
        ).fetchone()
        if row is None:
            return None
        raw = json.loads(zlib.decompress(row[0]))
        accts = tuple(
            None if a is None else Account(a[0], a[1], a[2], base64.b64decode(a[3]), a[4])
            for a in raw["accounts"]
        )
        return Read(tuple(raw["slots"]), accts)

    def put_many(self, pin: PinnedSlot, reads: Iterable[tuple[Query, Read]]) -> int:
        """Store reads made at ``pin`` in one transaction; returns how many."""
        rows = []
        for q, r in reads:
            accts = [
                None
                if a is None
                else [
                    a.pubkey,
                    a.owner,
                    a.lamports,
                    base64.b64encode(a.data).decode(),
                    a.executable,
                ]
                for a in r.accounts
            ]
            blob = zlib.compress(json.dumps({"slots": list(r.slots), "accounts": accts}).encode())
            rows.append(
                (
                    self._digest(pin, q.key()),
                    SLOT_CACHE_VERSION,
                    pin.genesis_hash,
                    pin.slot,
                    pin.blockhash,
                    q.key(),
                    blob,
                    time.time(),
                )
            )
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT OR REPLACE INTO solana_reads VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return len(rows)

    def slots(self, genesis_hash: str) -> list[tuple[int, str]]:
        """(slot, blockhash) pairs with reads stored for a cluster."""
        return [
            (int(s), h)
            for s, h in self._conn.execute(
                "SELECT DISTINCT slot, blockhash FROM solana_reads WHERE genesis_hash = ? "
                "ORDER BY slot",
                (genesis_hash,),
            )
        ]

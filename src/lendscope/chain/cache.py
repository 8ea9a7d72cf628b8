"""Content-addressed SQLite cache of ``eth_call`` results pinned to a chain id and block hash."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

# Bump when the meaning of a cached value changes; old rows then stop matching any key.
# 2: keys carry the block hash (version 1 keyed on the number alone and could serve another
# chain's, or a reorged-out block's, state).
CACHE_SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS eth_call (
    key BLOB PRIMARY KEY,
    schema_version INTEGER NOT NULL,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    to_address TEXT NOT NULL,
    calldata BLOB NOT NULL,
    result BLOB NOT NULL,
    stored_at REAL NOT NULL,
    block_hash TEXT
) WITHOUT ROWID
"""
_COLUMNS = (
    "key, schema_version, chain_id, block_number, to_address, calldata, result, stored_at, "
    "block_hash"
)
_IN_CHUNK = 500  # stays under SQLite's host-parameter limit


class UnpinnedBlockError(ValueError):
    """A cache key needs a concrete block number, never a tag such as ``"latest"``."""


def default_cache_path() -> Path:
    """``$LENDSCOPE_CACHE_DIR`` (else ``user_cache_dir("lendscope")``) ``/rpc-cache.sqlite``."""
    root = os.environ.get("LENDSCOPE_CACHE_DIR") or platformdirs.user_cache_dir("lendscope")
    return Path(root) / "rpc-cache.sqlite"


def normalize_address(address: str) -> str:
    """Lower-case ``0x`` + 40 hex digits; raises ``ValueError`` otherwise."""
    a = address.lower()
    if not a.startswith("0x"):
        a = "0x" + a
    if len(a) != 42 or any(c not in "0123456789abcdef" for c in a[2:]):
        raise ValueError(f"not an address: {address!r}")
    return a


def to_bytes(data: bytes | str) -> bytes:
    """Calldata as bytes from bytes or a ``0x`` hex string."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    return bytes.fromhex(data.removeprefix("0x"))


@dataclass(frozen=True, slots=True)
class CallKey:
    """Identity of an ``eth_call``: (chain id, block number and hash, target, calldata).

    :class:`~lendscope.chain.multicall.Caller` always sets ``block_hash`` (resolved once per
    run), so a number reused by a reorg or by another chain with the same id never matches.
    """

    chain_id: int
    block: int
    to: str
    data: bytes
    block_hash: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.block, bool) or not isinstance(self.block, int):
            raise UnpinnedBlockError(
                f"cache keys need a block number, got {self.block!r}: "
                "resolve tags such as 'latest' to a number first (resolve_block)"
            )
        if self.block < 0:
            raise UnpinnedBlockError(f"negative block number {self.block}")
        if isinstance(self.chain_id, bool) or not isinstance(self.chain_id, int):
            raise TypeError(f"chain_id must be an int, got {self.chain_id!r}")
        object.__setattr__(self, "to", normalize_address(self.to))
        object.__setattr__(self, "data", to_bytes(self.data))
        object.__setattr__(self, "block_hash", (self.block_hash or "").lower())

    def digest(self) -> bytes:
        """SHA-256 over the schema version and the key fields."""
        head = (
            f"{CACHE_SCHEMA_VERSION}|{self.chain_id}|{self.block}|{self.block_hash}|{self.to}|"
        ).encode()
        return hashlib.sha256(head + self.data).digest()


class CallCache:
    """SQLite (WAL) cache; each :meth:`put_many` is one transaction: all of it lands or none."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so the transaction is explicit.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute(_SCHEMA)
        cols = {r[1] for r in self._conn.execute("PRAGMA table_info(eth_call)")}
        if "block_hash" not in cols:  # a version-1 file: its rows match no key any more
            self._conn.execute("ALTER TABLE eth_call ADD COLUMN block_hash TEXT")

    def __repr__(self) -> str:
        return f"CallCache({str(self.path)!r})"

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> CallCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, keys: Iterable[CallKey]) -> dict[CallKey, bytes]:
        """Cached results for those ``keys`` that are present."""
        by_digest = {k.digest(): k for k in keys}
        digests = list(by_digest)
        found: dict[CallKey, bytes] = {}
        for i in range(0, len(digests), _IN_CHUNK):
            part = digests[i : i + _IN_CHUNK]
            marks = ",".join("?" * len(part))
            for digest, result in self._conn.execute(
                f"SELECT key, result FROM eth_call WHERE key IN ({marks})", part
            ):
                found[by_digest[bytes(digest)]] = bytes(result)
        return found

    def get(self, key: CallKey) -> bytes | None:
        """One cached result, or ``None``."""
        return self.get_many([key]).get(key)

    def put_many(self, items: Mapping[CallKey, bytes] | Iterable[tuple[CallKey, bytes]]) -> int:
        """Store results in one transaction (all or nothing); returns the row count."""
        pairs = items.items() if isinstance(items, Mapping) else items
        now = time.time()
        count = 0

        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for key, result in pairs:
                if not isinstance(key, CallKey):
                    raise TypeError(f"expected CallKey, got {type(key).__name__}")
                count += 1
                yield (
                    key.digest(),
                    CACHE_SCHEMA_VERSION,
                    key.chain_id,
                    key.block,
                    key.to,
                    key.data,
                    to_bytes(result),
                    now,
                    key.block_hash or None,
                )

        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                f"INSERT OR REPLACE INTO eth_call ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows(),
            )
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return count

    def info(self) -> dict[str, Any]:
        """Path, entry counts by chain, block range, sizes and the schema version."""
        q = self._conn.execute
        entries, result_bytes, lo, hi = q(
            "SELECT count(*), coalesce(sum(length(result)), 0), min(block_number), "
            "max(block_number) FROM eth_call WHERE schema_version = ?",
            (CACHE_SCHEMA_VERSION,),
        ).fetchone()
        (stale,) = q(
            "SELECT count(*) FROM eth_call WHERE schema_version != ?", (CACHE_SCHEMA_VERSION,)
        ).fetchone()
        chains = dict(
            q(
                "SELECT chain_id, count(*) FROM eth_call WHERE schema_version = ? "
                "GROUP BY chain_id ORDER BY chain_id",
                (CACHE_SCHEMA_VERSION,),
            ).fetchall()
        )
        files = [self.path, Path(f"{self.path}-wal")]
        return {
            "path": str(self.path),
            "schema_version": CACHE_SCHEMA_VERSION,
            "entries": entries,
            "stale_entries": stale,
            "chains": chains,
            "min_block": lo,
            "max_block": hi,
            "result_bytes": result_bytes,
            "file_bytes": sum(f.stat().st_size for f in files if f.exists()),
        }

    def clear(self) -> int:
        """Delete every entry; returns how many were removed."""
        (n,) = self._conn.execute("SELECT count(*) FROM eth_call").fetchone()
        self._conn.execute("DELETE FROM eth_call")
        self._conn.execute("VACUUM")
        return n

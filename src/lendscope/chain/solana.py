"""Solana JSON-RPC: account reads at a finalized slot, slot identity, a slot-keyed read cache.

The same conventions as :class:`~lendscope.chain.rpc.RpcClient` (it is one): JSON-RPC batches
split by call count and bytes, retries with backoff and ``Retry-After`` for idempotent reads,
a token-bucket rate limit, stats. Every read asks ``commitment: "finalized"`` (the analog of
EVM confirmations: a finalized slot is never rolled back).

Standard Solana RPC serves *current* state only: ``getProgramAccounts`` and
``getMultipleAccounts`` take no slot, and ``minContextSlot`` only sets a floor. Reads are
therefore stamped with the ``context.slot`` the node answers at, and that slot's identity
(``getBlock``: blockhash, block time) keys :class:`~lendscope.chain.solana_slots.SlotCache`,
with the genesis hash: state once read at a slot is served again from the cache; state never read
cannot be had later. :mod:`lendscope.chain.solana_slots` also finds the slot at a time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lendscope.chain.rpc import (
    ChainError,
    RpcClient,
    RpcError,
    redact_url,
)
from lendscope.core.base58 import B58, b58decode, b58encode  # noqa: F401 (re-exported)

SOLANA_RETRY_ALLOWLIST: frozenset[str] = frozenset(
    {
        "getAccountInfo",
        "getMultipleAccounts",
        "getProgramAccounts",
        "getSlot",
        "getBlock",
        "getBlockTime",
        "getBlocks",
        "getBlocksWithLimit",
        "getBlockHeight",
        "getGenesisHash",
        "getFirstAvailableBlock",
        "getHealth",
        "getVersion",
        "getEpochInfo",
    }
)
#: 429; node unhealthy or behind (-32005); block status not yet available (-32014); the node
#: has not reached ``minContextSlot`` yet (-32016): all pass if asked again a little later.
SOLANA_TRANSIENT_CODES: frozenset[int] = frozenset({429, -32005, -32014, -32016})
#: "Slot was skipped" (-32007; -32009 from long-term storage): no block exists at that slot.
SKIPPED_SLOT_CODES: frozenset[int] = frozenset({-32007, -32009})
MAX_MULTIPLE_ACCOUNTS = 100  # getMultipleAccounts takes at most 100 keys per call
FINALIZED = "finalized"


class GenesisMismatchError(ChainError):
    """The node serves another Solana cluster than the registry names."""


class SkippedSlotError(ChainError):
    """No block was produced at this slot (the leader skipped it)."""


class StateNotAvailableError(ChainError):
    """State at a past slot was asked for: standard Solana RPC serves current state only."""


@dataclass(frozen=True)
class Account:
    """One account as read: its key, owning program, lamports and raw data."""

    pubkey: str
    owner: str
    lamports: int
    data: bytes
    executable: bool = False

    @classmethod
    def from_json(cls, pubkey: str, raw: dict[str, Any]) -> Account:
        """From the RPC's ``encoding: "base64"`` account object."""
        blob, enc = raw["data"]
        if enc != "base64":
            raise ChainError(f"account {pubkey}: expected base64 data, got {enc!r}")
        return cls(
            pubkey,
            raw["owner"],
            int(raw["lamports"]),
            base64.b64decode(blob),
            bool(raw.get("executable", False)),
        )


def memcmp(offset: int, data: bytes | str) -> dict[str, Any]:
    """A ``getProgramAccounts`` filter: the bytes at ``offset`` (a pubkey string or raw bytes)."""
    text = data if isinstance(data, str) else b58encode(data)
    return {"memcmp": {"offset": offset, "bytes": text, "encoding": "base58"}}


def data_size(n: int) -> dict[str, Any]:
    """A ``getProgramAccounts`` filter: accounts of exactly ``n`` bytes."""
    return {"dataSize": n}


@dataclass(frozen=True)
class Query:
    """One account read: a program's accounts matching ``filters``, or ``keys`` by address."""

    program: str | None = None
    filters: tuple[tuple[tuple[str, Any], ...], ...] = ()
    keys: tuple[str, ...] = ()
    data_slice: tuple[int, int] | None = None  # (offset, length): part of each account only

    @classmethod
    def program_accounts(
        cls, program: str, filters: Sequence[dict[str, Any]] = (), **kw: Any
    ) -> Query:
        """``getProgramAccounts(program, filters)``."""
        return cls(program=program, filters=tuple(_freeze(f) for f in filters), **kw)

    @classmethod
    def accounts(cls, keys: Iterable[str], **kw: Any) -> Query:
        """``getMultipleAccounts(keys)``, split into calls of at most 100 keys."""
        return cls(keys=tuple(keys), **kw)

    def calls(self, min_slot: int | None = None) -> list[tuple[str, list[Any]]]:
        """The JSON-RPC calls this read needs."""
        cfg: dict[str, Any] = {"commitment": FINALIZED, "encoding": "base64"}
        if self.data_slice is not None:
            cfg["dataSlice"] = {"offset": self.data_slice[0], "length": self.data_slice[1]}
        if min_slot is not None:
            cfg["minContextSlot"] = min_slot
        if self.program is not None:
            filters = [_thaw(f) for f in self.filters]
            return [
                (
                    "getProgramAccounts",
                    [self.program, {**cfg, "filters": filters, "withContext": True}],
                )
            ]
        step = MAX_MULTIPLE_ACCOUNTS
        return [
            ("getMultipleAccounts", [list(self.keys[i : i + step]), cfg])
            for i in range(0, len(self.keys), step)
        ]

    def parse(self, results: list[Any]) -> Read:
        """The accounts and context slots from this read's call results."""
        slots = [int(r["context"]["slot"]) for r in results]
        if self.program is not None:
            accts = [Account.from_json(x["pubkey"], x["account"]) for x in results[0]["value"]]
            return Read(tuple(slots), tuple(accts))
        values = [v for r in results for v in r["value"]]
        return Read(
            tuple(slots),
            tuple(
                None if v is None else Account.from_json(k, v)
                for k, v in zip(self.keys, values, strict=True)
            ),
        )

    def key(self) -> str:
        """Canonical JSON of what is read (the cache key's request part)."""
        return json.dumps(
            [self.program, [_thaw(f) for f in self.filters], list(self.keys), self.data_slice],
            sort_keys=True,
            separators=(",", ":"),
        )


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    return v


def _thaw(v: Any) -> Any:
    if isinstance(v, tuple) and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        return {k: _thaw(x) for k, x in v}
    return v


@dataclass(frozen=True)
class Read:
    """What one :class:`Query` returned: the context slot of each call and the accounts."""

    slots: tuple[int, ...]
    accounts: tuple[Account | None, ...]


@dataclass(frozen=True)
class PinnedSlot:
    """A slot with its block's identity: cached reads are keyed on (genesis, slot, blockhash)."""

    slot: int
    blockhash: str
    block_time: int
    parent_slot: int
    genesis_hash: str


class SolanaClient(RpcClient):
    """:class:`RpcClient` for Solana: its allowlist and transient codes, account reads, slots.

    ``max_batch_size`` defaults lower than on EVM: providers cap Solana batches (often 100).
    """

    retry_allowlist = SOLANA_RETRY_ALLOWLIST
    transient_codes = SOLANA_TRANSIENT_CODES

    def __init__(self, url: str, *, max_batch_size: int = 100, **kw: Any) -> None:
        super().__init__(url, max_batch_size=max_batch_size, **kw)
        self._genesis: str | None = None

    def __repr__(self) -> str:
        return f"SolanaClient({redact_url(self.url)!r})"

    def genesis_hash(self) -> str:
        """The cluster's genesis hash (asked once): Solana's chain identity."""
        if self._genesis is None:
            self._genesis = str(self.request("getGenesisHash"))
        return self._genesis

    def get_chain_id(self) -> int:
        """Solana has no chain id (``eth_chainId``): its identity is :meth:`genesis_hash`."""
        raise ChainError("a Solana cluster has no chain id: compare genesis_hash() instead")

    def check_genesis(self, expected: str | None) -> str:
        """Raise :class:`GenesisMismatchError` unless the node serves ``expected``'s cluster."""
        got = self.genesis_hash()
        if expected is not None and got != expected:
            raise GenesisMismatchError(
                f"RPC {redact_url(self.url)} serves genesis {got}, expected {expected}"
            )
        return got

    def get_slot(self) -> int:
        """The latest finalized slot."""
        return int(self.request("getSlot", [{"commitment": FINALIZED}]))

    def pin(self, slot: int) -> PinnedSlot:
        """Blockhash, time and parent of the block at ``slot`` (:class:`SkippedSlotError`)."""
        cfg = {
            "commitment": FINALIZED,
            "transactionDetails": "none",
            "rewards": False,
            "encoding": "json",
            "maxSupportedTransactionVersion": 0,
        }
        try:
            b = self.request("getBlock", [slot, cfg])
        except RpcError as e:
            if e.code in SKIPPED_SLOT_CODES:
                raise SkippedSlotError(f"slot {slot} was skipped: no block") from e
            raise
        if b is None or b.get("blockTime") is None:
            raise ChainError(f"node returned no block (or no block time) for slot {slot}")
        genesis = self.genesis_hash()
        return PinnedSlot(slot, b["blockhash"], int(b["blockTime"]), int(b["parentSlot"]), genesis)

    def block_times(self, slots: Iterable[int]) -> dict[int, int | None]:
        """``getBlockTime`` of each slot in one batch; ``None`` for a skipped slot."""
        wanted = sorted(set(slots))
        got = self.batch([("getBlockTime", [s]) for s in wanted], return_errors=True)
        out: dict[int, int | None] = {}
        for s, t in zip(wanted, got, strict=True):
            if isinstance(t, RpcError):
                if t.code not in SKIPPED_SLOT_CODES:
                    raise t
                t = None
            out[s] = None if t is None else int(t)
        return out

    def read(self, queries: Sequence[Query], min_slot: int | None = None) -> list[Read]:
        """Every query's accounts, all calls in one JSON-RPC batch (few HTTP requests)."""
        per = [q.calls(min_slot) for q in queries]
        flat = self.batch([c for calls in per for c in calls])
        out, i = [], 0
        for q, calls in zip(queries, per, strict=True):
            out.append(q.parse(flat[i : i + len(calls)]))
            i += len(calls)
        return out

    def get_program_accounts(
        self, program: str, filters: Sequence[dict[str, Any]] = (), **kw: Any
    ) -> Read:
        """``getProgramAccounts`` with ``memcmp``/``dataSize`` filters (and ``data_slice``)."""
        return self.read([Query.program_accounts(program, filters, **kw)])[0]

    def get_multiple_accounts(self, keys: Iterable[str], **kw: Any) -> Read:
        """``getMultipleAccounts``, at most 100 keys a call, in one batch; ``None``: no account."""
        return self.read([Query.accounts(keys, **kw)])[0]

"""Block numbers: resolve tags, find blocks by timestamp or quarter end, refuse unsafe heads."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from lendscope.chain.rpc import ChainError, RpcClient

_TAGS = frozenset({"latest", "safe", "finalized", "earliest"})
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


class UnsafeBlockError(ChainError):
    """The block is too close to the head to be safe from reorgs."""


class BlockNotFinalError(ChainError):
    """No block after the timestamp exists yet, so the answer could still change."""


def _int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 16)


def resolve_block(client: RpcClient, block: int | str) -> int:
    """A concrete block number for an int, a numeric string or a tag (latest, safe, ...)."""
    if isinstance(block, bool):
        raise TypeError("block must be an int or a tag, not bool")
    if isinstance(block, int):
        if block < 0:
            raise ValueError(f"negative block number {block}")
        return block
    tag = block.strip().lower()
    if tag.startswith("0x"):
        return int(tag, 16)
    if tag.isdigit():
        return int(tag)
    if tag == "latest":
        return _int(client.request("eth_blockNumber"))
    if tag in _TAGS:
        got = client.request("eth_getBlockByNumber", [tag, False])
        if got is None:
            raise ChainError(f"node has no {tag!r} block")
        return _int(got["number"])
    # "pending" is not a block that exists, so it can never be pinned.
    raise ValueError(f"unknown block tag {block!r}; use an int or one of {sorted(_TAGS)}")


def block_timestamps(client: RpcClient, numbers: Iterable[int]) -> dict[int, int]:
    """Timestamps of blocks, fetched in one JSON-RPC batch."""
    wanted = sorted(set(numbers))
    blocks = client.batch([("eth_getBlockByNumber", [hex(n), False]) for n in wanted])
    out = {}
    for n, b in zip(wanted, blocks, strict=True):
        if b is None:
            raise ChainError(f"node returned no block {n}")
        out[n] = _int(b["timestamp"])
    return out


def block_by_timestamp(client: RpcClient, ts: int, *, probes_per_round: int = 8) -> int:
    """The last block whose timestamp is <= ``ts``.

    A k-ary search: each round asks for ``probes_per_round`` evenly spaced blocks in one
    batch, shrinking the range by k+1 per HTTP round trip (about 8 trips for 20M blocks
    instead of 25 for a plain binary search). Assumes non-decreasing timestamps.
    Raises :class:`BlockNotFinalError` unless a block newer than ``ts`` already exists.
    """
    if probes_per_round < 1:
        raise ValueError("probes_per_round must be >= 1")
    head, genesis = client.batch(
        [("eth_getBlockByNumber", ["latest", False]), ("eth_getBlockByNumber", ["0x0", False])]
    )
    lo, lo_ts = 0, _int(genesis["timestamp"])
    hi, hi_ts = _int(head["number"]), _int(head["timestamp"])
    if ts < lo_ts:
        raise ValueError(f"timestamp {ts} is before the genesis block ({lo_ts})")
    if ts >= hi_ts:
        raise BlockNotFinalError(
            f"timestamp {ts} is not before the head block {hi} ({hi_ts}); "
            "a later block could still have a timestamp <= it"
        )
    # Invariant: timestamp(lo) <= ts < timestamp(hi).
    while hi - lo > 1:
        gap = hi - lo
        if gap - 1 <= probes_per_round:
            probes = list(range(lo + 1, hi))
        else:
            probes = sorted(
                {lo + gap * (i + 1) // (probes_per_round + 1) for i in range(probes_per_round)}
            )
        times = block_timestamps(client, probes)
        for n in probes:
            if times[n] <= ts:
                lo = n
            else:
                hi = n
                break
    return lo


def quarter_end_timestamp(quarter: str) -> int:
    """Unix time of the last second of a quarter in UTC (``"2024Q4"`` -> 2024-12-31T23:59:59Z)."""
    m = _QUARTER.match(quarter)
    if not m:
        raise ValueError(f"quarter must look like '2024Q4', got {quarter!r}")
    year, q = int(m.group(1)), int(m.group(2))
    start_next = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
    return int(start_next.timestamp()) - 1


def quarter_end_block(client: RpcClient, quarter: str, *, probes_per_round: int = 8) -> int:
    """The last block at or before the last second of ``quarter`` (UTC)."""
    return block_by_timestamp(
        client, quarter_end_timestamp(quarter), probes_per_round=probes_per_round
    )


def check_safe_head(
    client: RpcClient,
    block: int,
    confirmations: int = 64,
    allow_unsafe_head: bool = False,
    *,
    head: int | None = None,
) -> int:
    """Refuse blocks with fewer than ``confirmations`` blocks on top; returns the head number.

    Raises :class:`UnsafeBlockError` (reorg risk) unless ``allow_unsafe_head``. ``head``
    (e.g. from :func:`pin_block`) saves the ``eth_blockNumber`` round trip.
    """
    if head is None:
        head = _int(client.request("eth_blockNumber"))
    if block > head:
        raise UnsafeBlockError(f"block {block} does not exist yet (head is {head})")
    depth = head - block
    if depth < confirmations and not allow_unsafe_head:
        raise UnsafeBlockError(
            f"block {block} is only {depth} blocks behind head {head}; "
            f"need {confirmations} confirmations (allow_unsafe_head=True accepts reorg risk)"
        )
    return head


@dataclass(frozen=True)
class PinnedBlock:
    """A block number resolved to its hash (and the head seen in the same round trip).

    Cached data is keyed on ``(chain_id, hash)``: after a reorg, or on another chain at the
    same height, the number names a different block and nothing cached for it matches.
    """

    number: int
    hash: str
    timestamp: int
    head: int

    @property
    def depth(self) -> int:
        """Blocks on top of this one when it was pinned."""
        return self.head - self.number

    def is_safe(self, confirmations: int) -> bool:
        """Whether at least ``confirmations`` blocks were on top (data may then be cached)."""
        return self.depth >= confirmations


def pin_block(
    client: RpcClient, block: int | str, *, code_at: str | None = None
) -> tuple[PinnedBlock, str | None]:
    """Hash, timestamp and head for ``block`` in one JSON-RPC batch (one HTTP round trip).

    The batch also asks ``eth_chainId`` when the client does not know it yet (remembered by
    the client) and, with ``code_at``, ``eth_getCode`` of that address at the block; the
    second value returned is that code (``None`` without ``code_at``).
    """
    if isinstance(block, str) and block.strip().lower() in _TAGS:
        tag = block.strip().lower()
    else:  # a number (validated); unknown tags such as "pending" raise here
        tag = hex(resolve_block(client, block))
    calls: list[tuple[str, list]] = [
        ("eth_getBlockByNumber", [tag, False]),
        ("eth_blockNumber", []),
    ]
    ask_chain = client._node_chain_id is None
    if ask_chain:
        calls.append(("eth_chainId", []))
    numeric = isinstance(tag, str) and tag.startswith("0x")
    if code_at is not None and numeric:
        calls.append(("eth_getCode", [code_at, tag]))
    got = client.batch(calls)
    header, head = got[0], _int(got[1])
    if ask_chain:
        client._node_chain_id = _int(got[2])
    if header is None:
        raise UnsafeBlockError(f"block {block} does not exist yet (head is {head})")
    number = _int(header["number"])
    pin = PinnedBlock(number, str(header["hash"]).lower(), _int(header["timestamp"]), head)
    code = None
    if code_at is not None:
        code = got[-1] if numeric else client.request("eth_getCode", [code_at, hex(number)])
    return pin, code

"""Multicall3 ``aggregate3`` encoding and a cached, batched ``eth_call`` fan-out."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import decode, encode

from lendscope.chain.blocks import PinnedBlock, pin_block, resolve_block
from lendscope.chain.cache import CallCache, CallKey, normalize_address, to_bytes
from lendscope.chain.rpc import RpcClient, RpcError

# Same address on every chain it is deployed to (https://www.multicall3.com/deployments).
MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
# bytes4(keccak256("aggregate3((address,bool,bytes)[])"))
AGGREGATE3_SELECTOR = bytes.fromhex("82ad56cb")
MAX_CALLS_PER_MULTICALL = 500
#: Blocks on top of a block before its results may be cached (as ``check_safe_head``).
DEFAULT_CONFIRMATIONS = 64
# JSON around one aggregate3 eth_call in a batch, beyond its calldata hex (an upper bound).
_ENVELOPE_BYTES = 200

Call = tuple[str, bytes | str]


class CallFailedError(RpcError):
    """A call failed (reverted) while ``allow_failure`` was False."""


def encode_aggregate3(
    calls: Sequence[tuple[str, bytes | str] | tuple[str, bool, bytes | str]],
    allow_failure: bool = True,
) -> bytes:
    """Calldata for ``aggregate3``; calls are ``(to, data)`` or ``(to, allowFailure, data)``."""
    rows = []
    for call in calls:
        if len(call) == 3:
            to, allow, data = call  # type: ignore[misc]
        else:
            (to, data), allow = call, allow_failure  # type: ignore[misc]
        rows.append((normalize_address(to), bool(allow), to_bytes(data)))
    return AGGREGATE3_SELECTOR + encode(["(address,bool,bytes)[]"], [rows])


def decode_aggregate3(data: bytes | str) -> list[tuple[bool, bytes]]:
    """``(success, returnData)`` per call from ``aggregate3``'s return data."""
    (results,) = decode(["(bool,bytes)[]"], to_bytes(data))
    return [(bool(ok), bytes(ret)) for ok, ret in results]


def _aggregate3_hex_bytes(data_len: int) -> int:
    """Hex characters one call adds to ``aggregate3`` calldata (offset, tuple head, data)."""
    return 2 * (32 * 5 + -(-data_len // 32) * 32)


class Caller:
    """Read many ``eth_call`` results at one block in as few HTTP round trips as possible.

    Cache hits first; then, if Multicall3 has code at the block (checked once per block),
    one ``aggregate3`` eth_call per chunk of at most ``max_calls_per_multicall`` calls and
    the client's ``max_request_bytes``, the chunks sent in JSON-RPC batches that also stay
    under that budget; otherwise batches of plain eth_calls. Successful results are cached
    (failed calls are not, so a transient node problem can never be frozen in the cache).

    Cache keys carry the chain id and the block *hash*, resolved once per Caller (one run)
    with ``eth_getBlockByNumber``; a block with fewer than ``confirmations`` blocks on top is
    neither read from nor written to the cache, as its hash may still change.
    """

    def __init__(
        self,
        client: RpcClient,
        cache: CallCache | None = None,
        *,
        chain_id: int | None = None,
        max_calls_per_multicall: int = MAX_CALLS_PER_MULTICALL,
        use_multicall: bool = True,
        multicall_address: str = MULTICALL3_ADDRESS,
        confirmations: int = DEFAULT_CONFIRMATIONS,
    ) -> None:
        self.client, self.cache = client, cache
        self._chain_id = chain_id
        self.max_calls_per_multicall = max_calls_per_multicall
        self.use_multicall = use_multicall
        self.multicall_address = normalize_address(multicall_address)
        self.confirmations = confirmations
        self._code_at: dict[int, bool] = {}
        self._pins: dict[int, PinnedBlock] = {}

    @property
    def chain_id(self) -> int:
        """Chain id used in cache keys (given, else the client's)."""
        if self._chain_id is None:
            self._chain_id = self.client.chain_id
        return self._chain_id

    def has_multicall(self, block: int) -> bool:
        """Whether Multicall3 has code at ``block`` (remembered per block)."""
        if block not in self._code_at:
            code = self.client.request("eth_getCode", [self.multicall_address, hex(block)])
            self._code_at[block] = code not in (None, "", "0x")
        return self._code_at[block]

    def pin(self, block: int | str) -> PinnedBlock:
        """Hash, timestamp and head of ``block``, asked once per Caller (one round trip).

        The Multicall3 code probe for the block rides in the same JSON-RPC batch.
        """
        if isinstance(block, int) and block in self._pins:
            return self._pins[block]
        probe = self.use_multicall and not (isinstance(block, int) and block in self._code_at)
        pin, code = pin_block(self.client, block, code_at=self.multicall_address if probe else None)
        self._pins.setdefault(pin.number, pin)
        if probe:
            self._code_at[pin.number] = code not in (None, "", "0x")
        return self._pins[pin.number]

    def call_many(
        self, block: int | str, calls: Sequence[Call], allow_failure: bool = True
    ) -> list[bytes | None]:
        """Return data per call at ``block`` (``None`` where the call failed).

        A tag such as ``"latest"`` is resolved to a number first, so nothing unpinned is
        ever cached. With ``allow_failure=False`` a failing call raises instead.
        """
        pin: PinnedBlock | None = None
        if self.cache is not None:
            pin = self.pin(block)
            number = pin.number
        else:
            number = resolve_block(self.client, block)
        cached = pin is not None and pin.is_safe(self.confirmations)
        bh = pin.hash if pin is not None else ""
        keys = [CallKey(self.chain_id, number, to, data, bh) for to, data in calls]
        found: dict[CallKey, bytes] = self.cache.get_many(keys) if cached and self.cache else {}
        self.client.stats.cache_hits += sum(k in found for k in keys)
        misses = [k for k in dict.fromkeys(keys) if k not in found]
        fetched = self._fetch(number, misses, allow_failure)
        if cached and self.cache is not None:
            self.cache.put_many({k: v for k, v in fetched.items() if v is not None})
        out: list[bytes | None] = [found[k] if k in found else fetched[k] for k in keys]
        if not allow_failure and any(r is None for r in out):
            bad = keys[out.index(None)]
            raise CallFailedError("eth_call", None, f"call to {bad.to} failed at block {number}")
        return out

    def _fetch(
        self, block: int, keys: list[CallKey], allow_failure: bool
    ) -> dict[CallKey, bytes | None]:
        if not keys:
            return {}
        if not (self.use_multicall and self.has_multicall(block)):
            return self._plain(block, keys, allow_failure)
        chunks = self._chunks(keys)
        requests = [
            (
                "eth_call",
                [
                    {
                        "to": self.multicall_address,
                        "data": "0x"
                        + encode_aggregate3([(k.to, k.data) for k in chunk], allow_failure).hex(),
                    },
                    hex(block),
                ],
            )
            for chunk in chunks
        ]
        replies = self.client.batch(requests, return_errors=True)
        out: dict[CallKey, bytes | None] = {}
        for chunk, reply in zip(chunks, replies, strict=True):
            if isinstance(reply, RpcError):
                # aggregate3 itself failed: a required call reverted, or the chunk hit the
                # node's gas cap. The former must raise; the latter is retried call by call.
                if not allow_failure or not reply.is_execution_failure:
                    raise reply
                out.update(self._plain(block, chunk, allow_failure))
                continue
            for key, (ok, data) in zip(chunk, decode_aggregate3(reply), strict=True):
                out[key] = data if ok else None
        return out

    def _chunks(self, keys: list[CallKey]) -> list[list[CallKey]]:
        """Split calls into aggregate3 chunks by call count and by request bytes."""
        budget = self.client.max_request_bytes
        base = _ENVELOPE_BYTES + 2 * (4 + 64)  # eth_call JSON + selector, offset and length
        chunks: list[list[CallKey]] = []
        cur: list[CallKey] = []
        size = base
        for k in keys:
            extra = _aggregate3_hex_bytes(len(k.data))
            if cur and (len(cur) >= self.max_calls_per_multicall or size + extra > budget):
                chunks.append(cur)
                cur, size = [], base
            cur.append(k)
            size += extra
        if cur:
            chunks.append(cur)
        return chunks

    def _plain(
        self, block: int, keys: list[CallKey], allow_failure: bool
    ) -> dict[CallKey, bytes | None]:
        requests = [
            ("eth_call", [{"to": k.to, "data": "0x" + k.data.hex()}, hex(block)]) for k in keys
        ]
        replies = self.client.batch(requests, return_errors=True)
        out: dict[CallKey, bytes | None] = {}
        for key, reply in zip(keys, replies, strict=True):
            if isinstance(reply, RpcError):
                # Only EVM failures become None; "missing trie node" and friends must raise.
                if not allow_failure or not reply.is_execution_failure:
                    raise reply
                out[key] = None
            else:
                out[key] = to_bytes(reply)
        return out

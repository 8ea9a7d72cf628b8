"""Account reads for Solana adapters, pinned to one finalized slot and cached under its identity.

:meth:`SolanaReader.fetch` reads every query of a sync in one JSON-RPC batch. Fresh reads come
back at the node's current finalized slot (``context.slot``); when the calls of a batch answer
at different slots, the batch is asked again with ``minContextSlot`` = the highest, up to
``tries`` times, so a snapshot is normally one slot's state. That slot's block (``getBlock``)
gives the blockhash and block time, and the reads are stored in the
:class:`~lendscope.chain.solana_slots.SlotCache` under (genesis hash, slot, blockhash). Asked
for a given slot, the reader serves the cache; a slot never read can be read only while it is
the node's finalized slot, as standard RPC keeps no past state
(:class:`~lendscope.chain.solana.StateNotAvailableError` otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

from lendscope.chain.solana import (
    PinnedSlot,
    Query,
    Read,
    SolanaClient,
    StateNotAvailableError,
)
from lendscope.chain.solana_slots import SlotCache


class SolanaReader:
    """Reads queries at one slot; adapters then take each :class:`Read` with :meth:`get`."""

    def __init__(self, client: SolanaClient, cache: SlotCache | None = None) -> None:
        self.client, self.cache = client, cache
        self.pin: PinnedSlot | None = None
        self.from_cache = False
        self._reads: dict[Query, Read] = {}

    @property
    def slots(self) -> tuple[int, int]:
        """Lowest and highest context slot of the reads (equal when one slot's state)."""
        got = [s for r in self._reads.values() for s in r.slots]
        return (min(got), max(got)) if got else (0, 0)

    def fetch(
        self, queries: Sequence[Query], slot: int | None = None, *, tries: int = 3
    ) -> PinnedSlot:
        """Read ``queries`` now (``slot`` None) or at ``slot`` (cache, or the finalized head)."""
        queries = list(dict.fromkeys(queries))
        if slot is not None and self._from_cache(queries, slot):
            return self._pinned()
        reads = self.client.read(queries, slot)
        for _ in range(tries - 1):
            lo, hi = _span(reads)
            if lo == hi:
                break
            reads = self.client.read(queries, hi)
        lo, hi = _span(reads)
        if slot is not None and (lo, hi) != (slot, slot):
            raise StateNotAvailableError(
                f"state at slot {slot} is not in the cache and the node now serves slot {hi}: "
                "standard Solana RPC keeps no past account state (minContextSlot is only a "
                "floor); read at the finalized slot (--block finalized) instead"
            )
        self.pin = self.client.pin(hi)
        self._reads, self.from_cache = dict(zip(queries, reads, strict=True)), False
        if self.cache is not None:
            self.cache.put_many(self.pin, self._reads.items())
        return self.pin

    def get(self, query: Query) -> Read:
        """The read of ``query`` (fetched before)."""
        try:
            return self._reads[query]
        except KeyError:
            raise KeyError(f"query not fetched: {query.key()[:120]}") from None

    def _from_cache(self, queries: list[Query], slot: int) -> bool:
        if self.cache is None:
            return False
        pin = self.client.pin(slot)
        got = {q: self.cache.get(pin, q) for q in queries}
        if any(r is None for r in got.values()):
            return False
        self.pin, self.from_cache = pin, True
        self._reads = {q: r for q, r in got.items() if r is not None}
        return True

    def _pinned(self) -> PinnedSlot:
        assert self.pin is not None
        return self.pin


def _span(reads: Sequence[Read]) -> tuple[int, int]:
    slots = [s for r in reads for s in r.slots]
    if not slots:
        raise ValueError("no reads")
    return min(slots), max(slots)

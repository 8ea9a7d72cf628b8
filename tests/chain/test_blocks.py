"""Block lookup against a fake in-memory chain served through httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.chain import (
    BlockNotFinalError,
    RpcClient,
    UnsafeBlockError,
    block_by_timestamp,
    check_safe_head,
    quarter_end_block,
    quarter_end_timestamp,
    resolve_block,
)


class FakeChain:
    """``timestamp(n)`` for blocks 0..head; answers eth_blockNumber / eth_getBlockByNumber."""

    def __init__(self, head: int, timestamp: Callable[[int], int]):
        self.head, self.timestamp = head, timestamp

    def block(self, tag):
        n = {"latest": self.head, "safe": self.head - 32, "finalized": self.head - 64}.get(tag)
        n = int(tag, 16) if n is None else n
        if n > self.head:
            return None
        return {"number": hex(n), "timestamp": hex(self.timestamp(n))}

    def answer(self, item):
        if item["method"] == "eth_blockNumber":
            result = hex(self.head)
        else:
            assert item["method"] == "eth_getBlockByNumber"
            result = self.block(item["params"][0])
        return {"jsonrpc": "2.0", "id": item["id"], "result": result}

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if isinstance(body, list):
            return httpx.Response(200, json=[self.answer(x) for x in body])
        return httpx.Response(200, json=self.answer(body))

    def client(self) -> RpcClient:
        return RpcClient("http://fake", transport=httpx.MockTransport(self.handler))


def from_list(times: list[int]) -> FakeChain:
    return FakeChain(len(times) - 1, times.__getitem__)


def brute_force(times: list[int], ts: int) -> int:
    return max(i for i, t in enumerate(times) if t <= ts)


@st.composite
def chains_and_targets(draw):
    gaps = draw(st.lists(st.integers(0, 30), min_size=1, max_size=300))  # 0: equal stamps (L2s)
    start = draw(st.integers(0, 2_000_000_000))
    times = [start]
    for g in gaps:
        times.append(times[-1] + g)
    if times[-1] == start:
        times.append(start + 1)
    ts = draw(st.integers(start, times[-1] - 1))
    probes = draw(st.integers(1, 12))
    return times, ts, probes


@settings(max_examples=300, deadline=None)
@given(chains_and_targets())
def test_block_by_timestamp_matches_brute_force(case):
    times, ts, probes = case
    assert block_by_timestamp(from_list(times).client(), ts, probes_per_round=probes) == (
        brute_force(times, ts)
    )


def test_block_by_timestamp_edges():
    times = [100, 112, 124, 124, 136]
    c = from_list(times).client()
    assert block_by_timestamp(c, 100) == 0
    assert block_by_timestamp(c, 123) == 1
    assert block_by_timestamp(c, 124) == 3
    with pytest.raises(ValueError, match="before the genesis"):
        block_by_timestamp(c, 99)
    with pytest.raises(BlockNotFinalError):
        block_by_timestamp(c, 136)  # the head itself: a later block could still match


def test_block_by_timestamp_round_trips_on_a_mainnet_sized_chain():
    chain = FakeChain(30_000_000, lambda n: 1_438_269_973 + 12 * n + (n * 7919) % 5)
    c = chain.client()
    ts = quarter_end_timestamp("2024Q4")
    n = block_by_timestamp(c, ts, probes_per_round=8)
    assert chain.timestamp(n) <= ts < chain.timestamp(n + 1)
    # 1 for (head, genesis) + ceil(log9(30e6)) ~ 8 probe rounds, vs ~25 for binary search
    assert c.stats.http_requests <= 10
    assert quarter_end_block(c, "2024Q4") == n


def test_quarter_end_timestamp():
    assert quarter_end_timestamp("2024Q4") == int(
        datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    )
    assert quarter_end_timestamp("2024-q1") == int(
        datetime(2024, 3, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    )
    assert quarter_end_timestamp("2023Q2") == int(
        datetime(2023, 6, 30, 23, 59, 59, tzinfo=UTC).timestamp()
    )
    for bad in ("2024Q5", "Q4 2024", "2024"):
        with pytest.raises(ValueError):
            quarter_end_timestamp(bad)


def test_resolve_block():
    c = FakeChain(1000, lambda n: n).client()
    assert resolve_block(c, "latest") == 1000
    assert resolve_block(c, "finalized") == 936
    assert (
        resolve_block(c, "0x10") == 16 and resolve_block(c, "17") == 17 and resolve_block(c, 5) == 5
    )
    for bad in ("pending", "tomorrow", -1, True):
        with pytest.raises((ValueError, TypeError)):
            resolve_block(c, bad)


def test_check_safe_head():
    c = FakeChain(1000, lambda n: n).client()
    assert check_safe_head(c, 936) == 1000
    with pytest.raises(UnsafeBlockError, match="only 63 blocks behind head 1000"):
        check_safe_head(c, 937)
    assert check_safe_head(c, 1000, allow_unsafe_head=True) == 1000
    assert check_safe_head(c, 990, confirmations=10) == 1000
    with pytest.raises(UnsafeBlockError, match="does not exist"):
        check_safe_head(c, 1001, allow_unsafe_head=True)

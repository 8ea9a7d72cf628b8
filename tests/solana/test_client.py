"""The Solana client against a fake JSON-RPC server (the stand-in for mainnet RPC).

Batching (at most 100 keys per getMultipleAccounts, many calls per HTTP request), retries of
429 / -32005 / -32016 with Retry-After, no retry of methods outside the allowlist, the rate
limit, the genesis check, slot identity (getBlock), slot search over skipped slots and the
slot-keyed cache.
"""

from __future__ import annotations

import random

import pytest

from lendscope.chain.blocks import BlockNotFinalError, quarter_end_timestamp
from lendscope.chain.rpc import RpcTransportError
from lendscope.chain.solana import (
    GenesisMismatchError,
    PinnedSlot,
    Query,
    Read,
    SkippedSlotError,
    SolanaClient,
    b58decode,
    b58encode,
    data_size,
    memcmp,
)
from lendscope.chain.solana_slots import SlotCache, quarter_end_slot, slot_by_time
from tests.solana.fake_rpc import FakeSolana, FakeSolanaServer

PROGRAM = b58encode(bytes([9] * 32))


def _key(i: int) -> str:
    return b58encode(i.to_bytes(32, "big"))


@pytest.fixture
def node():
    state = FakeSolana()
    state.add_program(PROGRAM)
    for i in range(1, 251):
        state.put(_key(i), PROGRAM, bytes([i % 2]) + i.to_bytes(4, "little") + bytes(10 + i % 2))
    with FakeSolanaServer(state) as server:
        yield state, server


def _client(server, **kw) -> tuple[SolanaClient, list[float]]:
    slept: list[float] = []
    return SolanaClient(server.url, sleep=slept.append, **kw), slept


def test_base58_round_trip():
    rng = random.Random(1)
    for n in (0, 1, 31, 32, 64):
        for raw in (bytes(n), rng.randbytes(n), b"\0\0" + rng.randbytes(n)):
            assert b58decode(b58encode(raw)) == raw
    assert b58encode(bytes(32)) == "1" * 32


def test_multiple_accounts_are_split_by_100_and_sent_in_one_request(node):
    state, server = node
    client, _ = _client(server)
    keys = [_key(i) for i in range(1, 251)] + [_key(999)]
    read = client.get_multiple_accounts(keys)
    assert len(state.requests) == 1  # one HTTP request ...
    assert [len(c["params"][0]) for c in state.requests[0]] == [100, 100, 51]  # ... three calls
    assert [a.pubkey for a in read.accounts[:-1]] == keys[:-1]
    assert read.accounts[-1] is None
    assert read.accounts[4].data[1:5] == (5).to_bytes(4, "little")
    assert read.slots == (state.head,) * 3
    assert all(c["params"][1]["commitment"] == "finalized" for c in state.requests[0])


def test_program_accounts_filters_and_data_slice(node):
    state, server = node
    client, _ = _client(server)
    read = client.get_program_accounts(PROGRAM, [data_size(16), memcmp(0, b"\x01")])
    assert sorted(a.pubkey for a in read.accounts) == sorted(_key(i) for i in range(1, 251, 2))
    sliced = client.get_program_accounts(
        PROGRAM, [memcmp(1, (7).to_bytes(4, "little"))], data_slice=(1, 4)
    )
    assert [(a.pubkey, a.data) for a in sliced.accounts] == [(_key(7), (7).to_bytes(4, "little"))]
    assert sliced.slots == (state.head,)


def test_transient_errors_are_retried_honouring_retry_after(node):
    state, server = node
    client, slept = _client(server, initial_backoff=0.01)
    state.faults.extend([("http", 429, 3), ("rpc", -32005), ("rpc", -32016), ("http", 503, None)])
    assert client.get_slot() == state.head
    assert client.stats.retries == 4
    assert slept[0] >= 3  # Retry-After: 3
    assert len(state.requests) == 5


def test_errors_that_are_answers_are_not_retried(node):
    state, server = node
    client, _ = _client(server)
    with pytest.raises(Exception, match="Too many inputs"):
        client.request("getMultipleAccounts", [[_key(1)] * 101, {"commitment": "finalized"}])
    state.faults.append(("http", 429, None))
    with pytest.raises(RpcTransportError, match="not retried"):
        client.request("sendTransaction", ["x"])  # not a read: never resent
    assert client.stats.retries == 0


def test_rate_limit_spaces_requests(node):
    _, server = node
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    client = SolanaClient(server.url, requests_per_second=2, sleep=sleep, clock=lambda: now[0])
    for _ in range(6):
        client.get_slot()
    assert sum(slept) == pytest.approx(2.0)  # burst of 2, then one every 0.5 s


def test_calls_per_request_are_capped(node):
    state, server = node
    client, _ = _client(server, max_batch_size=40)
    slots = list(range(state.first_slot, state.first_slot + 90))
    times = client.block_times(slots)
    assert len(state.requests) == 3  # 40 + 40 + 10 calls
    skipped = next(s for s in slots if state.skipped(s))
    assert times[skipped] is None
    assert times[skipped + 1] == state.block_time(skipped + 1)


def test_genesis_and_slot_identity(node):
    state, server = node
    client, _ = _client(server)
    assert client.check_genesis(state.genesis) == state.genesis
    with pytest.raises(GenesisMismatchError, match="expected 4sGjMW"):
        client.check_genesis("4sGjMW1sUnHzSxGspuhpqLDx6wiyjNtZAMdL4VZHirAn")
    slot = state.head - 1
    while state.skipped(slot):
        slot -= 1
    pin = client.pin(slot)
    assert (pin.slot, pin.blockhash, pin.block_time) == (
        slot,
        state.blockhash(slot),
        state.block_time(slot),
    )
    with pytest.raises(SkippedSlotError):
        client.pin(next(s for s in range(state.first_slot, state.head) if state.skipped(s)))


def _brute(state: FakeSolana, ts: int) -> int:
    return max(
        s
        for s in range(state.first_slot, state.head + 1)
        if not state.skipped(s) and state.block_time(s) <= ts
    )


def test_slot_by_time_steps_over_skipped_slots(node):
    state, server = node
    state.head = state.first_slot + 200_000
    client, _ = _client(server)
    lo_t, hi_t = state.block_time(state.first_slot), state.block_time(state.head)
    rng = random.Random(3)
    for ts in [lo_t, lo_t + 1, hi_t - 1, *(rng.randrange(lo_t, hi_t) for _ in range(20))]:
        before = len(state.requests)
        got = slot_by_time(client, ts)
        want = max(
            s
            for s in range(max(state.first_slot, got - 50), min(state.head, got + 50) + 1)
            if not state.skipped(s) and state.block_time(s) <= ts
        )
        assert got == want
        assert not state.skipped(got) and state.block_time(got) <= ts
        assert len(state.requests) - before <= 12  # k-ary: a handful of round trips
    with pytest.raises(BlockNotFinalError):
        slot_by_time(client, hi_t)
    with pytest.raises(ValueError, match="before the node's first available block"):
        slot_by_time(client, lo_t - 1)


def test_quarter_end_slot(node):
    state, server = node
    end = quarter_end_timestamp("2025Q1")
    state.set_time(state.first_slot + 250, end)  # the quarter ends in the middle of the ledger
    client, _ = _client(server)
    got = quarter_end_slot(client, "2025Q1")
    assert got == _brute(state, end)
    nxt = next(s for s in range(got + 1, state.head + 1) if not state.skipped(s))
    assert state.block_time(got) <= end < state.block_time(nxt)


def test_slot_cache_is_keyed_on_genesis_slot_and_blockhash(tmp_path):
    from lendscope.chain.solana import Account

    pin = PinnedSlot(123, "HASH1", 1_700_000_000, 122, "GEN")
    q = Query.program_accounts(PROGRAM, [data_size(15)])
    read = Read((123,), (Account(_key(1), PROGRAM, 5, b"\x00\x01", False), None))
    with SlotCache(tmp_path / "c.sqlite") as cache:
        assert cache.put_many(pin, [(q, read)]) == 1
    with SlotCache(tmp_path / "c.sqlite") as cache:  # survives a reopen
        assert cache.get(pin, q) == read
        assert cache.get(PinnedSlot(123, "HASH2", 1_700_000_000, 122, "GEN"), q) is None
        assert cache.get(PinnedSlot(123, "HASH1", 1_700_000_000, 122, "OTHER"), q) is None
        assert cache.get(pin, Query.program_accounts(PROGRAM, [data_size(16)])) is None
        assert cache.slots("GEN") == [(123, "HASH1")]

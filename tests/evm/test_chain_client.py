"""lendscope.chain against anvil: round trips, Multicall3 at its canonical address, faults."""

from __future__ import annotations

import json

import httpx
import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from lendscope.chain import (
    MULTICALL3_ADDRESS,
    CallCache,
    Caller,
    ChainIdMismatchError,
    RpcClient,
    RpcError,
    RpcTransportError,
    UnsafeBlockError,
    block_by_timestamp,
    check_safe_head,
)
from lendscope.onchain.contracts import multicall_artifact
from tests.chain.faults import Fault, FaultProxy

GET_BALANCE = function_signature_to_4byte_selector("getEthBalance(address)")
GET_BLOCK = function_signature_to_4byte_selector("getBlockNumber()")


class CountingTransport(httpx.HTTPTransport):
    """An HTTP transport that records every JSON body it sends (one per round trip)."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[object] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return super().handle_request(request)


def rpc(w3, method, *params):
    out = w3.provider.make_request(method, list(params))
    assert "error" not in out, out
    return out["result"]


def addr(i: int) -> str:
    return "0x" + f"{0xB0B0000 + i:040x}"


# A second copy of the contract, present before Multicall3 is, serves as the call target.
READER = "0x" + "5eed" * 10


def balance_call(i: int) -> tuple[str, bytes]:
    return READER, GET_BALANCE + encode(["address"], [addr(i)])


@pytest.fixture
def chain(w3, snapshot):
    """Blocks ``pre`` (READER only, balances i wei) and ``post`` (+ Multicall3, 2i wei)."""
    code = multicall_artifact()["deployedBytecode"]
    rpc(w3, "anvil_setCode", READER, code)
    for i in range(40):
        rpc(w3, "anvil_setBalance", addr(i), hex(i))
    rpc(w3, "evm_mine")
    pre = w3.eth.block_number
    # anvil_set* edits the state that the newest block reports until the next block is mined,
    # so seal `pre` with an empty block before Multicall3 appears.
    rpc(w3, "evm_mine")
    rpc(w3, "anvil_setCode", MULTICALL3_ADDRESS, code)
    for i in range(40):
        rpc(w3, "anvil_setBalance", addr(i), hex(2 * i))
    rpc(w3, "evm_mine")
    assert w3.eth.get_code(MULTICALL3_ADDRESS, pre) == b""
    return {"pre": pre, "post": w3.eth.block_number}


def counted(anvil, **kw):
    transport = CountingTransport()
    return RpcClient(anvil.url, chain_id=31337, transport=transport, **kw), transport


def ints(results):
    return [None if r is None else decode(["uint256"], r)[0] for r in results]


def test_snapshot_takes_two_round_trips_then_one(anvil, w3, chain, tmp_path):
    rpc(w3, "anvil_mine", hex(64))  # deep enough to be cached
    client, transport = counted(anvil)
    caller = Caller(client, CallCache(tmp_path / "c.sqlite"))
    calls = [balance_call(i) for i in range(40)]
    out = caller.call_many(chain["post"], calls)
    assert ints(out) == [2 * i for i in range(40)]
    # (block hash + head + chain id + eth_getCode) batch, then one aggregate3 eth_call
    assert client.stats.http_requests == 2
    assert [type(b).__name__ for b in transport.bodies] == ["list", "list"]
    assert caller.call_many(chain["post"], calls) == out
    assert client.stats.http_requests == 2 and client.stats.cache_hits == 40
    # A fresh process (new Caller, same cache file) only asks for the block hash.
    fresh = RpcClient(anvil.url, chain_id=31337, transport=CountingTransport())
    assert Caller(fresh, CallCache(tmp_path / "c.sqlite")).call_many(chain["post"], calls) == out
    assert fresh.stats.http_requests == 1 and fresh.stats.cache_hits == 40


def test_failed_calls_are_none_and_not_cached(anvil, w3, chain, tmp_path):
    rpc(w3, "anvil_mine", hex(64))
    client, _ = counted(anvil)
    cache = CallCache(tmp_path / "c.sqlite")
    calls = [balance_call(1), (MULTICALL3_ADDRESS, b"\xde\xad\xbe\xef")]  # unknown selector
    caller = Caller(client, cache)
    for expect_trips in (2, 3):  # the revert is asked again: no failure is frozen in the cache
        assert ints(caller.call_many(chain["post"], calls)) == [2, None]
        assert client.stats.http_requests == expect_trips
    assert cache.info()["entries"] == 1


def test_many_chunks_still_one_batch(anvil, chain):
    client, transport = counted(anvil)
    caller = Caller(client, max_calls_per_multicall=7)
    out = caller.call_many(chain["post"], [balance_call(i % 40) for i in range(100)])
    assert ints(out) == [2 * (i % 40) for i in range(100)]
    assert client.stats.http_requests == 2
    assert len(transport.bodies[1]) == 6  # 40 distinct calls / 7 per multicall


def test_pre_deployment_block_falls_back_to_plain_batch(anvil, chain):
    client, transport = counted(anvil)
    caller = Caller(client)
    assert not caller.has_multicall(chain["pre"]) and caller.has_multicall(chain["post"])
    out = caller.call_many(chain["pre"], [balance_call(i) for i in range(10)])
    assert ints(out) == list(range(10))
    assert client.stats.http_requests == 3  # two code probes above, then one plain batch
    last = transport.bodies[-1]
    assert len(last) == 10 and {b["method"] for b in last} == {"eth_call"}
    assert {b["params"][0]["to"] for b in last} == {READER}


def test_results_are_pinned_to_the_block(anvil, chain, w3):
    caller = Caller(RpcClient(anvil.url))
    calls = [(MULTICALL3_ADDRESS, GET_BLOCK), balance_call(7)]
    assert ints(caller.call_many(chain["post"], calls)) == [chain["post"], 14]
    rpc(w3, "anvil_setBalance", addr(7), hex(99))
    rpc(w3, "evm_mine")
    latest = ints(caller.call_many("latest", calls))
    assert latest == [chain["post"] + 1, 99]


def test_latest_is_resolved_before_caching(anvil, chain, tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    Caller(RpcClient(anvil.url), cache).call_many("latest", [balance_call(3)])
    assert cache.info()["entries"] == 0  # the head is within the confirmation depth
    Caller(RpcClient(anvil.url), cache, confirmations=0).call_many("latest", [balance_call(3)])
    info = cache.info()
    assert info["entries"] == 1 and info["max_block"] == chain["post"]


def test_revert_raises_rpc_error_not_retried(anvil, chain):
    client = RpcClient(anvil.url, sleep=pytest.fail)
    with pytest.raises(RpcError) as exc:
        client.request("eth_call", [{"to": MULTICALL3_ADDRESS, "data": "0xdeadbeef"}, "latest"])
    assert exc.value.method == "eth_call" and exc.value.is_execution_failure
    assert client.stats.http_requests == 1 and client.stats.retries == 0
    bad = [balance_call(1), (MULTICALL3_ADDRESS, b"\xde\xad\xbe\xef")]
    with pytest.raises(RpcError, match="Multicall3: call failed"):
        Caller(client).call_many(chain["post"], bad, allow_failure=False)
    with pytest.raises(RpcError, match="revert"):
        Caller(client, use_multicall=False).call_many(chain["post"], bad, allow_failure=False)


def test_chain_id_mismatch(anvil):
    assert RpcClient(anvil.url, chain_id=31337).check_chain_id() == 31337
    with pytest.raises(ChainIdMismatchError, match="serves chain id 31337, expected 1"):
        RpcClient(anvil.url, chain_id=1).check_chain_id()


def test_block_by_timestamp_on_anvil(anvil, w3, snapshot):
    base = w3.eth.get_block("latest").timestamp + 50
    stamps = [base, base + 1, base + 13, base + 14, base + 60, base + 61, base + 200]
    numbers = []
    for t in stamps:
        rpc(w3, "evm_setNextBlockTimestamp", t)
        rpc(w3, "evm_mine")
        numbers.append(w3.eth.block_number)
    assert [w3.eth.get_block(n).timestamp for n in numbers] == stamps
    client = RpcClient(anvil.url)
    assert block_by_timestamp(client, base - 1) == numbers[0] - 1
    for ts in [*stamps[:-1], *(t + 1 for t in stamps[:-1]), base + 30, base + 199]:
        want = max(n for n, t in zip(numbers, stamps, strict=True) if t <= ts)
        assert block_by_timestamp(client, ts, probes_per_round=3) == want, ts


def test_unsafe_head_refused(anvil, w3, snapshot):
    rpc(w3, "anvil_mine", hex(70))
    client = RpcClient(anvil.url)
    head = w3.eth.block_number
    with pytest.raises(UnsafeBlockError):
        check_safe_head(client, head)
    assert check_safe_head(client, head, allow_unsafe_head=True) == head
    assert check_safe_head(client, head - 64) == head


# -- faults --------------------------------------------------------------------------------

FAULTS = {
    "timeout": ({1: Fault("timeout", delay=1.5)}, 1),
    "429": ({1: Fault("429", retry_after="2")}, 1),
    "500": ({1: Fault("500"), 2: Fault("500")}, 2),
    "malformed": ({1: Fault("malformed")}, 1),
    "truncated": ({1: Fault("truncate", keep=3)}, 1),
    "dropped": ({1: Fault("drop")}, 1),
    "mixed": ({1: Fault("drop"), 2: Fault("truncate", keep=1), 3: Fault("429", "1")}, 3),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_faults_end_in_correct_results(anvil, chain, name):
    faults, retries = FAULTS[name]
    calls = [balance_call(i) for i in range(8)]
    with FaultProxy(anvil.url, faults) as proxy:
        sleeps: list[float] = []
        client = RpcClient(proxy.url, chain_id=31337, timeout=0.5, sleep=sleeps.append)
        out = Caller(client, use_multicall=False).call_many(chain["post"], calls)
    assert ints(out) == [2 * i for i in range(8)]
    assert client.stats.retries == retries == len(sleeps) == proxy.count - 1
    if name == "429":
        assert sleeps == [2.0]  # the server's Retry-After, not the 0.25 s backoff
    if name == "truncated":
        assert [len(b) for b in proxy.bodies] == [8, 5]  # only the missing five again
        assert {x["id"] for x in proxy.bodies[1]} == {x["id"] for x in proxy.bodies[0][3:]}


def test_multicall_batch_survives_faults(anvil, chain):
    faults = {2: Fault("truncate", keep=1), 3: Fault("500")}
    with FaultProxy(anvil.url, faults) as proxy:
        client = RpcClient(proxy.url, chain_id=31337, sleep=lambda s: None)
        out = Caller(client, max_calls_per_multicall=4).call_many(
            chain["post"], [balance_call(i) for i in range(12)]
        )
    assert ints(out) == [2 * i for i in range(12)]
    assert [len(b) if isinstance(b, list) else 1 for b in proxy.bodies] == [1, 3, 2, 2]
    assert client.stats.retries == 2


@pytest.mark.parametrize("fault", ["500", "drop_after"])
def test_send_transaction_is_not_retried(anvil, w3, snapshot, fault):
    sender, to = w3.eth.accounts[:2]
    nonce = w3.eth.get_transaction_count(sender)
    with FaultProxy(anvil.url, {1: Fault(fault)}) as proxy:
        client = RpcClient(proxy.url, sleep=pytest.fail)
        with pytest.raises(RpcTransportError, match="not retried"):
            client.request("eth_sendTransaction", [{"from": sender, "to": to, "value": "0x1"}])
    assert proxy.count == 1 and client.stats.retries == 0
    # drop_after reached the node: it was sent exactly once, so a retry would have doubled it
    assert w3.eth.get_transaction_count(sender) == nonce + (fault == "drop_after")

"""RpcClient, CallCache and aggregate3 codec without a node (httpx.MockTransport)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from eth_abi import encode

from lendscope.chain import (
    CallCache,
    CallKey,
    ChainIdMismatchError,
    RpcClient,
    RpcError,
    RpcHttpError,
    RpcTransportError,
    TokenBucket,
    UnpinnedBlockError,
    decode_aggregate3,
    encode_aggregate3,
    parse_retry_after,
)
from lendscope.chain import cache as cache_mod

URL = "https://rpc.example/v2/SECRET-KEY"


def answer(item):
    """A toy node: eth_chainId 0x1, eth_call reverts for data 0xdead, else echoes params."""
    if item["method"] == "eth_chainId":
        return {"jsonrpc": "2.0", "id": item["id"], "result": "0x1"}
    if item["method"] == "eth_call" and item["params"][0].get("data") == "0xdead":
        err = {"code": 3, "message": "execution reverted: nope", "data": "0x08c379a0"}
        return {"jsonrpc": "2.0", "id": item["id"], "error": err}
    return {"jsonrpc": "2.0", "id": item["id"], "result": item["params"]}


class Node:
    """MockTransport handler: answers JSON-RPC, or applies scripted HTTP-level faults."""

    def __init__(self, script=None, reverse=False):
        self.script = dict(script or {})  # request number -> callable(body) -> httpx.Response
        self.bodies = []
        self.reverse = reverse

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        fault = self.script.get(len(self.bodies))
        if fault is not None:
            return fault(body)
        if isinstance(body, list):
            out = [answer(x) for x in body]
            return httpx.Response(200, json=out[::-1] if self.reverse else out)
        return httpx.Response(200, json=answer(body))


def client(node, **kw):
    sleeps = []
    kw.setdefault("sleep", sleeps.append)
    c = RpcClient(URL, transport=httpx.MockTransport(node), rng=random.Random(0), **kw)
    return c, sleeps


def test_batch_is_one_round_trip_and_matched_by_id():
    node = Node(reverse=True)
    c, _ = client(node)
    out = c.batch([("eth_getBalance", [f"0x{i:040x}", "0x1"]) for i in range(5)])
    assert out == [[f"0x{i:040x}", "0x1"] for i in range(5)]
    assert c.stats.http_requests == 1 and c.stats.calls == 5 and c.stats.retries == 0


def test_request_sends_a_single_object():
    node = Node()
    c, _ = client(node)
    assert c.request("eth_blockNumber", []) == []
    assert isinstance(node.bodies[0], dict)


def test_max_batch_size_splits():
    node = Node()
    c, _ = client(node, max_batch_size=2)
    assert len(c.batch([("eth_blockNumber", [])] * 5)) == 5
    assert c.stats.http_requests == 3


def test_revert_raises_rpc_error_and_is_not_retried():
    node = Node()
    c, _ = client(node)
    with pytest.raises(RpcError) as exc:
        c.request("eth_call", [{"to": "0x" + "11" * 20, "data": "0xdead"}, "0x1"])
    err = exc.value
    assert (err.method, err.code) == ("eth_call", 3)
    assert "execution reverted: nope" in str(err) and err.is_execution_failure
    assert c.stats.http_requests == 1 and c.stats.retries == 0


def test_batch_return_errors_keeps_slots():
    c, _ = client(Node())
    calls = [("eth_call", [{"data": d}, "0x1"]) for d in ("0x01", "0xdead", "0x02")]
    out = c.batch(calls, return_errors=True)
    assert isinstance(out[1], RpcError) and out[0] == [{"data": "0x01"}, "0x1"]
    with pytest.raises(RpcError):
        c.batch(calls)


def test_truncated_batch_rerequests_only_missing():
    def truncated(body):
        return httpx.Response(200, json=[answer(x) for x in body[:2]])

    node = Node({1: truncated})
    c, sleeps = client(node)
    out = c.batch([("eth_getBalance", [str(i)]) for i in range(5)])
    assert out == [[str(i)] for i in range(5)]
    assert [len(b) for b in node.bodies] == [5, 3]
    assert {x["id"] for x in node.bodies[1]} == {x["id"] for x in node.bodies[0][2:]}
    assert c.stats.retries == 1 and len(sleeps) == 1


@pytest.mark.parametrize(
    "fault",
    [
        lambda b: httpx.Response(500, text="boom"),
        lambda b: httpx.Response(502, text="<html>bad gateway</html>"),
        lambda b: httpx.Response(200, text='{"jsonrpc": "2.0", "id": '),
        lambda b: httpx.Response(
            200, json={"jsonrpc": "2.0", "id": None, "error": {"code": -32005, "message": "limit"}}
        ),
    ],
    ids=["500", "502", "malformed", "limit-exceeded"],
)
def test_transient_failures_are_retried(fault):
    c, sleeps = client(Node({1: fault, 2: fault}))
    assert c.request("eth_getLogs", [{"fromBlock": "0x1"}]) == [{"fromBlock": "0x1"}]
    assert c.stats.retries == 2 and c.stats.http_requests == 3
    # exponential backoff with equal jitter: step k waits in [b*2^(k-1)/2, b*2^(k-1)]
    assert 0.125 <= sleeps[0] <= 0.25 and 0.25 <= sleeps[1] <= 0.5


def test_connection_errors_and_timeouts_are_retried():
    def drop(_):
        raise httpx.RemoteProtocolError("Server disconnected")

    def slow(_):
        raise httpx.ReadTimeout("timed out")

    c, _ = client(Node({1: drop, 2: slow}))
    assert c.request("eth_call", [{}, "0x5"]) == [{}, "0x5"]
    assert c.stats.retries == 2


def test_retries_exhausted_raise_transport_error_without_secret():
    c, sleeps = client(
        Node({i: lambda b: httpx.Response(503) for i in range(1, 10)}), max_retries=3
    )
    with pytest.raises(RpcTransportError) as exc:
        c.request("eth_blockNumber")
    assert c.stats.http_requests == 4 and len(sleeps) == 3
    assert "SECRET" not in str(exc.value) and "4 attempts" in str(exc.value)
    assert "SECRET" not in repr(c)


def test_non_idempotent_method_is_never_retried():
    node = Node({1: lambda b: httpx.Response(500)})
    c, sleeps = client(node)
    with pytest.raises(RpcTransportError, match="non-idempotent"):
        c.request("eth_sendTransaction", [{"from": "0x" + "11" * 20}])
    assert len(node.bodies) == 1 and c.stats.retries == 0 and sleeps == []


def test_429_retry_after_seconds_is_honoured():
    node = Node({1: lambda b: httpx.Response(429, headers={"Retry-After": "7"})})
    c, sleeps = client(node)
    assert c.request("eth_chainId") == "0x1"
    assert sleeps == [7.0] and c.stats.retries == 1


def test_429_retry_after_http_date_is_honoured():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    node = Node({1: lambda b: httpx.Response(429, headers={"Retry-After": when})})
    c, sleeps = client(node)
    c.request("eth_chainId")
    assert 28 <= sleeps[0] <= 30


def test_parse_retry_after():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_http_4xx_is_not_retried():
    c, _ = client(Node({1: lambda b: httpx.Response(401, text="unauthorized")}))
    with pytest.raises(RpcHttpError) as exc:
        c.request("eth_blockNumber")
    assert exc.value.status == 401 and c.stats.http_requests == 1


def test_chain_id_check():
    c, _ = client(Node(), chain_id=10)
    assert c.chain_id == 10  # configured value is used for keys without a round trip
    with pytest.raises(ChainIdMismatchError, match="serves chain id 1, expected 10"):
        c.check_chain_id()
    assert c.check_chain_id(1) == 1


def test_token_bucket_limits_rate():
    now = [0.0]
    sleeps = []
    bucket = TokenBucket(10, burst=1, clock=lambda: now[0], sleep=sleeps.append)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[0] == 0 and sum(sleeps) == pytest.approx(0.4)
    now[0] = 10.0  # idle long enough to refill the burst
    assert bucket.acquire() == 0


def test_client_rate_limit_uses_injected_sleep():
    sleeps = []
    c = RpcClient(
        URL,
        transport=httpx.MockTransport(Node()),
        requests_per_second=4,
        sleep=sleeps.append,
        clock=lambda: 0.0,
    )
    for _ in range(5):
        c.request("eth_blockNumber")
    assert sum(sleeps) == pytest.approx(0.25 * 1)  # burst of 4, then one 1/4 s wait


# -- aggregate3 codec -------------------------------------------------------------------


def test_aggregate3_roundtrip():
    calls = [("0x" + "ab" * 20, b"\x01\x02"), ("0x" + "cd" * 20, "0x")]
    data = encode_aggregate3(calls)
    assert data[:4].hex() == "82ad56cb"
    ret = encode(["(bool,bytes)[]"], [[(True, b"\x00" * 32), (False, b"")]])
    assert decode_aggregate3(ret) == [(True, b"\x00" * 32), (False, b"")]
    assert decode_aggregate3("0x" + ret.hex()) == decode_aggregate3(ret)


# -- CallCache ------------------------------------------------------------------------------


def key(block=100, i=0, chain=1):
    return CallKey(chain, block, "0x" + f"{i:02x}" * 20, bytes([i]) * 4)


@pytest.mark.parametrize("block", ["latest", "safe", "0x10", True, 1.0, None])
def test_cache_key_refuses_tags(block):
    with pytest.raises((UnpinnedBlockError, TypeError)):
        CallKey(1, block, "0x" + "11" * 20, b"")


def test_cache_roundtrip_info_clear(tmp_path):
    path = tmp_path / "c.sqlite"
    with CallCache(path) as cache:
        assert cache.put_many({key(i=i): bytes([i]) * 32 for i in range(3)}) == 3
        assert cache.put_many([(key(chain=10, block=7), b"")]) == 1
        got = cache.get_many([key(i=0), key(i=1), key(i=9)])
        assert got == {key(i=0): b"\x00" * 32, key(i=1): b"\x01" * 32}
        assert cache.get(key(chain=10, block=7)) == b""
    with CallCache(path) as cache:  # persists across processes/handles
        info = cache.info()
        assert info["entries"] == 4 and info["chains"] == {1: 3, 10: 1}
        assert (info["min_block"], info["max_block"]) == (7, 100)
        assert cache.clear() == 4 and cache.info()["entries"] == 0


def test_cache_key_is_case_insensitive_and_versioned(tmp_path, monkeypatch):
    cache = CallCache(tmp_path / "c.sqlite")
    cache.put_many({CallKey(1, 5, "0x" + "AB" * 20, "0x01"): b"x"})
    assert cache.get(CallKey(1, 5, "0x" + "ab" * 20, b"\x01")) == b"x"
    monkeypatch.setattr(cache_mod, "CACHE_SCHEMA_VERSION", cache_mod.CACHE_SCHEMA_VERSION + 1)
    assert cache.get(CallKey(1, 5, "0x" + "ab" * 20, b"\x01")) is None
    assert cache.info()["stale_entries"] == 1


def test_cache_exception_mid_put_leaves_nothing(tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    cache.put_many({key(i=0): b"kept"})

    def items():
        yield key(i=1), b"a"
        yield key(i=2), b"b"
        raise KeyboardInterrupt  # the "crash" happens inside the open transaction

    with pytest.raises(KeyboardInterrupt):
        cache.put_many(items())
    assert cache.get_many([key(i=i) for i in range(3)]) == {key(i=0): b"kept"}
    cache.put_many({key(i=3): b"later"})  # the connection is still usable
    assert cache.info()["entries"] == 2


def test_cache_process_killed_mid_put_leaves_nothing(tmp_path):
    path = tmp_path / "c.sqlite"
    script = textwrap.dedent(
        f"""
        import os
        from lendscope.chain import CallCache, CallKey
        c = CallCache({str(path)!r})
        c.put_many({{CallKey(1, 1, "0x" + "11" * 20, b"\\x01"): b"first"}})
        def items():
            for i in range(1000):
                if i == 500:
                    os._exit(9)  # hard exit: no rollback, no cleanup
                yield CallKey(1, 2, "0x" + "22" * 20, i.to_bytes(4, "big")), b"x"
        c.put_many(items())
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == 9
    with CallCache(path) as cache:
        info = cache.info()
        assert info["entries"] == 1 and info["max_block"] == 1

"""Byte-budgeted JSON-RPC requests, hash-keyed cache entries, and adaptive eth_getLogs ranges,
against fake nodes (httpx.MockTransport) that record every request body."""

from __future__ import annotations

import itertools
import json
import sqlite3

import httpx
import pytest
from eth_abi import decode, encode

from lendscope.chain import (
    CACHE_SCHEMA_VERSION,
    MULTICALL3_ADDRESS,
    CallCache,
    Caller,
    CallKey,
    LogRangeError,
    RpcClient,
    RpcError,
    get_logs,
)

HEAD = 1000
HASH = "0x" + "aa" * 32


class FakeNode:
    """Answers eth_call (echoes calldata; Multicall3 aggregate3 echoes each call's data),
    block lookups and eth_getLogs, recording each request body's size and item count."""

    def __init__(self, *, max_blocks: int | None = None, max_logs: int | None = None) -> None:
        self.sizes: list[int] = []
        self.items: list[int] = []
        self.log_queries: list[tuple[int, int]] = []
        self.max_blocks, self.max_logs = max_blocks, max_logs

    def logs_at(self, n: int) -> list[dict]:
        return [{"blockNumber": hex(n), "logIndex": hex(i)} for i in range(n % 3)]

    def answer(self, req: dict) -> dict:
        m, p = req["method"], req["params"]
        out: dict = {"jsonrpc": "2.0", "id": req["id"]}
        if m == "eth_chainId":
            out["result"] = "0x1"
        elif m == "eth_blockNumber":
            out["result"] = hex(HEAD)
        elif m == "eth_getBlockByNumber":
            n = HEAD if p[0] == "latest" else int(p[0], 16)
            out["result"] = {"number": hex(n), "hash": HASH, "timestamp": hex(12 * n)}
        elif m == "eth_getCode":
            out["result"] = "0x60" if p[0] == MULTICALL3_ADDRESS.lower() else "0x"
        elif m == "eth_call":
            data = bytes.fromhex(p[0]["data"][2:])
            if p[0]["to"] == MULTICALL3_ADDRESS.lower():
                (calls,) = decode(["(address,bool,bytes)[]"], data[4:])
                data = encode(["(bool,bytes)[]"], [[(True, c[2]) for c in calls]])
            out["result"] = "0x" + data.hex()
        elif m == "eth_getLogs":
            lo, hi = int(p[0]["fromBlock"], 16), int(p[0]["toBlock"], 16)
            self.log_queries.append((lo, hi))
            logs = [lg for n in range(lo, hi + 1) for lg in self.logs_at(n)]
            if self.max_blocks is not None and hi - lo + 1 > self.max_blocks:
                out["error"] = {"code": -32602, "message": "exceed maximum block range: 50"}
            elif self.max_logs is not None and len(logs) > self.max_logs:
                msg = f"query returned more than {self.max_logs} results"
                out["error"] = {"code": -32005, "message": msg}
            else:
                out["result"] = logs
        else:
            out["error"] = {"code": -32601, "message": f"no {m}"}
        return out

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sizes.append(len(request.content))
        body = json.loads(request.content)
        self.items.append(len(body) if isinstance(body, list) else 1)
        if isinstance(body, list):
            return httpx.Response(200, json=[self.answer(r) for r in body])
        return httpx.Response(200, json=self.answer(body))


def client_for(node: FakeNode, **kw) -> RpcClient:
    return RpcClient("http://fake", transport=httpx.MockTransport(node), sleep=lambda s: None, **kw)


# -- B: byte budget --------------------------------------------------------------------------


def test_batches_never_exceed_the_byte_budget_and_keep_order():
    node = FakeNode()
    budget = 4_000
    client = client_for(node, max_request_bytes=budget)
    calls = [
        ("eth_call", [{"to": "0x" + "11" * 20, "data": "0x" + f"{i:08x}" * (1 + i % 9)}, "0x1"])
        for i in range(600)
    ]
    big = ("eth_call", [{"to": "0x" + "22" * 20, "data": "0x" + "ab" * 5_000}, "0x1"])
    calls.insert(300, big)  # a single call larger than the budget goes alone
    out = client.batch(calls)
    assert out == [c[1][0]["data"] for c in calls]
    assert len(node.sizes) > 10
    for size, n in zip(node.sizes, node.items, strict=True):
        assert size <= budget or n == 1
    assert max(node.sizes) > budget  # only the oversized call
    assert client.stats.largest_request == max(node.sizes)
    assert client.stats.request_bytes == sum(node.sizes)


def test_batches_also_split_by_call_count():
    node = FakeNode()
    client = client_for(node, max_batch_size=7)
    out = client.batch([("eth_blockNumber", [])] * 50)
    assert out == [hex(HEAD)] * 50 and max(node.items) == 7


def test_multicall_chunks_fit_the_budget_with_thousands_of_calls():
    node = FakeNode()
    budget = 50_000
    caller = Caller(client_for(node, max_request_bytes=budget), chain_id=1)
    calls = [("0x" + f"{i + 1:040x}", i.to_bytes(4, "big") * (1 + i % 5)) for i in range(5_000)]
    assert caller.call_many(900, calls) == [d for _, d in calls]
    assert max(node.sizes) <= budget
    assert len(node.sizes) >= 5_000 * 2 * 160 // budget  # split by bytes, not only by count


def test_max_request_bytes_must_be_positive():
    with pytest.raises(ValueError):
        RpcClient("http://fake", max_request_bytes=0)


# -- A: keys carry the block hash --------------------------------------------------------


def test_cache_key_includes_the_block_hash(tmp_path):
    a = CallKey(1, 5, "0x" + "11" * 20, b"\x01", "0x" + "aa" * 32)
    b = CallKey(1, 5, "0x" + "11" * 20, b"\x01", "0x" + "bb" * 32)
    assert a.digest() != b.digest()
    with CallCache(tmp_path / "c.sqlite") as cache:
        cache.put_many({a: b"one"})
        assert cache.get(a) == b"one" and cache.get(b) is None


def test_version_1_cache_file_is_upgraded_and_its_rows_never_match(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE eth_call (key BLOB PRIMARY KEY, schema_version INTEGER NOT NULL, "
        "chain_id INTEGER NOT NULL, block_number INTEGER NOT NULL, to_address TEXT NOT NULL, "
        "calldata BLOB NOT NULL, result BLOB NOT NULL, stored_at REAL NOT NULL) WITHOUT ROWID"
    )
    con.execute("INSERT INTO eth_call VALUES (x'00', 1, 1, 5, '0x', x'01', x'02', 0)")
    con.commit()
    con.close()
    assert CACHE_SCHEMA_VERSION >= 2
    with CallCache(path) as cache:
        key = CallKey(1, 5, "0x" + "11" * 20, b"\x01", HASH)
        cache.put_many({key: b"new"})
        assert cache.get(key) == b"new"
        info = cache.info()
        assert info["entries"] == 1 and info["stale_entries"] == 1


def test_caller_resolves_the_hash_once_and_skips_the_cache_near_the_head(tmp_path):
    node = FakeNode()
    client = client_for(node)
    cache = CallCache(tmp_path / "c.sqlite")
    caller = Caller(client, cache, chain_id=1, confirmations=64)
    calls = [("0x" + "11" * 20, b"\x01\x02")]
    caller.call_many(HEAD - 10, calls)  # near the head: not cached
    assert cache.info()["entries"] == 0
    caller.call_many(HEAD - 100, calls)
    caller.call_many(HEAD - 100, calls)
    assert cache.info()["entries"] == 1 and client.stats.cache_hits == 1
    # per block one pin batch (hash, head, Multicall3 code; chain id the first time only),
    # then one aggregate3 call; the second read of the deep block is a cache hit
    assert node.items == [4, 1, 3, 1]


# -- C: adaptive eth_getLogs ranges ---------------------------------------------------------


def test_logs_halve_on_block_range_errors_and_grow_back():
    node = FakeNode(max_blocks=50)
    client = client_for(node)
    ranges: list[tuple[int, int]] = []
    logs = get_logs(client, "0x" + "11" * 20, ["0x01"], 0, 999, ranges=ranges)
    want = [lg for n in range(1000) for lg in node.logs_at(n)]
    assert logs == want  # complete, in block order, no duplicates
    assert all(hi - lo + 1 <= 50 for lo, hi in ranges)
    assert ranges[0][0] == 0 and ranges[-1][1] == 999
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    sizes = [hi - lo + 1 for lo, hi in ranges]
    assert len(set(sizes)) > 1  # grew after success, then halved again
    assert client.stats.retries == 0
    assert len(node.log_queries) < 100  # not one query per block


def test_logs_halve_on_too_many_results_without_retrying():
    node = FakeNode(max_logs=40)
    client = client_for(node)
    ranges: list[tuple[int, int]] = []
    logs = get_logs(client, None, [], 100, 2_099, initial_range=512, ranges=ranges)
    assert logs == [lg for n in range(100, 2_100) for lg in node.logs_at(n)]
    assert all(sum(len(node.logs_at(n)) for n in range(lo, hi + 1)) <= 40 for lo, hi in ranges)
    assert client.stats.retries == 0  # -32005 "query returned more than" is not a rate limit


def error(rid: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(
        200, json={"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
    )


def test_logs_floor_raises_and_other_errors_pass_through():
    node = FakeNode(max_logs=1)  # block 2 alone has 2 logs
    with pytest.raises(LogRangeError, match="floor"):
        get_logs(client_for(node), None, [], 0, 10, min_range=1)
    with pytest.raises(LogRangeError):
        get_logs(client_for(FakeNode(max_blocks=50)), None, [], 0, 999, min_range=64)

    def broken(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            200,
            json={
                "jsonrpc": "2.0",
                "id": body["id"],
                "error": {"code": -32000, "message": "header not found"},
            },
        )

    client = RpcClient("http://fake", transport=httpx.MockTransport(broken))
    with pytest.raises(RpcError, match="header not found") as exc:
        get_logs(client, None, [], 0, 10)
    assert not isinstance(exc.value, LogRangeError) and client.stats.http_requests == 1


def test_logs_use_a_range_the_node_suggests():
    queries: list[tuple[int, int]] = []

    def alchemy(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        f = body["params"][0]
        lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
        queries.append((lo, hi))
        if hi - lo + 1 > 10:
            msg = (
                "Log response size exceeded. You can make eth_getLogs requests with up to a "
                f"2K block range, this block range should work: [{hex(lo)}, {hex(lo + 9)}]"
            )
            return httpx.Response(
                200,
                json={
                    "jsonrpc": "2.0",
                    "id": body["id"],
                    "error": {"code": -32602, "message": msg},
                },
            )
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": []})

    client = RpcClient("http://fake", transport=httpx.MockTransport(alchemy))
    assert get_logs(client, None, [], 0, 29) == []
    assert queries[:2] == [(0, 29), (0, 9)]


def test_pin_block_is_one_batch_and_refuses_unpinnable_blocks():
    from lendscope.chain import pin_block

    node = FakeNode()
    client = client_for(node)
    pin, code = pin_block(client, "900", code_at=MULTICALL3_ADDRESS.lower())
    assert (pin.number, pin.hash, pin.depth, code) == (900, HASH, HEAD - 900, "0x60")
    assert node.items == [4] and client.get_chain_id() == 1 and len(node.items) == 1
    latest, _ = pin_block(client, "latest")
    assert latest.number == HEAD and not latest.is_safe(64) and latest.is_safe(0)
    for bad in ("pending", -1, True):
        with pytest.raises((ValueError, TypeError)):
            pin_block(client, bad)

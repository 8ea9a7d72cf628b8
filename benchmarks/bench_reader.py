"""Requests and wall time of a protocol snapshot: batched (Multicall3) vs one call per request.

Runs against ``lendscope devnet`` deployments (Aave v3.6 + Morpho Blue on anvil), with no call
cache so every run reads the node. Usage: ``.venv/bin/python benchmarks/bench_reader.py``.
"""

from __future__ import annotations

import json
import sys
import time

import httpx

from lendscope.chain import Caller, RpcClient
from lendscope.onchain.abi import Reader
from lendscope.onchain.devnet import start_devnet
from lendscope.onchain.protocols import adapter


class OnePerRequest(Caller):
    """A Caller that sends each eth_call in its own HTTP request (the naive baseline)."""

    def call_many(self, block, calls, allow_failure=True):
        out = []
        for to, data in calls:
            try:
                r = self.client.request(
                    "eth_call", [{"to": to, "data": "0x" + data.hex()}, hex(block)]
                )
                out.append(bytes.fromhex(r[2:]))
            except Exception:
                out.append(None)
        return out


def run(url: str, block: int, deps, caller_cls, repeat: int) -> dict:
    """Median wall time and requests per full snapshot (all deployments)."""
    times, reqs = [], 0
    for _ in range(repeat):
        client = RpcClient(url, chain_id=31337)
        caller = caller_cls(client, None, chain_id=31337)
        caller.has_multicall(block)
        start, before = time.perf_counter(), client.stats.http_requests
        for d in deps:
            adapter(d.family).snapshot(Reader(caller), d, block)
        times.append(time.perf_counter() - start)
        reqs = client.stats.http_requests - before
        client.close()
    times.sort()
    return {"requests": reqs, "seconds": times[len(times) // 2]}


def main(repeat: int = 7) -> dict:
    """Benchmark on a fresh devnet; prints and returns the figures."""
    net = start_devnet()
    try:
        block = int(
            httpx.post(
                net.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}
            ).json()["result"],
            16,
        )
        deps = net.registry.deployments
        batched = run(net.url, block, deps, Caller, repeat)
        naive = run(net.url, block, deps, OnePerRequest, repeat)
    finally:
        net.stop()
    out = {
        "deployments": [d.id for d in deps],
        "batched": batched,
        "one_call_per_request": naive,
        "request_ratio": naive["requests"] / batched["requests"],
        "time_ratio": naive["seconds"] / batched["seconds"],
    }
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)

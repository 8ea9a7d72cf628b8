"""A fake EVM JSON-RPC node for adapter tests: ``eth_call`` answers, logs and one block header.

Used where no package on the registries ships a protocol's bytecode (Euler v2, Fluid, Silo v2,
Lista's Moolah, Radiant): the served state is built by each test from the protocol's documented
storage layout or view semantics, independently of the adapter under test. The transport is the
only stand-in; the adapter runs through the real :class:`~lendscope.chain.RpcClient`,
:class:`~lendscope.chain.Caller` and :func:`~lendscope.chain.get_logs`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from eth_abi import encode

from lendscope.chain import Caller, RpcClient
from lendscope.onchain.abi import Call, Reader


class FakeNode:
    """Answers ``eth_call`` from (to, calldata) -> return data; every other call reverts."""

    def __init__(self, chain_id: int, block: int, timestamp: int) -> None:
        self.chain_id, self.block, self.timestamp = chain_id, block, timestamp
        self.answers: dict[tuple[str, str], str] = {}
        self.logs: list[dict[str, Any]] = []
        self.round_trips = 0
        self.methods: list[str] = []
        self.log_filters: list[dict[str, Any]] = []

    def on(self, to: str, sig: str, args: tuple, out: list[str], values: list) -> None:
        """Serve ``values`` (ABI-encoded as ``out``) for ``to.sig(args)``."""
        data = "0x" + Call(to, sig, args).data.hex()
        self.answers[(to.lower(), data)] = "0x" + encode(out, values).hex()

    def log(self, address: str, topics: list[str], data: bytes, block: int) -> None:
        """Add a log the node returns to matching ``eth_getLogs`` filters."""
        self.logs.append(
            {
                "address": address.lower(),
                "topics": topics,
                "data": "0x" + data.hex(),
                "blockNumber": hex(block),
            }
        )

    def _one(self, it: dict[str, Any]) -> dict[str, Any]:
        m, params = it["method"], it.get("params", [])
        self.methods.append(m)
        ok = {"jsonrpc": "2.0", "id": it["id"]}
        if m == "eth_call":
            got = self.answers.get((params[0]["to"].lower(), params[0]["data"]))
            if got is None:
                return {**ok, "error": {"code": 3, "message": "execution reverted"}}
            return {**ok, "result": got}
        if m == "eth_getLogs":
            f = params[0]
            self.log_filters.append(f)
            lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            want = f.get("address")
            want = {want.lower()} if isinstance(want, str) else {a.lower() for a in want or []}
            hits = [
                x
                for x in self.logs
                if lo <= int(x["blockNumber"], 16) <= hi
                and (not want or x["address"] in want)
                and x["topics"][0] == f["topics"][0]
            ]
            return {**ok, "result": hits}
        if m == "eth_getBlockByNumber":
            n = int(params[0], 16) if params[0].startswith("0x") else self.block
            header = {
                "number": hex(n),
                "hash": "0x" + f"{n:064x}",
                "timestamp": hex(self.timestamp),
            }
            return {**ok, "result": header}
        if m == "eth_blockNumber":
            return {**ok, "result": hex(self.block + 100)}
        if m == "eth_chainId":
            return {**ok, "result": hex(self.chain_id)}
        return {**ok, "error": {"code": -32601, "message": f"{m} not served"}}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.round_trips += 1
        body = json.loads(request.content)
        if isinstance(body, list):
            return httpx.Response(200, json=[self._one(it) for it in body])
        return httpx.Response(200, json=self._one(body))

    def reader(self) -> Reader:
        client = RpcClient(
            "http://fake-node", chain_id=self.chain_id, transport=httpx.MockTransport(self.handle)
        )
        return Reader(Caller(client, None, chain_id=self.chain_id, use_multicall=False))

"""A fake Solana JSON-RPC HTTP server: the stand-in for a mainnet RPC node in these tests.

It holds accounts (the protocol SDKs encode them) and a ledger of slots (every seventh one
skipped, two slots a second) and answers the methods lendscope uses the way the Solana RPC
documents them: ``context.slot`` on account reads, ``dataSlice``, ``memcmp``/``dataSize`` filters,
``minContextSlot`` (-32016 while the node is behind), at most 100 keys per
``getMultipleAccounts``, -32007 for skipped slots. Like a standard node it serves current state
only. Faults (HTTP 429 with ``Retry-After``, JSON-RPC -32005) can be queued.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lendscope.chain.solana import b58decode, b58encode

MAINNET_GENESIS = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"
LOADER = "BPFLoaderUpgradeab1e11111111111111111111111"


@dataclass
class FakeAccount:
    owner: str
    data: bytes
    lamports: int = 1_000_000
    executable: bool = False

    def json(self, data_slice: dict | None = None) -> dict[str, Any]:
        data = self.data
        if data_slice:
            data = data[data_slice["offset"] : data_slice["offset"] + data_slice["length"]]
        return {
            "data": [base64.b64encode(data).decode(), "base64"],
            "executable": self.executable,
            "lamports": self.lamports,
            "owner": self.owner,
            "rentEpoch": 0,
            "space": len(self.data),
        }


@dataclass
class FakeSolana:
    """Cluster state: accounts now, the ledger, the finalized slot, queued faults, a request log."""

    genesis: str = MAINNET_GENESIS
    first_slot: int = 300_000_000
    head: int = 300_000_500  # the finalized slot
    t0: int = 1_735_000_000  # block time of first_slot
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    faults: deque = field(default_factory=deque)  # ("http", status, retry_after) | ("rpc", code)
    advance_every: int = 0  # advance head by one slot after this many calls (0: never)
    advance_once_after: int = 0  # advance head once, after this many more calls (0: never)
    requests: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _calls: int = 0

    # -- ledger ---------------------------------------------------------------------------
    def skipped(self, slot: int) -> bool:
        return slot % 7 == 3

    def block_time(self, slot: int) -> int:
        return self.t0 + (slot - self.first_slot) // 2

    def blockhash(self, slot: int) -> str:
        return b58encode(hashlib.sha256(f"{self.genesis}/{slot}".encode()).digest())

    def advance(self, slots: int) -> None:
        self.head += slots
        while self.skipped(self.head):
            self.head += 1

    def set_time(self, slot: int, ts: int) -> None:
        """Re-anchor the ledger so ``slot``'s block time is ``ts``."""
        self.t0 = ts - (slot - self.first_slot) // 2

    # -- accounts -------------------------------------------------------------------------
    def add_program(self, program: str) -> None:
        self.accounts[program] = FakeAccount(LOADER, b"\x02" + bytes(35), executable=True)

    def put(self, pubkey: str, owner: str, data: bytes) -> None:
        self.accounts[pubkey] = FakeAccount(owner, data)

    # -- JSON-RPC -------------------------------------------------------------------------
    def handle(self, item: dict[str, Any]) -> dict[str, Any]:
        rid, method, params = item.get("id"), item["method"], item.get("params", [])
        if self.faults and self.faults[0][0] == "rpc":
            code = self.faults.popleft()[1]
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": "injected"}}
        try:
            result = getattr(self, "rpc_" + method)(*params)
        except RpcFail as e:
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": e.code, "message": e.message}}
        finally:
            self._calls += 1
            if self.advance_every and self._calls % self.advance_every == 0:
                self.advance(1)
            if self.advance_once_after:
                self.advance_once_after -= 1
                if not self.advance_once_after:
                    self.advance(1)
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    def _context(self, cfg: dict[str, Any]) -> dict[str, int]:
        if cfg.get("commitment") != "finalized":
            raise RpcFail(-32602, "lendscope reads must ask commitment finalized")
        if cfg.get("minContextSlot", 0) > self.head:
            raise RpcFail(-32016, "Minimum context slot has not been reached")
        return {"slot": self.head}

    def rpc_getGenesisHash(self) -> str:
        return self.genesis

    def rpc_getSlot(self, cfg: dict | None = None) -> int:
        return self.head

    def rpc_getFirstAvailableBlock(self) -> int:
        return self.first_slot

    def _block_exists(self, slot: int) -> None:
        if slot > self.head or slot < self.first_slot:
            raise RpcFail(-32004, f"Block not available for slot {slot}")
        if self.skipped(slot):
            raise RpcFail(-32007, f"Slot {slot} was skipped, or missing due to ledger jump")

    def rpc_getBlockTime(self, slot: int) -> int:
        self._block_exists(slot)
        return self.block_time(slot)

    def rpc_getBlocks(self, lo: int, hi: int, cfg: dict | None = None) -> list[int]:
        return [s for s in range(lo, min(hi, self.head) + 1) if not self.skipped(s)]

    def rpc_getBlock(self, slot: int, cfg: dict) -> dict[str, Any]:
        self._block_exists(slot)
        parent = slot - 1
        while self.skipped(parent):
            parent -= 1
        return {
            "blockhash": self.blockhash(slot),
            "previousBlockhash": self.blockhash(parent),
            "parentSlot": parent,
            "blockTime": self.block_time(slot),
            "blockHeight": slot - 1000,
        }

    def rpc_getProgramAccounts(self, program: str, cfg: dict) -> dict[str, Any]:
        ctx = self._context(cfg)
        out = []
        for key, acct in sorted(self.accounts.items()):
            if acct.owner == program and all(_match(f, acct.data) for f in cfg.get("filters", [])):
                out.append({"pubkey": key, "account": acct.json(cfg.get("dataSlice"))})
        return {"context": ctx, "value": out} if cfg.get("withContext") else out  # type: ignore

    def rpc_getMultipleAccounts(self, keys: list[str], cfg: dict) -> dict[str, Any]:
        if len(keys) > 100:
            raise RpcFail(-32602, "Too many inputs provided; max 100")
        ctx = self._context(cfg)
        value = [
            None if k not in self.accounts else self.accounts[k].json(cfg.get("dataSlice"))
            for k in keys
        ]
        return {"context": ctx, "value": value}

    def rpc_sendTransaction(self, *a: Any) -> str:
        return "sig"


class RpcFail(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code, self.message = code, message


def _match(f: dict[str, Any], data: bytes) -> bool:
    if "dataSize" in f:
        return len(data) == f["dataSize"]
    m = f["memcmp"]
    want = b58decode(m["bytes"]) if m.get("encoding", "base58") == "base58" else b""
    return data[m["offset"] : m["offset"] + len(want)] == want


class FakeSolanaServer:
    """``FakeSolana`` behind a real HTTP server on 127.0.0.1 (a thread)."""

    def __init__(self, state: FakeSolana) -> None:
        self.state = state
        handler = _handler(state)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeSolanaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(state: FakeSolana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with state.lock:
                state.requests.append(body)
                if state.faults and state.faults[0][0] == "http":
                    _, status, retry_after = state.faults.popleft()
                    self.send_response(status)
                    if retry_after is not None:
                        self.send_header("retry-after", str(retry_after))
                    self.end_headers()
                    return
                items = body if isinstance(body, list) else [body]
                replies = [state.handle(x) for x in items]
            out = json.dumps(replies if isinstance(body, list) else replies[0]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    return Handler

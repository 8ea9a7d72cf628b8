"""Tron through its Ethereum-compatible JSON-RPC (java-tron ``/jsonrpc``, e.g. TronGrid's).

java-tron answers ``eth_call``, ``eth_getCode``, ``eth_getBalance`` and ``eth_getStorageAt``
only at the tag ``latest``: Tron nodes keep no historical state (TronGrid's and Chainstack's
``eth_call`` references say so). Contracts take the 20-byte account (``0x`` + 40 hex, the
``T...`` address without its 0x41 byte), ABI-encoded as on Ethereum; ``eth_chainId`` is
``0x2b6653dc`` on mainnet.

:class:`TronLatestTransport` lets the unchanged :class:`~lendscope.chain.RpcClient`,
:class:`~lendscope.chain.Caller` and adapters read Tron: it rewrites the block parameter of
those state methods to ``latest`` and adds one ``eth_blockNumber`` to the same HTTP request.
A state call asked at a block more than ``max_lag`` blocks from the head that answered is
refused with a JSON-RPC error (so a historical Tron block is never silently read at the head);
within ``max_lag`` the answer is the head's state, a few 3-second blocks after the pinned one.
Multicall3 has no code on Tron, so :class:`~lendscope.chain.Caller` falls back to batches of
plain ``eth_call``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from lendscope.chain.rpc import RpcClient

#: State methods java-tron serves at ``latest`` only, and where their block parameter sits.
STATE_METHODS = {"eth_call": 1, "eth_getCode": 1, "eth_getBalance": 1, "eth_getStorageAt": 2}
#: Blocks (3 s each) a state read may land after (or before) the block it was asked for.
DEFAULT_MAX_LAG = 20
#: Tron mainnet's ``eth_chainId`` (0x2b6653dc).
TRON_MAINNET_CHAIN_ID = 728126428
#: JSON-RPC error code of a refused historical read (not an EVM failure: callers raise on it).
HISTORY_ERROR_CODE = -32602
_HEAD_ID = "lendscope-tron-head"


class TronLatestTransport(httpx.BaseTransport):
    """Rewrites state reads to ``latest`` and refuses those asked too far from the head."""

    def __init__(
        self, inner: httpx.BaseTransport | None = None, *, max_lag: int = DEFAULT_MAX_LAG
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.max_lag = max_lag
        self.heads: list[int] = []  # the head each rewritten request was answered at

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward ``request`` with state reads pinned to ``latest`` (one extra call)."""
        try:
            body = json.loads(request.content)
        except ValueError:
            return self.inner.handle_request(request)
        single = isinstance(body, dict)
        items: list[Any] = [body] if single else list(body)
        wanted: dict[Any, int] = {}
        out_items = []
        for it in items:
            pos = STATE_METHODS.get(it.get("method")) if isinstance(it, dict) else None
            params = list(it.get("params") or []) if pos is not None else []
            if pos is not None and len(params) > pos:
                tag = params[pos]
                if isinstance(tag, str) and tag.startswith("0x"):
                    wanted[it.get("id")] = int(tag, 16)
                params[pos] = "latest"
                it = {**it, "params": params}
            out_items.append(it)
        if not wanted:
            return self.inner.handle_request(request)
        head_call = {"jsonrpc": "2.0", "id": _HEAD_ID, "method": "eth_blockNumber", "params": []}
        resp = self.inner.handle_request(_with_body(request, [*out_items, head_call]))
        resp.read()
        try:
            replies = resp.json()
        except ValueError:
            return resp
        if not isinstance(replies, list):
            return _json(resp, replies)
        head = next((r.get("result") for r in replies if r.get("id") == _HEAD_ID), None)
        replies = [r for r in replies if r.get("id") != _HEAD_ID]
        if not isinstance(head, str):
            return _json(resp, replies[0] if single and replies else replies)
        h = int(head, 16)
        self.heads.append(h)
        for r in replies:
            n = wanted.get(r.get("id"))
            if n is not None and abs(h - n) > self.max_lag:
                r.pop("result", None)
                r["error"] = {
                    "code": HISTORY_ERROR_CODE,
                    "message": f"Tron nodes serve state at the head only: block {n} is {h - n} "
                    f"blocks from head {h} (more than max_lag {self.max_lag})",
                }
        return _json(resp, replies[0] if single and replies else replies)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


def _with_body(request: httpx.Request, body: Any) -> httpx.Request:
    content = json.dumps(body, separators=(",", ":")).encode()
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return httpx.Request(request.method, request.url, headers=headers, content=content)


def _json(resp: httpx.Response, data: Any) -> httpx.Response:
    return httpx.Response(resp.status_code, json=data)


def tron_client(
    url: str,
    *,
    chain_id: int | None = TRON_MAINNET_CHAIN_ID,
    api_key: str | None = None,
    max_lag: int = DEFAULT_MAX_LAG,
    transport: httpx.BaseTransport | None = None,
    **kwargs: Any,
) -> RpcClient:
    """An :class:`RpcClient` for a java-tron JSON-RPC endpoint (TronGrid: ``TRON-PRO-API-KEY``)."""
    headers = dict(kwargs.pop("headers", None) or {})
    if api_key:
        headers["TRON-PRO-API-KEY"] = api_key
    return RpcClient(
        url,
        chain_id=chain_id,
        transport=TronLatestTransport(transport, max_lag=max_lag),
        headers=headers,
        **kwargs,
    )

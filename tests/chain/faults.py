"""A fault-injecting HTTP proxy on 127.0.0.1, run in a thread in front of a JSON-RPC node.

Faults are keyed by the 1-based number of the POST the proxy receives, e.g.
``FaultProxy(anvil.url, {1: Fault("429", retry_after="2"), 2: Fault("truncate", keep=1)})``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import httpx

FaultKind = Literal["timeout", "429", "500", "malformed", "truncate", "drop", "drop_after"]


@dataclass(frozen=True)
class Fault:
    """What to do to one request.

    timeout: hold the request ``delay`` seconds, then close without answering.
    429 / 500: answer that status without forwarding (429 carries ``retry_after``).
    malformed: forward, then answer with the first half of the JSON body.
    truncate: forward, then answer only the first ``keep`` items of a batch.
    drop: close the connection without forwarding or answering.
    drop_after: forward (the node acts on it), then close without answering.
    """

    kind: FaultKind
    retry_after: str | None = None
    delay: float = 1.0
    keep: int = 1


class FaultProxy:
    """Forward POSTs to ``upstream`` and inject :class:`Fault` s by request number."""

    def __init__(self, upstream: str, faults: dict[int, Fault] | None = None) -> None:
        self.upstream = upstream
        self.faults: dict[int, Fault] = dict(faults or {})
        self.bodies: list[object] = []  # parsed JSON of every request, in arrival order
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with proxy._lock:
                    proxy.bodies.append(json.loads(raw))
                    fault = proxy.faults.get(len(proxy.bodies))
                kind = fault.kind if fault else None
                if kind == "drop":
                    return self._hang_up()
                if kind == "timeout":
                    time.sleep(fault.delay)
                    return self._hang_up()
                if kind == "429":
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    return self._reply(429, b'{"message":"rate limited"}', headers)
                if kind == "500":
                    return self._reply(500, b"upstream exploded")
                up = proxy._http.post(
                    proxy.upstream, content=raw, headers={"content-type": "application/json"}
                )
                body = up.content
                if kind == "drop_after":
                    return self._hang_up()
                if kind == "malformed":
                    body = body[: len(body) // 2]
                elif kind == "truncate":
                    items = json.loads(body)
                    body = json.dumps(
                        items[: fault.keep] if isinstance(items, list) else []
                    ).encode()
                self._reply(up.status_code, body)

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _hang_up(self) -> None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def count(self) -> int:
        """How many POSTs arrived."""
        return len(self.bodies)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

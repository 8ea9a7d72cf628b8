"""Test utilities of the app suite (``conftest`` holds fixtures only)."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from tests.helpers import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ARTIFACTS / "app"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_token(client: httpx.Client, page: str = "/stress-test") -> str:
    """The CSRF token of ``page``'s forms; the client keeps the session cookie it is bound to."""
    found = _CSRF.search(client.get(page).text)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def same_origin(base_url: str) -> dict[str, str]:
    """The ``Origin`` header a browser sends with a form posted from a page of ``base_url``."""
    return {"Origin": base_url.rstrip("/")}


class Server:
    """A uvicorn server on a socket bound by us (no race for the port), in a thread."""

    def __init__(self, app) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()

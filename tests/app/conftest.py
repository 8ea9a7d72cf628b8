"""A real uvicorn server on 127.0.0.1 (a free port), run in a thread for the whole session."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from lendscope.app import create_app
from tests.conftest import ARTIFACTS, NO_DB

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ARTIFACTS / "app"


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


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The dashboard and API over the bundled data, read-only, no token."""
    with Server(create_app(NO_DB, token="")) as s:
        yield s.url


@pytest.fixture(scope="session")
def token_url() -> Iterator[str]:
    """The same app with a bearer token required for POST endpoints."""
    with Server(create_app(NO_DB, token="s3cret-token", warm=False)) as s:
        yield s.url


@pytest.fixture(scope="session")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def browser():
    """Debian Chromium driven by Playwright; skipped only where it is absent and not required."""
    if not CHROMIUM.exists() and not os.environ.get("LENDSCOPE_REQUIRE_BROWSER"):
        pytest.skip(f"{CHROMIUM} not installed (set LENDSCOPE_REQUIRE_BROWSER to fail instead)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()

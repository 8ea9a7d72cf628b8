"""Fixtures: the app on real uvicorn servers (one per session) and Debian Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from lendscope.app import create_app
from tests.app.helpers import CHROMIUM, Server
from tests.helpers import NO_DB


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

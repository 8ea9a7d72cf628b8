"""Fixtures of the hostile catalogue: the app under test and the session's counts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from tests.helpers import NO_DB
from tests.hostile.helpers import STATS

TOKEN = "hostile-test-token"


@pytest.fixture(scope="session", params=["open", "token"])
def api(request):
    """The app with no token (open, as on a laptop) and with a token (as on a shared host)."""
    token = TOKEN if request.param == "token" else ""
    client = TestClient(create_app(NO_DB, token=token), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    client.mode = request.param
    client.get("/api/v1/metrics")  # the first metrics compile is a start-up cost, not an attack's
    return client


def pytest_terminal_summary(terminalreporter):
    if STATS["inputs"]:
        terminalreporter.write_line(
            f"hostile catalogue: {STATS['inputs']} inputs tried in {STATS['runs']} runs, "
            f"{STATS['5xx']} 5xx seen, {STATS['rows_written']} rows written, worst CPU "
            f"{STATS['worst_cpu_s']:.3f} s on the CLI ({STATS['worst_case']}), worst API answer "
            f"{STATS['worst_wall_s']:.3f} s"
        )

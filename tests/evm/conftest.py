"""Session fixtures for the `evm` tests: one anvil per session, snapshots between tests."""

from __future__ import annotations

import pytest

from lendscope.onchain.evm import Anvil
from tests.evm.harness import installed


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/evm/" in str(item.fspath):
            item.add_marker(pytest.mark.evm)


@pytest.fixture(scope="session")
def anvil():
    if not installed():
        pytest.fail("evm/node_modules missing: run `npm ci` in evm/ (make test does)")
    node = Anvil.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def w3(anvil):
    from web3 import Web3

    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))


@pytest.fixture
def snapshot(w3):
    """Revert the chain to its state before the test."""
    sid = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    w3.provider.make_request("evm_revert", [sid])

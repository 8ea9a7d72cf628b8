"""The local node itself: starts on 127.0.0.1 with an OS-chosen port, snapshots revert."""

from __future__ import annotations

from lendscope.onchain.evm import Anvil


def test_node_answers_and_reverts(w3, anvil, snapshot):
    assert anvil.url.startswith("http://127.0.0.1:")
    assert w3.eth.chain_id == 31337
    sid = w3.provider.make_request("evm_snapshot", [])["result"]
    a, b = w3.eth.accounts[:2]
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": a, "to": b, "value": 10**18}), poll_latency=0.002
    )
    before = w3.eth.get_balance(b)
    w3.provider.make_request("evm_revert", [sid])
    assert w3.eth.get_balance(b) == before - 10**18


def test_node_stops():
    node = Anvil.start()
    node.stop()
    assert node.proc.poll() is not None

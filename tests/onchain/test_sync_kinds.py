"""``sync`` picks the client by chain kind: Tron reads only the latest state, others are refused."""

from __future__ import annotations

import pytest

from lendscope.onchain.sync import SyncRequest, run_sync


def test_a_tron_quarter_is_refused_with_the_reason(tmp_path):
    req = SyncRequest("http://127.0.0.1:9", chain="tron", period="2024Q4", db=tmp_path / "d.db")
    with pytest.raises(ValueError, match="only the latest state"):
        run_sync(req)
    assert not (tmp_path / "d.db").exists()


def test_a_chain_without_an_evm_reader_is_refused(tmp_path):
    from lendscope.onchain.registry import load_registry

    reg = load_registry()
    other = [c for c, info in reg.chain_info.items() if info.kind not in ("evm", "tron")]
    if not any(reg.select(c) for c in other):
        pytest.skip("no bundled non-EVM deployment outside Tron")
    chain = next(c for c in other if reg.select(c))
    req = SyncRequest("http://127.0.0.1:9", chain=chain, block="latest", db=tmp_path / "d.db")
    with pytest.raises(ValueError, match="chain: sync reads EVM and Tron chains"):
        run_sync(req)


def test_history_leaves_current_state_chains_out_with_the_reason(tmp_path):
    from lendscope.onchain.history import HistoryRequest, run_history

    req = HistoryRequest("2024Q1..2024Q2", chain="tron", db=tmp_path / "d.db")
    with pytest.raises(ValueError, match="tron nodes serve only current state"):
        run_history(req)

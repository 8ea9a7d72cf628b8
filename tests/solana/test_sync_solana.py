"""``sync`` of the Solana registry entries against a fake JSON-RPC node holding SDK-encoded
accounts. The RPC transport (tests/solana/fake_rpc.py) is the only stand-in: the accounts are
the protocols' own SDK encodings and everything from the client to the dataset rows is
lendscope's code as it runs against mainnet.
"""

from __future__ import annotations

from fractions import Fraction

import duckdb
import pytest

from lendscope.chain.blocks import quarter_end_timestamp
from lendscope.chain.solana import GenesisMismatchError, StateNotAvailableError
from lendscope.onchain.registry import load_registry
from lendscope.onchain.solana_sync import run_solana_sync, store_chain_id
from lendscope.onchain.sync import SyncRequest

DEPLOYMENTS = ("kamino-lend-main", "marginfi-main", "save-main")


def _req(server, tmp_path, **kw) -> SyncRequest:
    kw.setdefault("block", "finalized")
    return SyncRequest(
        server.url, chain="solana", db=tmp_path / "db.duckdb", cache=tmp_path / "cache.sqlite", **kw
    )


def _markets(tmp_path, slot: int) -> dict[tuple[str, str], tuple]:
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT deployment, market, asset, decimals, debt_raw, price_raw, price_unit, counted "
            "FROM onchain_markets WHERE block_number = ?",
            [slot],
        ).fetchall()
    finally:
        con.close()
    return {(r[0], r[1]): r[2:] for r in rows}


def _observations(tmp_path) -> dict[str, tuple]:
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT platform, value_usd, block_number, contract, chain, chain_id, note "
            "FROM observations WHERE method = 'onchain'"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def test_sync_reads_every_reserve_and_bank_exactly(cluster, expected, solana_deps, tmp_path):
    state, server = cluster
    s = run_solana_sync(_req(server, tmp_path))
    assert s.block == state.head and s.block_hash == state.blockhash(state.head)
    assert s.block_timestamp == state.block_time(state.head)
    assert [x["deployment"] for x in s.snapshots] == list(DEPLOYMENTS)
    assert s.not_deployed == {} and s.skipped == []
    # genesis, one batch of every account read, getBlock of the slot (a few HTTP requests)
    assert s.rpc_requests == 3
    assert s.chain_id == store_chain_id(load_registry().chain("solana"))
    rows = _markets(tmp_path, state.head)
    want = {(e.deployment, e.pubkey): e for es in expected.values() for e in es}
    assert set(rows) == set(want)  # other markets' reserves and the obligation filtered out
    for key, e in want.items():
        asset, dec, debt, price_raw, unit, counted = rows[key]
        assert (asset, dec, int(debt)) == (e.mint, e.decimals, e.debt_raw)
        got_price = None if price_raw is None else Fraction(int(price_raw), int(unit))
        assert got_price == e.price
        assert counted == (e.price is not None)
    obs = _observations(tmp_path)
    platforms = {d.id: d.platform for d in solana_deps.values()}
    for dep in DEPLOYMENTS:
        value, slot, contract, chain, chain_id, _note = obs[platforms[dep]]
        assert value == pytest.approx(float(sum(e.value_usd for e in expected[dep])), rel=1e-12)
        assert (slot, chain, chain_id) == (state.head, "solana", s.chain_id)
        assert contract == solana_deps[dep].addr("market")  # base58, case kept


def test_rerun_at_the_slot_is_served_from_the_cache(cluster, tmp_path):
    state, server = cluster
    first = run_solana_sync(_req(server, tmp_path))
    state.advance(1000)  # the chain moves on and the accounts change
    for acct in list(state.accounts.values()):
        acct.data = bytes(len(acct.data))
    again = run_solana_sync(_req(server, tmp_path, block=str(first.block)))
    assert again.block == first.block and again.block_hash == first.block_hash
    assert again.skipped == list(DEPLOYMENTS) and again.rows_written == 0
    assert again.cache_hits == 4 and again.rpc_requests == 2  # genesis + getBlock (identity)


def test_interrupted_sync_resumes_at_its_slot(cluster, tmp_path):
    state, server = cluster

    def crash(event, dep, info):
        if event == "done" and dep.id == "kamino-lend-main":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_solana_sync(_req(server, tmp_path), hook=crash)
    slot = state.head
    state.advance(50)
    resumed = run_solana_sync(_req(server, tmp_path, block=str(slot)))
    assert resumed.block == slot
    assert resumed.skipped == ["kamino-lend-main"]
    assert [x["deployment"] for x in resumed.snapshots] == ["marginfi-main", "save-main"]
    assert {k[0] for k in _markets(tmp_path, slot)} == set(DEPLOYMENTS)


def test_reads_straddling_two_slots_are_read_again_at_one(cluster, tmp_path):
    state, server = cluster
    state.advance_once_after = 2  # the finalized slot moves while the first batch is answered
    start = state.head
    s = run_solana_sync(_req(server, tmp_path))
    assert s.block == state.head > start
    assert all("accounts read at slots" not in o[-1] for o in _observations(tmp_path).values())


def test_reads_that_never_settle_on_one_slot_say_so(cluster, tmp_path):
    state, server = cluster
    state.advance_every = 2
    s = run_solana_sync(_req(server, tmp_path))
    notes = [o[-1] for o in _observations(tmp_path).values()]
    assert len(notes) == 3
    for n in notes:  # three tries at one slot failed: the snapshot says which slots it spans
        lo, hi = n.split("accounts read at slots ")[1].split("-")
        assert int(lo) < int(hi) == s.block


def test_a_past_quarter_is_refused(cluster, tmp_path):
    state, server = cluster
    state.set_time(state.first_slot + 100, quarter_end_timestamp("2025Q1"))
    with pytest.raises(StateNotAvailableError, match="serves current account state only"):
        run_solana_sync(_req(server, tmp_path, block=None, period="2025Q1"))


def test_a_quarter_read_at_its_end_is_recorded_and_resumable(cluster, tmp_path):
    state, server = cluster
    end = quarter_end_timestamp("2025Q1")
    state.set_time(state.head - 10, end)  # quarter end: 10 slots before the finalized slot
    req = _req(server, tmp_path, block=None, period="2025Q1")
    s = run_solana_sync(req, max_period_lag_slots=100)
    assert s.period == "2025Q1" and len(s.snapshots) == 3
    last = max(
        x
        for x in range(s.block - 20, s.block + 1)
        if not state.skipped(x) and state.block_time(x) <= end
    )
    assert all(
        f"{s.block - last} slots after 2025Q1's last slot {last}" in o[-1]
        for o in _observations(tmp_path).values()
    )
    state.advance(10_000)
    again = run_solana_sync(req)  # the recorded quarter-end slot, from the cache
    assert again.block == s.block and again.skipped == list(DEPLOYMENTS)


def test_a_slot_never_read_is_refused(cluster, tmp_path):
    state, server = cluster
    past = state.head - 7 * 20  # a multiple of 7 back: not a skipped slot
    with pytest.raises(StateNotAvailableError, match="keeps no past account state"):
        run_solana_sync(_req(server, tmp_path, block=str(past)))


def test_missing_market_is_not_deployed(cluster, solana_deps, tmp_path):
    state, server = cluster
    del state.accounts[solana_deps["save-main"].addr("market")]
    s = run_solana_sync(_req(server, tmp_path))
    assert list(s.not_deployed) == ["save-main"]
    assert "Main Pool" in s.not_deployed["save-main"]
    assert [x["deployment"] for x in s.snapshots] == ["kamino-lend-main", "marginfi-main"]


def test_another_cluster_is_refused(cluster, tmp_path):
    state, server = cluster
    state.genesis = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"  # devnet
    with pytest.raises(GenesisMismatchError):
        run_solana_sync(_req(server, tmp_path))


def test_sync_command_dispatches_a_solana_chain(cluster, tmp_path):
    from typer.testing import CliRunner

    from lendscope.cli import app

    state, server = cluster
    r = CliRunner().invoke(app, [
        "sync", "--rpc", server.url, "--chain", "solana", "--block", "finalized",
        "--db", str(tmp_path / "db.duckdb"),
    ])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert f"block {state.head}" in r.output and "3 snapshots written" in r.output

"""Reorg-safe caching on anvil: the call cache and sync's "already stored" skip are keyed on the
block hash, so a cache or database filled on one chain never answers for another chain (or a
reorged-out block) at the same height; blocks near the head are never cached or skipped."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import httpx
import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from lendscope.chain import CallCache, Caller, RpcClient
from lendscope.onchain.contracts import multicall_artifact
from lendscope.onchain.devnet import start_devnet, write_registry
from lendscope.onchain.evm import Anvil
from lendscope.onchain.sync import SyncRequest, run_sync

GET_BALANCE = function_signature_to_4byte_selector("getEthBalance(address)")
READER = "0x" + "5eed" * 10
WHO = "0x" + "ab" * 20


def rpc(url: str, method: str, *params):
    got = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    body = got.json()
    assert "error" not in body, body
    return body["result"]


def head(url: str) -> int:
    return int(rpc(url, "eth_blockNumber"), 16)


def block_hash(url: str, n: int) -> str:
    return rpc(url, "eth_getBlockByNumber", hex(n), False)["hash"]


def balance_of_who(caller: Caller, block: int) -> int:
    (out,) = caller.call_many(block, [(READER, GET_BALANCE + encode(["address"], [WHO]))])
    return decode(["uint256"], out)[0]


def prepare(url: str, wei: int, height: int) -> None:
    """READER code in place, WHO holding ``wei`` at block ``height``, then 70 blocks on top."""
    rpc(url, "anvil_setCode", READER, multicall_artifact()["deployedBytecode"])
    rpc(url, "anvil_setBalance", WHO, hex(wei))
    rpc(url, "anvil_mine", hex(height - head(url)))
    assert head(url) == height
    rpc(url, "anvil_mine", hex(70))


def test_cache_filled_on_one_chain_never_answers_for_another(tmp_path):
    """Two anvils, same chain id and height, different state: the second read misses."""
    one, two = Anvil.start(), Anvil.start()
    try:
        prepare(one.url, 19_000, 10)
        prepare(two.url, 23_000, 10)
        assert block_hash(one.url, 10) != block_hash(two.url, 10)
        path = tmp_path / "c.sqlite"
        first = Caller(RpcClient(one.url), CallCache(path))
        assert balance_of_who(first, 10) == 19_000
        assert CallCache(path).info()["entries"] == 1
        again = Caller(RpcClient(one.url), CallCache(path))  # same chain: served from cache
        assert balance_of_who(again, 10) == 19_000 and again.client.stats.cache_hits == 1
        other = Caller(RpcClient(two.url), CallCache(path))
        assert balance_of_who(other, 10) == 23_000  # the chain's value, not the cache's
        assert other.client.stats.cache_hits == 0
        assert CallCache(path).info()["entries"] == 2
    finally:
        one.stop()
        two.stop()


def test_cache_misses_after_revert_and_a_different_block_at_the_same_height(tmp_path):
    """evm_revert to a snapshot, mine a different block at the same number: a miss."""
    node = Anvil.start()
    try:
        sid = rpc(node.url, "evm_snapshot")
        prepare(node.url, 19_000, 10)
        path = tmp_path / "c.sqlite"
        assert balance_of_who(Caller(RpcClient(node.url), CallCache(path)), 10) == 19_000
        old_hash = block_hash(node.url, 10)
        rpc(node.url, "evm_revert", sid)
        prepare(node.url, 23_000, 10)
        assert block_hash(node.url, 10) != old_hash
        caller = Caller(RpcClient(node.url), CallCache(path))
        assert balance_of_who(caller, 10) == 23_000
        assert caller.client.stats.cache_hits == 0
    finally:
        node.stop()


def test_blocks_within_the_confirmation_depth_are_never_cached(tmp_path):
    node = Anvil.start()
    try:
        prepare(node.url, 5, 10)
        path = tmp_path / "c.sqlite"
        top = head(node.url)
        caller = Caller(RpcClient(node.url), CallCache(path), confirmations=64)
        assert balance_of_who(caller, top - 63) == 5  # 63 blocks on top: too shallow
        assert CallCache(path).info()["entries"] == 0
        assert balance_of_who(caller, top - 64) == 5
        assert CallCache(path).info()["entries"] == 1
    finally:
        node.stop()


# -- sync and positions on a devnet whose history is rewritten ------------------------------


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = start_devnet()
    n.reg_path = write_registry(n, tmp_path_factory.mktemp("rg") / "devnet.toml")
    try:
        yield n
    finally:
        n.stop()


def req(net, tmp_path: Path, block: int, **kw) -> SyncRequest:
    return SyncRequest(
        rpc=net.url,
        chain="devnet",
        block=str(block),
        registry=net.reg_path,
        db=tmp_path / "db.duckdb",
        cache=tmp_path / "cache.sqlite",
        **kw,
    )


def aave_value(db: Path) -> float:
    con = duckdb.connect(str(db), read_only=True)
    try:
        (v,) = con.execute(
            "SELECT value_usd FROM observations WHERE method = 'onchain' AND platform LIKE 'Aave%'"
        ).fetchone()
        return v
    finally:
        con.close()


def test_sync_rereads_a_block_whose_hash_changed(net, tmp_path):
    """A stored snapshot at block B is not "already stored" once B is another block."""
    url = net.url
    sid = rpc(url, "evm_snapshot")
    b = head(url) + 1
    rpc(url, "anvil_mine", hex(70))
    s1 = run_sync(req(net, tmp_path, b))
    assert len(s1.snapshots) == 2 and s1.block_hash == block_hash(url, b)
    v1 = aave_value(tmp_path / "db.duckdb")
    # Rewrite history: B again, a year later, so Aave debt has accrued a year of interest.
    rpc(url, "evm_revert", sid)
    rpc(url, "evm_increaseTime", 365 * 86400)
    rpc(url, "anvil_mine", hex(71))
    assert block_hash(url, b) != s1.block_hash
    s2 = run_sync(req(net, tmp_path, b))
    assert s2.skipped == [] and len(s2.snapshots) == 2  # re-read, not skipped
    v2 = aave_value(tmp_path / "db.duckdb")
    clean = tmp_path / "clean"
    clean.mkdir()
    fresh = run_sync(req(net, clean, b))
    assert v2 == aave_value(clean / "db.duckdb") and v2 > v1
    # hits only on calls repeated within the run: nothing from the cache of the old block
    assert s2.cache_hits == fresh.cache_hits
    s3 = run_sync(req(net, tmp_path, b))  # same block again: skipped at its hash
    assert sorted(s3.skipped) == ["aave-v3-devnet", "morpho-blue-devnet"]
    assert s3.rpc_requests == 1


def test_unsafe_head_is_read_but_never_skipped_nor_cached(net, tmp_path):
    top = head(net.url)
    with pytest.raises(Exception, match="confirmations"):
        run_sync(req(net, tmp_path, top))
    s1 = run_sync(req(net, tmp_path, top, allow_unsafe_head=True))
    assert len(s1.snapshots) == 2
    s2 = run_sync(req(net, tmp_path, top, allow_unsafe_head=True))
    assert s2.skipped == [] and len(s2.snapshots) == 2 and s2.cache_hits == 0
    assert s1.cache_hits == 0
    assert CallCache(tmp_path / "cache.sqlite").info()["entries"] == 0


def test_positions_honours_the_confirmation_rule(net, tmp_path):
    from typer.testing import CliRunner

    from lendscope.cli import app

    out = tmp_path / "pos.csv"
    base = ["positions", "--protocol", "morpho-blue", "--block", str(head(net.url))]
    base += ["--out", str(out), "--rpc", net.url, "--chain", "devnet"]
    base += ["--registry", str(net.reg_path)]
    r = CliRunner().invoke(app, base)
    assert r.exit_code == 1 and "confirmations" in r.output
    r = CliRunner().invoke(app, [*base, "--allow-unsafe-head", "--max-request-bytes", "20000"])
    assert r.exit_code == 0, r.output
    assert "morpho_blue" in out.read_text()


def test_block_before_deployment_is_a_clean_skip(net, tmp_path):
    """``lendscope sync --block 0`` on the devnet: nothing written, exit 0, reason recorded."""
    from typer.testing import CliRunner

    from lendscope.cli import app

    db, summary = tmp_path / "db.duckdb", tmp_path / "summary.json"
    args = ["sync", "--rpc", net.url, "--chain", "devnet", "--block", "0"]
    args += ["--registry", str(net.reg_path), "--db", str(db), "--summary-json", str(summary)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    js = json.loads(summary.read_text())
    assert js["rows_written"] == 0 and js["snapshots"] == [] and js["block"] == 0
    assert sorted(js["not_deployed"]) == ["aave-v3-devnet", "morpho-blue-devnet"]
    assert "has no code at block 0" in js["not_deployed"]["aave-v3-devnet"]
    assert "skipped aave-v3-devnet: not deployed" in r.output
    assert not db.exists()  # nothing written at all

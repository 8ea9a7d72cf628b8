"""``lendscope sync`` against the devnet (real Aave v3.6 and Morpho Blue bytecode on anvil).

Every stored figure is checked three ways: the protocol's own view functions (debt token
``totalSupply`` x ``AaveOracle.getAssetPrice``; ``Morpho.market(id)``), lendscope's mechanics
modules (scaled supply x normalized debt index; shares to assets), and round-trip counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import duckdb
import httpx
import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as sel

from lendscope.chain import ChainError, RpcClient
from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.intmath import ray_mul
from lendscope.mechanics.morpho_blue import to_assets_up
from lendscope.onchain.devnet import start_devnet, write_registry
from lendscope.onchain.evm import Anvil
from lendscope.onchain.sync import SyncRequest, run_sync
from tests.chain.faults import Fault, FaultProxy


class CountingTransport(httpx.HTTPTransport):
    """Counts HTTP round trips."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        return super().handle_request(request)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = start_devnet()
    n.reg_path = write_registry(n, tmp_path_factory.mktemp("dn") / "devnet.toml")
    head = httpx.post(n.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
    n.block = int(head.json()["result"], 16) - 64  # deep enough for the safe-head check
    try:
        yield n
    finally:
        n.stop()


def req(net, tmp_path: Path, **kw) -> SyncRequest:
    base = dict(
        rpc=net.url,
        chain="devnet",
        block=str(net.block),
        registry=net.reg_path,
        db=tmp_path / "db.duckdb",
        cache=tmp_path / "cache.sqlite",
    )
    return SyncRequest(**{**base, **kw})


def call(url: str, to: str, sig: str, args: list, types: list[str], out: list[str], block: int):
    data = "0x" + (sel(sig) + encode(types, args)).hex()
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "eth_call",
        "params": [{"to": to, "data": data}, hex(block)],
    }
    return decode(out, bytes.fromhex(httpx.post(url, json=body).json()["result"][2:]))


def stored(db: Path) -> tuple[list[tuple], list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        obs = con.execute(
            "SELECT platform, value_usd, block_number, chain_id, method, contract, "
            "adapter_version, price_source FROM observations WHERE method = 'onchain' "
            "ORDER BY platform"
        ).fetchall()
        mk = con.execute(
            "SELECT deployment, market, asset, debt_raw, price_raw, price_unit, decimals, contract "
            "FROM onchain_markets ORDER BY deployment, market"
        ).fetchall()
        return obs, mk
    finally:
        con.close()


def test_sync_matches_views_and_mechanics(net, tmp_path):
    t = CountingTransport()
    s = run_sync(req(net, tmp_path), transport=t)
    assert [x["http_requests"] for x in s.snapshots] == [2, 2]  # each protocol snapshot
    assert s.rpc_requests == t.count
    obs, mk = stored(tmp_path / "db.duckdb")
    assert [o[0] for o in obs] == ["Aave v3 (devnet)", "Morpho Blue (devnet)"]
    assert all(o[2] == net.block and o[3] == 31337 and o[4] == "onchain" for o in obs)
    a, url, b = net.addresses, net.url, net.block
    blk = {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": [hex(b), False]}
    ts = int(httpx.post(url, json=blk).json()["result"]["timestamp"], 16)
    total = Fraction(0)
    for dep, _market, asset, debt, price, unit, dec, contract in mk:
        if dep != "aave-v3-devnet":
            continue
        vtoken = call(
            url,
            a["AaveProtocolDataProvider"],
            "getReserveTokensAddresses(address)",
            [asset],
            ["address"],
            ["address"] * 3,
            b,
        )[2]
        assert contract == vtoken.lower()
        (supply,) = call(url, vtoken, "totalSupply()", [], [], ["uint256"], b)
        (scaled,) = call(url, vtoken, "scaledTotalSupply()", [], [], ["uint256"], b)
        (p,) = call(
            url, a["AaveOracle"], "getAssetPrice(address)", [asset], ["address"], ["uint256"], b
        )
        rd = call(
            url,
            a["AaveProtocolDataProvider"],
            "getReserveData(address)",
            [asset],
            ["address"],
            ["uint256"] * 12,
            b,
        )
        index = ray_mul(am.compounded_interest("3.6", rd[6], ts - rd[11]), rd[10])
        assert int(debt) == supply == am.v_balance("3.6", scaled, index) > 0
        assert int(price) == p
        total += Fraction(supply * p, 10**dec * int(unit))
    assert obs[0][1] == pytest.approx(float(total), rel=1e-15)
    # Morpho: market(id).totalBorrowAssets, and the borrower's shares in assets (mechanics).
    (mid, debt, price, unit) = next(
        (m[1], m[3], m[4], m[5]) for m in mk if m[0] == "morpho-blue-devnet"
    )
    m = call(
        url,
        a["Morpho"],
        "market(bytes32)",
        [bytes.fromhex(mid[2:])],
        ["bytes32"],
        ["uint128"] * 6,
        b,
    )
    pos = call(
        url,
        a["Morpho"],
        "position(bytes32,address)",
        [bytes.fromhex(mid[2:]), net.borrowers[2]],
        ["bytes32", "address"],
        ["uint256", "uint128", "uint128"],
        b,
    )
    assert int(debt) == m[2] > 0
    assert abs(to_assets_up(pos[1], m[2], m[3]) - m[2]) <= 1
    assert obs[1][1] == pytest.approx(m[2] * int(price) / (1e6 * int(unit)), rel=1e-15)


def test_resync_same_block_takes_one_round_trip(net, tmp_path):
    run_sync(req(net, tmp_path))
    before = stored(tmp_path / "db.duckdb")
    t = CountingTransport()
    s = run_sync(req(net, tmp_path), transport=t)
    # only the block hash (with head, chain id, Multicall3 code) to check it is the same block
    assert t.count == 1 and s.rpc_requests == 1 and s.rows_written == 0
    assert sorted(s.skipped) == ["aave-v3-devnet", "morpho-blue-devnet"]
    assert stored(tmp_path / "db.duckdb") == before


def test_faults_are_retried_and_results_unchanged(net, tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    run_sync(req(net, clean))
    faults = {
        2: Fault("429", retry_after="0"),
        3: Fault("500"),
        4: Fault("malformed"),
        5: Fault("truncate", keep=1),
        6: Fault("timeout", delay=0.6),
        8: Fault("drop"),
    }
    with FaultProxy(net.url, faults) as proxy:
        client = RpcClient(proxy.url, chain_id=31337, timeout=0.3, sleep=lambda s: None)
        s = run_sync(req(net, tmp_path, rpc=proxy.url), client=client)
    assert s.retries >= 5
    assert stored(tmp_path / "db.duckdb") == stored(clean / "db.duckdb")


def test_node_killed_mid_sync_then_resume(net, tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    run_sync(req(net, clean))
    fork = Anvil.start(
        "--fork-url", net.url, "--fork-block-number", str(net.block), "--chain-id", "31337"
    )

    def kill_after_first(event, dep, info):
        if event == "done":
            fork.stop()

    client = RpcClient(fork.url, chain_id=31337, max_retries=2, sleep=lambda s: None)
    try:
        with pytest.raises(ChainError):
            run_sync(
                req(net, tmp_path, rpc=fork.url, allow_unsafe_head=True),  # fork head = block
                client=client,
                hook=kill_after_first,
            )
    finally:
        fork.stop()
    obs, _ = stored(tmp_path / "db.duckdb")
    assert len(obs) == 1  # the finished snapshot is kept, the interrupted one left no trace
    s = run_sync(req(net, tmp_path))  # resume against a healthy node
    assert s.skipped == ["aave-v3-devnet"] and len(s.snapshots) == 1
    assert stored(tmp_path / "db.duckdb") == stored(clean / "db.duckdb")
    run_sync(req(net, tmp_path))  # and once more: nothing doubles
    assert stored(tmp_path / "db.duckdb") == stored(clean / "db.duckdb")


def test_sync_cli_and_build_keep_onchain_rows(net, tmp_path):
    from typer.testing import CliRunner

    from lendscope.cli import app
    from lendscope.dataset.store import build, load_tables

    db, summary = tmp_path / "db.duckdb", tmp_path / "summary.json"
    r = CliRunner().invoke(
        app,
        [
            "sync",
            "--rpc",
            net.url,
            "--chain",
            "devnet",
            "--block",
            str(net.block),
            "--registry",
            str(net.reg_path),
            "--db",
            str(db),
            "--summary-json",
            str(summary),
        ],
    )
    assert r.exit_code == 0, r.output
    js = json.loads(summary.read_text())
    assert js["block"] == net.block and js["rows_written"] == 5 and js["rpc_requests"] > 0
    assert {"arguments", "cache_hits", "seconds", "snapshots"} <= set(js)
    before = stored(db)
    build([], db)  # a rebuild keeps on-chain rows and sync state
    assert stored(db) == before
    obs = load_tables(db)["observations"].to_pylist()
    assert sum(o["method"] == "onchain" for o in obs) == 2
    from lendscope.dataset.store import connect
    from lendscope.metrics.summary import MarketMetrics
    from lendscope.report.build import onchain_note

    note = onchain_note(MarketMetrics.compute(connect(db)))
    assert f"Aave v3 (devnet) on devnet at block {net.block}" in note
    assert f"Morpho Blue (devnet) on devnet at block {net.block}" in note


def test_positions_book_loads_in_risk_engine(net, tmp_path):
    from typer.testing import CliRunner

    from lendscope.cli import app
    from lendscope.risk.books import load_book

    out = tmp_path / "pos.csv"
    for proto in ("aave-v3", "morpho-blue"):
        r = CliRunner().invoke(
            app,
            [
                "positions",
                "--protocol",
                proto,
                "--block",
                str(net.block),
                "--out",
                str(out),
                "--rpc",
                net.url,
                "--chain",
                "devnet",
                "--registry",
                str(net.reg_path),
            ],
        )
        assert r.exit_code == 0, r.output
        book = load_book(out)
        assert book is not None
    text = out.read_text().splitlines()
    assert len(text) == 2 and "morpho_blue" in text[1]


def test_devnet_command_prints_url_first(tmp_path):
    reg = tmp_path / "r.toml"
    p = subprocess.Popen(
        [sys.executable, "-m", "lendscope.cli", "devnet", "--registry-out", str(reg)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = p.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:")
        assert "morpho-blue-devnet" in reg.read_text()
    finally:
        p.terminate()
        p.wait(timeout=10)

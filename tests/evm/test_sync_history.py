"""History on the devnet: registry versions switch the data provider at a block, and
``sync --period A..B`` fills every quarter in one resumable command.

The devnet's blocks are spread over several quarters (10 days apart) after the positions open,
and a second ``AaveProtocolDataProvider`` is deployed at a known block.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import httpx
import pytest

from lendscope.chain import RpcClient
from lendscope.dataset.schema import period_from_index, period_index
from lendscope.onchain.contracts import aave_artifacts
from lendscope.onchain.devnet import Deployer, start_devnet, write_registry
from lendscope.onchain.evm import Node
from lendscope.onchain.history import HistoryRequest, run_history
from lendscope.onchain.registry import Address, Registry, Version, dump_registry
from lendscope.onchain.sync import SyncRequest, period_of, run_sync

STEP = 10 * 86400  # seconds between the blocks that span the quarters


def rpc(url: str, method: str, *params):
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    return body.json()["result"]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = start_devnet()
    try:
        node = Node(n.url)
        d = Deployer(node, node.rpc("eth_accounts")[0])
        n.dp2 = d.deploy(
            aave_artifacts(), "AaveProtocolDataProvider", n.addresses["PoolAddressesProvider"]
        )
        n.dp2_block = int(node.rpc("eth_blockNumber"), 16)  # its deployment block
        node.rpc("anvil_mine", hex(3), hex(3600))
        node.rpc("anvil_mine", hex(40), hex(STEP))  # ~400 days: several quarter ends
        node.rpc("anvil_mine", hex(70), hex(1))  # every quarter-end block deep enough
        node.close()
        n.dir = tmp_path_factory.mktemp("hist")
        n.reg_path = write_registry(n, n.dir / "devnet.toml")
        n.genesis = int(rpc(n.url, "eth_getBlockByNumber", "0x0", False)["timestamp"], 16)
        n.head = int(rpc(n.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        yield n
    finally:
        n.stop()


def versioned(net, path: Path, *, old_version: bool = True) -> Path:
    """The devnet registry with Aave's data provider DP2 from its deployment block on."""
    aave, morpho = net.registry.deployments
    url = "https://example.org/devnet"
    old = Address(
        net.addresses["AaveProtocolDataProvider"].lower(), "AaveProtocolDataProvider v1", url
    )
    new = Address(net.dp2.lower(), "AaveProtocolDataProvider v2", url)
    versions = (Version({"data_provider": old}, url, until_block=net.dp2_block),)
    aave = replace(
        aave,
        addresses={**aave.addresses, "data_provider": new},
        versions=versions if old_version else (),
    )
    path.write_text(dump_registry(Registry(net.registry.chains, [aave, morpho])) + "\n")
    return path


def stored(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def sync_at(net, tmp_path, reg: Path, block: int):
    return run_sync(
        SyncRequest(
            net.url,
            "devnet",
            block=str(block),
            registry=reg,
            db=tmp_path / "db.duckdb",
            cache=tmp_path / "c.sqlite",
        )
    )


def test_data_provider_changes_at_a_block(net, tmp_path):
    reg = versioned(net, tmp_path / "v.toml")
    before = sync_at(net, tmp_path, reg, net.dp2_block - 1)
    after = sync_at(net, tmp_path, reg, net.dp2_block + 1)
    assert [s["registry_version"] for s in before.snapshots] == [0, None]  # aave, morpho
    assert [s["registry_version"] for s in after.snapshots] == [None, None]
    calls = dict(stored(tmp_path / "db.duckdb", "SELECT DISTINCT block_number, call FROM "
                        "onchain_markets WHERE deployment = 'aave-v3-devnet'"))  # fmt: skip
    assert calls[net.dp2_block - 1].startswith("AaveProtocolDataProvider v1.getReserveData")
    assert calls[net.dp2_block + 1].startswith("AaveProtocolDataProvider v2.getReserveData")
    notes = stored(tmp_path / "db.duckdb", "SELECT note FROM sources WHERE id LIKE 'onchain-aave%'")
    assert sorted("versions[0]" in n for (n,) in notes) == [False, True]
    # both providers read the same pool: the same debt either side of the switch
    values = [s["value_usd"] for s in (before.snapshots[0], after.snapshots[0])]
    assert values[0] == pytest.approx(values[1], rel=1e-6)


def test_without_the_old_version_the_earlier_block_is_a_clean_skip(net, tmp_path):
    reg = versioned(net, tmp_path / "nv.toml", old_version=False)
    s = sync_at(net, tmp_path, reg, net.dp2_block - 1)
    assert [x["deployment"] for x in s.snapshots] == ["morpho-blue-devnet"]
    why = s.not_deployed["aave-v3-devnet"]
    assert "AaveProtocolDataProvider v2" in why and "has no code" in why


def quarters(net) -> tuple[list[str], str, str]:
    """(ended quarters since genesis, the quarter before genesis, the head's quarter)."""
    first, last = period_index(period_of(net.genesis)), period_index(period_of(net.head))
    ended = [period_from_index(i) for i in range(first, last)]
    return ended, period_from_index(first - 1), period_from_index(last)


def history(net, db: Path, spec: str, **kw):
    req = HistoryRequest(spec, "devnet", net.url, registry=net.reg_path, db=db,
                         cache=db.with_suffix(".sqlite"))  # fmt: skip
    return run_history(req, **kw)


OBS = (
    "SELECT period, platform, value_usd, block_number FROM observations "
    "WHERE method = 'onchain' ORDER BY 1, 2"
)


def test_one_command_fills_every_quarter_then_rerun_writes_nothing(net, tmp_path):
    ended, before, head_q = quarters(net)
    assert len(ended) >= 4
    db = tmp_path / "db.duckdb"
    s = history(net, db, f"{before}..{head_q}")
    status = {c.period: c.status for c in s.cells}
    assert status[before] == "before genesis" and status[head_q] == "not yet ended"
    assert all(status[q] == "read" for q in ended)
    for c in s.cells[2:-1]:  # every quarter after the one the devnet started in: both apps
        assert sorted(c.written) == ["aave-v3-devnet", "morpho-blue-devnet"], c
    rows = stored(db, OBS)
    assert len(rows) == sum(len(c.written) for c in s.cells) >= 2 * (len(ended) - 1)
    blocks = [c.block for c in s.cells if c.status == "read"]
    assert blocks == sorted(blocks) and len(set(blocks)) == len(blocks)
    t = s.totals()
    assert t["read"] == len(ended) and t["rows_written"] == sum(c.rows_written for c in s.cells)
    # a rerun: each quarter's stored block hash asked once (+ chain id and genesis/head)
    again = history(net, db, f"{before}..{head_q}")
    assert again.totals()["snapshots_written"] == 0 and again.totals()["rows_written"] == 0
    assert again.rpc_requests == 2 + len(ended)
    assert [sorted(c.stored) for c in again.cells] == [sorted(c.written) for c in s.cells]
    assert stored(db, OBS) == rows
    # the metrics see the app x chain split across the synced quarters
    from lendscope.dataset.store import connect
    from lendscope.metrics.summary import MarketMetrics

    split = MarketMetrics.compute(connect(db)).onchain_split()
    read = [q for q in ended if any(c.period == q and c.written for c in s.cells)]
    assert split["periods"] == read
    assert {(r["platform"], r["chain"]) for r in split["rows"]} == {
        ("Aave v3 (devnet)", "devnet"), ("Morpho Blue (devnet)", "devnet")
    }  # fmt: skip
    assert all(v is not None and v > 0 for r in split["rows"] for v in r["usd"][1:])


class Breakable(httpx.HTTPTransport):
    """A transport that fails every request once ``broken`` is set."""

    broken = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.broken:
            raise httpx.ConnectError("node gone", request=request)
        return super().handle_request(request)


def test_interrupted_run_resumes_without_duplicates(net, tmp_path):
    ended, _, _ = quarters(net)
    spec = f"{ended[1]}..{ended[-1]}"  # quarters with both apps deployed
    clean = tmp_path / "clean.duckdb"
    history(net, clean, spec)
    db, t = tmp_path / "db.duckdb", Breakable()
    client = RpcClient(net.url, chain_id=31337, transport=t, max_retries=1, sleep=lambda s: None)

    def hook(event, info):
        if event == "cell" and info["status"] == "read":
            t.broken = True  # the node dies after the first quarter

    s = history(net, db, spec, clients={"devnet": client}, hook=hook)
    assert [c.status for c in s.cells][:3] == ["read", "failed", "not attempted"]
    assert "node gone" in s.failed[0].note or "retries" in s.failed[0].note
    assert len(stored(db, OBS)) == 2  # the first quarter only
    r = history(net, db, spec)
    assert r.cells[0].written == [] and len(r.cells[0].stored) == 2
    assert all(len(c.written) == 2 for c in r.cells[1:])
    assert stored(db, OBS) == stored(clean, OBS)  # nothing doubled, nothing missing


def test_cli_every_chain_reports_the_one_without_rpc(net, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lendscope.cli import app

    aave, morpho = net.registry.deployments
    ghost = replace(morpho, id="morpho-ghost", chain="ghostnet", chain_id=99999)
    reg = tmp_path / "two.toml"
    chains = {**net.registry.chains, "ghostnet": 99999}
    reg.write_text(dump_registry(Registry(chains, [aave, morpho, ghost])) + "\n")
    for v in ("GHOSTNET_RPC", "ETH_RPC_URL"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("DEVNET_RPC", net.url)
    ended, _, head_q = quarters(net)
    summary = tmp_path / "s.json"
    args = ["sync", "--period", f"{ended[1]}..{head_q}", "--chain", "all", "--registry", str(reg),
            "--db", str(tmp_path / "db.duckdb"), "--summary-json", str(summary)]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "skipped ghostnet: no RPC URL (set GHOSTNET_RPC)" in r.output
    assert "not yet ended" in r.output and "total:" in r.output
    js = json.loads(summary.read_text())
    assert js["chains"] == {"devnet": "read", "ghostnet": "no RPC URL (set GHOSTNET_RPC)"}
    assert js["totals"]["read"] == len(ended) - 1 and js["totals"]["not yet ended"] == 1
    assert js["totals"]["snapshots_written"] == 2 * (len(ended) - 1)
    assert {c["chain"] for c in js["cells"]} == {"devnet"}
    assert js["arguments"]["period"] == f"{ended[1]}..{head_q}"

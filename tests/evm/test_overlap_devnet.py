"""``lendscope overlap`` on the devnet: labelled borrowers' debt, read back independently.

The devnet's quarter is closed first: Morpho's market is accrued in the quarter's last block
(so ``market(id)`` totals are exact there), then the chain jumps into the next quarter and
mines 100 blocks, so the quarter-end block is found by timestamp and is past the safe depth.
The overlap rows are checked against Aave's own ``getUserAccountData.totalDebtBase`` and
Morpho's ``position`` shares in assets; a rerun writes nothing twice; the adjusted total drops
by the measured amount.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import httpx
import pyarrow as pa
import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as sel
from eth_utils import keccak

from lendscope.chain import RpcClient, quarter_end_block, quarter_end_timestamp
from lendscope.mechanics.morpho_blue import to_assets_up
from lendscope.onchain.devnet import start_devnet, write_registry
from lendscope.onchain.evm import Node
from lendscope.onchain.overlap import OverlapRequest, run_overlap
from lendscope.onchain.sync import period_of
from tests.evm.test_sync_devnet import CountingTransport, call

SRC = "https://example.org/devnet-attribution"
MARKET = "(address,address,address,address,uint256)"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = start_devnet()
    node = Node(n.url)
    try:
        n.reg_path = write_registry(n, tmp_path_factory.mktemp("ov") / "devnet.toml")
        n.accounts = node.rpc("eth_accounts")
        data = "0x" + (sel(f"accrueInterest({MARKET})") + encode([MARKET], [n.market_params])).hex()
        r = node.rpc(
            "eth_sendTransactionSync",
            {
                "from": n.accounts[0],
                "to": n.addresses["Morpho"],
                "data": data,
                "gas": hex(1_000_000),
            },
        )
        n.qblock = int(r["blockNumber"], 16)
        ts = int(node.rpc("eth_getBlockByNumber", hex(n.qblock), False)["timestamp"], 16)
        n.period = period_of(ts)
        n.date = datetime.fromtimestamp(ts, UTC).date()
        node.rpc("evm_setNextBlockTimestamp", hex(quarter_end_timestamp(n.period) + 3600))
        node.rpc("anvil_mine", hex(100), hex(12))
        yield n
    finally:
        node.close()
        n.stop()


def labels(tmp_path, net, extra: dict[int, str] | None = None):
    rows = {0: "Celsius", 2: "BlockFi"} | (extra or {})  # borrower index -> lender
    lines = ["# test labels: devnet borrowers", "chain,address,lender,kind,source,says"]
    lines += [
        f"devnet,{net.borrowers[i]},{lender},attribution,{SRC},devnet borrower {i}"
        for i, lender in sorted(rows.items())
    ]
    lines.append(f"devnet,{net.accounts[1]},Nexo,attribution,{SRC},the supplier owes nothing")
    p = tmp_path / f"labels-{len(rows)}.csv"  # one file per label set
    p.write_text("\n".join(lines) + "\n")
    return p


def req(net, tmp_path, **kw) -> OverlapRequest:
    base = dict(
        rpc=net.url,
        period=net.period,
        chain="devnet",
        registry=net.reg_path,
        labels=labels(tmp_path, net),
        db=tmp_path / "db.duckdb",
    )
    return OverlapRequest(**{**base, **kw})


def onchain_rows(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT period, lender, via_platform, amount_usd, source_id, published, chain_id, "
            "block_number, call, origin FROM \"overlaps\" WHERE method = 'onchain' ORDER BY lender"
        ).fetchall()
    finally:
        con.close()


def aave_debt(net, who: str) -> float:
    got = call(
        net.url,
        net.addresses["pool"],
        "getUserAccountData(address)",
        [who],
        ["address"],
        ["uint256"] * 6,
        net.qblock,
    )
    return got[1] / 1e8  # totalDebtBase, in the oracle's USD with 8 decimals


def morpho_debt(net, who: str) -> float:
    b = keccak(encode([MARKET], [net.market_params]))  # the market id
    m = call(
        net.url,
        net.addresses["Morpho"],
        "market(bytes32)",
        [b],
        ["bytes32"],
        ["uint128"] * 6,
        net.qblock,
    )
    pos = call(
        net.url,
        net.addresses["Morpho"],
        "position(bytes32,address)",
        [b, who],
        ["bytes32", "address"],
        ["uint256", "uint128", "uint128"],
        net.qblock,
    )
    (price,) = call(
        net.url,
        net.addresses["AaveOracle"],
        "getAssetPrice(address)",
        [net.addresses["USDC"]],
        ["address"],
        ["uint256"],
        net.qblock,
    )
    return to_assets_up(pos[1], m[2], m[3]) / 1e6 * price / 1e8


def test_quarter_end_block_is_the_accrual_block(net):
    with RpcClient(net.url) as c:
        assert quarter_end_block(c, net.period) == net.qblock


def test_overlap_cli_matches_protocol_views_and_rerun_adds_nothing(net, tmp_path):
    from typer.testing import CliRunner

    from lendscope.cli import app

    summary = tmp_path / "summary.json"
    r = CliRunner().invoke(
        app,
        [
            "overlap",
            "--period",
            net.period,
            "--rpc",
            net.url,
            "--chain",
            "devnet",
            "--registry",
            str(net.reg_path),
            "--labels",
            str(labels(tmp_path, net)),
            "--db",
            str(tmp_path / "db.duckdb"),
            "--summary-json",
            str(summary),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Celsius via Aave v3 (devnet)" in r.output and "BlockFi via Morpho Blue" in r.output
    js = json.loads(summary.read_text())
    assert js["block"] == net.qblock and js["labelled"] == 3 and len(js["rows"]) == 2
    rows = onchain_rows(tmp_path / "db.duckdb")
    (bf, cel) = rows
    assert cel[:3] == (net.period, "Celsius", "Aave v3 (devnet)")
    assert bf[:3] == (net.period, "BlockFi", "Morpho Blue (devnet)")
    assert cel[3] == pytest.approx(aave_debt(net, net.borrowers[0]), abs=1e-6) and cel[3] > 7e3
    assert bf[3] == pytest.approx(morpho_debt(net, net.borrowers[2]), rel=1e-12) and bf[3] > 1e4
    for row in rows:
        assert row[5] == net.date and row[6:10] == (
            31337,
            net.qblock,
            "read_positions(owners)",
            "onchain",
        )
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    try:
        (note,) = con.execute("SELECT note FROM sources WHERE id = ?", [cel[4]]).fetchone()
        acc = con.execute(
            "SELECT lender, owner, debt_usd FROM onchain_overlap_accounts ORDER BY lender"
        ).fetchall()
    finally:
        con.close()
    assert "block_hash 0x" in note and "registry entry aave-v3-devnet" in note
    assert [(a[0], a[1].lower()) for a in acc] == [
        ("BlockFi", net.borrowers[2]),
        ("Celsius", net.borrowers[0]),
    ]
    # rerun at the same block hash with the same labels: one round trip, nothing written
    t = CountingTransport()
    s = run_overlap(req(net, tmp_path), transport=t)
    assert t.count == 1 and s.rpc_requests == 1 and s.rows == [] and len(s.skipped) == 2
    assert onchain_rows(tmp_path / "db.duckdb") == rows


def test_new_labels_replace_rows_and_build_keeps_them(net, tmp_path):
    from lendscope.dataset.store import build

    run_overlap(req(net, tmp_path))
    first = onchain_rows(tmp_path / "db.duckdb")
    s = run_overlap(req(net, tmp_path, labels=labels(tmp_path, net, {1: "Celsius"})))
    assert sorted(s.read) == ["aave-v3-devnet", "morpho-blue-devnet"]
    rows = onchain_rows(tmp_path / "db.duckdb")
    assert [r[1:3] for r in rows] == [r[1:3] for r in first]  # replaced, not added
    both = aave_debt(net, net.borrowers[0]) + aave_debt(net, net.borrowers[1])
    assert rows[1][3] == pytest.approx(both, abs=1e-5)
    build([], tmp_path / "db.duckdb")  # a rebuild keeps on-chain overlap rows
    assert onchain_rows(tmp_path / "db.duckdb") == rows


def test_adjusted_total_drops_by_the_measured_amount(net, tmp_path):
    from lendscope.dataset.store import connect_tables, load_tables
    from lendscope.metrics.summary import MarketMetrics

    run_overlap(req(net, tmp_path))
    measured = sum(r[3] for r in onchain_rows(tmp_path / "db.duckdb"))
    tables = load_tables(tmp_path / "db.duckdb")
    # a cited total for the devnet quarter, so the quarter has a total to adjust
    obs = tables["observations"].to_pylist()
    obs.append(
        {
            **obs[0],
            "period": net.period,
            "segment": "total",
            "platform": "",
            "chain": "",
            "metric": "outstanding_loans_usd",
            "value_usd": 1e9,
            "method": "reported",
            "published": net.date,
        }
    )
    tables["observations"] = pa.Table.from_pylist(obs, schema=tables["observations"].schema)

    def for_period(t: dict) -> dict:
        return MarketMetrics.compute(connect_tables(t), net.date).for_period(net.period)

    with_ = for_period(tables)
    cited = tables["overlaps"].filter(pa.compute.not_equal(tables["overlaps"]["method"], "onchain"))
    without = for_period({**tables, "overlaps": cited})
    assert (without["total_usd"], without["total_adjusted_usd"]) == (1e9, 1e9)
    assert with_["overlap_usd"] == pytest.approx(measured, abs=0.01)
    assert with_["total_adjusted_usd"] == pytest.approx(1e9 - measured, abs=0.01)


def test_errors_are_clean(net, tmp_path):
    with pytest.raises(ValueError, match="quarter must look like"):
        run_overlap(req(net, tmp_path, period="2024-12"))
    with pytest.raises(ValueError, match="labels no address on devnet"):
        run_overlap(req(net, tmp_path, labels=None))  # the bundled labels are Ethereum's
    p = tmp_path / "bad.csv"
    p.write_text(
        f"chain,address,lender,kind,source,says\ndevnet,{net.borrowers[0]},Nobody,"
        f"attribution,{SRC},x\n"
    )
    from lendscope.onchain.labels import LabelError

    with pytest.raises(LabelError, match=r"bad.csv: row 2, field 'lender': unknown lender"):
        run_overlap(req(net, tmp_path, labels=p))
    assert httpx.post(net.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).json()

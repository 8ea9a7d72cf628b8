"""The app x chain table of figures read on-chain: metrics, report and dashboard.

On-chain snapshots are written the way ``lendscope sync`` writes them (no node needed), for
quarters the bundled data covers, so the report and the DeFi page can be shown for them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from lendscope.chain import quarter_end_timestamp
from lendscope.dataset.store import connect, upsert_onchain
from lendscope.metrics.summary import MarketMetrics
from lendscope.onchain.protocols import MarketRow, Snapshot
from lendscope.onchain.registry import load_registry
from lendscope.onchain.sync import _record

USDC = "0xaf88d065e77c8cc2239327c5edb3a432268e5831"
#: (deployment, quarter, block, USDC debt): Arbitrum read in two quarters, Base in one.
READS = [
    ("aave-v3-arbitrum", "2025Q2", 352_000_000, 400_000_000),
    ("aave-v3-arbitrum", "2025Q3", 383_000_000, 450_000_000),
    ("aave-v3-base", "2025Q3", 36_000_000, 120_000_000),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("split") / "db.duckdb"
    deps = {d.id: d for d in load_registry().deployments}
    for dep_id, q, block, debt in READS:
        d = deps[dep_id]
        row = MarketRow(USDC, USDC, "USDC", 6, debt * 10**6, 10**8, 10**8, USDC, "c", "p")
        snap = Snapshot(d, block, "1", d.addr("pool"), "test", "p", [row])
        ts = quarter_end_timestamp(q) - 1
        upsert_onchain(path, _record(snap, ts, q, "0x" + "ab" * 32))
    return path


def test_split_by_app_and_chain_across_quarters(db):
    m = MarketMetrics.compute(connect(db))
    split = m.onchain_split()
    assert split["periods"] == ["2025Q2", "2025Q3"]
    rows = {(r["platform"], r["chain"]): r for r in split["rows"]}
    assert rows[("Aave v3 Arbitrum", "arbitrum")]["usd"] == [4e8, 4.5e8]
    assert rows[("Aave v3 Base", "base")]["usd"] == [None, 1.2e8]  # not read in 2025Q2
    assert rows[("Aave v3 Base", "base")]["blocks"] == [None, 36_000_000]
    assert m.onchain_split("2025Q2")["periods"] == ["2025Q2"]  # up to the quarter shown
    assert m.onchain_split(last=1)["periods"] == ["2025Q3"]
    before = datetime(2025, 7, 1, tzinfo=UTC).date()  # a vintage before the 2025Q3 reads
    assert MarketMetrics.compute(connect(db), before).onchain_split()["periods"] == ["2025Q2"]


def test_report_shows_the_split(db):
    from lendscope.report.build import render_html

    m = MarketMetrics.compute(connect(db))
    html = render_html(m, "2025Q3", m.vintage, [], SimpleNamespace(sentences=[], period="2025Q3"))
    table = html.split("<h2>Read on-chain, by app and chain</h2>")[1].split("</table>")[0]
    assert "<th>2025Q2</th><th>2025Q3</th>" in table
    assert "Aave v3 Arbitrum" in table and "Aave v3 Base" in table


def test_report_without_onchain_figures_has_no_table():
    from lendscope.report.build import render_html
    from tests.helpers import bundled_metrics

    m = bundled_metrics(None)
    html = render_html(m, "2025Q3", m.vintage, [], SimpleNamespace(sentences=[], period="2025Q3"))
    assert "Read on-chain, by app and chain" not in html


def test_defi_page_shows_the_split(db):
    import httpx

    from lendscope.app import create_app
    from tests.app.helpers import Server

    with Server(create_app(db, token="", warm=False)) as s:
        page = httpx.get(f"{s.url}/defi?period=2025Q3", timeout=60)
    assert page.status_code == 200, page.text
    table = page.text.split('id="defi-onchain"')[1].split("</table>")[0]
    assert "Aave v3 Arbitrum" in table and "Aave v3 Base" in table and "arbitrum" in table

"""The command line: metrics JSON and table, export, sources, build."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lendscope.cli import app

runner = CliRunner()
SERIES_KEYS = {"ath", "peak", "trough", "drawdown_from_peak", "rebound_from_trough"}


def run(*args: str):
    res = runner.invoke(app, list(args))
    return res


def test_metrics_json_has_the_documented_shape():
    res = run("metrics", "--period", "2024Q4", "--vintage", "2025-04-14", "--format", "json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for k in (
        "period",
        "total_usd",
        "cefi_usd",
        "defi_usd",
        "cdp_usd",
        "total_ex_cdp_usd",
        "defi_share_ex_cdp",
        "onchain_share",
        "cefi_top3_share",
        "cefi_hhi",
        "cefi_top3",
    ):
        assert k in d
    assert d["total_usd"] == 36.5e9 and d["period"] == "2024Q4"
    assert set(d["cefi_top3"][0]) >= {"platform", "usd", "share"}
    assert set(d["series"]) == {"total", "total_ex_cdp", "cefi", "defi", "cdp"}
    for s in d["series"].values():
        assert set(s) >= SERIES_KEYS
    assert d["series"]["defi"]["rebound_from_trough"] == pytest.approx(9.61, abs=0.01)


def test_metrics_defaults_to_latest_and_growth_since():
    res = run("metrics", "--since", "2022Q4")
    d = json.loads(res.stdout)
    assert d["period"] == "2025Q3"
    assert d["growth_since"]["total_ex_cdp"] == pytest.approx(65.36e9 / 9.6e9 - 1, rel=1e-3)


def test_metrics_table_and_bad_arguments():
    res = run("metrics", "--period", "2024Q4", "--format", "table")
    assert res.exit_code == 0 and "drawdown" in res.stdout
    bad = run("metrics", "--period", "2024-Q4")
    assert bad.exit_code == 2 and "not a quarter" in bad.output
    bad = run("metrics", "--vintage", "April")
    assert bad.exit_code == 2 and "not a date" in bad.output


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_export(tmp_path, fmt):
    res = run("export", "--format", fmt, "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    names = {p.name for p in tmp_path.iterdir()}
    for t in ("sources", "observations", "overlaps", "vc_funding", "metrics_quarterly"):
        assert f"{t}.{fmt}" in names
    if fmt == "parquet":
        q = pq.read_table(tmp_path / "metrics_quarterly.parquet").to_pylist()
        row = next(r for r in q if r["period"] == "2025Q3")
        assert row["total_usd"] == pytest.approx(73.58e9)


def test_sources_counts_figures():
    res = run("sources", "--format", "json")
    rows = json.loads(res.stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["galaxy-2025-04-state-of-crypto-lending"]["figures"] >= 10
    assert all(r["url"].startswith("http") for r in rows)
    assert run("sources").exit_code == 0


def test_build_then_metrics_use_the_database(tmp_path):
    db = tmp_path / "m.duckdb"
    user = tmp_path / "q4.csv"
    user.write_text(
        "period,segment,platform,chain,metric,value_usd,source_id,method,published,note\n"
        "2025Q4,cefi,,,outstanding_loans_usd,20e9,cbia-2026-01-tether-2025,estimate,"
        "2026-02-01,analyst estimate\n"
        "2025Q4,cefi,unattributed,,outstanding_loans_usd,3e9,cbia-2026-01-tether-2025,"
        "estimate,2026-02-01,\n"
    )
    first = run("build", "--add", str(user), "--db", str(db))
    assert first.exit_code == 0, first.output
    again = run("build", "--add", str(user), "--db", str(db))
    assert "(0 new)" in again.stdout
    d = json.loads(run("metrics", "--period", "2025Q4", "--db", str(db)).stdout)
    assert d["cefi_usd"] == 20e9
    assert d["cefi_top3"][0] == {"platform": "Tether", "usd": 17e9, "share": 0.85, "members": 1}


@pytest.mark.spark
def test_metrics_on_pyspark_equal_duckdb():
    a = run("metrics", "--period", "2024Q4", "--vintage", "2025-06-04")
    b = run("metrics", "--period", "2024Q4", "--vintage", "2025-06-04", "--backend", "pyspark")
    assert b.exit_code == 0, b.output
    assert json.loads(a.stdout) == json.loads(b.stdout)

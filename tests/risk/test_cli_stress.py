"""``lendscope stress``, ``var`` and ``book synth``: JSON shape, determinism, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lendscope.cli import app

EX = Path(__file__).parents[2] / "src/lendscope/risk/examples"
BOOK = [a for f in sorted(EX.iterdir()) for a in ("--book", str(f))]
runner = CliRunner()


def run(*args: str):
    r = runner.invoke(app, list(args))
    return r


def test_stress_json_shape_and_determinism(tmp_path):
    a = run("stress", "--scenario", "2022", *BOOK, "--seed", "3", "--format", "json")
    assert a.exit_code == 0, a.output
    s = json.loads(a.stdout)  # only the JSON on stdout
    assert {"bad_debt_usd", "liquidated_usd", "failed_lenders", "by_segment"} <= set(s)
    assert list(s["by_segment"]) == ["cefi", "defi", "cdp"]
    assert s["failed_lenders"][0]["lender"] == "ExampleLend"
    b = run("stress", "--scenario", "2022", *BOOK, "--seed", "3", "--format", "json", "--out",
            str(tmp_path))  # fmt: skip
    assert b.stdout == a.stdout
    assert (tmp_path / "stress.json").read_text() == a.stdout
    assert (tmp_path / "liquidations.svg").read_text().startswith("<svg")


def test_stress_synthetic_table():
    r = run("stress", "--scenario", "black-thursday", "--synthetic", "--positions", "200")
    assert r.exit_code == 0, r.output
    assert "Scenario black-thursday" in r.stdout and "cefi" in r.stdout


def test_stress_errors_are_clear(tmp_path):
    bad = tmp_path / "tape.csv"
    bad.write_text((EX / "loan_tape.csv").read_text().replace(",BTC,1.25,", ",DOGE,1.25,"))
    r = run("stress", "--scenario", "2022", "--book", str(bad))
    assert r.exit_code == 1 and f"{bad}: row 2: collateral_asset: unknown asset 'DOGE'" in r.output
    r = run("stress", "--scenario", "nope", "--synthetic")
    assert r.exit_code == 1 and "no built-in scenario" in r.output
    assert run("stress", "--scenario", "2022").exit_code == 2  # neither --book nor --synthetic


def test_var_json_shape_and_same_on_every_executor():
    args = ("var", "--paths", "3000", "--horizon", "7d", *BOOK, "--seed", "1", "--format", "json")
    serial = run(*args, "--executor", "serial")
    assert serial.exit_code == 0, serial.output
    v = json.loads(serial.stdout)
    assert {"var95_usd", "evar99_usd", "lar95_usd"} <= set(v)
    assert v["evar99_usd"] >= v["var95_usd"] >= 0 and v["lar95_usd"] > 0
    assert set(v["by_segment"]) == {"cefi", "defi", "cdp"}
    assert run(*args).stdout == serial.stdout  # the default is the local process pool
    table = run("var", "--paths", "500", *BOOK)
    assert "VAR95" in table.stdout and "EVAR99" in table.stdout and "LAR95" in table.stdout


def test_book_synth_writes_loadable_files(tmp_path):
    r = run("book", "synth", "--positions", "100", "--seed", "2", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cdp_vaults.csv", "cefi_funding.yaml", "cefi_loans.csv", "defi_positions.csv"]
    s = run("stress", "--scenario", "2022", "--format", "json",
            *[a for n in names for a in ("--book", str(tmp_path / n))])  # fmt: skip
    assert s.exit_code == 0, s.output
    assert json.loads(s.stdout)["book"]["lenders"] == 4


@pytest.mark.spark
def test_var_on_spark_equals_serial():
    args = ("var", "--paths", "3000", "--horizon", "7d", *BOOK, "--seed", "1", "--format", "json")
    serial = run(*args, "--executor", "serial")
    spark = run(*args, "--executor", "spark")
    assert spark.exit_code == 0, spark.output
    assert spark.stdout == serial.stdout

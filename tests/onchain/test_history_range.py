"""``sync --period A..B [--chain all]`` without a node: ranges, RPC URLs per chain, errors."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.core.settings import rpc_url
from lendscope.onchain.history import HistoryRequest, is_history, parse_period_range, run_history


def test_ranges_and_single_quarters():
    assert parse_period_range("2024Q3..2025Q2") == ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    assert parse_period_range(" 2024q4 .. 2024-Q4 ") == ["2024Q4"]
    assert parse_period_range("2024Q4") == ["2024Q4"]
    assert len(parse_period_range("2021Q1..2025Q3")) == 19


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ("2025Q3..2021Q1", r"ends before it starts \(2021Q1 is before 2025Q3\)"),
        ("2024Q5..2025Q1", r"'2024Q5' in --period '2024Q5..2025Q1' is not a quarter"),
        ("2024..2025", r"'2024' in --period"),
        ("2024Q1..", r"must be a quarter \(2024Q4\) or a range"),
        ("..2024Q1", r"must be a quarter"),
        ("2024Q1..2024Q2..2024Q3", r"must be a quarter"),
    ],
)
def test_bad_ranges_say_what_is_wrong(spec, want):
    with pytest.raises(ValueError, match=want):
        parse_period_range(spec)


def test_history_mode():
    assert is_history("2024Q1..2024Q2", "ethereum") and is_history("2024Q1", "all")
    assert not is_history("2024Q1", "ethereum") and not is_history(None, "ethereum")


def test_eth_rpc_url_serves_only_ethereum_in_multi_chain_runs(monkeypatch):
    monkeypatch.setenv("ETH_RPC_URL", "http://eth")
    monkeypatch.delenv("ARBITRUM_RPC", raising=False)
    assert rpc_url("arbitrum") == "http://eth"  # single-chain behaviour unchanged
    assert rpc_url("arbitrum", any_chain_fallback=False) is None
    assert rpc_url("ethereum", any_chain_fallback=False) == "http://eth"
    monkeypatch.setenv("ARBITRUM_RPC", "http://arb")
    assert rpc_url("arbitrum", any_chain_fallback=False) == "http://arb"


def _clear_rpcs(monkeypatch):
    for c in ("ETH_RPC_URL", "ETHEREUM_RPC", "ARBITRUM_RPC", "OPTIMISM_RPC", "POLYGON_RPC",
              "AVALANCHE_RPC", "BASE_RPC"):  # fmt: skip
        monkeypatch.delenv(c, raising=False)


def test_no_rpc_for_any_chain_is_an_error(monkeypatch, tmp_path):
    _clear_rpcs(monkeypatch)
    with pytest.raises(ValueError, match=r"no chain has an RPC URL: arbitrum: no RPC URL") as e:
        run_history(HistoryRequest("2024Q1..2024Q2", "all", db=tmp_path / "d.duckdb"))
    assert "ethereum: no RPC URL (set ETHEREUM_RPC or ETH_RPC_URL)" in str(e.value)


def test_rpc_with_every_chain_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--rpc names one node"):
        run_history(HistoryRequest("2024Q1", "all", rpc="http://x", db=tmp_path / "d.duckdb"))


def _sync(*args: str):
    return CliRunner().invoke(app, ["sync", *args])


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["--period", "2025Q3..2021Q1", "--rpc", "http://x"], "ends before it starts"),
        (["--period", "2021Q1..2025Q9", "--rpc", "http://x"], "is not a quarter"),
        (["--chain", "all", "--block", "5"], "--block reads one chain"),
    ],
)
def test_cli_bad_ranges_are_usage_errors(args, want):
    r = _sync(*args)
    assert r.exit_code == 2, r.output
    assert want in " ".join(re.sub(r"[│╭╮╰╯─]", " ", r.output).split())


def test_cli_unknown_chain_and_no_rpc(monkeypatch, tmp_path):
    _clear_rpcs(monkeypatch)
    r = _sync("--period", "2024Q1..2024Q2", "--chain", "nowhere", "--db", str(tmp_path / "d"))
    assert r.exit_code == 1 and "chain 'nowhere' is not in the registry" in r.output
    r = _sync("--period", "2024Q1..2024Q2", "--chain", "all", "--db", str(tmp_path / "d"))
    assert r.exit_code == 1 and "no chain has an RPC URL" in r.output

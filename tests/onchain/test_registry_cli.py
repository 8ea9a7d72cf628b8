"""`lendscope registry`: every deployment as a table or as stable JSON (schema 1)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.onchain.registry import load_registry

runner = CliRunner()
DEPLOYMENT_KEYS = {"id", "app", "platform", "family", "chain", "chain_kind", "chain_id", "segment",
                   "source", "start_block", "start_unit", "addresses", "versions"}  # fmt: skip
TRON_USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"


def run_json(*args: str) -> dict:
    r = runner.invoke(app, ["registry", "--format", "json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_json_lists_every_deployment_with_its_fields():
    out = run_json()
    reg = load_registry()
    assert out["schema"] == 1
    assert [d["id"] for d in out["deployments"]] == [d.id for d in reg.deployments]
    assert out["summary"]["deployments"] == len(reg.deployments)
    assert out["summary"]["apps"] == len({d.protocol for d in reg.deployments})
    assert out["summary"]["chains"] == len({d.chain for d in reg.deployments})
    assert {c["name"] for c in out["chains"]} == {d.chain for d in reg.deployments}
    for d in out["deployments"]:
        assert set(d) == DEPLOYMENT_KEYS
        assert d["addresses"], d["id"]
        for a in d["addresses"]:
            assert set(a) == {"key", "address", "label", "url"}
            assert a["label"] and a["url"].startswith("https://")
        assert d["start_unit"] in ("block", "slot")


def test_json_carries_start_blocks_and_version_windows():
    by_id = {d["id"]: d for d in run_json()["deployments"]}
    assert by_id["morpho-blue"]["start_block"] == 18883124
    assert by_id["morpho-blue-base"]["start_block"] == 13977148
    arb = by_id["aave-v3-arbitrum"]["versions"]
    assert arb[0]["from_time"] is None and arb[0]["until_time"] == "2023-05-15T11:01:08Z"
    assert arb[0]["addresses"][0]["key"] == "data_provider"
    mantle = by_id["aave-v3-mantle"]["versions"]
    assert {a["key"] for a in mantle[0]["addresses"]} == {
        "pool", "data_provider", "oracle", "addresses_provider"
    }  # fmt: skip


def test_chain_filter_and_coverage():
    out = run_json("--chain", "plasma")
    assert {d["chain"] for d in out["deployments"]} == {"plasma"}
    assert "aave-v3-plasma" in {d["id"] for d in out["deployments"]}
    assert out["chains"][0] == {
        "name": "plasma", "kind": "evm", "chain_id": 9745, "genesis_hash": None,
        "chain_identifier": None, "deployments": len(out["deployments"]),
    }  # fmt: skip
    full = run_json()
    apps = {d["app"] for d in full["deployments"]}
    assert {"aave-v3", "morpho-blue", "compound-v3", "spark"} <= apps
    chains = {d["chain"] for d in full["deployments"]}
    assert {"bsc", "sonic", "gnosis", "plasma", "scroll", "linea", "mantle"} <= chains


def test_unknown_chain_is_a_usage_error():
    r = runner.invoke(app, ["registry", "--chain", "atlantis"])
    assert r.exit_code == 2
    assert "atlantis" in r.output and "ethereum" in r.output


def test_table_is_the_default_and_names_every_deployment():
    r = runner.invoke(app, ["registry", "--chain", "gnosis"])
    assert r.exit_code == 0, r.output
    for d in load_registry().select("gnosis"):
        assert d.id in r.stdout
    assert "0x2Dae5307c5E3FD1CF5A72Cb6F698f915860607e0" in r.stdout  # Spark's pool, unfolded


def _custom(tmp_path):
    path = tmp_path / "reg.toml"
    path.write_text(f"""
[chains.tron]
kind = "tron"
chain_id = 728126428
[chains.solana]
kind = "solana"
genesis_hash = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"
[[deployment]]
id = "t"
protocol = "t"
family = "compound_v2"
chain = "tron"
platform = "T"
segment = "defi"
source = "https://example.org/t"
start_block = 7
[deployment.addresses]
usdt = {{ address = "{TRON_USDT}", label = "USDT" }}
[[deployment]]
id = "s"
protocol = "s"
family = "kamino"
chain = "solana"
platform = "S"
segment = "defi"
source = "https://example.org/s"
start_slot = 9
[deployment.addresses]
program = {{ address = "{SPL_TOKEN}", label = "Program" }}
""")
    return path


def test_non_evm_chains_in_a_given_registry(tmp_path):
    out = run_json("--registry", str(_custom(tmp_path)))
    t, s = out["deployments"]
    assert (t["chain_kind"], t["chain_id"], t["start_block"], t["start_unit"]) == (
        "tron", 728126428, 7, "block"
    )  # fmt: skip
    assert t["addresses"][0]["address"] == TRON_USDT  # shown as Tron users expect
    assert (s["chain_kind"], s["chain_id"], s["start_block"], s["start_unit"]) == (
        "solana", None, 9, "slot"
    )  # fmt: skip
    assert out["summary"]["chain_kinds"] == ["solana", "tron"]
    r = runner.invoke(app, ["registry", "--registry", str(_custom(tmp_path))])
    assert r.exit_code == 0 and TRON_USDT in r.stdout and "slot 9" in r.stdout


def test_a_broken_registry_exits_1_naming_the_problem(tmp_path):
    path = _custom(tmp_path)
    path.write_text(path.read_text().replace(TRON_USDT, TRON_USDT[:-1] + "u"))
    r = runner.invoke(app, ["registry", "--registry", str(path)])
    assert r.exit_code == 1
    assert "deployment 't'" in r.output and "addresses.usdt.address" in r.output


@pytest.mark.slow
def test_registry_command_loads_no_heavy_library(tmp_path):
    from tests.cli.test_startup import loaded

    assert loaded(["registry", "--format", "json"], tmp_path) == set()

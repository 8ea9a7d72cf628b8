"""The Euler v2, Fluid, Silo v2, Lista and Radiant registry entries (more_apps.toml).

Checks that can run offline: every address is written EIP-55-checksummed and labelled; every
GitHub citation is pinned to a commit; each ``price_oracle`` (and Fluid's ``native.price_as``)
equals the installed npm address book (@bgd-labs/aave-address-book 4.44.22, pinned in
evm/package.json) for the entry's chain; the chain ids in the cited paths (Euler's
``addresses/<chainId>/``, Fluid's ``deployments/<network>/``) match the entry's chain.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from eth_utils import to_checksum_address

from lendscope.onchain.protocols import FAMILIES
from lendscope.onchain.registry import REGISTRY_DIR, load_registry
from tests.evm.harness import NODE_MODULES

FILE = REGISTRY_DIR / "more_apps.toml"
RAW = tomllib.loads(FILE.read_text())["deployment"]
REG = {d.id: d for d in load_registry().deployments}
BOOK = NODE_MODULES / "@bgd-labs" / "aave-address-book" / "src"
#: chain -> (address book file, wrapped native token constant)
AAVE = {
    "ethereum": ("AaveV3Ethereum", "WETH"),
    "arbitrum": ("AaveV3Arbitrum", "WETH"),
    "base": ("AaveV3Base", "WETH"),
    "avalanche": ("AaveV3Avalanche", "WAVAX"),
    "bsc": ("AaveV3BNB", "WBNB"),
    "sonic": ("AaveV3Sonic", "wS"),
    "plasma": ("AaveV3Plasma", "WXPL"),
    "polygon": ("AaveV3Polygon", "WPOL"),
}
FLUID_NETWORK = {
    "mainnet": "ethereum",
    "arbitrum": "arbitrum",
    "base": "base",
    "polygon": "polygon",
    "plasma": "plasma",
    "bnb": "bsc",
}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def book(name: str) -> dict[str, str]:
    if not BOOK.exists():
        pytest.fail("run `npm ci` in evm/ (make test does) for @bgd-labs/aave-address-book")
    text = (BOOK / f"{name}.sol").read_text()
    return dict(re.findall(r"constant (\w+) =\s*(?:\w+\()?(0x[0-9a-fA-F]{40})", text))


def test_entries_load_with_known_families_and_chains():
    ids = [d["id"] for d in RAW]
    assert len(ids) == len(set(ids)) == 22
    for d in RAW:
        got = REG[d["id"]]
        assert got.family in FAMILIES and got.chain_id
    fams = {d["family"] for d in RAW}
    assert fams == {"euler_v2", "fluid", "silo", "morpho_blue", "aave_v2"}


def test_addresses_checksummed_labelled_and_commit_cited():
    for d in RAW:
        assert re.search(r"/blob/[0-9a-f]{40}/", d["source"]), d["id"]
        for key, a in d["addresses"].items():
            assert a["address"] == to_checksum_address(a["address"]), (d["id"], key)
            assert a["label"] and a["url"].startswith("https://")
            if "aave-address-book" not in a["url"]:  # the book is pinned by evm/package.json
                assert re.search(r"/blob/[0-9a-f]{40}/", a["url"]), (d["id"], key)
        for k, v in {**d.get("exclude_silos", {}), **d.get("native", {})}.items():
            for x in (k, v):
                if isinstance(x, str) and ADDRESS.fullmatch(x):
                    assert x == to_checksum_address(x), (d["id"], x)


@pytest.mark.parametrize("d", RAW, ids=lambda d: d["id"])
def test_usd_oracles_match_the_aave_address_book(d):
    key = "price_oracle" if "price_oracle" in d["addresses"] else None
    if key is None:  # Radiant: its own AaveOracle, cited, not in the Aave book
        assert d["family"] == "aave_v2" and d["oracle_quote"] == "USD"
        return
    name, wrapped = AAVE[d["chain"]]
    b = book(name)
    assert d["addresses"][key]["address"] == b["ORACLE"]
    assert name in d["addresses"][key]["url"]
    if "native" in d:
        assert d["native"]["price_as"] == b[f"{wrapped}_UNDERLYING"]


def test_cited_paths_name_the_entries_chain():
    for d in RAW:
        got = REG[d["id"]]
        if d["family"] == "euler_v2":
            cid = re.search(r"/addresses/(\d+)/CoreAddresses\.json$", d["source"]).group(1)
            assert int(cid) == got.chain_id, d["id"]
        if d["family"] == "fluid":
            net = re.search(r"/deployments/(\w+)/Liquidity\.json$", d["source"]).group(1)
            assert FLUID_NETWORK[net] == d["chain"], d["id"]


def test_log_scanning_entries_start_where_cited():
    for d in RAW:
        if d["family"] in ("silo", "morpho_blue"):
            assert isinstance(d["start_block"], int) and d["start_block"] > 0, d["id"]
            assert d["log_chunk"] == 0

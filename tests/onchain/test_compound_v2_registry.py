"""compound_v2.toml: every entry loads, and addresses equal their cited sources.

Venus is checked against the installed npm package (``@venusprotocol/venus-protocol`` 5.2.0,
networks/mainnet.json, pinned in evm/package.json). The other sources are repository files and
documentation pages, not installable here: their addresses are pinned below as read from the
cited commit (compound-finance/compound-protocol@a3214f6 networks/mainnet.json,
moonwell-fi/moonwell-contracts-v2@45866f4 chains/*.json, justlend/justlend-docs@17a7929
docs/developers/deployed_contracts.md, DefiLlama-Adapters@0046bfd projects/benqi/index.js).
"""

from __future__ import annotations

import json

import pytest

from lendscope.onchain.addresses import is_tron_address
from lendscope.onchain.registry import REGISTRY_DIR, load_registry
from tests.evm.harness import NODE_MODULES

VENUS = NODE_MODULES / "@venusprotocol" / "venus-protocol" / "networks" / "mainnet.json"
CITED = {
    "compound-v2": ("0x3d9819210A31b4961b30EF54bE2aeD79B9c9Cd3B", 7710671),
    "benqi-core": ("0x486Af39519B4Dc9a7fCcd318217352830E8AD9b4", None),
    "moonwell-base": ("0xfBb21d0380beE3312B33c4353c8936a0F13EF26C", None),
    "moonwell-optimism": ("0xCa889f40aae37FFf165BccF69aeF1E82b5C511B9", None),
    "moonwell-moonbeam": ("0x8E00D5e02E65A19337Cdba98bbA9F84d4186a180", None),
    "justlend": ("TGjYzgCyPobsNS9n6WcbdLVR9dH7mWqFx7", None),
}


def entries():
    files = {str(REGISTRY_DIR / "compound_v2.toml")}
    reg = load_registry()
    assert any(f in files for f in reg.files)
    return {d.id: d for d in reg.deployments if d.family == "compound_v2"}


def test_every_entry_has_a_comptroller_and_a_known_chain():
    got = entries()
    assert set(got) == {*CITED, "venus-core"}
    chains = {d.chain for d in got.values()}
    assert chains == {"ethereum", "bsc", "avalanche", "base", "optimism", "moonbeam", "tron"}
    for d in got.values():
        assert d.addresses["comptroller"].url.startswith("https://")
        assert d.config.get("accrual", "block") in ("block", "timestamp")


@pytest.mark.parametrize("did", sorted(CITED))
def test_addresses_equal_the_cited_files(did):
    d = entries()[did]
    addr, start = CITED[did]
    assert d.addresses["comptroller"].address == addr
    assert d.config.get("start_block") == start


def test_venus_equals_the_installed_npm_package():
    if not VENUS.exists():
        pytest.fail("evm/node_modules missing: run `npm ci` in evm/ (make test does)")
    book = json.loads(VENUS.read_text())
    d = entries()["venus-core"]
    assert d.addresses["comptroller"].address == book["Contracts"]["Unitroller"]
    assert d.config["start_block"] == book["Blocks"]["Unitroller"]
    assert d.config["native_ctoken"] == book["Contracts"]["vBNB"]


def test_justlend_is_stored_in_tron_form():
    d = entries()["justlend"]
    assert d.chain_kind == "tron"
    for a in (d.addresses["comptroller"].address, d.config["native_ctoken"],
              d.config["price_numeraire"]):  # fmt: skip
        assert is_tron_address(a)

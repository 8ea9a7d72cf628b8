"""The multi-chain registry files equal the npm address books and the commit-cited repositories.

aave_v3_more.toml and morpho_blue_l2.toml against the installed books (evm/node_modules, pinned
in evm/package.json: @bgd-labs/aave-address-book 4.44.22, @morpho-org/morpho-ts 2.8.0), read as
text; compound_v3_l2.toml and spark.toml, whose projects ship no installed book, against the
values of the commit-cited files (compound-finance/comet@d5a30b0 roots.json,
sparkdotfi/spark-address-registry@cc224bb src/Gnosis.sol), pinned below.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from lendscope.onchain.registry import REGISTRY_DIR, load_registry
from tests.evm.harness import NODE_MODULES

AAB = NODE_MODULES / "@bgd-labs" / "aave-address-book"
MORPHO = NODE_MODULES / "@morpho-org" / "morpho-ts" / "lib" / "esm"
KEYS = {"pool": "POOL", "oracle": "ORACLE", "addresses_provider": "POOL_ADDRESSES_PROVIDER",
        "data_provider": "AAVE_PROTOCOL_DATA_PROVIDER"}  # fmt: skip
#: Registry chain -> morpho-ts ChainId member (the others are <Name>Mainnet lower-cased).
MORPHO_NAMES = {"ethereum": "EthMainnet", "worldchain": "WorldChainMainnet",
                "zerog": "ZeroGMainnet", "bsc": "BscMainnet", "megaeth": "MegaEthMainnet",
                "unichain": "Unichain"}  # fmt: skip
NEW_FILES = ("aave_v3_more.toml", "morpho_blue_l2.toml", "compound_v3_l2.toml", "spark.toml")


@pytest.fixture(scope="module")
def reg():
    if not AAB.exists() or not MORPHO.exists():
        pytest.fail("run `npm ci` in evm/ (make test does) for the address books")
    return load_registry()


def book(name: str) -> dict[str, str]:
    text = (AAB / "src" / f"{name}.sol").read_text()
    return dict(re.findall(r"constant (\w+) =\s*(?:\w+\()?(0x[0-9a-fA-F]{40})", text))


def book_chain_id(name: str) -> int:
    return int(
        float(re.search(r"var CHAIN_ID = ([\d.e]+);", (AAB / "dist" / f"{name}.js").read_text())[1])
    )


def file_ids(name: str) -> list[str]:
    return [d["id"] for d in tomllib.loads((REGISTRY_DIR / name).read_text())["deployment"]]


def test_aave_v3_more_matches_the_book(reg):
    ids = file_ids("aave_v3_more.toml")
    assert len(ids) >= 13
    for d in (x for x in reg.deployments if x.id in ids):
        name = re.search(r"/src/(AaveV3\w+)\.sol$", d.source)[1]
        theirs = book(name)
        for key, const in KEYS.items():
            assert d.addresses[key].address == theirs[const], (d.id, key)
        assert reg.chains[d.chain] == book_chain_id(name), d.id
        for v in d.versions:  # the earlier addresses differ from the current ones
            assert all(a.address != d.addresses[k].address for k, a in v.addresses.items())
            assert re.search(rf"/blob/[0-9a-f]{{40}}/src/{name}\.sol$", v.source)


def test_plasma_is_covered_under_the_dataset_name(reg):
    (d,) = reg.select("plasma", ["aave-v3"])
    assert d.addresses["pool"].address == book("AaveV3Plasma")["POOL"]
    assert reg.chains["plasma"] == 9745


def _morpho_section(const: str) -> dict[str, str]:
    text = (MORPHO / "addresses.js").read_text()
    body = text[text.index(f"const {const} = {{") :]
    body = body[: body.index("\n};")]
    parts = re.split(r"\n    \[ChainId\.(\w+)\]: \{", body)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_morpho_blue_on_every_chain_morpho_ts_lists(reg):
    chain_ids = dict(re.findall(r'ChainId\["(\w+)"\] = (\d+)\]', (MORPHO / "chain.js").read_text()))
    addrs, deps = _morpho_section("_addressesRegistry"), _morpho_section("_deployments")
    assert len(addrs) >= 40
    by_chain = {d.chain: d for d in reg.deployments if d.protocol == "morpho-blue"}
    names = {v: k for k, v in MORPHO_NAMES.items()}
    for member, body in addrs.items():
        chain = names.get(member, member.removesuffix("Mainnet").lower())
        d = by_chain[chain]
        assert reg.chains[chain] == int(chain_ids[member]), chain
        assert (
            d.addresses["morpho"].address == re.search(r'\n        morpho: "(0x\w{40})"', body)[1]
        )
        assert d.config["start_block"] == int(
            re.search(r"\n        morpho: (\d+)n", deps[member])[1]
        )


def test_morpho_prices_with_the_chains_aave_oracle(reg):
    aave = {
        d.chain: d for d in reg.deployments if d.family == "aave_v3" and d.protocol == "aave-v3"
    }
    for d in (x for x in reg.deployments if x.protocol == "morpho-blue"):
        if d.chain == "ethereum":
            continue
        if "price_oracle" in d.addresses:
            assert d.addresses["price_oracle"].address == aave[d.chain].addresses["oracle"].address
        else:  # unpriced: no Aave v3 on the chain
            assert d.chain not in aave, d.id


#: compound-finance/comet@d5a30b0aaeff7755f1431e87f818990902237b03
#: deployments/<chain>/<market>/roots.json, key "comet".
COMETS = {
    "arbitrum": {"usdc": "0x9c4ec768c28520B50860ea7a15bd7213a9fF58bf",
                 "usdc.e": "0xA5EDBDD9646f8dFF606d7448e414884C7d905dCA",
                 "usdt": "0xd98Be00b5D27fc98112BdE293e487f8D4cA57d07",
                 "weth": "0x6f7D514bbD4aFf3BcD1140B7344b32f063dEe486"},
    "base": {"aero": "0x784efeB622244d2348d4F2522f8860B96fbEcE89",
             "usdbc": "0x9c4ec768c28520B50860ea7a15bd7213a9fF58bf",
             "usdc": "0xb125E6687d4313864e53df431d5425969c15Eb2F",
             "usds": "0x2c776041CCFe903071AF44aa147368a9c8EEA518",
             "weth": "0x46e6b214b524310239732D51387075E0e70970bf"},
    "linea": {"usdc": "0x8D38A3d6B3c3B7d96D6536DA7Eef94A9d7dbC991",
              "weth": "0x60F2058379716A64a7A5d29219397e79bC552194"},
    "mantle": {"usde": "0x606174f62cd968d8e684c645080fa694c1D7786E"},
    "optimism": {"usdc": "0x2e44e174f7D53F0212823acC11C01A11d58c5bCB",
                 "usdt": "0x995E394b8B2437aC8Ce61Ee0bC610D617962B214",
                 "weth": "0xE36A30D249f7761327fd973001A32010b521b6Fd"},
    "polygon": {"usdc": "0xF25212E676D1F7F89Cd72fFEe66158f541246445",
                "usdt": "0xaeB318360f27748Acb200CE616E389A6C9409a07"},
    "ronin": {"weth": "0x4006eD4097Ee51c09A04c3B0951D28CCf19e6DFE",
              "wron": "0xc0Afdbd1cEB621Ef576BA969ce9D4ceF78Dbc0c0"},
    "scroll": {"usdc": "0xB2f97c1Bd3bf02f5e74d13f02E3e26F93D77CE44"},
    "unichain": {"usdc": "0x2c7118c4C88B9841FCF839074c26Ae8f035f2921",
                 "weth": "0x6C987dDE50dB1dcDd32Cd4175778C2a291978E2a"},
}  # fmt: skip
#: cWETHv3's ETH/USD conversion: the book's Chainlink<Chain>.ETH__USD, else the comet deploy.ts.
ETH_USD = {
    "arbitrum": "ChainlinkArbitrum",
    "base": "ChainlinkBase",
    "optimism": "ChainlinkOptimism",
    "linea": "ChainlinkLinea",
    "ronin": "0x662Fdb0E7D95d89CD3458E4A3506296E48BB1F44",  # ETH_USD_PRICE_FEED
    "unichain": "0xe8D9FbC10e00ecc9f0694617075fDAF657a76FB2",
}  # ETH_TO_USD_PRICE_FEED


@pytest.mark.parametrize("chain", sorted(COMETS))
def test_compound_v3_comets_match_comet_roots(reg, chain):
    (d,) = reg.select(chain, ["compound-v3"])
    got = {k: a for k, a in d.addresses.items() if k.startswith("comet")}
    want = {"comet_" + m.replace(".", "_"): a for m, a in COMETS[chain].items()}
    assert {k: a.address for k, a in got.items()} == want
    for m in COMETS[chain]:
        url = got["comet_" + m.replace(".", "_")].url
        assert url.endswith(
            f"/d5a30b0aaeff7755f1431e87f818990902237b03/deployments/{chain}/{m}/roots.json"
        )
    if "weth" in COMETS[chain]:
        assert d.config["price_quote"] == {"comet_weth": "ETH"}
        feed = ETH_USD[chain]
        want_feed = book(feed)["ETH__USD"] if feed.startswith("Chainlink") else feed
        assert d.addresses["eth_usd_feed"].address == want_feed
    else:
        assert "eth_usd_feed" not in d.addresses and "price_quote" not in d.config


def test_spark_on_gnosis_matches_spark_address_registry(reg):
    # sparkdotfi/spark-address-registry@cc224bb40ec86b315bdcc8bf0b9ef665cc85b256 src/Gnosis.sol:
    # POOL, PROTOCOL_DATA_PROVIDER, AAVE_ORACLE, POOL_ADDRESSES_PROVIDER.
    (d,) = reg.select("gnosis", ["spark"])
    assert d.family == "aave_v3"
    assert {k: a.address for k, a in d.addresses.items()} == {
        "pool": "0x2Dae5307c5E3FD1CF5A72Cb6F698f915860607e0",
        "data_provider": "0x2a002054A06546bB5a264D57A81347e23Af91D18",
        "oracle": "0x8105f69D9C41644c6A0803fDA7D03Aa70996cFD9",
        "addresses_provider": "0xA98DaCB3fC964A6A0d2ce3B77294241585EAbA6d",
    }


def test_chain_ids_agree_with_both_books(reg):
    """Where morpho-ts or the Aave book gives a chain's id, the registry's is the same."""
    chain_ids = dict(re.findall(r'ChainId\["(\w+)"\] = (\d+)\]', (MORPHO / "chain.js").read_text()))
    names = {v: k for k, v in MORPHO_NAMES.items()}
    for member, cid in chain_ids.items():
        chain = names.get(member, member.removesuffix("Mainnet").lower())
        assert reg.chains[chain] == int(cid), chain


def test_every_new_address_a_book_names_is_checked(reg):
    """A new-file address that appears in an installed book is one the tests above compare."""
    text = "\n".join(f.read_text() for f in sorted((AAB / "src").glob("*.sol"))).lower()
    text += (MORPHO / "addresses.js").read_text().lower()
    checked = set(KEYS) | {"morpho", "price_oracle", "eth_usd_feed"}
    ids = {i for f in NEW_FILES for i in file_ids(f)}
    unchecked = [
        (d.id, k)
        for d in reg.deployments
        if d.id in ids and d.family != "compound_v3" and d.protocol != "spark"
        for k, a in d.addresses.items()
        if a.address.lower() in text and k not in checked
    ]
    assert not unchecked

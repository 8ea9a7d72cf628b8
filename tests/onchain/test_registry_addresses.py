"""Registry addresses equal the npm address books that cover them, and the cited sources.

Books (pinned in evm/package.json; `make test` installs them with `npm ci`), read as text:
@bgd-labs/aave-address-book (Aave v2/v3 instances, GHO, Chainlink feeds) and
@morpho-org/morpho-ts (Morpho Blue address and deployment block). Spark and Compound have no
installed book; their entries are pinned to the commit-cited repository files below.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from tests.evm.harness import NODE_MODULES

BOOK = NODE_MODULES / "@bgd-labs" / "aave-address-book" / "src"
MORPHO_TS = NODE_MODULES / "@morpho-org" / "morpho-ts" / "lib" / "esm" / "addresses.js"
#: Entries that deliberately differ from the book's current address, with the reason.
DELIBERATE = {
    ("aave-v3-core", "data_provider"): (
        "0x7B4EB56E7CD4b454BA8ff71E4518426369a138a3",
        "the first (Jan 2023) data provider answers at every historical v3 block",
    ),
}


def book(name: str) -> dict[str, str]:
    text = (BOOK / f"{name}.sol").read_text()
    found = re.findall(r"constant (\w+) =\s*(?:\w+\()?(0x[0-9a-fA-F]{40})", text)
    return {k: v for k, v in found}


def registry() -> dict[str, dict[str, str]]:
    path = resources.files("lendscope.onchain.registry") / "ethereum.toml"
    data = tomllib.loads(path.read_text())
    return {d["id"]: {k: v["address"] for k, v in d.get("addresses", {}).items()}
            for d in data["deployment"]}  # fmt: skip


@pytest.fixture(scope="module")
def reg():
    if not BOOK.exists():
        pytest.fail("run `npm ci` in evm/ (make test does) for @bgd-labs/aave-address-book")
    return registry()


#: (deployment, key, book file, constant): registry addresses an installed book names.
BOOK_CHECKS = [
    ("aave-v3-core", "pool", "AaveV3Ethereum", "POOL"),
    ("aave-v3-core", "oracle", "AaveV3Ethereum", "ORACLE"),
    ("aave-v3-core", "addresses_provider", "AaveV3Ethereum", "POOL_ADDRESSES_PROVIDER"),
    ("aave-v3-core", "data_provider", "AaveV3Ethereum", "AAVE_PROTOCOL_DATA_PROVIDER"),
    ("aave-v2", "pool", "AaveV2Ethereum", "POOL"),
    ("aave-v2", "oracle", "AaveV2Ethereum", "ORACLE"),
    ("aave-v2", "data_provider", "AaveV2Ethereum", "AAVE_PROTOCOL_DATA_PROVIDER"),
    ("aave-v2", "eth_usd_feed", "ChainlinkEthereum", "ETH__USD"),
    ("gho", "gho", "GhoEthereum", "GHO_TOKEN"),
    ("morpho-blue", "price_oracle", "AaveV3Ethereum", "ORACLE"),
    ("compound-v3", "eth_usd_feed", "ChainlinkEthereum", "ETH__USD"),
    ("maker", "dai", "AaveV3Ethereum", "DAI_UNDERLYING"),
    ("liquity-v1", "coin", "AaveV3Ethereum", "LUSD_UNDERLYING"),
    ("crvusd", "coin", "AaveV3Ethereum", "crvUSD_UNDERLYING"),
] + [
    (dep, key, book_file, const)
    for dep, book_file in (
        ("aave-v3-prime", "AaveV3EthereumLido"),
        ("aave-v3-etherfi", "AaveV3EthereumEtherFi"),
        ("aave-v3-horizon", "AaveV3EthereumHorizon"),
    )
    for key, const in (
        ("pool", "POOL"),
        ("oracle", "ORACLE"),
        ("addresses_provider", "POOL_ADDRESSES_PROVIDER"),
        ("data_provider", "AAVE_PROTOCOL_DATA_PROVIDER"),
    )
]


@pytest.mark.parametrize(("deployment", "key", "book_file", "const"), BOOK_CHECKS)
def test_registry_matches_address_book(reg, deployment, key, book_file, const):
    ours = reg[deployment][key]
    theirs = book(book_file)[const]
    if (deployment, key) in DELIBERATE:
        addr, _why = DELIBERATE[(deployment, key)]
        assert ours.lower() in (addr.lower(), theirs.lower())
    else:
        assert ours.lower() == theirs.lower()


L2 = {"arbitrum": "AaveV3Arbitrum", "optimism": "AaveV3Optimism", "polygon": "AaveV3Polygon",
      "avalanche": "AaveV3Avalanche", "base": "AaveV3Base"}  # fmt: skip
KEYS = {"pool": "POOL", "oracle": "ORACLE", "addresses_provider": "POOL_ADDRESSES_PROVIDER",
        "data_provider": "AAVE_PROTOCOL_DATA_PROVIDER"}  # fmt: skip


@pytest.mark.parametrize("chain", sorted(L2))
def test_aave_v3_on_other_chains_matches_address_book(chain):
    if not BOOK.exists():
        pytest.fail("run `npm ci` in evm/ (make test does)")
    from lendscope.onchain.registry import load_registry

    reg = load_registry()
    (dep,) = reg.select(chain, ["aave-v3"])
    theirs = book(L2[chain])
    for key, const in KEYS.items():
        assert dep.addr(key).lower() == theirs[const].lower(), (chain, key)


#: (deployment, key) pairs checked against a book (here, or by the tests further down).
CHECKED = {(d, k) for d, k, *_ in BOOK_CHECKS} | {("morpho-blue", "morpho")}


def test_every_address_a_book_names_is_checked(reg):
    """A registry address that appears in an installed book must be one of the checks above."""
    text = "\n".join(f.read_text() for f in sorted(BOOK.glob("*.sol"))).lower()
    text += MORPHO_TS.read_text().lower()
    unchecked = [
        (dep, key, a)
        for dep, addrs in reg.items()
        for key, a in addrs.items()
        if a.lower() in text and (dep, key) not in CHECKED
    ]
    assert not unchecked


def _morpho_ts(const: str) -> str:
    text = MORPHO_TS.read_text()
    body = text[text.index(f"const {const} = {{") :]
    body = body[body.index("[ChainId.EthMainnet]: {") :]
    return re.search(r'\bmorpho: ("0x[0-9a-fA-F]{40}"|\d+n)', body).group(1)


def test_morpho_blue_matches_morpho_ts():
    if not MORPHO_TS.exists():
        pytest.fail("run `npm ci` in evm/ (make test does) for @morpho-org/morpho-ts")
    from lendscope.onchain.registry import load_registry

    (d,) = load_registry().select("ethereum", ["morpho-blue"])
    assert d.addresses["morpho"].address == _morpho_ts("_addressesRegistry").strip('"')
    assert d.config["start_block"] == int(_morpho_ts("_deployments").removesuffix("n"))


#: GhoToken facilitators in the books, with the kind the registry must give them.
FACILITATORS = [
    ("AaveV3Ethereum", "GHO_A_TOKEN", "aave"),
    ("GhoEthereum", "GSM_USDC", "gsm"),
    ("GhoEthereum", "GSM_USDT", "gsm"),
    ("GhoEthereum", "GHO_FLASHMINTER_FACILITATOR", "flashminter"),
    ("AaveV3Ethereum", "GHO_DIRECT_MINTER", "direct_minter"),
    ("AaveV3EthereumLido", "GHO_DIRECT_MINTER", "direct_minter"),
    ("AaveV3EthereumHorizon", "GHO_DIRECT_MINTER", "direct_minter"),
]


@pytest.mark.parametrize(("book_file", "const", "kind"), FACILITATORS)
def test_gho_facilitators_from_the_book(book_file, const, kind):
    if not BOOK.exists():
        pytest.fail("run `npm ci` in evm/ (make test does)")
    from lendscope.onchain.registry import load_registry

    (d,) = load_registry().select("ethereum", ["gho"])
    facs = {k.lower(): v for k, v in d.config["facilitators"].items()}
    assert facs[book(book_file)[const].lower()] == kind


def test_gho_keeps_the_first_gsms():
    # aave/docs-gho@bc00e3253d2c57c8565a8bac5334beac792dc919
    # docs/developer-docs/gho-stability-module.md: GsmUSDC, GsmUSDT (2024, superseded).
    from lendscope.onchain.registry import load_registry

    (d,) = load_registry().select("ethereum", ["gho"])
    facs = d.config["facilitators"]
    assert facs["0x0d8eFfC11dF3F229AA1EA0509BC9DFa632A13578"] == "gsm"
    assert facs["0x686F8D21520f4ecEc7ba577be08354F4d1EB8262"] == "gsm"


def test_spark_matches_spark_address_registry():
    # sparkdotfi/spark-address-registry@cc224bb40ec86b315bdcc8bf0b9ef665cc85b256 src/SparkLend.sol
    # (marsfoundation/spark-address-registry@c09c1c196c8ca3df34c71f81a74735c0ac566786 agrees).
    from lendscope.onchain.registry import load_registry

    (d,) = load_registry().select("ethereum", ["spark"])
    assert {k: a.address for k, a in d.addresses.items()} == {
        "pool": "0xC13e21B648A5Ee794902342038FF3aDAB66BE987",
        "data_provider": "0xFc21d6d146E6086B8359705C8b28512a983db0cb",
        "oracle": "0x8105f69D9C41644c6A0803fDA7D03Aa70996cFD9",
        "addresses_provider": "0x02C3eA4e34C0cBd694D2adFa2c690EECbC1793eE",
    }


def test_compound_v3_comets_match_comet_roots():
    # compound-finance/comet@d5a30b0aaeff7755f1431e87f818990902237b03
    # deployments/mainnet/<market>/roots.json, key "comet".
    from lendscope.onchain.registry import load_registry

    (d,) = load_registry().select("ethereum", ["compound-v3"])
    comets = {k: a.address for k, a in d.addresses.items() if "comet" in k}
    assert comets == {
        "comet_usdc": "0xc3d688B66703497DAA19211EEdff47f25384cdc3",
        "comet_weth": "0xA17581A9E3356d9A858b789D68B4d866e593aE94",
        "pending_comet_usdt": "0x3Afdc9BCA9213A35503b077a6072F3D0d5AB0840",
        "pending_comet_wsteth": "0x3D0bb1ccaB520A66e607822fC55BC921738fAFE3",
        "pending_comet_usds": "0x5D409e56D886231aDAf00c8775665AD0f9897b56",
        "pending_comet_wbtc": "0xe85Dc543813B8c2CFEaAc371517b925a166a9293",
    }
    for k, a in d.addresses.items():
        if "comet" in k:
            market = k.rsplit("_", 1)[1]
            assert a.url.endswith(f"/deployments/mainnet/{market}/roots.json"), k

"""The Ethereum registry's Aave and GHO addresses equal @bgd-labs/aave-address-book (npm).

The address book is pinned in evm/package.json; `make test` installs it with `npm ci`.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from tests.evm.harness import NODE_MODULES

BOOK = NODE_MODULES / "@bgd-labs" / "aave-address-book" / "src"
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


@pytest.mark.parametrize(
    ("deployment", "key", "book_file", "const"),
    [
        ("aave-v3-core", "pool", "AaveV3Ethereum", "POOL"),
        ("aave-v3-core", "oracle", "AaveV3Ethereum", "ORACLE"),
        ("aave-v3-core", "addresses_provider", "AaveV3Ethereum", "POOL_ADDRESSES_PROVIDER"),
        ("aave-v3-core", "data_provider", "AaveV3Ethereum", "AAVE_PROTOCOL_DATA_PROVIDER"),
        ("aave-v2", "pool", "AaveV2Ethereum", "POOL"),
        ("aave-v2", "oracle", "AaveV2Ethereum", "ORACLE"),
        ("aave-v2", "data_provider", "AaveV2Ethereum", "AAVE_PROTOCOL_DATA_PROVIDER"),
        ("gho", "gho", "GhoEthereum", "GHO_TOKEN"),
    ],
)
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

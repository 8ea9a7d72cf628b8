"""Every registry address is EIP-55-checked at load; the bundled files are written checksummed."""

from __future__ import annotations

import re
import tomllib

import pytest
from eth_utils import to_checksum_address

from lendscope.onchain.registry import (
    REGISTRY_DIR,
    RegistryError,
    checksum_address,
    dump_registry,
    load_registry,
    parse_registry,
)

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
FILES = sorted(REGISTRY_DIR.glob("*.toml"))
#: Config keys left lower-case on purpose (all-lower carries no checksum), with the reason.
LOWER_CASE_OK = {
    "0x40d16fc0246ad3160ccc09b8d0d3a2cd28ae6c2f": "exclude_assets key the GHO adapter test pins",
}


def _config_addresses(v, where=""):
    if isinstance(v, str) and ADDRESS.fullmatch(v):
        yield where, v
    elif isinstance(v, dict):
        for k, x in v.items():
            if ADDRESS.fullmatch(str(k)):
                yield f"{where} key", str(k)
            yield from _config_addresses(x, f"{where}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _config_addresses(x, f"{where}[{i}]")


def _one(addr: str, key: str = "pool", extra: str = "") -> str:
    return f"""
[chains.ethereum]
chain_id = 1
[[deployment]]
id = "x"
protocol = "x"
family = "aave_v3"
chain = "ethereum"
platform = "X"
segment = "defi"
source = "https://example.org"
{extra}
[deployment.addresses]
{key} = {{ address = "{addr}", label = "Pool" }}
"""


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_bundled_address_is_written_in_eip55_form(path):
    data = tomllib.loads(path.read_text())
    kinds = {n: c.kind for n, c in load_registry().chain_info.items()}
    bad = []
    for d in data.get("deployment", []):  # chains.toml has none
        if kinds[d["chain"]] != "evm":  # Tron/Solana/Sui: tests/onchain/test_registry_kinds.py
            continue
        for k, a in d.get("addresses", {}).items():
            if a["address"] != to_checksum_address(a["address"]):
                bad.append((d["id"], k, a["address"]))
        for k, v in d.items():
            if k == "addresses":
                continue
            for where, a in _config_addresses(v, k):
                if a != to_checksum_address(a) and a not in LOWER_CASE_OK:
                    bad.append((d["id"], where, a))
    assert not bad


def test_eip55_reference_vectors():
    # The EIP-55 specification's examples (eips.ethereum.org/EIPS/eip-55).
    for a in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ):
        assert checksum_address(a, "t") == a
        assert checksum_address(a.lower(), "t") == a
        assert checksum_address("0x" + a[2:].upper(), "t") == a


def test_loading_stores_checksummed_and_hands_out_lower_case():
    (d,) = parse_registry(
        tomllib.loads(_one("0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2"))
    ).deployments
    assert d.addresses["pool"].address == "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2"
    assert d.addr("pool") == "0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2"


def test_a_failing_checksum_names_file_entry_and_field():
    # Spark's old PoolAddressesProvider: the right address's head with a wrong tail.
    wrong = "0x02C3eA4e34C0cBd694D2adFa2c690EEbBC1bF4eF"
    with pytest.raises(RegistryError) as e:
        parse_registry(tomllib.loads(_one(wrong, "addresses_provider")), "some/file.toml")
    msg = str(e.value)
    assert "some/file.toml" in msg and "'x'" in msg and "addresses.addresses_provider" in msg
    assert wrong in msg and "EIP-55" in msg


def test_a_failing_checksum_in_config_is_an_error_too():
    extra = 'facilitators = { "0x00907F9921424583e7ffBfEdf84F92B7B2Be4977" = "aave" }'
    good = _one("0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", extra=extra)
    with pytest.raises(RegistryError, match=r"f\.toml: deployment 'x': facilitators key"):
        parse_registry(tomllib.loads(good), "f.toml")


@pytest.mark.parametrize("raw", ["0x1234", "0xZZ870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", 7])
def test_a_non_address_is_an_error(raw):
    text = _one("ADDR").replace('"ADDR"', repr(raw) if isinstance(raw, int) else f'"{raw}"')
    with pytest.raises(RegistryError, match=r"addresses\.pool"):
        parse_registry(tomllib.loads(text), "f.toml")


def test_bundled_registry_round_trips_checksummed():
    reg = load_registry()
    text = dump_registry(reg)
    assert parse_registry(tomllib.loads(text)).deployments == reg.deployments
    for d in reg.deployments:
        for a in d.addresses.values():
            assert d.chain_kind != "evm" or a.address == to_checksum_address(a.address)

"""The Solana registry entries: addresses as each protocol's installed npm SDK ships them."""

from __future__ import annotations

from lendscope.chain.solana import b58decode
from lendscope.onchain.protocols import FAMILIES, adapter
from lendscope.onchain.registry import load_registry
from tests.solana.sdk import run_helper


def test_addresses_match_the_sdks():
    shipped = run_helper({"constants": True})["constants"]
    deps = {d.id: d for d in load_registry().deployments if d.chain == "solana"}
    assert set(deps) == set(shipped)
    for did, keys in shipped.items():
        for key, address in keys.items():
            assert deps[did].addr(key) == address, (did, key)


def test_solana_entries_are_well_formed():
    reg = load_registry()
    assert reg.chain("solana").kind == "solana"
    for d in reg.select("solana"):
        assert d.family in FAMILIES and d.chain_kind == "solana"
        mod = adapter(d.family)
        assert callable(mod.snapshot) and callable(mod.queries)
        assert set(d.addresses) == {"program", "market"}
        for a in d.addresses.values():
            assert len(b58decode(a.address)) == 32 and a.label and a.url.startswith("https://")

"""Chain kinds in the registry: per-kind address checks, chain identity fields, shared chains.

Base58 and base58check are checked against @scure/base (installed in evm/node_modules with viem;
SHA-256 from node's crypto) run by node, and against published addresses (Tron's USDT contract,
Solana program ids).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib

import pytest
from eth_utils import to_checksum_address

from lendscope.onchain.addresses import (
    b58decode,
    b58encode,
    hex_to_tron,
    is_solana_pubkey,
    is_sui_address,
    is_tron_address,
    to_call,
    to_stored,
    tron_to_hex,
)
from lendscope.onchain.registry import (
    REGISTRY_DIR,
    RegistryError,
    dump_registry,
    load_registry,
    parse_registry,
)
from tests.evm.harness import NODE_MODULES

#: TRC-20 USDT on Tron mainnet, base58 and hex (https://tronscan.org/#/token20/TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t).
USDT_TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
USDT_TRON_HEX = "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"
#: Solana's SPL Token program and USDC mint (https://spl.solana.com/token).
SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
USDC_SOL = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
GENESIS = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"  # Solana mainnet-beta
SUI_CLOCK = "0x0000000000000000000000000000000000000000000000000000000000000006"


def _reg(kind: str, address: str, chain: str = "", extra_chain: str = "") -> str:
    ident = {
        "evm": "chain_id = 1",
        "tron": "chain_id = 728126428",
        "solana": 'genesis_hash = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"',
        "sui": 'chain_identifier = "35834a8a"',
    }[kind]
    chain = chain or f'kind = "{kind}"\n{ident}'
    return f"""
[chains.c]
{chain}
{extra_chain}
[[deployment]]
id = "x"
protocol = "x"
family = "some_new_family"
chain = "c"
platform = "X"
segment = "defi"
source = "https://example.org"
[deployment.addresses]
main = {{ address = "{address}", label = "Main" }}
"""


def test_tron_address_conversions():
    assert tron_to_hex(USDT_TRON) == USDT_TRON_HEX
    assert hex_to_tron(USDT_TRON_HEX) == USDT_TRON
    assert hex_to_tron("41" + USDT_TRON_HEX[2:]) == USDT_TRON
    assert hex_to_tron("0x" + "00" * 20) == "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"  # the zero account
    assert is_tron_address(USDT_TRON)
    bad = USDT_TRON[:-1] + ("u" if USDT_TRON[-1] != "u" else "v")
    assert not is_tron_address(bad)  # one character off: the checksum catches it
    assert not is_tron_address("0x" + USDT_TRON_HEX)
    with pytest.raises(ValueError, match="checksum"):
        tron_to_hex(bad)


def test_solana_and_sui_formats():
    assert is_solana_pubkey(SPL_TOKEN) and is_solana_pubkey(USDC_SOL)
    assert is_solana_pubkey("11111111111111111111111111111111")  # the system program: 32 zeros
    assert b58decode("11111111111111111111111111111111") == b"\0" * 32
    assert not is_solana_pubkey(SPL_TOKEN + "1")  # 33 bytes
    assert not is_solana_pubkey("0OIl" + SPL_TOKEN[4:])  # characters outside base58
    assert is_sui_address(SUI_CLOCK) and not is_sui_address("0x6")
    assert to_stored("sui", SUI_CLOCK.upper().replace("0X", "0x")) == SUI_CLOCK


def test_base58_round_trip_edge_cases():
    for raw in (b"", b"\0", b"\0\0\1", bytes(range(32)), b"\xff" * 40):
        assert b58decode(b58encode(raw)) == raw


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_base58_matches_scure_base():
    if not (NODE_MODULES / "@scure" / "base").exists():
        pytest.fail("run `npm ci` in evm/ (make test does) for @scure/base")
    payloads = [bytes([0x41]) + bytes.fromhex(USDT_TRON_HEX[2:]), b"\0" * 3 + b"\x01\x02"]
    payloads += [bytes((i * 37 + j) % 256 for j in range(i)) for i in range(1, 40, 3)]
    script = """
const { base58, createBase58check } = require("@scure/base");
const sha256 = (b) => new Uint8Array(require("crypto").createHash("sha256").update(b).digest());
const check = createBase58check(sha256);
const ins = JSON.parse(process.argv[1]).map((h) => Uint8Array.from(Buffer.from(h, "hex")));
console.log(JSON.stringify(ins.map((b) => [base58.encode(b), check.encode(b)])));
"""
    out = subprocess.run(
        ["node", "-e", script, json.dumps([p.hex() for p in payloads])],
        cwd=NODE_MODULES.parent, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    theirs = json.loads(out.stdout)
    from lendscope.onchain.addresses import b58check_encode

    assert theirs[0][1] == USDT_TRON
    assert [[b58encode(p), b58check_encode(p)] for p in payloads] == theirs


@pytest.mark.parametrize(
    ("kind", "address", "stored", "call"),
    [
        ("tron", USDT_TRON, USDT_TRON, USDT_TRON_HEX),
        ("solana", SPL_TOKEN, SPL_TOKEN, SPL_TOKEN),
        ("sui", SUI_CLOCK, SUI_CLOCK, SUI_CLOCK),
        ("evm", USDT_TRON_HEX, to_checksum_address(USDT_TRON_HEX), USDT_TRON_HEX),
    ],
)
def test_each_kind_stores_its_own_form(kind, address, stored, call):
    (d,) = parse_registry(tomllib.loads(_reg(kind, address))).deployments
    assert d.chain_kind == kind
    assert d.addresses["main"].address == stored
    assert d.addr("main") == call == to_call(kind, stored)


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("tron", USDT_TRON_HEX),  # hex is not how a Tron registry entry is written
        ("tron", USDT_TRON[:-1] + "u"),
        ("solana", USDT_TRON_HEX),
        ("solana", SPL_TOKEN[:-2]),
        ("sui", USDT_TRON_HEX),
        ("evm", USDT_TRON),
        ("evm", SPL_TOKEN),
    ],
)
def test_a_wrong_format_names_file_entry_and_field(kind, address):
    with pytest.raises(RegistryError) as e:
        parse_registry(tomllib.loads(_reg(kind, address)), "some/file.toml")
    msg = str(e.value)
    assert "some/file.toml" in msg and "'x'" in msg and "addresses.main.address" in msg


@pytest.mark.parametrize(
    ("chain", "field"),
    [
        ('kind = "tron"', "chain_id"),  # tron needs its eth_chainId
        ("", "chain_id"),  # evm by default
        ('kind = "cosmos"\nchain_id = 1', "kind"),
        ('kind = "evm"\nchain_id = -1', "chain_id"),
        ('kind = "evm"\nchain_id = "1"', "chain_id"),
        ('kind = "solana"\ngenesis_hash = "nope"', "genesis_hash"),
        (f'kind = "evm"\nchain_id = 1\ngenesis_hash = "{GENESIS}"', "genesis_hash"),
        ('kind = "sui"\nchain_identifier = "35834A8"', "chain_identifier"),
    ],
)
def test_chain_tables_are_checked(chain, field):
    with pytest.raises(RegistryError, match=rf"f\.toml: chains\.c\.{field}"):
        parse_registry(tomllib.loads(_reg("evm", USDT_TRON_HEX, chain=chain or "x = 1")), "f.toml")


def test_solana_and_sui_need_no_chain_id():
    reg = parse_registry(tomllib.loads(_reg("solana", SPL_TOKEN)))
    assert reg.chains == {"c": None}
    assert reg.chain("c").identity.startswith("genesis_hash 5eykt")
    assert reg.deployments[0].chain_id is None


def test_unknown_family_loads_but_must_be_a_module_name():
    # Families are checked against FAMILIES when an adapter is asked for, so an entry for a
    # family whose adapter another module adds still loads; a malformed name does not.
    assert parse_registry(tomllib.loads(_reg("evm", USDT_TRON_HEX))).deployments[0].family
    bad = _reg("evm", USDT_TRON_HEX).replace("some_new_family", "Some-Family")
    with pytest.raises(RegistryError, match="family"):
        parse_registry(tomllib.loads(bad), "f.toml")


def test_every_bundled_family_has_an_adapter():
    from lendscope.onchain.protocols import FAMILIES, adapter

    for d in load_registry().deployments:
        assert d.family in FAMILIES, d.id
        assert hasattr(adapter(d.family), "snapshot"), d.family


def test_kinds_round_trip_through_dump():
    text = _reg("tron", USDT_TRON, extra_chain='rpc_env = "TRON_RPC"')
    reg = parse_registry(tomllib.loads(text))
    again = parse_registry(tomllib.loads(dump_registry(reg)))
    assert again.deployments == reg.deployments
    assert again.chain("c") == reg.chain("c")
    assert again.chain("c").config == {"rpc_env": "TRON_RPC"}


def test_bundled_chains_are_shared_and_consistent():
    reg = load_registry()
    assert reg.chain("tron").chain_id == 0x2B6653DC == 728126428
    assert reg.chain("tron").kind == "tron"
    assert reg.chain("solana").genesis_hash == "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"
    assert reg.chain("sui").kind == "sui"
    assert reg.chain("ethereum").kind == "evm"
    for d in reg.deployments:
        assert d.chain_kind == reg.chain(d.chain).kind
        assert d.chain_id == reg.chain(d.chain).chain_id


def test_two_files_defining_one_chain_must_agree(tmp_path, monkeypatch):
    import lendscope.onchain.registry as registry

    (tmp_path / "a.toml").write_text("[chains.c]\nchain_id = 1\n")
    (tmp_path / "b.toml").write_text(_reg("evm", USDT_TRON_HEX, chain="chain_id = 1"))
    monkeypatch.setattr(registry, "REGISTRY_DIR", tmp_path)
    assert [d.chain_id for d in registry.load_registry().deployments] == [1]
    (tmp_path / "a.toml").write_text("[chains.c]\nchain_id = 2\n")
    with pytest.raises(RegistryError, match=r"chains\.c: differs"):
        registry.load_registry()
    (tmp_path / "a.toml").write_text(_reg("evm", USDT_TRON_HEX, chain="chain_id = 1"))
    with pytest.raises(RegistryError, match="duplicate deployment ids across files: x"):
        registry.load_registry()


def test_morpho_without_a_usd_oracle_reads_every_market_unpriced(monkeypatch):
    # Morpho on a chain with no Aave v3 (morpho_blue_l2.toml gives no price_oracle there): the
    # markets are read and shown, left out of the total as unpriced; no oracle call is made.
    from lendscope.onchain.protocols import adapter, morpho_blue
    from tests.onchain.test_adapters_recorded import Recorded

    (d,) = load_registry().select("hyperliquid", ["morpho-blue"])
    assert "price_oracle" not in d.addresses
    loan = "0x" + "5a" * 20
    mid = "0x" + "01" * 32
    monkeypatch.setattr(
        morpho_blue, "discover", lambda *_: {mid: (loan, "0x" + "6b" * 20, "0x" + "7c" * 20,
                                                   "0x" + "8d" * 20, 86 * 10**16)}
    )  # fmt: skip
    node = Recorded()
    node.on(d.addr("morpho"), "market(bytes32)", (bytes.fromhex(mid[2:]),), ["uint128"] * 6,
            [10**12, 10**12, 7 * 10**11, 7 * 10**11, 1, 0])  # fmt: skip
    node.on(loan, "decimals()", (), ["uint8"], [6])
    node.on(loan, "symbol()", (), ["string"], ["USDT0"])
    snap = adapter("morpho_blue").snapshot(node.reader(), d, 5)
    assert node.round_trips == 1
    (row,) = snap.rows
    assert (row.symbol, row.debt_raw, row.price_raw, row.counted) == (
        "USDT0",
        7 * 10**11,
        None,
        False,
    )
    assert "no USD oracle" in row.note and snap.value_usd == 0


#: Bundled data files with a chain column (observations, context, CeFi labels).
DATA_CHAINS = ("observations.csv", "context.csv", "cefi_labels.csv")
#: Other spellings of registry chains that must not appear as chain names anywhere.
ALIASES = {"mainnet", "eth", "bnb", "binance", "bnb-chain", "bsc-mainnet", "arbitrum-one",
           "arb", "op", "avax", "matic", "xdai", "zksync-era", "trx", "sol"}  # fmt: skip


def _data_chains(names: tuple[str, ...] = DATA_CHAINS) -> set[str]:
    import csv
    from importlib import resources

    out = set()
    for name in names:
        text = (resources.files("lendscope") / "data" / name).read_text()
        rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
        out |= {r["chain"] for r in rows if r.get("chain")}
    return out


def test_dataset_chain_names_are_registry_chain_names():
    """The dataset's chains (``plasma`` included) are the registry's; on-chain rows use the same."""
    reg = load_registry()
    used = _data_chains()
    assert {"ethereum", "plasma", "solana"} <= used
    assert used <= set(reg.chains), sorted(used - set(reg.chains))
    # every chain the observations name has a deployment to read it on-chain (Aave on plasma)
    observed = _data_chains(("observations.csv",))
    assert observed <= {d.chain for d in reg.deployments}, observed


def test_registry_chain_names_follow_the_documented_rule():
    """chains.toml's header: lower-case one word, the dataset's names, no aliases."""
    reg = load_registry()
    header = (REGISTRY_DIR / "chains.toml").read_text().split("[chains.")[0]
    assert "observations.csv" in header and "`bsc`" in header
    for name in reg.chains:
        assert re.fullmatch(r"[a-z][a-z0-9]*", name), name
    assert not ALIASES & set(reg.chains)
    assert not ALIASES & _data_chains()

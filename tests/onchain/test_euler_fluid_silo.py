"""Euler v2 and Fluid adapters against a fake JSON-RPC node serving independently built state.

No package on npm or PyPI ships the Euler Vault Kit's or Fluid's sources or bytecode (the
registries have no euler-xyz or Instadapp contract packages; the sources are on GitHub only),
so these adapters cannot run on anvil here. Instead each test builds the contracts'
state the way the protocol stores it and computes the expected answer with its own code:

* Euler: ``totalBorrows()`` values come from a port of EVK's interest accrual (Cache.sol
  ``loadVault``: ``rpow(rate + 1e27, dt)`` on the accumulator, owed amounts shifted 31 bits and
  rounded up), served per vault; the adapter must report them to the wei and value them exactly.
* Fluid: the Liquidity storage words are packed from plain numbers (BigMath, the bit offsets of
  liquiditySlotsLink.sol) at slots hashed here with raw keccak of the padded words; the expected
  total borrow is computed from the plain numbers, not from the adapter's decoder.

The RPC transport (:mod:`tests.onchain.fake_node`) is the only stand-in.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from eth_utils import keccak

from lendscope.onchain.protocols import adapter
from lendscope.onchain.protocols.euler_v2 import USD
from lendscope.onchain.registry import load_registry
from tests.onchain.fake_node import FakeNode

REG = load_registry()
BLOCK, NOW = 23_000_000, 1_760_000_000


def dep(i: str):
    return next(d for d in REG.deployments if d.id == i)


def usd(snap) -> Fraction:
    return sum(
        (
            Fraction(r.debt_raw * r.price_raw, 10**r.decimals * r.price_unit)
            for r in snap.rows
            if r.counted and r.price_raw is not None
        ),
        Fraction(0),
    )


# ---------------------------------------------------------------- Euler v2 (EVK) model


def rpow(x: int, n: int, scalar: int) -> int:
    """RPow.rpow (src/EVault/shared/lib/RPow.sol) without its overflow exits: x**n, rounded."""
    z = scalar if n % 2 == 0 else x
    half = scalar // 2
    n //= 2
    while n:
        x = (x * x + half) // scalar
        if n % 2:
            z = (z * x + half) // scalar
        n //= 2
    return z


def evk_total_borrows(owed: int, acc: int, rate: int, dt: int) -> int:
    """What ``EVault.totalBorrows()`` returns ``dt`` seconds after the stored state."""
    new_acc = acc * rpow(rate + 10**27, dt, 10**27) // 10**27 if dt else acc
    new_owed = owed * new_acc // acc
    return (new_owed + (1 << 31) - 1) >> 31  # OwedLib.toAssetsUpUint


USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
PT = "0x" + "7e" * 20  # a token the USD oracle does not list


def euler_node(d, vaults: dict) -> FakeNode:
    node = FakeNode(1, BLOCK, NOW)
    node.on(
        d.addr("factory"),
        "getProxyListSlice(uint256,uint256)",
        (0, 2**256 - 1),
        ["address[]"],
        [list(vaults)],
    )
    node.on(d.addr("price_oracle"), "BASE_CURRENCY_UNIT()", (), ["uint256"], [10**8])
    for v, s in vaults.items():
        if s is None:
            continue  # not an EVault: every view reverts
        node.on(v, "asset()", (), ["address"], [s["asset"]])
        node.on(v, "totalBorrows()", (), ["uint256"], [s["debt"]])
        node.on(v, "decimals()", (), ["uint8"], [s["dec"]])
        node.on(v, "unitOfAccount()", (), ["address"], [s["uoa"]])
        node.on(v, "oracle()", (), ["address"], [s["router"]])
        node.on(s["asset"], "symbol()", (), ["string"], [s["sym"]])
        if s.get("aave") is not None:
            node.on(
                d.addr("price_oracle"),
                "getAssetPrice(address)",
                (s["asset"],),
                ["uint256"],
                [s["aave"]],
            )
        if s.get("quote") is not None:
            node.on(
                s["router"],
                "getQuote(uint256,address,address)",
                (10 ** s["dec"], s["asset"], USD),
                ["uint256"],
                [s["quote"]],
            )
    return node


def euler_vaults() -> dict:
    day = 86_400
    rate = 1_585_489_599_188_229_325  # ~5% a year per second, 1e27-scaled (EVK's interestRate)
    usdc_debt = evk_total_borrows(12_345_678_901_234 << 31, 10**27 + 3 * 10**24, rate, 3 * day)
    pt_debt = evk_total_borrows((5 * 10**24) << 31, 10**27, rate, 7 * day + 13)
    weth_debt = evk_total_borrows((3 * 10**20 + 7) << 31, 10**27 + 5, rate, 0)
    router = "0x" + "ab" * 20
    return {
        "0x" + "01" * 20: dict(
            asset=USDC,
            debt=usdc_debt,
            dec=6,
            uoa=USD,
            router=router,
            sym="USDC",
            aave=99_980_000,
            quote=None,
        ),
        "0x" + "02" * 20: dict(
            asset=PT,
            debt=pt_debt,
            dec=18,
            uoa=USD,
            router=router,
            sym="PT-x",
            aave=None,
            quote=987_000_000_000_000_000,
        ),  # 0.987 USD, 18 dec
        "0x" + "03" * 20: dict(
            asset=PT,
            debt=weth_debt,
            dec=18,
            uoa=WETH,
            router=router,
            sym="PT-x",
            aave=None,
            quote=None,
        ),
        "0x" + "04" * 20: dict(asset=WETH, debt=0, dec=18, uoa=USD, router=router, sym="WETH"),
        "0x" + "05" * 20: None,
    }


def test_rpow_port_matches_closed_form_for_small_exponents():
    r = 10**27 + 10**18
    assert rpow(r, 1, 10**27) == r and rpow(r, 0, 10**27) == 10**27
    assert abs(rpow(r, 2, 10**27) - r * r // 10**27) <= 1


def test_euler_total_borrows_to_the_wei_priced_by_usd_oracle():
    d, vaults = dep("euler-v2-ethereum"), euler_vaults()
    node = euler_node(d, vaults)
    snap = adapter("euler_v2").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 3  # vault list; per-vault views; symbols and prices
    rows = {r.market: r for r in snap.rows}
    assert "0x" + "04" * 20 not in rows  # no debt: left out of the rows
    usdc, pt, weth_uoa, broken = (rows["0x" + c * 20] for c in ("01", "02", "03", "05"))
    assert usdc.debt_raw == vaults["0x" + "01" * 20]["debt"] and usdc.decimals == 6
    assert usdc.counted and usdc.price_raw == 99_980_000 and usdc.price_unit == 10**8
    assert usdc.symbol == "USDC" and usdc.asset == USDC.lower()
    # Priced only by the vault's own (creator-chosen) router: shown, not counted.
    assert pt.price_raw == 987 * 10**15 and pt.price_unit == 10**18 and not pt.counted
    assert "vault's own oracle" in pt.note
    assert weth_uoa.price_raw is None and "not USD" in weth_uoa.note and not weth_uoa.counted
    assert not broken.counted and "failed" in broken.note
    want = Fraction(usdc.debt_raw * 99_980_000, 10**6 * 10**8)
    assert usd(snap) == want and snap.value_usd == float(want)


def test_euler_counts_vault_oracle_prices_when_configured():
    d = dep("euler-v2-ethereum")
    d = replace(d, config={**d.config, "count_vault_oracle": True})
    vaults = euler_vaults()
    snap = adapter("euler_v2").snapshot(euler_node(d, vaults).reader(), d, BLOCK)
    pt = next(r for r in snap.rows if r.market == "0x" + "02" * 20)
    assert pt.counted and pt.debt_raw == vaults["0x" + "02" * 20]["debt"]
    want = Fraction(vaults["0x" + "01" * 20]["debt"] * 99_980_000, 10**14) + Fraction(
        pt.debt_raw * 987 * 10**15, 10**36
    )
    assert usd(snap) == want


# ---------------------------------------------------------------- Fluid Liquidity model


def word(x: int) -> bytes:
    return x.to_bytes(32, "big")


def map_slot(token: str, slot: int) -> bytes:
    """keccak256(abi.encode(address, uint256)) built from raw padded words."""
    return keccak(bytes.fromhex(token[2:].lower().rjust(64, "0")) + word(slot))


def big_math_encode(amount: int) -> tuple[int, int]:
    """(packed, decoded): 56-bit mantissa and 8-bit exponent, as Fluid's BigMath stores it."""
    exp = max(amount.bit_length() - 56, 0)
    mant = amount >> exp
    return (mant << 8) | exp, mant << exp


def exchange_word(rate: int, last: int, borrow_price: int, borrow_ratio: int, fee: int = 1000):
    return (
        rate
        | fee << 16
        | 8_000 << 30
        | 30 << 44
        | last << 58
        | 10**12 << 91
        | borrow_price << 155
        | borrow_ratio << 234
    )


NATIVE = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
GHOST = "0x" + "9a" * 20  # listed, unpriced


def fluid_tokens() -> dict:
    """token -> (rate bps, seconds since update, borrow price, borrow ratio, raw, free)."""
    return {
        NATIVE: (412, 3_600, 1_030_000_000_000, 0, 41_234 * 10**18 + 987_654_321, 10**21),
        USDC: (731, 86_400, 1_110_222_333_444, 20, 187_654_321 * 10**6, 5 * 10**12),
        GHOST: (0, 500, 1_000_000_000_000, 1, 0, 77 * 10**18),  # only interest-free borrow
    }


def fluid_expected(rate, dt, price, ratio, raw, free) -> int:
    if dt and rate and ratio != 1:
        price = price + price * rate * dt // (365 * 86_400 * 10_000)
    return big_math_encode(raw)[1] * price // 10**12 + big_math_encode(free)[1]


def fluid_node(d, tokens: dict) -> FakeNode:
    node = FakeNode(1, BLOCK, NOW)
    liq, oracle = d.addr("liquidity"), d.addr("price_oracle")
    base = int.from_bytes(keccak(word(10)), "big")
    node.on(liq, "readFromStorage(bytes32)", (word(10),), ["uint256"], [len(tokens)])
    for i, t in enumerate(tokens):
        node.on(liq, "readFromStorage(bytes32)", (word(base + i),), ["uint256"], [int(t, 16)])
    node.on(oracle, "BASE_CURRENCY_UNIT()", (), ["uint256"], [10**8])
    for t, (rate, dt, price, ratio, raw, free) in tokens.items():
        ta = big_math_encode(raw)[0] << 128 | big_math_encode(free)[0] << 192
        ep = exchange_word(rate, NOW - dt, price, ratio)
        node.on(liq, "readFromStorage(bytes32)", (map_slot(t, 5),), ["uint256"], [ep])
        node.on(liq, "readFromStorage(bytes32)", (map_slot(t, 7),), ["uint256"], [ta])
    weth = d.config["native"]["price_as"]
    node.on(oracle, "getAssetPrice(address)", (weth,), ["uint256"], [3_456_78000000])
    node.on(oracle, "getAssetPrice(address)", (USDC,), ["uint256"], [100_010_000])
    for t, dec, sym in ((USDC, 6, "USDC"), (GHOST, 18, "GHOST")):
        node.on(t, "decimals()", (), ["uint8"], [dec])
        node.on(t, "symbol()", (), ["string"], [sym])
    return node


@pytest.mark.parametrize("slots", [128, 2])
def test_fluid_total_borrow_from_storage_accrued_to_block(slots):
    d = dep("fluid-ethereum")
    d = replace(d, config={**d.config, "list_slots": slots})
    tokens = fluid_tokens()
    node = fluid_node(d, tokens)
    snap = adapter("fluid").snapshot(node.reader(), d, BLOCK)
    # listed tokens (+ one more round when they outnumber list_slots), the block header, per token
    assert node.round_trips == (3 if slots >= len(tokens) else 4)
    rows = {r.market: r for r in snap.rows}
    for t, params in tokens.items():
        assert rows[t.lower()].debt_raw == fluid_expected(*params), t
    eth, usdc, ghost = (rows[t.lower()] for t in tokens)
    assert (eth.symbol, eth.decimals, eth.price_raw) == ("ETH", 18, 3_456_78000000)
    assert usdc.counted and usdc.price_raw == 100_010_000
    assert not ghost.counted and ghost.debt_raw == 77 * 10**18 and "no USD" in ghost.note
    want = Fraction(eth.debt_raw * 3_456_78000000, 10**26) + Fraction(
        usdc.debt_raw * 100_010_000, 10**14
    )
    assert usd(snap) == want


def test_fluid_unconfigured_token_has_no_debt():
    d = dep("fluid-base")
    tokens = {USDC: (0, 0, 0, 0, 0, 0)}
    node = fluid_node(d, tokens)
    liq = d.addr("liquidity")
    node.on(liq, "readFromStorage(bytes32)", (map_slot(USDC, 5),), ["uint256"], [0])
    snap = adapter("fluid").snapshot(node.reader(), d, BLOCK)
    assert snap.rows[0].debt_raw == 0

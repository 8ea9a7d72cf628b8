"""Fixtures: SDK-encoded accounts of the three registry deployments on a fake RPC node.

The accounts are the protocols' own SDK encodings (tests/solana/sdk.py); the fake JSON-RPC
server (tests/solana/fake_rpc.py) stands in for mainnet RPC and is the only stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from fractions import Fraction

import pytest

from lendscope.chain.solana import b58encode
from lendscope.onchain.registry import load_registry
from tests.solana.fake_rpc import FakeSolana, FakeSolanaServer
from tests.solana.sdk import PROTOCOLS, encode_request, random_value, run_helper

USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
WSOL = "So11111111111111111111111111111111111111112"
OTHER = b58encode(bytes([7] * 32))  # a lending market / group not in the registry


@dataclass(frozen=True)
class Expected:
    """One reserve or bank as placed on the fake cluster, with its exact debt and USD value."""

    deployment: str
    pubkey: str
    mint: str
    decimals: int
    debt_raw: int
    price: Fraction | None

    @property
    def value_usd(self) -> Fraction:
        return Fraction(0) if self.price is None else self.debt_raw * self.price / 10**self.decimals


def _zero_values(protocol: str) -> dict:
    mod, _, enums = PROTOCOLS[protocol]
    return {f.name: random_value(random.Random(0), f, enums, "min") for f in mod.LAYOUT}


def _key(tag: str) -> str:
    return b58encode(hashlib.sha256(tag.encode()).digest())


def _specs(deps: dict) -> dict[str, list[tuple[str, dict, Expected | None]]]:
    """(pubkey, lendscope-named field values, expected row or None if filtered out)."""
    k, m, s = deps["kamino-lend-main"], deps["marginfi-main"], deps["save-main"]
    out: dict[str, list] = {"kamino": [], "marginfi": [], "save": []}
    # Kamino: USDC and SOL reserves in the Main Market, one reserve of another market.
    for tag, market, mint, dec, units, price, name in [
        (
            "k-usdc",
            k.addr("market"),
            USDC,
            6,
            Fraction(123_456_789_123_456, 1) + Fraction(1, 3),
            Fraction(10001, 10000),
            b"USDC",
        ),
        (
            "k-sol",
            k.addr("market"),
            WSOL,
            9,
            Fraction(9_876_543_210_987_654),
            Fraction(14_321, 100),
            b"SOL",
        ),
        ("k-other", OTHER, USDC, 6, Fraction(5 * 10**12), Fraction(1), b"USDC"),
    ]:
        v = _zero_values("kamino") | {
            "version": 1,
            "lending_market": market,
            "liquidity_mint": mint,
            "mint_decimals": dec,
            "borrowed_amount_sf": int(units * 2**60),
            "market_price_sf": int(price * 2**60),
            "token_name": name.ljust(32, b"\0"),
            "status": 0,
        }
        exp = Expected(
            "kamino-lend-main",
            _key(tag),
            mint,
            dec,
            int(units),
            Fraction(int(price * 2**60), 2**60),
        )
        out["kamino"].append((_key(tag), v, exp if market == k.addr("market") else None))
    # marginfi: banks of the main group (one never priced), one bank of another group.
    one = 2**48
    for tag, group, mint, dec, shares, value, price in [
        (
            "m-usdc",
            m.addr("market"),
            USDC,
            6,
            40_000_000_000_000 * one + 12345,
            one + one // 7,
            one,
        ),
        (
            "m-sol",
            m.addr("market"),
            WSOL,
            9,
            3_000_000_000_000 * one,
            2 * one + 3,
            150 * one + one // 3,
        ),
        ("m-new", m.addr("market"), _key("mint-x"), 8, 10**9 * one, one, 0),
        ("m-other", OTHER, USDC, 6, 10**15 * one, one, one),
    ]:
        v = _zero_values("marginfi") | {
            "mint": mint,
            "mint_decimals": dec,
            "group": group,
            "total_liability_shares": shares,
            "liability_share_value": value,
            "last_oracle_price": price,
            "operational_state": 1,
            "last_oracle_price_timestamp": 1_735_000_100,
        }
        debt = shares * value // one**2
        exp = Expected(
            "marginfi-main", _key(tag), mint, dec, debt, Fraction(price, one) if price else None
        )
        out["marginfi"].append((_key(tag), v, exp if group == m.addr("market") else None))
    wad = 10**18
    for tag, market, mint, dec, wads, price in [
        ("s-usdc", s.addr("market"), USDC, 6, 7_654_321_000_000 * wad + wad // 2, wad),
        ("s-sol", s.addr("market"), WSOL, 9, 55_000_000_000_000 * wad, 151 * wad + 25 * wad // 100),
        ("s-other", OTHER, WSOL, 9, 10**15 * wad, 150 * wad),
    ]:
        v = _zero_values("save") | {
            "version": 1,
            "lending_market": market,
            "liquidity_mint": mint,
            "liquidity_mint_decimals": dec,
            "borrowed_amount_wads": wads,
            "market_price": price,
        }
        exp = Expected("save-main", _key(tag), mint, dec, wads // wad, Fraction(price, wad))
        out["save"].append((_key(tag), v, exp if market == s.addr("market") else None))
    return out


@pytest.fixture(scope="session")
def solana_deps():
    return {d.id: d for d in load_registry().deployments if d.chain == "solana"}


@pytest.fixture(scope="session")
def sdk_accounts(solana_deps):
    """{protocol: [(pubkey, data, Expected | None)]}, encoded by each protocol's SDK."""
    specs = _specs(solana_deps)
    answer = run_helper(
        {p: [encode_request(p, v) for _, v, _ in rows] for p, rows in specs.items()}
    )
    return {
        p: [
            (key, base64.b64decode(o["data"]), exp)
            for (key, _, exp), o in zip(rows, answer[p], strict=True)
        ]
        for p, rows in specs.items()
    }


def build_cluster(solana_deps, sdk_accounts) -> FakeSolana:
    """A fake mainnet with the three programs, their markets and the SDK-encoded accounts."""
    state = FakeSolana()
    family_of = {d.family: d for d in solana_deps.values()}
    for family, rows in sdk_accounts.items():
        d = family_of[family]
        state.add_program(d.addr("program"))
        state.put(d.addr("market"), d.addr("program"), b"market" + bytes(100))
        for key, data, _ in rows:
            state.put(key, d.addr("program"), data)
    # An account of the klend program that is not a Reserve (another size) is filtered out.
    state.put(_key("k-obligation"), solana_deps["kamino-lend-main"].addr("program"), bytes(3344))
    return state


@pytest.fixture
def cluster(solana_deps, sdk_accounts):
    state = build_cluster(solana_deps, sdk_accounts)
    with FakeSolanaServer(state) as server:
        yield state, server


@pytest.fixture
def expected(sdk_accounts) -> dict[str, list[Expected]]:
    out: dict[str, list[Expected]] = {}
    for rows in sdk_accounts.values():
        for _, _, exp in rows:
            if exp is not None:
                out.setdefault(exp.deployment, []).append(exp)
    return out

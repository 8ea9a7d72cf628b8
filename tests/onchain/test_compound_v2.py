"""Compound v2 adapter on a fake JSON-RPC node: forks' config paths, Tron, and the registry.

The bytecode proof is ``tests/evm/test_compound_v2_venus.py`` (real Venus vTokens on anvil).
Here the node serves state the tests write down from the contracts' view semantics
(compound-finance/compound-protocol contracts/CToken.sol; Benqi QiToken / Moonwell MToken for
per-second accrual; JustLend's sun-quoted oracle), and the expected debts are worked out in the
tests by hand, so these check what the adapter does with each fork's configuration: per-second
accrual, native markets, bytes32 symbols, exclusions, a price numeraire, Tron addresses. The
transport is the only stand-in: the adapter runs through the real RpcClient and Caller.
"""

from __future__ import annotations

import json
from fractions import Fraction

import httpx
import pytest
from eth_abi import encode

from lendscope.chain import Caller, RpcClient
from lendscope.chain.tron import TronLatestTransport, tron_client
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.addresses import hex_to_tron, tron_to_hex
from lendscope.onchain.protocols import adapter
from lendscope.onchain.protocols.compound_v2 import accrue
from lendscope.onchain.registry import load_registry, parse_registry

BLOCK, TS = 30_000_000, 1_735_689_600
COMP, ORACLE = "0x" + "c0" * 20, "0x" + "0c" * 20


class Node:
    """eth_call answers keyed (to, calldata); a header for eth_getBlockByNumber."""

    def __init__(self, *, latest_only: bool = False, head: int = BLOCK) -> None:
        self.answers: dict[tuple[str, str], str] = {}
        self.latest_only, self.head = latest_only, head
        self.requests: list = []

    def on(self, to: str, sig: str, args: tuple, out: list[str], values: list) -> None:
        self.answers[(to.lower(), "0x" + Call(to, sig, args).data.hex())] = (
            "0x" + encode(out, values).hex()
        )

    def raw(self, to: str, sig: str, data: bytes) -> None:
        self.answers[(to.lower(), "0x" + Call(to, sig).data.hex())] = "0x" + data.hex()

    def one(self, it: dict) -> dict:
        m, p, ok = it["method"], it.get("params", []), {"jsonrpc": "2.0", "id": it["id"]}
        if m == "eth_call":
            if self.latest_only and p[1] != "latest":  # java-tron: no historical state
                return {**ok, "error": {"code": -32602, "message": "only latest is supported"}}
            got = self.answers.get((p[0]["to"].lower(), p[0]["data"]))
            if got is None:
                return {**ok, "error": {"code": 3, "message": "execution reverted"}}
            return {**ok, "result": got}
        if m == "eth_getBlockByNumber":
            n = BLOCK if p[0] == "latest" else int(p[0], 16)
            return {**ok, "result": {"number": hex(n), "hash": "0x" + f"{n:064x}",
                                     "timestamp": hex(TS)}}  # fmt: skip
        if m == "eth_blockNumber":
            return {**ok, "result": hex(self.head)}
        if m == "eth_chainId":
            return {**ok, "result": hex(1)}
        return {**ok, "error": {"code": -32601, "message": m}}

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        if isinstance(body, list):
            return httpx.Response(200, json=[self.one(x) for x in body])
        return httpx.Response(200, json=self.one(body))

    def reader(self) -> Reader:
        client = RpcClient("http://fake", chain_id=1, transport=httpx.MockTransport(self.handle))
        return Reader(Caller(client, None, chain_id=1, use_multicall=False))


def dep(config: dict, chain: str = "ethereum", kind: str = "evm", comp: str = COMP):
    chains = {chain: {"chain_id": 1}} if kind == "evm" else {chain: {"kind": kind, "chain_id": 7}}
    raw = {"id": "x", "protocol": "x", "family": "compound_v2", "chain": chain, "platform": "X",
           "segment": "defi", "source": "https://example.org", **config,
           "addresses": {"comptroller": {"address": comp, "label": "Comptroller"}}}  # fmt: skip
    return parse_registry({"chains": chains, "deployment": [raw]}).deployments[0]


def market(node: Node, m: str, borrows: int, rate: int, point: int, under: str | None, price: int,
           mode: str = "block") -> None:  # fmt: skip
    pt, rt = (("accrualBlockNumber()", "borrowRatePerBlock()") if mode == "block"
              else ("accrualBlockTimestamp()", "borrowRatePerTimestamp()"))  # fmt: skip
    node.on(m, "totalBorrows()", (), ["uint256"], [borrows])
    node.on(m, rt, (), ["uint256"], [rate])
    node.on(m, pt, (), ["uint256"], [point])
    if under:
        node.on(m, "underlying()", (), ["address"], [under])
    node.on(ORACLE, "getUnderlyingPrice(address)", (m,), ["uint256"], [price])


def token(node: Node, t: str, dec: int, sym: str | bytes) -> None:
    node.on(t, "decimals()", (), ["uint8"], [dec])
    if isinstance(sym, bytes):
        node.raw(t, "symbol()", sym.ljust(32, b"\0"))  # MKR-style bytes32
    else:
        node.on(t, "symbol()", (), ["string"], [sym])


def comptroller(node: Node, markets: list[str], comp: str = COMP) -> None:
    node.on(comp, "getAllMarkets()", (), ["address[]"], [markets])
    node.on(comp, "oracle()", (), ["address"], [ORACLE])


def test_compound_per_block_accrual_native_bytes32_symbol_and_exclusion():
    node = Node()
    ceth, cusdc, cmkr, cold = ("0x" + c * 20 for c in ("e1", "e2", "e3", "e4"))
    usdc, mkr, old = "0x" + "a6" * 20, "0x" + "9f" * 20, "0x" + "77" * 20
    comptroller(node, [ceth, cusdc, cmkr, cold])
    rate = 23_782_343_987  # ~5% a year at 2.1M blocks per year
    market(node, ceth, 10**22, rate, BLOCK - 1000, None, 3_000 * 10**18)
    market(node, cusdc, 5 * 10**14, rate, BLOCK - 7, usdc, 10**30)
    market(node, cmkr, 3 * 10**20, 0, BLOCK - 50, mkr, 1_500 * 10**18)
    market(node, cold, 10**18, rate, BLOCK, old, 10**18)
    token(node, usdc, 6, "USDC")
    token(node, mkr, 18, b"MKR")
    token(node, old, 18, "OLD")
    d = dep({"native_ctoken": "0x" + "E1" * 20, "native_symbol": "ETH",
             "exclude_markets": {cold: "deprecated"}})  # fmt: skip
    snap = adapter("compound_v2").snapshot(node.reader(), d, BLOCK)
    assert len(node.requests) == 3
    by = {r.symbol: r for r in snap.rows}
    # By hand: interest = rate x blocks x borrows / 1e18, truncated.
    assert by["ETH"].debt_raw == 10**22 + (rate * 1000 * 10**22) // 10**18
    assert by["USDC"].debt_raw == 5 * 10**14 + (rate * 7 * 5 * 10**14) // 10**18
    assert by["MKR"].debt_raw == 3 * 10**20 and by["MKR"].decimals == 18
    assert by["ETH"].asset == "0x" + "00" * 20 and by["ETH"].decimals == 18
    assert Fraction(by["ETH"].price_raw, by["ETH"].price_unit) == 3_000
    assert Fraction(by["USDC"].price_raw, by["USDC"].price_unit) == 1
    assert not by["OLD"].counted and by["OLD"].note == "deprecated"
    assert snap.value_usd == pytest.approx(
        by["ETH"].debt_raw / 1e18 * 3000 + by["USDC"].debt_raw / 1e6 + 300 * 1500
    )


def test_per_second_accrual_uses_the_pinned_block_timestamp_and_unlisted_native():
    node = Node()
    qiavax, qiusdc, usdc = "0x" + "d1" * 20, "0x" + "d2" * 20, "0x" + "a6" * 20
    comptroller(node, [qiavax, qiusdc])
    market(node, qiavax, 10**21, 10**9, TS - 3600, None, 25 * 10**18, "timestamp")
    market(node, qiusdc, 10**12, 2 * 10**9, TS - 60, usdc, 10**30, "timestamp")
    token(node, usdc, 6, "USDC")
    d = dep({"accrual": "timestamp", "native_symbol": "AVAX"})
    snap = adapter("compound_v2").snapshot(node.reader(), d, BLOCK)
    by = {r.symbol: r for r in snap.rows}
    assert by["AVAX"].debt_raw == 10**21 + 10**9 * 3600 * 10**21 // 10**18
    assert by["USDC"].debt_raw == 10**12 + 2 * 10**9 * 60 * 10**12 // 10**18
    assert "accrualBlockTimestamp" in by["USDC"].call


def test_accrual_after_the_asked_block_adds_nothing():
    assert accrue(10**18, 10**12, BLOCK + 3, BLOCK) == 10**18
    assert accrue(10**18, 10**12, BLOCK, BLOCK) == 10**18


def test_justlend_on_tron_reads_latest_prices_by_numeraire_and_shows_base58():
    node = Node(latest_only=True, head=BLOCK + 2)
    reg = {d.id: d for d in load_registry().deployments}
    d = reg["justlend"]
    comp = d.addr("comptroller")
    jtrx, jusdt = tron_to_hex("TE2RzoSV3wFK99w6J9UnnZ4vLfXYoxvRwP"), tron_to_hex(
        "TXJgMdjVX5dKiQaUi9QobwNxtSQaFqccvd")  # fmt: skip
    usdt = tron_to_hex("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    comptroller(node, [jtrx, jusdt], comp)
    # Oracle in sun, Compound-scaled: 1 TRX = 1e6 sun; 1 USDT = 4e6 sun (TRX at $0.25).
    market(node, jtrx, 8 * 10**14, 0, BLOCK, None, 10**6 * 10**30)
    market(node, jusdt, 2 * 10**14, 0, BLOCK, usdt, 4 * 10**6 * 10**30)
    token(node, usdt, 6, "USDT")
    client = tron_client("http://tron", chain_id=1, transport=httpx.MockTransport(node.handle))
    reader = Reader(Caller(client, None, chain_id=1, use_multicall=False))
    snap = adapter("compound_v2").snapshot(reader, d, BLOCK)
    by = {r.symbol: r for r in snap.rows}
    assert Fraction(by["TRX"].price_raw, by["TRX"].price_unit) == Fraction(1, 4)
    assert Fraction(by["USDT"].price_raw, by["USDT"].price_unit) == 1
    assert snap.value_usd == pytest.approx(800_000_000 * 0.25 + 200_000_000)
    assert by["USDT"].asset == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    assert by["USDT"].market == "TXJgMdjVX5dKiQaUi9QobwNxtSQaFqccvd"
    assert by["TRX"].asset == "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"  # Tron's zero address
    assert snap.contract == "TGjYzgCyPobsNS9n6WcbdLVR9dH7mWqFx7"
    calls = [x for b in node.requests for x in (b if isinstance(b, list) else [b])]
    assert all(x["params"][1] == "latest" for x in calls if x["method"] == "eth_call")


def test_tron_transport_refuses_a_block_far_from_the_head():
    node = Node(latest_only=True, head=BLOCK + 500)
    node.on(COMP, "oracle()", (), ["address"], [ORACLE])
    t = TronLatestTransport(httpx.MockTransport(node.handle), max_lag=20)
    client = RpcClient("http://tron", chain_id=1, transport=t)
    reader = Reader(Caller(client, None, chain_id=1, use_multicall=False))
    from lendscope.chain import RpcError

    with pytest.raises(RpcError, match="head only"):
        reader.read(BLOCK, [Call(COMP, "oracle()", out=("address",))])
    assert reader.read(BLOCK + 490, [Call(COMP, "oracle()", out=("address",))]) == [(ORACLE,)]
    assert t.heads == [BLOCK + 500, BLOCK + 500]
    # A single (non-batch) request keeps its shape, and the head call stays invisible.
    data = "0x" + Call(COMP, "oracle()").data.hex()
    got = client.request("eth_call", [{"to": COMP, "data": data}, hex(BLOCK + 499)])
    assert got == node.answers[(COMP, data)]


@pytest.mark.parametrize(
    ("tron", "hexaddr"),
    [
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"),
        ("T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", "0x0000000000000000000000000000000000000000"),
    ],
)
def test_tron_address_pairs(tron, hexaddr):
    assert tron_to_hex(tron) == hexaddr and hex_to_tron(hexaddr) == tron

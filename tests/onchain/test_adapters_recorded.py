"""Adapters of protocols with no bytecode in this repository, on recorded responses.

Compound v3, Maker/Sky, Liquity, crvUSD, GHO and Aave v2 cannot be deployed locally here, so
these tests answer their view calls from responses built with ``eth_abi`` from each function's
ABI (return types as in the verified sources), served over a JSON-RPC mock transport. They
check decoding, unit scaling, exclusions and the two-round-trip budget, not live contract
behaviour; the devnet tests cover Aave v3 and Morpho Blue against real bytecode.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from eth_abi import encode

from lendscope.chain import Caller, RpcClient
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import adapter
from lendscope.onchain.registry import load_registry

REG = load_registry()
BLOCK = 21_525_000


def dep(i: str):
    return next(d for d in REG.deployments if d.id == i)


class Recorded:
    """A JSON-RPC node that answers ``eth_call`` from recorded (to, calldata) -> return data."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], str] = {}
        self.round_trips = 0

    def on(self, to: str, sig: str, args: tuple, out: list[str], values: list) -> None:
        data = "0x" + Call(to, sig, args).data.hex()
        self.answers[(to.lower(), data)] = "0x" + encode(out, values).hex()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.round_trips += 1
        body = json.loads(request.content)
        items = body if isinstance(body, list) else [body]
        out = []
        for it in items:
            tx = it["params"][0]
            got = self.answers.get((tx["to"].lower(), tx["data"]))
            if got is None:
                err = {"code": 3, "message": "execution reverted"}
                out.append({"jsonrpc": "2.0", "id": it["id"], "error": err})
            else:
                out.append({"jsonrpc": "2.0", "id": it["id"], "result": got})
        return httpx.Response(200, json=out if isinstance(body, list) else out[0])

    def reader(self) -> Reader:
        client = RpcClient(
            "http://recorded", chain_id=1, transport=httpx.MockTransport(self.handle)
        )
        return Reader(Caller(client, None, chain_id=1, use_multicall=False))


def test_compound_v3_total_borrow_times_comet_price():
    d, node = dep("compound-v3"), Recorded()
    usdc, weth = (
        "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
    )
    feeds = {"comet_usdc": "0x" + "11" * 20, "comet_weth": "0x" + "22" * 20}
    for k, base, debt, dec, price, sym in (
        ("comet_usdc", usdc, 450_123_456 * 10**6, 6, 99_990_000, "USDC"),
        ("comet_weth", weth, 12_345 * 10**18, 18, 10**8, "WETH"),  # cWETHv3 prices in ETH
    ):
        c = d.addr(k)
        node.on(c, "baseToken()", (), ["address"], [base])
        node.on(c, "baseTokenPriceFeed()", (), ["address"], [feeds[k]])
        node.on(c, "totalBorrow()", (), ["uint256"], [debt])
        node.on(c, "decimals()", (), ["uint8"], [dec])
        node.on(c, "getPrice(address)", (feeds[k],), ["uint256"], [price])
        node.on(base, "symbol()", (), ["string"], [sym])
    node.on(d.addr("eth_usd_feed"), "latestAnswer()", (), ["int256"], [3_300 * 10**8])
    snap = adapter("compound_v3").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 2
    usd = {r.symbol: r.value_usd for r in snap.rows}
    assert usd["USDC"] == pytest.approx(450_123_456 * 0.9999)
    assert usd["WETH"] == pytest.approx(12_345 * 3_300)
    assert snap.value_usd == pytest.approx(sum(usd.values()))


def test_maker_counts_crypto_ilks_only():
    d, node = dep("maker"), Recorded()
    ilks = {
        b"ETH-A": (10**24, 11 * 10**26),
        b"WBTC-A": (5 * 10**23, 10**27),
        b"PSM-USDC-A": (9 * 10**26, 10**27),
        b"RWA001-A": (10**22, 10**27),
        b"DIRECT-SPARK-DAI": (10**25, 10**27),
        b"ALLOCATOR-SPARK-A": (10**26, 10**27),
    }
    names = [n.ljust(32, b"\0") for n in ilks]
    node.on(d.addr("ilk_registry"), "list()", (), ["bytes32[]"], [names])
    for n, (art, rate) in zip(names, ilks.values(), strict=True):
        node.on(d.addr("vat"), "ilks(bytes32)", (n,), ["uint256"] * 5, [art, rate, 0, 0, 0])
    snap = adapter("maker").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 2
    counted = {r.market for r in snap.rows if r.counted}
    assert counted == {"ETH-A", "WBTC-A"}
    assert snap.value_usd == pytest.approx(1.1e6 + 5e5)  # Art x rate / 1e45 DAI at $1
    assert all("excluded" in r.note for r in snap.rows if not r.counted)


def test_liquity_entire_system_debt():
    d, node = dep("liquity-v1"), Recorded()
    node.on(
        d.addr("trove_manager"), "getEntireSystemDebt()", (), ["uint256"], [62_000_000 * 10**18]
    )
    snap = adapter("liquity").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 1 and snap.value_usd == 62e6
    assert snap.rows[0].call == "TroveManager.getEntireSystemDebt()"


def test_crvusd_controllers_and_price_aggregator():
    d, node = dep("crvusd"), Recorded()
    f = d.addr("factory")
    ctrls = ["0x" + f"{i + 1:02x}" * 20 for i in range(3)]
    node.on(f, "n_collaterals()", (), ["uint256"], [3])
    for i, c in enumerate(ctrls):
        node.on(f, "controllers(uint256)", (i,), ["address"], [c])
        node.on(c, "total_debt()", (), ["uint256"], [(i + 1) * 10**6 * 10**18])
        node.on(c, "collateral_token()", (), ["address"], ["0x" + "ee" * 20])
    node.on(d.addr("price_aggregator"), "price()", (), ["uint256"], [999 * 10**15])
    snap = adapter("crvusd").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 2
    assert snap.value_usd == pytest.approx(6e6 * 0.999)
    assert snap.price_source == "PriceAggregator.price()"


def test_gho_counts_aave_facilitator_once_and_excludes_gsm():
    d, node = dep("gho"), Recorded()
    facs = {"0x00907f9921424583e7ffbfedf84f92b7b2be4977": 150 * 10**24,  # Aave v3 facilitator
            "0x0d8effc11df3f229aa1ea0509bc9dfa632a13578": 20 * 10**24,  # GSM USDC
            "0x" + "99" * 20: 10**24}  # fmt: skip
    g = d.addr("gho")
    node.on(g, "getFacilitatorsList()", (), ["address[]"], [list(facs)])
    for a, level in facs.items():
        node.on(g, "getFacilitatorBucket(address)", (a,), ["uint256", "uint256"], [10**27, level])
    snap = adapter("gho").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 2
    assert snap.value_usd == 150e6
    notes = {r.market[:6]: r.note for r in snap.rows}
    assert "GSM" in notes["0x0d8e"] and "unclassified" in notes["0x9999"]
    # ... and Aave v3 leaves the GHO reserve out, so the debt counts once.
    assert (
        "0x40d16fc0246ad3160ccc09b8d0d3a2cd28ae6c2f" in dep("aave-v3-core").config["exclude_assets"]
    )


def test_aave_v2_prices_in_eth_converted_to_usd():
    d, node = dep("aave-v2"), Recorded()
    dp, oracle = d.addr("data_provider"), d.addr("oracle")
    usdt = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
    node.on(dp, "getAllReservesTokens()", (), ["(string,address)[]"], [[("USDT", usdt)]])
    node.on(d.addr("eth_usd_feed"), "latestAnswer()", (), ["int256"], [2_000 * 10**8])
    rd = [0, 5 * 10**6, 95 * 10**6, *[0] * 7]  # stable 5 + variable 95 USDT
    node.on(dp, "getReserveData(address)", (usdt,), ["uint256"] * 10, rd)
    conf = [6, 0, 0, 0, 0, *[True] * 5]
    node.on(
        dp, "getReserveConfigurationData(address)", (usdt,), ["uint256"] * 5 + ["bool"] * 5, conf
    )
    toks = ["0x" + c * 20 for c in ("aa", "bb", "cc")]
    node.on(dp, "getReserveTokensAddresses(address)", (usdt,), ["address"] * 3, toks)
    node.on(oracle, "getAssetPrice(address)", (usdt,), ["uint256"], [5 * 10**14])  # 0.0005 ETH
    snap = adapter("aave_v2").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 2
    assert snap.value_usd == pytest.approx(100 * 0.0005 * 2000)


def test_registry_entries_are_labelled_and_cited(tmp_path: Path):
    from lendscope.onchain.registry import dump_registry, parse_registry

    for d in REG.deployments:
        assert d.source.startswith("https://")
        for a in d.addresses.values():
            assert a.label and a.url.startswith("https://")
            assert d.chain_kind != "evm" or len(a.address) == 42
    import tomllib

    again = parse_registry(tomllib.loads(dump_registry(REG)))
    assert again.deployments == REG.deployments

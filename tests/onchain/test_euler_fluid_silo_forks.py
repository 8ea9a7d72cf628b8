"""Silo v2, Lista Lending (Moolah) and Radiant v2 on a fake JSON-RPC node.

None of them ships sources or bytecode on npm or PyPI, so the node (:mod:`tests.onchain.fake_node`,
the only stand-in) serves what their contracts would answer: Silo's ``NewSilo`` logs (the event of
silo-core/contracts/SiloFactory.sol) and ``getDebtAssets()``; Moolah's ``CreateMarket`` log and
``market(id)`` (lista-dao/moolah src/moolah/interfaces/IMoolah.sol: the same ``Market`` struct and
event as Morpho Blue, which is why Lista is a ``morpho_blue`` registry entry); Radiant's v2-layout
data provider and USD AaveOracle (radiant-capital/v2 contracts/lending/).
"""

from __future__ import annotations

from fractions import Fraction

from eth_abi import encode
from eth_utils import keccak

from lendscope.onchain.protocols import adapter
from lendscope.onchain.registry import load_registry
from tests.onchain.fake_node import FakeNode

REG = load_registry()
BLOCK, NOW = 24_000_000, 1_765_000_000


def dep(i: str):
    return next(d for d in REG.deployments if d.id == i)


def pad(a: str) -> str:
    return "0x" + a[2:].lower().rjust(64, "0")


def counted_usd(snap) -> Fraction:
    return sum(
        (
            Fraction(r.debt_raw * r.price_raw, 10**r.decimals * r.price_unit)
            for r in snap.rows
            if r.counted and r.price_raw is not None
        ),
        Fraction(0),
    )


USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
XYZ = "0x" + "5e" * 20  # not listed by the USD oracle


def test_silo_pairs_from_new_silo_logs_debt_with_interest():
    d, node = dep("silo-v2-ethereum"), FakeNode(1, BLOCK, NOW)
    topic = "0x" + keccak(text="NewSilo(address,address,address,address,address,address)").hex()
    bad = next(iter(d.config["exclude_silos"]))  # a silo the registry excludes (bad debt)
    pairs = [(USDC, WETH, "0x" + "a1" * 20, "0x" + "a2" * 20), (XYZ, USDC, "0x" + "b1" * 20, bad)]
    for i, (t0, t1, s0, s1) in enumerate(pairs):
        node.log(
            d.addr("factory"),
            [topic, pad("0x" + "11" * 20), pad(t0), pad(t1)],
            encode(["address"] * 3, [s0, s1, "0x" + f"{i + 1:02x}" * 20]),
            d.config["start_block"] + 10 + i,
        )
    node.log("0x" + "66" * 20, [topic, pad(USDC), pad(USDC), pad(USDC)], b"\0" * 96, BLOCK - 1)
    debts = {
        "0x" + "a1" * 20: 12_000_000 * 10**6 + 1,
        "0x" + "a2" * 20: 3_000 * 10**18 + 7,
        "0x" + "b1" * 20: 10**24,
        bad: 999 * 10**6,
    }
    for s, v in debts.items():
        node.on(s, "getDebtAssets()", (), ["uint256"], [v])
    o = d.addr("price_oracle")
    node.on(o, "BASE_CURRENCY_UNIT()", (), ["uint256"], [10**8])
    for t, dec, sym, px in (
        (USDC, 6, "USDC", 99_990_000),
        (WETH, 18, "WETH", 3_000 * 10**8),
        (XYZ, 18, "XYZ", None),
    ):
        node.on(t, "decimals()", (), ["uint8"], [dec])
        node.on(t, "symbol()", (), ["string"], [sym])
        if px:
            node.on(o, "getAssetPrice(address)", (t,), ["uint256"], [px])
    snap = adapter("silo").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 2  # one eth_getLogs (log_chunk 0: the whole range), one batch
    (flt,) = node.log_filters
    assert int(flt["fromBlock"], 16) == d.config["start_block"] and int(flt["toBlock"], 16) == BLOCK
    rows = {r.market: r for r in snap.rows}
    assert set(rows) == {s.lower() for s in debts}  # the other factory's log is not read
    a1, a2, b1, excl = (rows[s.lower()] for s in debts)
    assert (a1.asset, a1.symbol, a1.debt_raw) == (USDC.lower(), "USDC", debts["0x" + "a1" * 20])
    assert a2.asset == WETH.lower() and a2.counted
    assert b1.asset == XYZ.lower() and not b1.counted and "no USD" in b1.note
    assert excl.asset == USDC.lower() and not excl.counted and "bad debt" in excl.note
    want = Fraction(a1.debt_raw * 99_990_000, 10**14) + Fraction(
        a2.debt_raw * 3_000 * 10**8, 10**26
    )
    assert counted_usd(snap) == want


def test_silo_before_its_factory_start_reads_no_logs_range():
    d, node = dep("silo-v2-sonic-revised"), FakeNode(146, 1, NOW)
    node.on(d.addr("price_oracle"), "BASE_CURRENCY_UNIT()", (), ["uint256"], [10**8])
    snap = adapter("silo").snapshot(node.reader(), d, d.config["start_block"] - 1)
    assert snap.rows == [] and node.log_filters == []


def test_lista_moolah_is_read_by_the_morpho_blue_adapter():
    d = dep("lista-lending-bsc")
    at = d.config["start_block"] + 5_000_000
    node = FakeNode(56, at, NOW)
    assert d.family == "morpho_blue"
    # IMoolah.sol: event CreateMarket(Id indexed id, MarketParams marketParams), Id = bytes32,
    # MarketParams = (loanToken, collateralToken, oracle, irm, lltv) - Morpho Blue's signature.
    topic = (
        "0x" + keccak(text="CreateMarket(bytes32,(address,address,address,address,uint256))").hex()
    )
    assert topic == adapter("morpho_blue").CREATE_MARKET
    usdt = "0x55d398326f99059fF775485246999027B3197955"
    wbnb = "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c"
    lisusd = "0x0782b6d8c4551B9760e74c0545a9bCD90bdc41E5"
    markets = {
        "0x" + "c1" * 32: (usdt, wbnb, 400_000 * 10**18 + 3),
        "0x" + "c2" * 32: (lisusd, wbnb, 10**24),
    }
    for i, (mid, (loan, coll, borrowed)) in enumerate(markets.items()):
        params = (loan, coll, "0x" + "0c" * 20, "0x" + "0d" * 20, 86 * 10**16)
        node.log(
            d.addr("morpho"),
            [topic, mid],
            encode(["(address,address,address,address,uint256)"], [params]),
            d.config["start_block"] + i,
        )
        # Market: totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, ...
        node.on(
            d.addr("morpho"),
            "market(bytes32)",
            (bytes.fromhex(mid[2:]),),
            ["uint128"] * 6,
            [2 * borrowed, 2 * borrowed * 10**6, borrowed, borrowed * 10**6, NOW - 60, 0],
        )
    o = d.addr("price_oracle")
    node.on(o, "BASE_CURRENCY_UNIT()", (), ["uint256"], [10**8])
    node.on(o, "getAssetPrice(address)", (usdt,), ["uint256"], [100_020_000])
    for t, sym in ((usdt, "USDT"), (lisusd, "lisUSD")):
        node.on(t, "decimals()", (), ["uint8"], [18])
        node.on(t, "symbol()", (), ["string"], [sym])
    snap = adapter("morpho_blue").snapshot(node.reader(), d, at)
    assert node.round_trips == 2
    rows = {r.market: r for r in snap.rows}
    usdt_row, lis_row = rows["0x" + "c1" * 32], rows["0x" + "c2" * 32]
    assert usdt_row.debt_raw == 400_000 * 10**18 + 3 and usdt_row.counted
    assert lis_row.debt_raw == 10**24 and not lis_row.counted  # the Aave BNB oracle lacks lisUSD
    assert counted_usd(snap) == Fraction(usdt_row.debt_raw * 100_020_000, 10**26)


def radiant_node(d) -> FakeNode:
    node = FakeNode(42161, BLOCK, NOW)
    dp, o = d.addr("data_provider"), d.addr("oracle")
    usdc, weth = (
        "0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
        "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1",
    )
    node.on(
        dp, "getAllReservesTokens()", (), ["(string,address)[]"], [[("USDC", usdc), ("WETH", weth)]]
    )
    node.on(o, "BASE_CURRENCY_UNIT()", (), ["uint256"], [10**8])
    for a, dec, stable, variable, px in (
        (usdc, 6, 0, 1_234_567 * 10**6 + 89, 100_000_000),
        (weth, 18, 10**17, 55 * 10**18, 3_100 * 10**8),
    ):
        node.on(
            dp, "getReserveData(address)", (a,), ["uint256"] * 10, [0, stable, variable, *[0] * 7]
        )
        node.on(
            dp,
            "getReserveConfigurationData(address)",
            (a,),
            ["uint256"] * 5 + ["bool"] * 5,
            [dec, 0, 0, 0, 0, *[True] * 5],
        )
        node.on(
            dp,
            "getReserveTokensAddresses(address)",
            (a,),
            ["address"] * 3,
            ["0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20],
        )
        node.on(o, "getAssetPrice(address)", (a,), ["uint256"], [px])
    return node


RADIANT_WANT = Fraction((1_234_567 * 10**6 + 89) * 10**8, 10**14) + Fraction(
    (10**17 + 55 * 10**18) * 3_100 * 10**8, 10**26
)


def test_radiant_entries_read_v2_layout_with_usd_oracle():
    """The registry entry's addresses and the v2-layout + BASE_CURRENCY_UNIT reader."""
    from lendscope.onchain.protocols.aave_v3 import RESERVE_DATA_V2, Layout, read_reserves

    d = dep("radiant-v2-arbitrum")
    assert d.family == "aave_v2" and d.config["oracle_quote"] == "USD"
    node = radiant_node(d)
    snap = read_reserves(node.reader(), d, BLOCK, Layout(RESERVE_DATA_V2, 1, 2, True))
    assert node.round_trips == 2 and counted_usd(snap) == RADIANT_WANT


def test_radiant_through_the_aave_v2_adapter():
    d = dep("radiant-v2-arbitrum")
    node = radiant_node(d)
    snap = adapter("aave_v2").snapshot(node.reader(), d, BLOCK)
    assert node.round_trips == 2 and counted_usd(snap) == RADIANT_WANT

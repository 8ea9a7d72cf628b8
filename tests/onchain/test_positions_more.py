"""Position readers for Compound v3, Maker, Liquity and crvUSD against a fake JSON-RPC node.

The fake node stands in for a mainnet provider, which these tests cannot reach, and these
contracts cannot be deployed here (no bytecode or sources on npm/PyPI: shared/notes/local-evm.md
§0). It answers ``eth_call`` with ABI-encoded state and ``eth_getLogs`` with given logs. The state
comes from lendscope's mechanics (Comet, Vat/Spotter/Dog, TroveManager) driven through real
actions, so the chain's own verdicts (``isLiquidatable``, ``Vat.safe``/``Dog.bark``,
``getCurrentICR``) are the mechanics' answers for the same state; crvUSD's AMM state and the
``Controller.health(user, True)`` it answers are hand-computed numbers (see the docstring there).
"""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from lendscope.mechanics.compound_v3.comet import Comet
from lendscope.mechanics.compound_v3.config import AssetConfig
from lendscope.mechanics.liquity.troves import TroveManager
from lendscope.mechanics.maker.math import MakerRevert
from lendscope.onchain.abi import Call
from lendscope.onchain.positions_cdp import (
    CDP_COLUMNS,
    cdp_health,
    liquity_check,
    liquity_health,
    liquity_icr,
    liquity_positions,
    liquity_troves,
    maker_health,
    maker_positions,
    maker_vaults,
)
from lendscope.onchain.positions_comet import (
    ASSET_INFO,
    COMET_WITHDRAW,
    PositionReadError,
    comet_accounts,
    comet_check,
    comet_health,
    comet_liquidatable,
    comet_positions,
    comet_rows,
)
from lendscope.onchain.positions_crvusd import (
    crvusd_check,
    crvusd_health,
    crvusd_health_raw,
    crvusd_loans,
    crvusd_positions,
)
from lendscope.onchain.rows import COLUMNS as POSITION_COLUMNS
from lendscope.onchain.rows import row_health as rows_health
from tests.mechanics.compound_v3.books import E6, E8, E18, usdc_config
from tests.mechanics.maker.system import make_system
from tests.onchain.test_adapters_recorded import BLOCK, Recorded, dep

WAD, RAY = 10**18, 10**27


def addr(tag: str) -> str:
    """A distinct, readable lower-case address (``addr("a1")`` = 0xa1a1...)."""
    return "0x" + (tag * 40)[:40]


def topic(a: str) -> str:
    return "0x" + "0" * 24 + a[2:].lower()


class Node(Recorded):
    """Recorded ``eth_call`` answers plus ``eth_getLogs``; counts log queries."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: list[dict] = []
        self.log_queries = 0

    def log(self, address: str, topics: list[str], block: int) -> None:
        self.logs.append({"address": address.lower(), "topics": topics, "blockNumber": hex(block),
                          "data": "0x", "logIndex": hex(len(self.logs))})  # fmt: skip

    def drop(self, to: str, sig: str, args: tuple = ()) -> None:
        """Make one call revert."""
        del self.answers[(to.lower(), "0x" + Call(to, sig, args).data.hex())]

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        first = body[0] if isinstance(body, list) else body
        if first["method"] != "eth_getLogs":
            return super().handle(request)
        self.log_queries += 1
        flt = first["params"][0]
        lo, hi = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
        got = [
            lg for lg in self.logs
            if lg["address"] == flt["address"].lower() and lo <= int(lg["blockNumber"], 16) <= hi
            and lg["topics"][0] == flt["topics"][0]
        ]  # fmt: skip
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": first["id"], "result": got})


def partition_ok(rows: list[dict], coll_key: str = "collateral_asset") -> None:
    """Every account's assets each sit in exactly one row; ids are ``platform:account:k``."""
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["account"], []).append(r)
    for acct, rs in by.items():
        colls = [r[coll_key] for r in rs if r[coll_key]]
        assert len(colls) == len(set(colls)), acct
        ids = [r.get("position_id") or r.get("vault_id") for r in rs]
        assert ids == [f"{rs[0]['platform']}:{acct}:{k}" for k in range(len(rs))]


# --------------------------------------------------------------------------- Compound v3
USDC, WETH, WBTC, WSTETH = addr("c0"), addr("c1"), addr("c2"), addr("c3")
FEEDS = {k: addr(f"f{i}") for i, k in enumerate(("USDC", "WETH", "WBTC", "WETHb", "wstETH"))}
TOKENS = {"USDC": USDC, "WETH": WETH, "WBTC": WBTC, "wstETH": WSTETH}
U1, U2, U3, U4, W1 = addr("a1"), addr("a2"), addr("a3"), addr("a4"), addr("b1")


def serve_comet(node: Node, comet: str, sim: Comet, base: str, feeds: dict, logged: list[str]):
    """A Comet's views from the mechanics ``Comet`` (stored index = accrued: no time passes).

    Every test account is answered (0 where it has nothing, as a node would); ``logged`` have a
    ``Withdraw`` log.
    """
    infos = list(sim.assets.values())
    node.on(comet, "baseToken()", (), ["address"], [TOKENS[base]])
    node.on(comet, "baseTokenPriceFeed()", (), ["address"], [feeds[base]])
    node.on(comet, "numAssets()", (), ["uint8"], [len(infos)])
    node.on(comet, "decimals()", (), ["uint8"], [sim.config.base_decimals])
    node.on(comet, "getPrice(address)", (feeds[base],), ["uint256"], [sim.base_price])
    node.on(TOKENS[base], "symbol()", (), ["string"], [base])
    for i, a in enumerate(infos):
        t = TOKENS[a.name]
        row = (i, t, feeds[a.name], a.scale, a.borrow_collateral_factor,
               a.liquidate_collateral_factor, a.liquidation_factor, a.supply_cap)  # fmt: skip
        node.on(comet, "getAssetInfo(uint8)", (i,), [ASSET_INFO], [row])
        node.on(comet, "getPrice(address)", (feeds[a.name],), ["uint256"], [sim.prices[a.name]])
        node.on(t, "symbol()", (), ["string"], [a.name])
    for u in (U1, U2, U3, U4, W1):
        node.on(comet, "borrowBalanceOf(address)", (u,), ["uint256"], [sim.borrow_balance_of(u)])
        node.on(comet, "isLiquidatable(address)", (u,), ["bool"], [sim.is_liquidatable(u)])
        for a in infos:
            bal = sim.user(u).collateral.get(a.name, 0)
            node.on(comet, "collateralBalanceOf(address,address)", (u, TOKENS[a.name]),
                    ["uint128"], [bal])  # fmt: skip
    for u in logged:
        node.log(comet, [COMET_WITHDRAW, topic(u), topic(u)], BLOCK - 10)


@pytest.fixture
def comet_node():
    """cUSDCv3: U1 two collaterals, U2 underwater after WETH falls, U3 a supplier who withdrew
    (a ``Withdraw`` log, no debt), U4 WBTC only. cWETHv3 (ETH-quoted): W1 borrows on wstETH."""
    d, node = dep("compound-v3"), Node()
    usdc = Comet(usdc_config(), now=0)
    usdc.supply_base(addr("99"), 10**12 * E6, now=0)
    usdc.supply_collateral(U1, "WETH", 10 * E18)
    usdc.supply_collateral(U1, "WBTC", E8 // 2)
    usdc.withdraw_base(U1, 20_000 * E6, now=0)
    usdc.supply_collateral(U2, "WETH", E18)
    usdc.withdraw_base(U2, 1_500 * E6, now=0)
    usdc.supply_base(U3, 5_000 * E6, now=0)
    usdc.withdraw_base(U3, 1_000 * E6, now=0)
    usdc.supply_collateral(U4, "WBTC", 2 * E8)
    usdc.withdraw_base(U4, 30_000 * E6, now=0)
    usdc.accrue(86_400 * 30)  # a month of interest, stored in the indices
    usdc.prices["WETH"] = 1_600 * E8  # U2: 1600 x 0.895 = 1432 < 1500 + interest
    serve_comet(node, d.addr("comet_usdc"), usdc, "USDC", FEEDS, [U1, U2, U3, U4])
    weth_cfg = usdc_config(
        base_decimals=18, base_price=E8, base_borrow_min=0, target_reserves=0,
        assets=(AssetConfig("wstETH", 18, 90 * 10**16, 93 * 10**16, 975 * 10**15, 117 * 10**6),),
    )  # fmt: skip
    weth = Comet(weth_cfg, now=0)
    weth.supply_base(addr("98"), 10**9 * E18, now=0)
    weth.supply_collateral(W1, "wstETH", 10 * E18)
    weth.withdraw_base(W1, 5 * E18, now=0)
    feeds = {"WETH": FEEDS["WETHb"], "wstETH": FEEDS["wstETH"]}
    serve_comet(node, d.addr("comet_weth"), weth, "WETH", feeds, [W1])
    node.on(d.addr("eth_usd_feed"), "latestAnswer()", (), ["int256"], [3_000 * E8])
    return d, node, {"usdc": usdc, "weth": weth}


def test_comet_rows_partition_each_account_and_match_exact_health(comet_node):
    d, node, sims = comet_node
    reader = node.reader()
    accts = comet_accounts(reader, d, BLOCK)
    rows = comet_rows(d, accts)
    assert {a.owner for a in accts} == {U1, U2, U4, W1}  # U3 has no debt
    assert all(set(r) == set(POSITION_COLUMNS) for r in rows)
    partition_ok(rows)
    u1 = [r for r in rows if r["owner"] == U1]
    assert [(r["collateral_asset"], r["debt_asset"]) for r in u1] == [("ETH", "USDC"), ("WBTC", "")]
    assert u1[1]["debt_amount"] == 0 and u1[1]["debt_price_usd"] == ""
    assert u1[0]["liquidation_threshold"] == 0.895
    assert u1[0]["bonus"] == pytest.approx(1 / 0.95 - 1)
    assert u1[0]["debt_amount"] == sims["usdc"].borrow_balance_of(U1) / E6
    w1 = next(r for r in rows if r["owner"] == W1)
    assert w1["debt_price_usd"] == 3_000 and w1["collateral_price_usd"] == pytest.approx(3_510)
    health = rows_health(rows)
    for a in accts:
        exact = comet_health(a)
        assert health[a.account] == pytest.approx(float(exact), rel=1e-4)
        sim = sims["weth" if a.owner == W1 else "usdc"]
        assert comet_liquidatable(a) == sim.is_liquidatable(a.owner) == (exact < 1)
    assert [a.owner for a in accts if comet_liquidatable(a)] == [U2]
    assert comet_check(reader, d, BLOCK, accts) == []


def test_comet_owners_filter_reads_only_those_accounts_without_logs(comet_node):
    d, node, _ = comet_node
    rows = comet_positions(node.reader(), d, BLOCK, owners=[U2.upper().replace("0X", "0x"), U3])
    assert {r["owner"] for r in rows} == {U2} and node.log_queries == 0


def test_comet_failing_call_names_deployment_and_call(comet_node):
    d, node, _ = comet_node
    node.drop(d.addr("comet_usdc"), "borrowBalanceOf(address)", (U4,))
    with pytest.raises(PositionReadError, match=r"compound-v3: cUSDCv3\.borrowBalanceOf\(address\) "
                       rf"failed at block {BLOCK} .*{U4}"):  # fmt: skip
        comet_positions(node.reader(), d, BLOCK)


# --------------------------------------------------------------------------- Maker
ILK = "ETH-A"
ILK32 = ILK.encode().ljust(32, b"\0")
PSM32 = b"PSM-USDC-A".ljust(32, b"\0")
BOB, ALICE, CAROL, PSMU = addr("d1"), addr("d2"), addr("d3"), addr("d4")
O1, O2 = addr("e1"), addr("e2")


@pytest.fixture
def maker_node():
    """dss mechanics: bob 1 ETH / 1000 DAI, alice 10 / 5000, carol 2 / 0; rate 1.05, ETH 1400.

    bob: 1 x 1400 / 1.5 = 933 < 1050: unsafe. Vault 4 is a PSM urn (excluded, never read).
    Owners: O1 owns vaults 1 (bob) and 3 (carol), O2 owns 2 (alice) and 4 (PSM).
    """
    d, node = dep("maker"), Node()
    vat, spot, dog, _ = make_system()
    vat.slip(ILK, BOB, WAD)
    vat.frob(ILK, BOB, WAD, 1000 * WAD)
    vat.slip(ILK, ALICE, 10 * WAD)
    vat.frob(ILK, ALICE, 10 * WAD, 5000 * WAD)
    vat.slip(ILK, CAROL, 2 * WAD)
    vat.frob(ILK, CAROL, 2 * WAD, 0)
    vat.fold(ILK, "vow", 5 * 10**25)
    spot.set_price(ILK, 1400 * WAD)
    spot.poke(ILK)
    man, vatc = d.addr("cdp_manager"), d.addr("vat")
    spotc, dogc = d.addr("spotter"), d.addr("dog")
    vaults = {
        1: (BOB, ILK32, O1),
        2: (ALICE, ILK32, O2),
        3: (CAROL, ILK32, O1),
        4: (PSMU, PSM32, O2),
    }
    node.on(man, "cdpi()", (), ["uint256"], [4])
    for i, (u, ilk, o) in vaults.items():
        node.on(man, "urns(uint256)", (i,), ["address"], [u])
        node.on(man, "ilks(uint256)", (i,), ["bytes32"], [ilk])
        node.on(man, "owns(uint256)", (i,), ["address"], [o])
    for i, nxt in {1: 3, 3: 0, 2: 4, 4: 0}.items():
        node.on(man, "list(uint256)", (i,), ["uint256", "uint256"], [0, nxt])
    node.on(man, "first(address)", (O1,), ["uint256"], [1])
    node.on(man, "first(address)", (O2,), ["uint256"], [2])
    for u in (BOB, ALICE, CAROL):
        urn = vat.urn(ILK, u)
        node.on(vatc, "urns(bytes32,address)", (ILK32, u), ["uint256"] * 2, [urn.ink, urn.art])
    i = vat.ilks[ILK]
    node.on(
        vatc, "ilks(bytes32)", (ILK32,), ["uint256"] * 5, [i.Art, i.rate, i.spot, i.line, i.dust]
    )
    node.on(spotc, "ilks(bytes32)", (ILK32,), ["address", "uint256"], [addr("ab"), spot.mat[ILK]])
    dg = dog.ilks[ILK]
    node.on(dogc, "ilks(bytes32)", (ILK32,), ["address"] + ["uint256"] * 3,
            [addr("ac"), dg.chop, dg.hole, dg.dirt])  # fmt: skip
    node.on(d.addr("ilk_registry"), "symbol(bytes32)", (ILK32,), ["string"], ["WETH"])
    return d, node, (vat, dog)


def test_maker_vault_rows_match_vat_safety(maker_node):
    d, node, (vat, dog) = maker_node
    vaults = maker_vaults(node.reader(), d, BLOCK)
    assert [(v.cdp, v.urn) for v in vaults] == [(1, BOB), (2, ALICE)]  # carol: no debt; PSM out
    rows = maker_positions(node.reader(), d, BLOCK)
    assert all(tuple(r) == CDP_COLUMNS for r in rows)
    partition_ok(rows)
    bob = rows[0]
    assert bob["account"] == f"ETH-A:{BOB}" and bob["owner"] == O1
    assert (bob["collateral_asset"], bob["collateral_amount"]) == ("ETH", 1.0)
    assert bob["debt_usd"] == pytest.approx(1050) and bob["liquidation_ratio"] == 1.5
    assert bob["penalty"] == pytest.approx(0.13)
    assert bob["collateral_price_usd"] == pytest.approx(1400, rel=1e-12)
    health = cdp_health(rows)
    for v in vaults:
        assert health[v.account] == pytest.approx(float(maker_health(v)), rel=1e-4)
        assert (maker_health(v) >= 1) == vat.safe(ILK, v.urn)
    dog.bark(ILK, BOB, "keeper", now=0)  # the chain agrees: bob is barkable ...
    with pytest.raises(MakerRevert, match="Dog/not-unsafe"):
        dog.bark(ILK, ALICE, "keeper", now=0)  # ... alice is not


def test_maker_owners_walk_the_cdp_manager_lists(maker_node):
    d, node, _ = maker_node
    rows = maker_positions(node.reader(), d, BLOCK, owners=[O1])
    assert [r["account"] for r in rows] == [f"ETH-A:{BOB}"]
    node.drop(d.addr("cdp_manager"), "cdpi()")  # not needed with owners
    assert len(maker_positions(node.reader(), d, BLOCK, owners=[O1, O2])) == 2


def test_maker_failing_call_names_deployment_and_call(maker_node):
    d, node, _ = maker_node
    node.drop(d.addr("spotter"), "ilks(bytes32)", (ILK32,))
    with pytest.raises(PositionReadError, match=r"maker: MCD_SPOT\.ilks\(bytes32\) failed"):
        maker_positions(node.reader(), d, BLOCK)


# --------------------------------------------------------------------------- Liquity
A, B, C = addr("1a"), addr("1b"), addr("1c")
FEED = addr("1f")


@pytest.fixture
def liquity_node():
    """TroveManager mechanics: A, B, C opened at ETH 200; C liquidated at 180 with part of its
    debt redistributed, so A and B carry pending rewards that ``getEntireDebtAndColl`` adds."""
    d, node = dep("liquity-v1"), Node()
    tm = TroveManager(sp_deposits=1_001 * WAD)
    for owner, coll, amount in ((A, 100, 10_000), (B, 20, 2_000), (C, 12, 1_800)):
        tm.open_trove(owner, coll * WAD, amount * WAD, price=200 * WAD, now=0)
    tm.batch_liquidate([A, B, C], price=180 * WAD)
    price = 120 * WAD  # B: ~21 x 120 / ~2378 = 1.06 < 1.1; A: ~105 x 120 / ~11091 = 1.14
    t = d.addr("trove_manager")
    node.on(t, "priceFeed()", (), ["address"], [FEED])
    node.on(FEED, "lastGoodPrice()", (), ["uint256"], [price])
    node.on(t, "getTroveOwnersCount()", (), ["uint256"], [2])
    for i, o in enumerate((A, B)):
        node.on(t, "getTroveFromTroveOwnersArray(uint256)", (i,), ["address"], [o])
    for o in (A, B, C):
        node.on(t, "getEntireDebtAndColl(address)", (o,), ["uint256"] * 4,
                list(tm.entire_debt_and_coll(o)))  # fmt: skip
        node.on(t, "getCurrentICR(address,uint256)", (o, price), ["uint256"],
                [tm.current_icr(o, price)])  # fmt: skip
    return d, node, tm, price


def test_liquity_rows_match_current_icr(liquity_node):
    d, node, tm, price = liquity_node
    reader = node.reader()
    troves = liquity_troves(reader, d, BLOCK)
    assert [t.owner for t in troves] == [A, B]
    assert troves[0].debt > tm.troves[A].debt  # pending redistribution included
    rows = liquity_positions(reader, d, BLOCK)
    partition_ok(rows)
    assert rows[0]["collateral_asset"] == "ETH" and rows[0]["liquidation_ratio"] == 1.1
    assert rows[0]["collateral_price_usd"] == 120.0
    health = cdp_health(rows)
    for t in troves:
        assert liquity_icr(t) == tm.current_icr(t.owner, price)
        assert health[t.account] == pytest.approx(float(liquity_health(t)), rel=1e-4)
    assert [t.owner for t in troves if liquity_health(t) < 1] == [B]
    assert liquity_check(reader, d, BLOCK, troves) == []


def test_liquity_owners_filter_skips_closed_troves(liquity_node):
    d, node, _, _ = liquity_node
    rows = liquity_positions(node.reader(), d, BLOCK, owners=[A, C])  # C: closed, debt 0
    assert [r["owner"] for r in rows] == [A] and node.log_queries == 0


def test_liquity_failing_call_names_deployment_and_call(liquity_node):
    d, node, _, _ = liquity_node
    node.drop(FEED, "lastGoodPrice()")
    with pytest.raises(PositionReadError, match=r"liquity-v1: PriceFeed\.lastGoodPrice\(\) failed"):
        liquity_positions(node.reader(), d, BLOCK)


# --------------------------------------------------------------------------- crvUSD
CTRL, AMM, TBTC = addr("2c"), addr("2a"), addr("2b")
L1, L2, L3, NOBODY = addr("31"), addr("32"), addr("33"), addr("34")
E = WAD
# user: (y [8 dec], x, debt, discount, x_down, (n1, n2), p_oracle_up(n1), health(u, True))
LOANS = {
    # above its bands: 52000e18 x 0.94e18 // 30000e18 - 1e18 = 629333333333333333, plus the
    # full-mode term (60000 - 58000)e18 x 1e8 x 1e10 // 30000e18 = 66666666666666666
    L1: (10**8, 0, 30_000 * E, 6 * E // 100, 52_000 * E, (10, 13), 58_000 * E, 695999999999999999),
    # soft liquidation (n1 <= active band 5: no full-mode term): 43000 x 0.94 / 40000 - 1
    L2: (4 * 10**7, 20_000 * E, 40_000 * E, 6 * E // 100, 43_000 * E, (4, 7), None,
         10500000000000000),
    # above its bands but p_oracle < p_up: 59000 x 0.94 / 57000 - 1 < 0: liquidatable
    L3: (10**8, 0, 57_000 * E, 6 * E // 100, 59_000 * E, (6, 9), 70_000 * E, -27017543859649123),
}  # fmt: skip


@pytest.fixture
def crvusd_node():
    """One tBTC-like market (8 decimals, so COLLATERAL_PRECISION = 1e10), oracle 60,000."""
    d, node = dep("crvusd"), Node()
    f = d.addr("factory")
    node.on(f, "n_collaterals()", (), ["uint256"], [1])
    node.on(f, "controllers(uint256)", (0,), ["address"], [CTRL])
    node.on(CTRL, "amm()", (), ["address"], [AMM])
    node.on(CTRL, "collateral_token()", (), ["address"], [TBTC])
    node.on(CTRL, "n_loans()", (), ["uint256"], [3])
    node.on(AMM, "active_band()", (), ["int256"], [5])
    node.on(AMM, "price_oracle()", (), ["uint256"], [60_000 * E])
    node.on(TBTC, "decimals()", (), ["uint8"], [8])
    node.on(TBTC, "symbol()", (), ["string"], ["WBTC"])
    for i, u in enumerate(LOANS):
        node.on(CTRL, "loans(uint256)", (i,), ["address"], [u])
    for u, (y, x, debt, disc, xd, ns, p_up, h) in {
        **LOANS,
        NOBODY: (0,) * 5 + ((0, 0), None, 0),
    }.items():
        node.on(
            CTRL, "user_state(address)", (u,), ["uint256[4]"], [[y, x, debt, ns[1] - ns[0] + 1]]
        )
        node.on(CTRL, "liquidation_discounts(address)", (u,), ["uint256"], [disc])
        node.on(AMM, "get_x_down(address)", (u,), ["uint256"], [xd])
        node.on(AMM, "read_user_tick_numbers(address)", (u,), ["int256[2]"], [list(ns)])
        node.on(CTRL, "health(address,bool)", (u, True), ["int256"], [h])
        if p_up is not None:
            node.on(AMM, "p_oracle_up(int256)", (ns[0],), ["uint256"], [p_up])
    return d, node


def test_crvusd_health_port_matches_controller_health(crvusd_node):
    d, node = crvusd_node
    reader = node.reader()
    loans = crvusd_loans(reader, d, BLOCK)
    assert [ln.user for ln in loans] == [L1, L2, L3]
    for ln in loans:
        assert crvusd_health_raw(ln) == LOANS[ln.user][-1]
    assert crvusd_check(reader, d, BLOCK, loans) == []
    assert [ln.user for ln in loans if crvusd_health(ln) < 1] == [L3]
    rows = crvusd_positions(reader, d, BLOCK)
    partition_ok(rows)
    l2 = [r for r in rows if r["owner"] == L2]
    assert [(r["collateral_asset"], r["collateral_amount"], r["debt_usd"]) for r in l2] == [
        ("WBTC", 0.4, 40_000.0), ("DAI", 20_000.0, 0.0)]  # fmt: skip
    assert l2[0]["penalty"] == 0.06 and l2[1]["liquidation_ratio"] == ""
    health = cdp_health(rows)
    for ln in loans:
        assert health[ln.account] == pytest.approx(float(crvusd_health(ln)), rel=1e-4)
        assert next(r for r in rows if r["account"] == ln.account)["liquidation_ratio"] >= 1


def test_crvusd_owners_filter_and_failing_call(crvusd_node):
    d, node = crvusd_node
    rows = crvusd_positions(node.reader(), d, BLOCK, owners=[L1, NOBODY])
    assert [r["owner"] for r in rows] == [L1]
    node.drop(AMM, "get_x_down(address)", (L2,))
    with pytest.raises(PositionReadError, match=r"crvusd: AMM\.get_x_down\(address\) failed"):
        crvusd_positions(node.reader(), d, BLOCK)


def test_cdp_rows_load_as_a_vault_book(maker_node, crvusd_node):
    """The CDP rows are a CDP vaults CSV the risk engine reads (``account`` is an extra column)."""
    from lendscope.risk.books import parse_vaults

    rows = maker_positions(maker_node[1].reader(), maker_node[0], BLOCK)
    rows += crvusd_positions(crvusd_node[1].reader(), crvusd_node[0], BLOCK)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CDP_COLUMNS)
    w.writeheader()
    w.writerows(rows)
    book = parse_vaults("vaults.csv", buf.getvalue())
    assert len(book.positions.id) == len(rows)
    assert sum(book.positions.debt_usd) == pytest.approx(sum(r["debt_usd"] for r in rows))

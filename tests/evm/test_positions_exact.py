"""``positions`` accounts against the chain's own views on the devnet (real Aave v3.6, Morpho).

Beyond the devnet's three borrowers the module opens the accounts the first reader got wrong:
USDC supplied but *not* enabled as collateral, an e-mode user (WETH at LT 95 %) with collateral
outside the category, and an account with two collateral and two debt assets. Every Aave
borrower's health factor from lendscope's exact port equals ``Pool.getUserAccountData`` to the
wei, and the one from its CSV rows within 1e-4; Morpho's is checked against ``liquidate``,
which reverts for a healthy position.
"""

from __future__ import annotations

import math

import httpx
import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as sel

from lendscope.chain import CallCache, Caller, RpcClient
from lendscope.onchain import aave_accounts, morpho_accounts
from lendscope.onchain.abi import Reader
from lendscope.onchain.devnet import CHAIN_ID, start_devnet
from lendscope.onchain.evm import Node
from lendscope.onchain.positions import aave_borrowers, read_positions, row_health

E18, E6 = 10**18, 10**6


def _data(sig: str, types: list[str], args: list) -> str:
    return "0x" + (sel(sig) + encode(types, args)).hex()


def send(node: Node, frm: str, to: str, sig: str, types: list[str], args: list) -> None:
    tx = {"from": frm, "to": to, "data": _data(sig, types, args), "gas": hex(5_000_000)}
    r = node.rpc("eth_sendTransactionSync", tx)
    assert int(r["status"], 16) == 1, sig


def view(url: str, to: str, sig: str, types: list, args: list, out: list, block: int):
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
            "params": [{"to": to, "data": _data(sig, types, args)}, hex(block)]}  # fmt: skip
    got = httpx.post(url, json=body).json()
    if "error" in got:
        return None
    return decode(out, bytes.fromhex(got["result"][2:]))


@pytest.fixture(scope="module")
def net():
    n = start_devnet(extra_blocks=0)
    node = Node(n.url)
    a = n.addresses
    pool, weth, usdc, conf = a["pool"], a["WETH"], a["USDC"], a["conf"]
    admin, *_rest = node.rpc("eth_accounts")
    u4, u5, u6 = node.rpc("eth_accounts")[5:8]
    addr = ["address"]
    for u in (u4, u5, u6):
        for tok, amt in ((weth, 1_000 * E18), (usdc, 1_000_000 * E6)):
            send(node, admin, tok, "mint(address,uint256)", ["address", "uint256"], [u, amt])
            send(node, u, tok, "approve(address,uint256)", ["address", "uint256"], [pool, amt])
    supply = ("supply(address,uint256,address,uint16)", ["address", "uint256", "address", "uint16"])
    borrow = ("borrow(address,uint256,uint256,uint16,address)",
              ["address", "uint256", "uint256", "uint16", "address"])  # fmt: skip
    # u4: the case. 10 WETH collateral; 50k USDC supplied but not enabled as collateral.
    send(node, u4, pool, *supply, [weth, 10 * E18, u4, 0])
    send(node, u4, pool, *supply, [usdc, 50_000 * E6, u4, 0])
    send(node, u4, pool, "setUserUseReserveAsCollateral(address,bool)", [*addr, "bool"],
         [usdc, False])  # fmt: skip
    send(node, u4, pool, *borrow, [weth, 4 * E18, 2, 0, u4])
    # u5: e-mode 1 (WETH collateral and borrowable at LTV 93 % / LT 95 %) plus USDC collateral,
    # which is outside the category and keeps its own 82.5 %.
    emode_types = ["uint8", "uint16", "uint16", "uint16", "string"]
    send(node, admin, conf, "setEModeCategory(uint8,uint16,uint16,uint16,string)", emode_types,
         [1, 9300, 9500, 10100, "ETH"])  # fmt: skip
    for f in ("setAssetCollateralInEMode", "setAssetBorrowableInEMode"):
        send(node, admin, conf, f"{f}(address,uint8,bool)", ["address", "uint8", "bool"],
             [weth, 1, True])  # fmt: skip
    send(node, u5, pool, *supply, [weth, 20 * E18, u5, 0])
    send(node, u5, pool, *supply, [usdc, 10_000 * E6, u5, 0])
    send(node, u5, pool, "setUserEMode(uint8)", ["uint8"], [1])
    send(node, u5, pool, *borrow, [weth, 18 * E18, 2, 0, u5])
    # u6: two collateral and two debt assets.
    send(node, u6, pool, *supply, [weth, 5 * E18, u6, 0])
    send(node, u6, pool, *supply, [usdc, 8_000 * E6, u6, 0])
    send(node, u6, pool, *borrow, [usdc, 6_000 * E6, 2, 0, u6])
    send(node, u6, pool, *borrow, [weth, 1 * E18, 2, 0, u6])
    node.rpc("anvil_mine", hex(10), hex(86400))  # a day of interest per block
    n.block = int(node.rpc("eth_blockNumber"), 16)
    n.special = {"no_collateral_flag": u4.lower(), "emode": u5.lower(), "multi": u6.lower()}
    node.close()
    try:
        yield n
    finally:
        n.stop()


@pytest.fixture
def reader(net):
    with RpcClient(net.url, chain_id=CHAIN_ID, max_request_bytes=20_000) as c:
        yield Reader(Caller(c, CallCache(), confirmations=0))


def test_every_aave_account_equals_get_user_account_data(net, reader):
    dep = net.registry.select("devnet", ["aave-v3"])[0]
    users = aave_borrowers(reader, dep, net.block)
    assert set(net.special.values()) <= set(users) and len(users) == 5
    accounts, _unit = aave_accounts.read_accounts(reader, dep, net.block, users)
    rows = read_positions(reader, dep, net.block)
    from_rows = row_health(rows)
    print("\naccount                                     chain HF     port HF      rows HF")
    for a in accounts:
        chain = view(net.url, dep.addr("pool"), "getUserAccountData(address)", ["address"],
                     [a.user], ["uint256"] * 6, net.block)  # fmt: skip
        ours = a.exact("3.6")
        print(f"{a.user}  {chain[5] / E18:.9f}  {ours.health_factor / E18:.9f}  "
              f"{from_rows[a.user]:.9f}")  # fmt: skip
        assert (ours.collateral_base, ours.debt_base, ours.average_lt, ours.health_factor) == (
            chain[0],
            chain[1],
            chain[3],
            chain[5],
        )
        assert math.isclose(from_rows[a.user], chain[5] / E18, rel_tol=1e-4)


def test_rows_partition_each_account(net, reader):
    dep = net.registry.select("devnet", ["aave-v3"])[0]
    rows = read_positions(reader, dep, net.block)
    seen: set[tuple[str, str, str]] = set()
    for r in rows:
        for side in ("collateral", "debt"):
            if r[f"{side}_asset"]:
                key = (r["account"], side, r[f"{side}_asset"])
                assert key not in seen, key
                seen.add(key)
    u4, u5 = net.special["no_collateral_flag"], net.special["emode"]
    assert not any(r["account"] == u4 and r["collateral_asset"] == "USDC" for r in rows)
    lts = {r["collateral_asset"]: r["liquidation_threshold"] for r in rows if r["account"] == u5}
    assert lts == {"ETH": 0.95, "USDC": 0.825}
    bonus = {r["collateral_asset"]: r["bonus"] for r in rows if r["account"] == u5}
    assert math.isclose(bonus["ETH"], 0.01) and math.isclose(bonus["USDC"], 0.05)
    multi = [r for r in rows if r["account"] == net.special["multi"]]
    assert len(multi) == 2 and {r["debt_asset"] for r in multi} == {"ETH", "USDC"}


def test_owners_reads_only_those(net, reader):
    dep = net.registry.select("devnet", ["aave-v3"])[0]
    u = net.special["multi"]
    rows = read_positions(reader, dep, net.block, owners=[u])
    assert {r["owner"] for r in rows} == {u}
    assert read_positions(reader, dep, net.block, owners=["0x" + "11" * 20]) == []


def test_morpho_health_agrees_with_liquidate(net, reader):
    dep = net.registry.select("devnet", ["morpho-blue"])[0]
    (acct,) = morpho_accounts.read_accounts(reader, dep, net.block)
    rows = read_positions(reader, dep, net.block)
    hf = acct.health_factor / E18
    assert math.isclose(row_health(rows)[f"{acct.market_id}:{acct.user}"], hf, rel_tol=1e-4)
    # The market was last touched before the interest blocks: accrual to the block matters.
    assert acct.market.last_update > 0 and acct.debt > 12_000 * E6
    morpho, params = dep.addr("morpho"), net.market_params
    sig = "liquidate((address,address,address,address,uint256),address,uint256,uint256,bytes)"
    types = ["(address,address,address,address,uint256)", "address", "uint256", "uint256", "bytes"]
    args = [params, acct.user, 1, 0, b""]
    healthy = view(net.url, morpho, sig, types, args, [], net.block) is None
    assert healthy == (acct.health_factor >= E18) and hf > 1


def test_morpho_unhealthy_after_price_drop(net):
    node = Node(net.url)
    admin = node.rpc("eth_accounts")[0]
    sid = node.rpc("evm_snapshot")
    try:
        # 1 WETH = 1,300 USDC: 10 WETH x 1,300 x 86 % = 11,180 < 12,000+ USDC owed.
        send(node, admin, net.addresses["OracleMock"], "setPrice(uint256)", ["uint256"],
             [1300 * 10**36 * 10**6 // 10**18])  # fmt: skip
        block = int(node.rpc("eth_blockNumber"), 16)
        dep = net.registry.select("devnet", ["morpho-blue"])[0]
        with RpcClient(net.url, chain_id=CHAIN_ID) as c:
            r = Reader(Caller(c, CallCache(), confirmations=0))
            (acct,) = morpho_accounts.read_accounts(r, dep, block)
            rows = read_positions(r, dep, block)
        assert acct.health_factor < E18
        assert math.isclose(
            row_health(rows)[f"{acct.market_id}:{acct.user}"], acct.health_factor / E18,
            rel_tol=1e-4,
        )  # fmt: skip
        sig = "liquidate((address,address,address,address,uint256),address,uint256,uint256,bytes)"
        types = ["(address,address,address,address,uint256)", "address", "uint256", "uint256",
                 "bytes"]  # fmt: skip
        supplier = node.rpc("eth_accounts")[1]  # funded and approved by the devnet
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [
            {"from": supplier, "to": dep.addr("morpho"),
             "data": _data(sig, types, [net.market_params, acct.user, 10**15, 0, b""])},
            hex(block)]}  # fmt: skip
        assert "error" not in httpx.post(net.url, json=body).json()
    finally:
        node.rpc("evm_revert", sid)
        node.close()


def test_written_book_starts_each_account_at_its_health(net, reader, tmp_path):
    import numpy as np

    from lendscope.onchain.positions import write_positions
    from lendscope.risk import engine
    from lendscope.risk.books import load_book

    dep = net.registry.select("devnet", ["aave-v3"])[0]
    rows = read_positions(reader, dep, net.block)
    book = load_book(write_positions(rows, tmp_path / "pos.csv")[0])
    hf0 = engine.Positions(book).hf0
    want = row_health(rows)
    owners = np.array(book.positions.owner)
    for account, hf in want.items():
        assert np.allclose(hf0[owners == account], hf, rtol=1e-9)
    debt = sum(r["debt_amount"] * r["debt_price_usd"] for r in rows if r["debt_asset"])
    assert math.isclose(sum(book.positions.debt_usd), debt, rel_tol=1e-12)

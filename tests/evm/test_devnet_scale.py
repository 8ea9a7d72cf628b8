"""The scale devnet (``lendscope devnet --borrowers N --seed S``): every drawn category on chain.

300 borrowers from seed 1 on real Aave v3.6 and Morpho Blue bytecode; each claim of the mix
(e-mode, isolation, collateral switched off, multi-asset, liquidatable after the price drop,
several Morpho markets) is checked with the protocols' own view functions.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

import httpx
import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as sel

from lendscope.onchain import devnet_mix as mx
from lendscope.onchain.devnet_scale import ScaleDevnet, start_scale_devnet

N, SEED = 300, 1


_HTTP = httpx.Client(timeout=60)  # one keep-alive connection for the many view calls


@pytest.fixture(scope="module")
def net():
    n = start_scale_devnet(N, SEED)
    try:
        yield n
    finally:
        n.stop()


def view(net: ScaleDevnet, to: str, sig: str, args: list, out: list[str], block: int | None = None):
    """Decoded eth_call at the devnet's state block."""
    types = sig[sig.index("(") + 1 : -1].split(",") if args else []
    data = "0x" + (sel(sig) + encode(types, args)).hex()
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "eth_call",
        "params": [{"to": to, "data": data}, hex(block or net.block)],
    }
    r = _HTTP.post(net.url, json=body).json()
    return decode(out, bytes.fromhex(r["result"][2:]))


def account_data(net: ScaleDevnet, who: str) -> tuple:
    """Pool.getUserAccountData: collateral, debt, available (base units), LT, LTV, HF."""
    return view(net, net.addresses["pool"], "getUserAccountData(address)", [who], ["uint256"] * 6)


def test_mix_is_deterministic_per_seed(net):
    assert mx.draw_mix(N, SEED) == net.mix
    other = mx.draw_mix(N, SEED + 1)
    assert other != net.mix
    assert [b.category for b in other.borrowers] != [b.category for b in net.mix.borrowers]
    assert {b.category for b in net.mix.borrowers} == set(mx.CATEGORIES)
    assert len(set(net.borrowers)) == N
    # The same seed builds the same chain: same borrower contracts, same accounts to the wei.
    again = start_scale_devnet(N, SEED)
    try:
        assert again.borrowers == net.borrowers and again.block == net.block
        for who in net.by_protocol["aave-v3"][:40]:
            assert account_data(again, who) == account_data(net, who)
    finally:
        again.stop()


def test_aave_categories_on_chain(net):
    pool = net.addresses["pool"]
    ids = {a.symbol: i for i, a in enumerate(mx.ASSETS)}
    for who, b in net.specs():
        if not (b.supplies or b.borrows):
            continue
        (emode,) = view(net, pool, "getUserEMode(address)", [who], ["uint256"])
        assert emode == (mx.EMODE_ID if b.category == "emode" else 0)
        (cfg,) = view(net, pool, "getUserConfiguration(address)", [who], ["uint256"])
        collateral = {s for s, i in ids.items() if cfg >> (2 * i + 1) & 1}
        borrowing = {s for s, i in ids.items() if cfg >> (2 * i) & 1}
        assert collateral == {s for s, _ in b.supplies}, b
        assert borrowing == {s for s, _ in b.borrows}, b
        hf = account_data(net, who)[5]
        if b.category == "liquidatable":
            assert hf < 10**18, b
        else:
            assert hf > 10**18, b
        if b.category == "multi":
            assert len(collateral) >= 2 and len(borrowing) == 2
        if b.category == "isolated":
            assert collateral == {mx.ISOLATED} and borrowing <= set(mx.ISOLATION_BORROWABLE)
        for sym, amount in b.idle:  # supplied, collateral switched off
            bal, *_rest, used = view(
                net,
                net.addresses["AaveProtocolDataProvider"],
                "getUserReserveData(address,address)",
                [net.addresses[sym], who],
                ["uint256"] * 7 + ["uint40", "bool"],
            )
            assert bal >= amount and not used
    rd = view(net, pool, "getReserveData(address)", [net.addresses[mx.ISOLATED]], ["uint256"] * 15)
    iso_debt = sum(  # isolation debt is kept in USD with two decimals, per borrow
        a // 10 ** (mx.BY_SYMBOL[s].decimals - 2)
        for b in net.mix.borrowers
        if b.category == "isolated"
        for s, a in b.borrows
    )
    assert rd[14] == iso_debt > 0
    assert len(net.category("liquidatable")) > 0 and len(net.category("emode")) > 0


def test_morpho_markets_and_prices_agree(net):
    morpho, oracle = net.addresses["Morpho"], net.addresses["AaveOracle"]
    ids = net.market_ids
    assert len(ids) == len(mx.MARKETS) and all(net.morpho_borrowers[m] for m in ids)
    usd = {
        s: view(net, oracle, "getAssetPrice(address)", [net.addresses[s]], ["uint256"])[0]
        for s in mx.BY_SYMBOL
    }
    assert usd[mx.DROP_ASSET] == int(mx.BY_SYMBOL[mx.DROP_ASSET].price * mx.DROP_FACTOR)
    prices = []
    for (loan, coll, lltv), p in zip(mx.MARKETS, net.markets, strict=True):
        (price,) = view(net, p[2], "price()", [], ["uint256"])
        lo, co = mx.BY_SYMBOL[loan], mx.BY_SYMBOL[coll]
        assert price == usd[coll] * 10 ** (36 + lo.decimals - co.decimals) // usd[loan]
        assert p[4] == lltv
        prices.append(price)
    for who, b in net.specs():
        for m, collateral, borrowed in b.morpho:
            mid = bytes.fromhex(ids[m][2:])
            _s, shares, coll = view(
                net,
                morpho,
                "position(bytes32,address)",
                [mid, who],
                ["uint256", "uint128", "uint128"],
            )
            mk = view(net, morpho, "market(bytes32)", [mid], ["uint128"] * 6)
            debt = -(-shares * (mk[2] + 1) // (mk[3] + 10**6))  # shares to assets, rounded up
            assert coll == collateral and borrowed <= debt <= borrowed * 1.001 + 1
            healthy = debt <= coll * prices[m] // 10**36 * net.markets[m][4] // 10**18
            assert healthy == (b.category != "morpho_liquidatable"), b


def test_positions_reader_finds_every_borrower(net):
    from lendscope.chain import Caller, RpcClient
    from lendscope.onchain.abi import Reader
    from lendscope.onchain.positions import read_positions

    with RpcClient(net.url, chain_id=31337) as c:
        reader = Reader(Caller(c, None, chain_id=31337))
        for dep in net.registry.deployments:
            rows = read_positions(reader, dep, net.block)
            proto = "aave-v3" if dep.family == "aave_v3" else "morpho-blue"
            want = {a.lower() for a in net.by_protocol[proto]}
            assert {r["owner"].lower() for r in rows} == want


def test_devnet_cli_prints_commands_that_work(tmp_path):
    from typer.testing import CliRunner

    from lendscope.cli import app

    reg = tmp_path / "r.toml"
    cmd = [sys.executable, "-m", "lendscope.cli", "devnet", "--borrowers", "120", "--seed", "3"]
    p = subprocess.Popen([*cmd, "--registry-out", str(reg)], stdout=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        lines = [p.stdout.readline().strip() for _ in range(5)]
        tries = [shlex.split(x.removeprefix("try: ")) for x in lines if x.startswith("try: ")]
        assert [t[:2] for t in tries] == [["lendscope", "sync"], *[["lendscope", "positions"]] * 2]
        assert all("--allow-unsafe-head" not in t for t in tries)
        text = reg.read_text()
        assert "aave-v3-devnet" in text and "morpho-blue-devnet" in text
        for t in tries[1:]:
            out = tmp_path / t[t.index("--out") + 1]
            t[t.index("--out") + 1] = str(out)
            r = CliRunner().invoke(app, t[1:])
            assert r.exit_code == 0, r.output
            assert len(out.read_text().splitlines()) > 10
    finally:
        p.terminate()
        p.wait(timeout=10)

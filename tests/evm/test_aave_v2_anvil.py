"""The ``aave_v2`` adapter against real Aave v2 bytecode (``@aave/protocol-v2`` 1.0.1) on anvil.

Two reserves, variable and stable borrowers, a day of blocks with interest accruing; the
adapter's ``debt_raw`` per reserve must equal the stable + variable debt tokens' ``totalSupply()``
at the pinned block to the wei, and its USD value must be AaveOracle's ETH price x the ETH/USD
feed. A second read with ``oracle_quote = "USD"`` is not done: the v2 AaveOracle has no
``BASE_CURRENCY_UNIT``.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from lendscope.chain import RpcClient
from lendscope.onchain.abi import Caller, Reader
from lendscope.onchain.protocols import aave_v2
from lendscope.onchain.registry import Address, Deployment
from tests.evm.aave_v2 import ASSETS, ETH_USD, deploy_v2, mint

URL = "https://github.com/aave/protocol-v2/tree/v1.0.1"


def deployment(m) -> Deployment:
    def a(key: str, label: str) -> Address:
        return Address(m.c[key].address.lower(), label, URL)

    return Deployment(
        "aave-v2-anvil", "aave-v2", "aave_v2", "devnet", 31337, "Aave v2 (anvil)", "defi", URL,
        {
            "pool": a("pool", "LendingPool"),
            "data_provider": a("dp", "AaveProtocolDataProvider"),
            "oracle": a("oracle", "AaveOracle"),
            "eth_usd_feed": a("eth_usd", "ETH/USD MockAggregator"),
        },
        {"start_block": 0},
    )  # fmt: skip


def test_aave_v2_debt_and_price_match_chain(w3, anvil, snapshot):
    m = deploy_v2(w3)
    acc = w3.eth.accounts
    supplier, b1, b2 = acc[1], acc[2], acc[3]
    weth, usdc = (t.address for t in m.tokens)
    pool = m.pool.functions
    mint(m, 0, supplier, 1_000 * 10**18)
    mint(m, 1, supplier, 2_000_000 * 10**6)
    m.ok(pool.deposit(weth, 1_000 * 10**18, supplier, 0), supplier)
    m.ok(pool.deposit(usdc, 2_000_000 * 10**6, supplier, 0), supplier)
    mint(m, 0, b1, 10 * 10**18)
    m.ok(pool.deposit(weth, 10 * 10**18, b1, 0), b1)
    m.ok(pool.borrow(usdc, 8_000 * 10**6, 2, 0, b1), b1)  # variable
    m.ok(pool.borrow(usdc, 1_500 * 10**6, 1, 0, b1), b1)  # stable
    mint(m, 1, b2, 50_000 * 10**6)
    m.ok(pool.deposit(usdc, 50_000 * 10**6, b2, 0), b2)
    m.ok(pool.borrow(weth, 5 * 10**18, 2, 0, b2), b2)
    m.ok(pool.borrow(weth, 2 * 10**18, 1, 0, b2), b2)
    w3.provider.make_request("anvil_mine", [hex(24), hex(3600)])  # a day, interest accrues
    block = w3.eth.block_number

    client = RpcClient(anvil.url, chain_id=31337)
    try:
        reader = Reader(Caller(client, None, chain_id=31337, use_multicall=False))
        snap = aave_v2.snapshot(reader, deployment(m), block)
    finally:
        client.close()
    assert snap.adapter_version == aave_v2.VERSION
    rows = {r.asset: r for r in snap.rows}
    assert set(rows) == {weth.lower(), usdc.lower()}
    total = Fraction(0)
    for i, (t, (sym, dec, eth_price)) in enumerate(zip(m.tokens, ASSETS, strict=True)):
        r = rows[t.address.lower()]
        stable, variable = m.vtokens[i]
        s = stable.functions.totalSupply().call(block_identifier=block)
        v = variable.functions.totalSupply().call(block_identifier=block)
        assert s > 0 and v > 0
        assert r.debt_raw == s + v, sym  # to the wei, interest accrued to the block
        assert r.symbol == sym and r.decimals == dec and r.counted
        assert r.contract == variable.address.lower()
        oracle_price = m.c["oracle"].functions.getAssetPrice(t.address).call(block_identifier=block)
        assert oracle_price == eth_price
        assert (r.price_raw, r.price_unit) == (oracle_price * ETH_USD, 10**18 * 10**8)
        usd = Fraction((s + v) * eth_price * ETH_USD, 10**dec * 10**18 * 10**8)
        assert r.value_usd == pytest.approx(float(usd), rel=1e-12)
        total += usd
    # interest made the debt grow past the principal borrowed
    assert rows[usdc.lower()].debt_raw > 9_500 * 10**6
    assert rows[weth.lower()].debt_raw > 7 * 10**18
    assert snap.value_usd == pytest.approx(float(total), rel=1e-12)
    # sanity: about $9.5k USDC + 7 WETH x $2,000 plus a day of interest
    assert 23_500 < snap.value_usd < 23_600

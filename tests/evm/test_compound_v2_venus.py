"""The Compound v2 adapter against real Venus core-pool bytecode on anvil, to the wei.

A Venus pool (``tests/evm/venus.py``: Unitroller, Diamond and facets from npm
``@venusprotocol/venus-protocol`` 5.2.0) with a USDC and an ETH market is borrowed from, then
left untouched for a number of blocks. The adapter, reading through the real RpcClient/Caller,
must give per market exactly what the vToken's own ``accrueInterest()`` gives: the
``totalBorrowsCurrent()`` eth_call at the same block, and the ``totalBorrows()`` stored after an
``accrueInterest()`` transaction mined at that block.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from lendscope.chain import Caller, RpcClient
from lendscope.onchain.abi import Reader
from lendscope.onchain.protocols import adapter
from lendscope.onchain.registry import parse_registry
from tests.evm import venus

pytestmark = pytest.mark.evm
USDC, ETH = 0, 1


@pytest.fixture(scope="module")
def pool(w3):
    sid = w3.provider.make_request("evm_snapshot", [])["result"]
    p = venus.deploy(w3)
    a, b, c = w3.eth.accounts[1:4]
    venus.supply(p, USDC, a, 5_000_000 * 10**6)
    venus.supply(p, ETH, b, 1_000 * 10**18)
    venus.supply(p, ETH, c, 500 * 10**18)
    venus.borrow(p, USDC, b, 1_234_567 * 10**6 + 89)
    venus.borrow(p, USDC, c, 300_000 * 10**6)
    venus.supply(p, USDC, c, 10_000 * 10**6)
    venus.borrow(p, ETH, c, 77 * 10**18 + 1)
    yield p
    w3.provider.make_request("evm_revert", [sid])


def deployment(p: venus.Pool):
    data = {
        "chains": {"devnet": {"chain_id": 31337}},
        "deployment": [{
            "id": "venus-devnet", "protocol": "venus", "family": "compound_v2",
            "chain": "devnet", "platform": "Venus (devnet)", "segment": "defi",
            "source": "https://www.npmjs.com/package/@venusprotocol/venus-protocol/v/5.2.0",
            "addresses": {"comptroller": {"address": p.c["Unitroller"].address,
                                          "label": "Unitroller", "url": "https://example.org"}},
        }],
    }  # fmt: skip
    return parse_registry(data).deployments[0]


def read(url: str, dep, block: int):
    client = RpcClient(url, chain_id=31337)
    snap = adapter("compound_v2").snapshot(
        Reader(Caller(client, None, chain_id=31337, use_multicall=False)), dep, block
    )
    return snap, client.stats.http_requests


def test_debt_accrued_to_the_block_equals_the_vtoken_to_the_wei(anvil, w3, pool):
    dep = deployment(pool)
    w3.provider.make_request("anvil_mine", [hex(1_000)])
    block = w3.eth.block_number
    snap, requests = read(anvil.url, dep, block)
    assert requests == 3  # markets + oracle; debt, rate, accrual, underlying, price; token meta
    by = {r.market: r for r in snap.rows}
    assert len(by) == 2
    for i, v in enumerate(pool.vtokens):
        row = by[v.address.lower()]
        stored = v.functions.totalBorrows().call(block_identifier=block)
        current = v.functions.totalBorrowsCurrent().call(block_identifier=block)
        assert current > stored  # 1,000+ blocks of interest not yet written to storage
        assert row.debt_raw == current
        sym, dec, usd = venus.ASSETS[i]
        assert (row.symbol, row.decimals, row.asset) == (sym, dec, pool.tokens[i].address.lower())
        assert Fraction(row.price_raw, row.price_unit) == usd
    assert snap.value_usd == pytest.approx(
        sum(r.debt_raw / 10**r.decimals * venus.ASSETS[i][2] for i, r in enumerate(
            by[v.address.lower()] for v in pool.vtokens))
    )  # fmt: skip


def test_debt_equals_storage_after_a_mined_accrual(anvil, w3, pool):
    dep = deployment(pool)
    w3.provider.make_request("anvil_mine", [hex(777)])
    usdc = pool.vtokens[USDC]
    # The next block accrues: the adapter's reading at that block (state before the
    # transaction, extrapolated) must equal what the contract then stores.
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        h = usdc.functions.accrueInterest().transact({"from": pool.admin, "gas": 1_000_000})
        before = w3.eth.block_number
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert w3.eth.wait_for_transaction_receipt(h).status == 1
    after = w3.eth.block_number
    assert after == before + 1
    stored = usdc.functions.totalBorrows().call(block_identifier=after)
    assert usdc.functions.accrualBlockNumber().call(block_identifier=after) == after
    # Same state, accrued to the next block by the Python port:
    from lendscope.onchain.protocols.compound_v2 import accrue

    tb = usdc.functions.totalBorrows().call(block_identifier=before)
    rate = usdc.functions.borrowRatePerBlock().call(block_identifier=before)
    point = usdc.functions.accrualBlockNumber().call(block_identifier=before)
    assert accrue(tb, rate, point, after) == stored
    snap, _ = read(anvil.url, dep, after)
    row = next(r for r in snap.rows if r.market == usdc.address.lower())
    assert row.debt_raw == stored

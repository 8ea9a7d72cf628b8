"""Byte-budgeted requests against anvil: a multicall of 20,000 calls (~9 MB as one batch,
which anvil refuses with -32600 Invalid request) succeeds in <= 1 MB requests."""

from __future__ import annotations

import json

import httpx
import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from lendscope.chain import MULTICALL3_ADDRESS, Caller, ChainError, RpcClient
from lendscope.onchain.contracts import multicall_artifact

GET_BALANCE = function_signature_to_4byte_selector("getEthBalance(address)")
N = 20_000


class SizeTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sizes.append(len(request.content))
        json.loads(request.content)
        return super().handle_request(request)


def who(i: int) -> str:
    return "0x" + f"{0xCAFE0000 + i:040x}"


@pytest.fixture
def block(w3, snapshot):
    code = multicall_artifact()["deployedBytecode"]
    w3.provider.make_request("anvil_setCode", [MULTICALL3_ADDRESS, code])
    for i in range(0, N, 997):
        w3.provider.make_request("anvil_setBalance", [who(i), hex(i + 1)])
    w3.provider.make_request("evm_mine", [])
    return w3.eth.block_number


def calls():
    return [(MULTICALL3_ADDRESS, GET_BALANCE + encode(["address"], [who(i)])) for i in range(N)]


def test_twenty_thousand_call_multicall_fits_the_budget(anvil, block):
    t = SizeTransport()
    client = RpcClient(anvil.url, transport=t)
    out = Caller(client).call_many(block, calls())
    got = [decode(["uint256"], r)[0] for r in out]
    assert got == [i + 1 if i % 997 == 0 else 0 for i in range(N)]
    assert max(t.sizes) <= 1_000_000 and len(t.sizes) >= 10
    assert sum(t.sizes) > 8_000_000  # the same calls as one batch would be ~9 MB


def test_without_a_budget_anvil_refuses_the_batch(anvil, block):
    client = RpcClient(anvil.url, max_request_bytes=10**9)
    with pytest.raises(ChainError):
        Caller(client).call_many(block, calls())

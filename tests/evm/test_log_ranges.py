"""Every family's log reading goes through adaptive ranges: the devnet behind a transport that
refuses eth_getLogs over more than 16 blocks gives the same sync and positions as without it."""

from __future__ import annotations

import json

import httpx
import pytest

from lendscope.chain import Caller, RpcClient
from lendscope.onchain.abi import Reader
from lendscope.onchain.devnet import start_devnet, write_registry
from lendscope.onchain.positions import read_positions
from lendscope.onchain.registry import load_registry
from lendscope.onchain.sync import SyncRequest, run_sync

MAX_BLOCKS = 16


class RangeLimited(httpx.HTTPTransport):
    """Forwards to the node, but answers eth_getLogs over > MAX_BLOCKS blocks with an error."""

    def __init__(self) -> None:
        super().__init__()
        self.log_ranges: list[tuple[int, int]] = []
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if isinstance(body, dict) and body.get("method") == "eth_getLogs":
            f = body["params"][0]
            lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            if hi - lo + 1 > MAX_BLOCKS:
                self.refused += 1
                err = {"code": -32005, "message": f"block range is too wide (max {MAX_BLOCKS})"}
                return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "error": err})
            self.log_ranges.append((lo, hi))
        return super().handle_request(request)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = start_devnet()
    n.reg_path = write_registry(n, tmp_path_factory.mktemp("lr") / "devnet.toml")
    head = httpx.post(n.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
    n.block = int(head.json()["result"], 16) - 64
    try:
        yield n
    finally:
        n.stop()


def sync(net, tmp_path, transport=None):
    r = SyncRequest(
        rpc=net.url,
        chain="devnet",
        block=str(net.block),
        registry=net.reg_path,
        db=tmp_path / "db.duckdb",
        cache=tmp_path / "c.sqlite",
    )
    return run_sync(r, transport=transport)


def test_sync_with_range_limited_logs_matches(net, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = sync(net, tmp_path / "a")
    t = RangeLimited()
    limited = sync(net, tmp_path / "b", transport=t)
    assert t.refused > 0 and t.log_ranges
    assert all(hi - lo + 1 <= MAX_BLOCKS for lo, hi in t.log_ranges)
    assert [s["value_usd"] for s in limited.snapshots] == [s["value_usd"] for s in plain.snapshots]
    assert limited.retries == 0
    # ranges cover every block from start_block to the sync block, without gaps
    morpho = sorted(set(t.log_ranges))
    assert morpho[0][0] == 0 and max(hi for _, hi in morpho) == net.block


@pytest.mark.parametrize("protocol", ["aave-v3-devnet", "morpho-blue-devnet"])
def test_positions_with_range_limited_logs_match(net, protocol):
    dep = next(d for d in load_registry(net.reg_path).deployments if d.id == protocol)
    plain = read_positions(Reader(Caller(RpcClient(net.url))), dep, net.block)
    t = RangeLimited()
    client = RpcClient(net.url, transport=t)
    limited = read_positions(Reader(Caller(client)), dep, net.block)
    assert limited == plain and plain
    assert t.refused > 0 and all(hi - lo + 1 <= MAX_BLOCKS for lo, hi in t.log_ranges)

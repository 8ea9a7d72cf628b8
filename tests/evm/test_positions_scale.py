"""Issue 12's acceptance check: ``positions`` on a 6,000-borrower devnet agrees with the chain.

The scale devnet (seed 12: nine Aave reserves, e-mode, isolation, collateral switched off,
liquidatable accounts, four Morpho markets) is read by the ``positions`` command itself, with a
200 kB request budget so the run takes many requests. For every Aave account the health factor
summed from its CSV rows equals ``Pool.getUserAccountData`` within 1e-4; for every Morpho
account the sign of HF - 1 equals the verdict of Morpho's own check (``liquidate`` reverts with
"position is healthy" exactly when the position is healthy).
"""

from __future__ import annotations

import csv
import math

import httpx
import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as sel
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.onchain.devnet import write_registry
from lendscope.onchain.devnet_scale import start_scale_devnet
from lendscope.onchain.rows import row_health

pytestmark = pytest.mark.slow
N, SEED = 6_000, 12
LIQUIDATE = "liquidate((address,address,address,address,uint256),address,uint256,uint256,bytes)"
LIQ_TYPES = ["(address,address,address,address,uint256)", "address", "uint256", "uint256", "bytes"]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = start_scale_devnet(N, SEED)
    n.reg_path = write_registry(n, tmp_path_factory.mktemp("scale") / "devnet.toml")
    try:
        yield n
    finally:
        n.stop()


def batch_call(url: str, calls: list[tuple[str, str]], block: int) -> list[dict]:
    """eth_call many (to, data) at ``block`` in JSON-RPC batches of 500."""
    out: list[dict] = []
    with httpx.Client(timeout=120) as h:
        for k in range(0, len(calls), 500):
            body = [
                {"jsonrpc": "2.0", "id": i, "method": "eth_call",
                 "params": [{"to": to, "data": data}, hex(block)]}
                for i, (to, data) in enumerate(calls[k : k + 500])
            ]  # fmt: skip
            got = sorted(h.post(url, json=body).json(), key=lambda r: r["id"])
            out += got
    return out


def positions(net, proto: str, out) -> list[dict]:
    r = CliRunner().invoke(app, [
        "positions", "--protocol", proto, "--block", str(net.block), "--out", str(out),
        "--rpc", net.url, "--chain", "devnet", "--registry", str(net.reg_path),
        "--max-request-bytes", "200000",
    ])  # fmt: skip
    assert r.exit_code == 0, r.output
    with out.open() as f:
        return list(csv.DictReader(f))


def test_every_aave_account_health_from_rows_matches_chain(net, tmp_path):
    rows = positions(net, "aave-v3", tmp_path / "aave.csv")
    hf = row_health(rows)
    users = sorted(hf)
    assert len(users) == len({a.lower() for a in net.by_protocol["aave-v3"]}) > 4_000
    pool = net.addresses["pool"]
    data = "0x" + sel("getUserAccountData(address)").hex()
    got = batch_call(net.url, [(pool, data + encode(["address"], [u]).hex()) for u in users],
                     net.block)  # fmt: skip
    worst, below = 0.0, 0
    for u, r in zip(users, got, strict=True):
        chain = decode(["uint256"] * 6, bytes.fromhex(r["result"][2:]))[5] / 1e18
        worst = max(worst, abs(hf[u] / chain - 1))
        below += chain < 1
    print(f"\n{len(users)} Aave accounts: worst relative HF difference {worst:.2e}; "
          f"{below} below 1 on chain")  # fmt: skip
    assert worst < 1e-4 and below > 0


def test_every_morpho_account_health_agrees_with_morpho(net, tmp_path):
    rows = positions(net, "morpho-blue", tmp_path / "morpho.csv")
    hf = row_health(rows)
    params = {mid.lower(): p for mid, p in zip(net.market_ids, net.markets, strict=True)}
    keys = sorted(hf)
    calls = []
    for k in keys:
        mid, user = k.split(":")
        args = [params[mid], user, 1, 0, b""]
        calls.append(
            (net.addresses["Morpho"], "0x" + (sel(LIQUIDATE) + encode(LIQ_TYPES, args)).hex())
        )
    got = batch_call(net.url, calls, net.block)
    healthy = ["healthy" in r.get("error", {}).get("message", "") for r in got]
    mismatch = [k for k, h, ok in zip(keys, (hf[k] for k in keys), healthy, strict=True)
                if (h >= 1) != ok]  # fmt: skip
    print(f"\n{len(keys)} Morpho accounts, {healthy.count(False)} liquidatable on chain, "
          f"{len(mismatch)} disagreements")  # fmt: skip
    assert not mismatch and healthy.count(False) > 0
    assert not any(math.isclose(hf[k], 1.0, rel_tol=1e-9) for k in keys)  # no knife-edge cases

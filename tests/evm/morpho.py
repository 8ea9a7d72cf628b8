"""Real Morpho Blue 1.0.0 (``@morpho-org/morpho-blue``) compiled and deployed on the session anvil.

Settings are the repository's foundry.toml ones (solc 0.8.19, viaIR, 999999 runs, paris, no
metadata hash), so the bytecode is the one Morpho audited. The BUSL source stays in node_modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from web3 import Web3

from lendscope.onchain.contracts import morpho_artifacts

LLTV = 86 * 10**16
FEE = 10**17
BIG = 10**40  # token balance for every actor; far above anything the tests move


def artifacts() -> dict[str, dict]:
    """Morpho Blue 1.0.0: the devnet's recipe (cached under build/evm, events in Morpho's ABI)."""
    return morpho_artifacts()


def send(w3: Web3, fn: Any, frm: str) -> Any:
    """Send a tx from an unlocked account; receipt polled at 2 ms (gotcha G1)."""
    h = fn.transact({"from": frm, "gas": 3_000_000})
    return w3.eth.wait_for_transaction_receipt(h, poll_latency=0.002)


@dataclass
class MorphoDeployment:
    """Morpho, its mocks, one created market and funded actors."""

    w3: Web3
    morpho: Any
    loan: Any
    coll: Any
    oracle: Any
    irm: Any
    owner: str
    fee_recipient: str
    users: list[str]
    params: tuple
    market_id: bytes

    def market(self) -> tuple[int, ...]:
        """``market(id)``: (tsa, tss, tba, tbs, lastUpdate, fee)."""
        return tuple(self.morpho.functions.market(self.market_id).call())

    def position(self, user: str) -> tuple[int, int, int]:
        """``position(id, user)``: (supplyShares, borrowShares, collateral)."""
        return tuple(self.morpho.functions.position(self.market_id, user).call())


def deploy(w3: Web3) -> MorphoDeployment:
    """Deploy tokens, oracle, IrmMock and Morpho; create an 86% LLTV market with a 10% fee."""
    art = artifacts()
    acc = w3.eth.accounts
    owner, fee_recipient, users = acc[0], acc[9], list(acc[1:5])

    def new(name: str, *args: Any) -> Any:
        c = w3.eth.contract(abi=art[name]["abi"], bytecode=art[name]["bytecode"])
        h = c.constructor(*args).transact({"from": owner})
        r = w3.eth.wait_for_transaction_receipt(h, poll_latency=0.002)
        assert r.status == 1
        return w3.eth.contract(address=r.contractAddress, abi=art[name]["abi"])

    loan, coll, oracle, irm = new("ERC20Mock"), new("ERC20Mock"), new("OracleMock"), new("IrmMock")
    morpho = new("Morpho", owner)
    params = (loan.address, coll.address, oracle.address, irm.address, LLTV)
    mid = Web3.keccak(encode(["address", "address", "address", "address", "uint256"], params))
    f = morpho.functions
    for fn in (
        f.enableIrm(irm.address),
        f.enableLltv(LLTV),
        f.createMarket(params),
        f.setFeeRecipient(fee_recipient),
        f.setFee(params, FEE),
        oracle.functions.setPrice(10**36),
    ):
        assert send(w3, fn, owner).status == 1
    for u in users:
        for tok in (loan, coll):
            send(w3, tok.functions.setBalance(u, BIG), owner)
            send(w3, tok.functions.approve(morpho.address, 2**256 - 1), u)
    return MorphoDeployment(
        w3, morpho, loan, coll, oracle, irm, owner, fee_recipient, users, params, bytes(mid)
    )


def rpc(w3: Web3, method: str, params: list) -> Any:
    """Raw JSON-RPC; raises on an error answer."""
    r = w3.provider.make_request(method, params)
    if "error" in r:
        raise RuntimeError(f"{method}: {r['error']}")
    return r["result"]


def send_sync(w3: Web3, frm: str, to: str, data: str) -> dict:
    """``eth_sendTransactionSync``: the receipt comes back with the call (no polling, gotcha G1)."""
    tx = {"from": frm, "to": to, "data": data, "gas": hex(3_000_000)}
    return rpc(w3, "eth_sendTransactionSync", [tx])


def revert_reason(w3: Web3, tx_hash: str) -> str:
    """Decoded revert reason of a mined failed tx (anvil's callTracer)."""
    t = rpc(w3, "debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
    return t.get("revertReason") or t.get("error", "")


def event_decoder(abi: list[dict]) -> Any:
    """``decode(log) -> (name, {arg: value})`` for the events in ``abi`` (indexed args skipped)."""
    from eth_abi import decode

    by_topic = {}
    for e in abi:
        if e["type"] != "event" or any(i["type"] == "tuple" for i in e["inputs"]):
            continue  # CreateMarket (tuple arg) is never decoded here
        sig = f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
        by_topic[Web3.keccak(text=sig).hex().removeprefix("0x")] = e

    def dec(log: dict) -> tuple[str, dict] | None:
        e = by_topic.get(log["topics"][0].removeprefix("0x"))
        if e is None:
            return None
        ins = [i for i in e["inputs"] if not i["indexed"]]
        vals = decode([i["type"] for i in ins], bytes.fromhex(log["data"].removeprefix("0x")))
        return e["name"], dict(zip([i["name"] for i in ins], vals, strict=True))

    return dec


def _word_ints(hexdata: str) -> tuple[int, ...]:
    b = bytes.fromhex(hexdata.removeprefix("0x"))
    return tuple(int.from_bytes(b[i : i + 32], "big") for i in range(0, len(b), 32))


def read_state(d: MorphoDeployment, users: list[str], holders: list[str]) -> dict:
    """market(), position(u) for ``users`` and both tokens' balanceOf(h), in one JSON-RPC batch.

    Returns ``{"market": tuple, "positions": {u: tuple}, "balances": {(token, h): int}}``.
    """
    mo = d.morpho
    calls: list[tuple[str, str]] = [(mo.address, mo.encode_abi("market", [d.market_id]))]
    calls += [(d.morpho.address, d.morpho.encode_abi("position", [d.market_id, u])) for u in users]
    keys = [(t.address, h) for t in (d.loan, d.coll) for h in holders]
    calls += [(t, d.loan.encode_abi("balanceOf", [h])) for t, h in keys]
    reqs = [("eth_call", [{"to": to, "data": data}, "latest"]) for to, data in calls]
    res = d.w3.provider.make_batch_request(reqs)
    out = [_word_ints(r["result"]) for r in res]
    return {
        "market": out[0],
        "positions": dict(zip(users, out[1 : 1 + len(users)], strict=True)),
        "balances": {k: v[0] for k, v in zip(keys, out[1 + len(users) :], strict=True)},
    }

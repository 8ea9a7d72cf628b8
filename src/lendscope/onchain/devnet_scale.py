"""``lendscope devnet --borrowers N``: a realistic, deterministic devnet with many borrowers.

Real Aave v3.6 and Morpho Blue bytecode as in :mod:`lendscope.onchain.devnet`, with the mix
of :mod:`lendscope.onchain.devnet_mix`: nine reserves (an e-mode category for WETH/wstETH, CRV
isolated under a debt ceiling, stablecoins borrowable in isolation), four Morpho markets whose
``OracleMock`` prices agree with the Aave oracle, and N borrowers. Each borrower is its own
contract (a clone made by ``evm/seeder/Seeder.sol``), so the chain sees ordinary ``Borrow``
events with the borrower as ``onBehalfOf``; hundreds of borrowers go in one transaction
(anvil runs with a 1e11 block gas limit). Block times are fixed (genesis at
:data:`GENESIS_TIMESTAMP`, :data:`BLOCK_SECONDS` apart), so a seed gives the same chain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from lendscope.chain import MULTICALL3_ADDRESS
from lendscope.onchain import devnet_mix as mx
from lendscope.onchain.contracts import (
    aave_artifacts,
    morpho_artifacts,
    multicall_artifact,
    seeder_artifacts,
)
from lendscope.onchain.devnet import (
    CHAIN_ID,
    Deployer,
    Devnet,
    deploy_aave,
    deploy_morpho,
    devnet_registry,
)
from lendscope.onchain.evm import Anvil, Node

GAS_LIMIT, TX_GAS = 100_000_000_000, 2_000_000_000  # block (all seeding in one), transaction
CHUNK_GAS = 1_000_000_000  # estimated (STEP_GAS) gas per seeding transaction, ~2x real
GENESIS_TIMESTAMP, BLOCK_SECONDS = 1_767_225_600, 12  # 2026-01-01T00:00:00Z
_CLONE_HEAD = bytes.fromhex("3d602d80600a3d3981f3363d3d373d3d3d363d73")
_CLONE_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
_SEED = function_signature_to_4byte_selector("seed(uint256[])")
_STEP_FAILED = function_signature_to_4byte_selector("StepFailed(uint256,uint256,bytes)")


def market_id(params: tuple) -> str:
    """Morpho market id: keccak256 of the ABI-encoded market parameters."""
    return "0x" + keccak(encode(["address"] * 4 + ["uint256"], list(params))).hex()


def configure_aave(d: Deployer, mix: mx.Mix) -> None:
    """Per-reserve parameters, the e-mode category and the isolated asset (before any supply)."""
    for a in mx.ASSETS:
        t = d.addr[a.symbol]
        d.tx("conf", "configureReserveAsCollateral", t, a.ltv, a.lt, a.bonus)
        d.tx(
            "conf",
            "setReserveInterestRateData",
            t,
            encode(["(uint16,uint32,uint32,uint32)"], [a.rate]),
        )
    iso = d.addr[mx.ISOLATED]
    d.tx("conf", "setReserveBorrowing", iso, False)
    d.tx("conf", "setDebtCeiling", iso, mix.debt_ceiling)
    for s in mx.ISOLATION_BORROWABLE:
        d.tx("conf", "setBorrowableInIsolation", d.addr[s], True)
    e = mx.EMODE_ID
    d.tx("conf", "setEModeCategory", e, mx.EMODE_LTV, mx.EMODE_LT, mx.EMODE_BONUS, mx.EMODE_LABEL)
    for s in mx.EMODE_ASSETS:
        d.tx("conf", "setAssetCollateralInEMode", d.addr[s], e, True)
        d.tx("conf", "setAssetBorrowableInEMode", d.addr[s], e, True)


def deploy_markets(d: Deployer) -> list[tuple]:
    """Morpho Blue with the :data:`~lendscope.onchain.devnet_mix.MARKETS`, one OracleMock each."""
    first = deploy_morpho(d)  # USDC/WETH at 86% with its OracleMock, as in the small devnet
    art, params, lltvs = morpho_artifacts(), [first], {first[4]}
    for m, (loan, coll, lltv) in enumerate(mx.MARKETS[1:], start=1):
        oracle = d.deploy(art, "OracleMock", key=f"OracleMock{m}")
        d.tx(f"OracleMock{m}", "setPrice", mx.morpho_price(m))
        if lltv not in lltvs:
            d.tx("Morpho", "enableLltv", lltv)
            lltvs.add(lltv)
        p = (d.addr[loan], d.addr[coll], oracle, d.addr["IrmMock"], lltv)
        d.tx("Morpho", "createMarket", p)
        params.append(p)
    assert first[:2] == (d.addr[mx.MARKETS[0][0]], d.addr[mx.MARKETS[0][1]])
    return params


def _failure(node: Node, tx: dict) -> str:
    """Why a seeding transaction reverted: replay it as eth_call and decode StepFailed."""
    try:
        node.rpc("eth_call", tx, "latest")
        return "reverted (replay succeeded)"
    except RuntimeError as e:
        text = str(e)
    data = next((w for w in text.replace("'", " ").split() if w.startswith("0x")), "")
    raw = bytes.fromhex(data[2:]) if len(data) > 10 else b""
    if raw[:4] != _STEP_FAILED:
        return text
    who, step, reason = decode(["uint256", "uint256", "bytes"], raw[4:])
    return f"borrower {who}, step {step}: revert data 0x{reason.hex()}"


@dataclass
class Seeding:
    """Packs borrowers into ``seed(steps)`` transactions and mines them all in one block."""

    node: Node
    admin: str
    seeder: str
    txs: list[dict] = field(default_factory=list)

    def add(self, words: list[int]) -> None:
        """Queue one ``seed(steps)`` transaction."""
        body = b"".join(
            [_SEED, (32).to_bytes(32, "big"), len(words).to_bytes(32, "big")]
            + [w.to_bytes(32, "big") for w in words]
        )
        self.txs.append(
            {"from": self.admin, "to": self.seeder, "data": "0x" + body.hex(), "gas": hex(TX_GAS)}
        )

    def add_borrowers(self, people: tuple[mx.BorrowerSpec, ...]) -> None:
        """Queue every borrower, about :data:`CHUNK_GAS` (estimated) per transaction."""
        words: list[int] = []
        gas = 0
        for b in people:
            s = mx.steps(b)
            g = sum(mx.STEP_GAS[w >> 248] for w in s)
            if words and gas + g > CHUNK_GAS:
                self.add(words)
                words, gas = [], 0
            words += s
            gas += g
        if words:
            self.add(words)

    def run(self) -> None:
        """Send the queue with automine off, mine, then check every receipt.

        anvil's cost per block grows with the state, so one big block beats one per transaction.
        """
        self.node.rpc("evm_setAutomine", False)
        try:
            hashes = [self.node.rpc("eth_sendTransaction", tx) for tx in self.txs]
            receipts: list[dict | None] = [None] * len(hashes)
            while any(r is None for r in receipts):
                self.node.rpc("evm_mine")
                receipts = [self.node.rpc("eth_getTransactionReceipt", h) for h in hashes]
        finally:
            self.node.rpc("evm_setAutomine", True)
        for tx, r in zip(self.txs, receipts, strict=True):
            if r is None or int(r["status"], 16) != 1:
                raise RuntimeError(f"seeding transaction reverted: {_failure(self.node, tx)}")


@dataclass
class ScaleDevnet(Devnet):
    """A devnet with a drawn borrower mix; ``borrowers`` lists every borrower contract."""

    seed: int = 0
    mix: mx.Mix | None = None
    block: int = 0  # the block with every position open and the price drop applied
    markets: list[tuple] = field(default_factory=list)  # Morpho market params, MARKETS order
    seconds: dict[str, float] = field(default_factory=dict)
    transactions: int = 0

    @property
    def market_ids(self) -> list[str]:
        """Morpho market ids in :data:`~lendscope.onchain.devnet_mix.MARKETS` order."""
        return [market_id(p) for p in self.markets]

    def specs(self) -> list[tuple[str, mx.BorrowerSpec]]:
        """(address, spec) per borrower."""
        assert self.mix is not None
        return list(zip(self.borrowers, self.mix.borrowers, strict=True))

    def category(self, name: str) -> list[str]:
        """Borrowers of one mix category."""
        return [a for a, b in self.specs() if b.category == name]

    @property
    def by_protocol(self) -> dict[str, list[str]]:
        """``{"aave-v3": [...], "morpho-blue": [...]}``: borrowers with debt on each protocol."""
        aave = [a for a, b in self.specs() if b.borrows]
        return {"aave-v3": aave, "morpho-blue": [a for a, b in self.specs() if b.morpho]}

    @property
    def morpho_borrowers(self) -> dict[str, list[str]]:
        """``{market id: [borrower]}``."""
        ids = self.market_ids
        out: dict[str, list[str]] = {m: [] for m in ids}
        for a, b in self.specs():
            for m, _c, _d in b.morpho:
                out[ids[m]].append(a)
        return out


def clone_address(seeder: str, impl: str, borrower: int) -> str:
    """CREATE2 address of borrower ``borrower``'s clone (as ``Seeder.accountOf``)."""
    code_hash = keccak(_CLONE_HEAD + bytes.fromhex(impl[2:]) + _CLONE_TAIL)
    raw = b"\xff" + bytes.fromhex(seeder[2:]) + borrower.to_bytes(32, "big") + code_hash
    return to_checksum_address(keccak(raw)[12:])


def drop_price(d: Deployer) -> None:
    """Cut :data:`~lendscope.onchain.devnet_mix.DROP_ASSET`'s price on Aave and Morpho alike."""
    sym = mx.DROP_ASSET
    a = mx.BY_SYMBOL[sym]
    new = int(a.price * mx.DROP_FACTOR)
    agg = d.deploy(aave_artifacts(), "MockAggregator", new, key=f"agg{sym}-dropped")
    d.tx("AaveOracle", "setAssetSources", [d.addr[sym]], [agg])
    for m, (loan, coll, _l) in enumerate(mx.MARKETS):
        if coll == sym:
            lo = mx.BY_SYMBOL[loan]
            price = new * 10 ** (36 + lo.decimals - a.decimals) // lo.price
            d.tx("OracleMock" if m == 0 else f"OracleMock{m}", "setPrice", price)


def start_scale_devnet(
    borrowers: int, seed: int = 0, *, port: int = 0, extra_blocks: int = 65
) -> ScaleDevnet:
    """Start anvil, deploy, open ``borrowers`` drawn positions, drop the price, mine blocks."""
    t0 = time.perf_counter()
    art = seeder_artifacts()
    aave_artifacts(), morpho_artifacts()
    t_compile = time.perf_counter()
    mix = mx.draw_mix(borrowers, seed)
    t_mix = time.perf_counter()
    anvil = Anvil.start(
        "--chain-id", str(CHAIN_ID), "--gas-limit", str(GAS_LIMIT),
        "--timestamp", str(GENESIS_TIMESTAMP), port=port,
    )  # fmt: skip
    node = Node(anvil.url)
    try:
        node.rpc("anvil_setBlockTimestampInterval", BLOCK_SECONDS)
        node.rpc("anvil_setCode", MULTICALL3_ADDRESS, multicall_artifact()["deployedBytecode"])
        accounts = node.rpc("eth_accounts")
        d = Deployer(node, accounts[0])
        deploy_aave(d, accounts[9], tuple((a.symbol, a.decimals, a.price) for a in mx.ASSETS))
        configure_aave(d, mix)
        markets = deploy_markets(d)
        tokens = [d.addr[a.symbol] for a in mx.ASSETS]
        seeder = d.deploy(art, "Seeder", d.addr["pool"], d.addr["Morpho"], tokens, markets)
        for sym, amount in mx.token_needs(mix).items():
            d.tx(sym, "mint", seeder, amount)
        t_deploy = time.perf_counter()
        run = Seeding(node, d.admin, seeder)
        run.add(mx.liquidity_steps(mix))
        run.add_borrowers(mix.borrowers)
        run.run()
        t_seed = time.perf_counter()
        drop_price(d)
        block = int(node.rpc("eth_blockNumber"), 16)
        # The extra blocks put the state past the default 64-confirmation margin of sync.
        node.rpc("anvil_mine", hex(extra_blocks), hex(BLOCK_SECONDS))
        impl = d.call("Seeder", "account")
        people = [clone_address(seeder, impl, b.id) for b in mix.borrowers]
        t_end = time.perf_counter()
        seconds = {
            "compile": t_compile - t0,
            "mix": t_mix - t_compile,
            "deploy": t_deploy - t_mix,
            "seed": t_seed - t_deploy,
            "finish": t_end - t_seed,
            "total": t_end - t0,
        }
        return ScaleDevnet(
            anvil, dict(d.addr), devnet_registry(d.addr), people, markets[0],
            seed, mix, block, markets, seconds, len(run.txs),
        )  # fmt: skip
    except BaseException:
        anvil.stop()
        raise
    finally:
        node.close()


def head_block(url: str) -> int:
    """The node's head block number."""
    node = Node(url)
    try:
        return int(node.rpc("eth_blockNumber"), 16)
    finally:
        node.close()


def try_commands(net: Devnet, registry: Path, confirmations: int = 64) -> list[str]:
    """``lendscope sync`` and ``positions`` command lines for a deep-enough devnet block."""
    block = net.block if isinstance(net, ScaleDevnet) else head_block(net.url) - confirmations
    common = f"--rpc {net.url} --chain devnet --registry {registry} --block {block}"
    return [
        f"lendscope sync {common}",
        f"lendscope positions --protocol aave-v3 --out positions-aave.csv {common}",
        f"lendscope positions --protocol morpho-blue --out positions-morpho.csv {common}",
    ]

"""``lendscope devnet``: anvil with real Aave v3.6 and Morpho Blue 1.0 bytecode and borrowers.

Ported from the differential-test deployers (``tests/evm/aave.py`` ``deploy_v36``,
``tests/evm/morpho.py``) to raw JSON-RPC, so the package needs no web3. Sources and compilers
come from the npm toolchain folder (:func:`lendscope.core.settings.evm_dir`); the compile recipes
are :mod:`lendscope.onchain.contracts`. Assets: WETH
(18 dec, $2,000) and USDC (6 dec, $1) priced by a real ``AaveOracle``; the Morpho market lends
the same USDC against WETH, so the Aave oracle also prices Morpho's loan token in USD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from lendscope.chain import MULTICALL3_ADDRESS
from lendscope.onchain.contracts import aave_artifacts, morpho_artifacts, multicall_artifact
from lendscope.onchain.evm import Anvil, Node, link
from lendscope.onchain.registry import Address, Deployment, Registry, dump_registry

ZERO = "0x" + "00" * 20
CHAIN, CHAIN_ID = "devnet", 31337
LTV, LT, BONUS, RF, PROTOCOL_FEE = 8000, 8250, 10500, 1000, 1000
RATE_BPS = (8000, 0, 400, 6000)
ASSETS = (("WETH", 18, 2000 * 10**8), ("USDC", 6, 10**8))
LLTV = 86 * 10**16
AAVE_URL = "https://github.com/aave-dao/aave-v3-origin/tree/v3.6.0"
MORPHO_URL = "https://github.com/morpho-org/morpho-blue/tree/v1.0.0"


def _type(inp: dict) -> str:
    t = inp["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in inp["components"]) + ")" + t[5:]
    return t


@dataclass
class Deployer:
    """Sends transactions from unlocked accounts and remembers contracts by name."""

    node: Node
    admin: str
    addr: dict[str, str] = field(default_factory=dict)
    abi: dict[str, list] = field(default_factory=dict)

    def send(self, to: str | None, data: str, frm: str | None = None) -> dict:
        """``eth_sendTransactionSync``: the receipt comes back with the call."""
        tx = {"from": frm or self.admin, "data": data, "gas": hex(15_000_000)}
        if to:
            tx["to"] = to
        r = self.node.rpc("eth_sendTransactionSync", tx)
        if int(r["status"], 16) != 1:
            raise RuntimeError(f"transaction to {to or 'create'} reverted")
        return r

    def deploy(self, art: dict[str, dict], name: str, *args: Any, key: str | None = None) -> str:
        """Deploy ``name`` (libraries linked from earlier deploys); returns its address."""
        a = art[name]
        code = link(a["bytecode"], a.get("linkReferences", {}), self.addr)
        ctor = next((e for e in a["abi"] if e["type"] == "constructor"), {"inputs": []})
        data = code + encode([_type(i) for i in ctor["inputs"]], list(args)).hex()
        address = self.send(None, data)["contractAddress"]
        self.addr[key or name], self.abi[key or name] = address, a["abi"]
        return address

    def calldata(self, contract: str, fn: str, *args: Any) -> str:
        """ABI-encoded call of ``fn`` on a known contract."""
        e = next(
            e
            for e in self.abi[contract]
            if e.get("name") == fn and e["type"] == "function" and len(e["inputs"]) == len(args)
        )
        types = [_type(i) for i in e["inputs"]]
        return (
            "0x" + (keccak(text=f"{fn}({','.join(types)})")[:4] + encode(types, list(args))).hex()
        )

    def tx(self, contract: str, fn: str, *args: Any, frm: str | None = None) -> dict:
        """Send ``contract.fn(*args)``."""
        return self.send(self.addr[contract], self.calldata(contract, fn, *args), frm)

    def call(self, contract: str, fn: str, *args: Any) -> str:
        """``eth_call`` returning the last 20 bytes of the first word as an address."""
        out = self.node.rpc(
            "eth_call", {"to": self.addr[contract], "data": self.calldata(contract, fn, *args)}
        )
        return "0x" + out[26:66]

    def at(self, key: str, address: str, abi_of: str) -> None:
        """Register an address deployed by another contract."""
        self.addr[key], self.abi[key] = address, self.abi[abi_of]


def deploy_aave(d: Deployer, treasury: str, assets: tuple = ASSETS) -> None:
    """Aave v3.6 market, by default WETH and USDC (recipe of ``tests/evm/aave.py`` ``deploy_v36``).

    ``assets`` are ``(symbol, decimals, price with 8 decimals)``; every reserve gets the same
    collateral, rate and fee parameters (callers may reconfigure them).
    """
    art = aave_artifacts()
    provider = d.deploy(art, "PoolAddressesProvider", "Local v3.6", d.admin)
    d.tx("PoolAddressesProvider", "setACLAdmin", d.admin)
    acl = d.deploy(art, "ACLManager", provider)
    d.tx("PoolAddressesProvider", "setACLManager", acl)
    for f in ("addPoolAdmin", "addRiskAdmin", "addEmergencyAdmin", "addAssetListingAdmin"):
        d.tx("ACLManager", f, d.admin)
    irs = d.deploy(art, "DefaultReserveInterestRateStrategyV2", provider)
    for lib in (
        "SupplyLogic",
        "BorrowLogic",
        "LiquidationLogic",
        "PoolLogic",
        "FlashLoanLogic",
        "ConfiguratorLogic",
    ):
        d.deploy(art, lib)
    d.tx("PoolAddressesProvider", "setPoolImpl", d.deploy(art, "PoolInstance", provider, irs))
    conf_impl = d.deploy(art, "PoolConfiguratorInstance")
    d.tx("PoolAddressesProvider", "setPoolConfiguratorImpl", conf_impl)
    d.at("pool", d.call("PoolAddressesProvider", "getPool"), "PoolInstance")
    d.at("conf", d.call("PoolAddressesProvider", "getPoolConfigurator"), "PoolConfiguratorInstance")
    dp = d.deploy(art, "AaveProtocolDataProvider", provider)
    d.tx("PoolAddressesProvider", "setPoolDataProvider", dp)
    tokens = [
        d.deploy(art, "TestnetERC20", "Token " + s, s, dec, d.admin, key=s) for s, dec, _ in assets
    ]
    aggs = [d.deploy(art, "MockAggregator", p, key=f"agg{s}") for s, _, p in assets]
    oracle = d.deploy(art, "AaveOracle", provider, tokens, aggs, ZERO, ZERO, 10**8)
    d.tx("PoolAddressesProvider", "setPriceOracle", oracle)
    a_impl = d.deploy(art, "ATokenInstance", d.addr["pool"], ZERO, treasury)
    v_impl = d.deploy(art, "VariableDebtTokenInstance", d.addr["pool"], ZERO)
    ird = encode(["(uint16,uint32,uint32,uint32)"], [RATE_BPS])
    inputs = [
        (a_impl, v_impl, t, "a" + s, "a" + s, "v" + s, "v" + s, b"", ird)
        for t, (s, _, _) in zip(tokens, assets, strict=True)
    ]
    d.tx("conf", "initReserves", inputs)
    for t in tokens:
        d.tx("conf", "configureReserveAsCollateral", t, LTV, LT, BONUS)
        d.tx("conf", "setReserveBorrowing", t, True)
        d.tx("conf", "setReserveFactor", t, RF)
        d.tx("conf", "setLiquidationProtocolFee", t, PROTOCOL_FEE)


def deploy_morpho(d: Deployer) -> tuple:
    """Morpho Blue with one market lending the Aave USDC against the Aave WETH (86% LLTV)."""
    art = morpho_artifacts()
    irm, oracle = d.deploy(art, "IrmMock"), d.deploy(art, "OracleMock")
    d.deploy(art, "Morpho", d.admin)
    params = (d.addr["USDC"], d.addr["WETH"], oracle, irm, LLTV)
    d.tx("Morpho", "enableIrm", irm)
    d.tx("Morpho", "enableLltv", LLTV)
    d.tx("Morpho", "createMarket", params)
    # 1 WETH = 2000 USDC, scaled by 1e36 and by the decimals gap (6 - 18).
    d.tx("OracleMock", "setPrice", 2000 * 10**36 * 10**6 // 10**18)
    return params


def _fund(d: Deployer, who: str, sym: str, amount: int, spenders: list[str]) -> None:
    d.tx(sym, "mint", who, amount)
    for s in spenders:
        d.tx(sym, "approve", s, 2**256 - 1, frm=who)


def seed_positions(d: Deployer, accounts: list[str], params: tuple) -> list[str]:
    """Suppliers and a few borrowers on both protocols; returns the borrowers."""
    pool, morpho = d.addr["pool"], d.addr["Morpho"]
    supplier, b1, b2, b3 = accounts[1:5]
    weth, usdc = d.addr["WETH"], d.addr["USDC"]
    for who in (supplier, b1, b2, b3):
        _fund(d, who, "WETH", 10_000 * 10**18, [pool, morpho])
        _fund(d, who, "USDC", 10_000_000 * 10**6, [pool, morpho])
    d.tx("pool", "supply", usdc, 2_000_000 * 10**6, supplier, 0, frm=supplier)
    d.tx("pool", "supply", weth, 1_000 * 10**18, supplier, 0, frm=supplier)
    d.tx("pool", "supply", weth, 10 * 10**18, b1, 0, frm=b1)
    d.tx("pool", "borrow", usdc, 8_000 * 10**6, 2, 0, b1, frm=b1)
    d.tx("pool", "supply", usdc, 50_000 * 10**6, b2, 0, frm=b2)
    d.tx("pool", "borrow", weth, 5 * 10**18, 2, 0, b2, frm=b2)
    d.tx("Morpho", "supply", params, 1_000_000 * 10**6, 0, supplier, b"", frm=supplier)
    d.tx("Morpho", "supplyCollateral", params, 10 * 10**18, b3, b"", frm=b3)
    d.tx("Morpho", "borrow", params, 12_000 * 10**6, 0, b3, b3, frm=b3)
    return [b1, b2, b3]


@dataclass
class Devnet:
    """A running devnet: node, deployed addresses, registry and borrowers."""

    anvil: Anvil
    addresses: dict[str, str]
    registry: Registry
    borrowers: list[str]
    market_params: tuple

    @property
    def url(self) -> str:
        """The node's RPC URL."""
        return self.anvil.url

    def stop(self) -> None:
        """Stop the node."""
        self.anvil.stop()


def devnet_registry(addr: dict[str, str]) -> Registry:
    """Registry entries for the devnet deployments."""

    def a(key: str, label: str, url: str) -> Address:
        return Address(addr[key].lower(), label, url)

    aave = Deployment(
        "aave-v3-devnet", "aave-v3", "aave_v3", CHAIN, CHAIN_ID, "Aave v3 (devnet)", "defi",
        AAVE_URL,
        {
            "pool": a("pool", "Pool", AAVE_URL),
            "data_provider": a("AaveProtocolDataProvider", "AaveProtocolDataProvider", AAVE_URL),
            "oracle": a("AaveOracle", "AaveOracle", AAVE_URL),
            "addresses_provider": a("PoolAddressesProvider", "PoolAddressesProvider", AAVE_URL),
        },
        {"start_block": 0},
    )  # fmt: skip
    morpho = Deployment(
        "morpho-blue-devnet", "morpho-blue", "morpho_blue", CHAIN, CHAIN_ID,
        "Morpho Blue (devnet)", "defi", MORPHO_URL,
        {
            "morpho": a("Morpho", "Morpho", MORPHO_URL),
            "price_oracle": a("AaveOracle", "AaveOracle", AAVE_URL),
        },
        {"start_block": 0, "log_chunk": 0},
    )  # fmt: skip
    return Registry({CHAIN: CHAIN_ID}, [aave, morpho])


def start_devnet(*, port: int = 0, extra_blocks: int = 100) -> Devnet:
    """Start anvil, deploy everything, open positions and mine ``extra_blocks`` (1 h apart)."""
    anvil = Anvil.start("--chain-id", str(CHAIN_ID), port=port)
    node = Node(anvil.url)
    try:
        node.rpc("anvil_setCode", MULTICALL3_ADDRESS, multicall_artifact()["deployedBytecode"])
        accounts = node.rpc("eth_accounts")
        d = Deployer(node, accounts[0])
        deploy_aave(d, accounts[9])
        params = deploy_morpho(d)
        borrowers = seed_positions(d, accounts, params)
        # Time passes so interest accrues; the extra blocks put the positions past the
        # default 64-confirmation safety margin of `sync`.
        node.rpc("anvil_mine", hex(extra_blocks), hex(3600))
        return Devnet(anvil, dict(d.addr), devnet_registry(d.addr), borrowers, params)
    except BaseException:
        anvil.stop()
        raise
    finally:
        node.close()


def write_registry(net: Devnet, path: Path) -> Path:
    """Write the devnet's registry TOML."""
    path.write_text(
        dump_registry(net.registry, f"lendscope devnet at {net.url} (chain id {CHAIN_ID})") + "\n"
    )
    return path

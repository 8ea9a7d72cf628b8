"""Deploy real Aave v3 markets on a local node: v3.0 (``@aave/core-v3`` artifacts) and v3.6.

Recipe from shared/notes/local-evm.md §3.2, §3.3 and Appendices C/E. Two assets (WETH 18 dec,
USDC 6 dec), an ``AaveOracle`` in USD with 8 decimals whose prices move by pointing
``setAssetSources`` at freshly deployed ``MockAggregator``s (the mock has no setter, gotcha G5),
a 10% reserve factor, a 10% liquidation protocol fee and one e-mode category ("USD": USDC).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_abi import encode

from lendscope.onchain.contracts import aave_artifacts
from lendscope.onchain.evm import link
from tests.evm.harness import NODE_MODULES

ZERO = "0x0000000000000000000000000000000000000000"
RAY = 10**27
CORE_ART = NODE_MODULES / "@aave" / "core-v3" / "artifacts" / "contracts"
ORIGIN = NODE_MODULES / "@aave-dao" / "aave-v3-origin"

# Market configuration shared by both versions (bps); rate curve 80% kink, 0 / 4% / 60%.
LTV, LT, BONUS, RF, PROTOCOL_FEE = 8000, 8250, 10500, 1000, 1000
RATE_BPS = (8000, 0, 400, 6000)  # optimalUsageRatio, base, slope1, slope2
EMODE = (1, 9000, 9300, 10200)  # category id, ltv, lt, bonus; USDC only
ASSETS = (("WETH", 18, 2000 * 10**8), ("USDC", 6, 10**8))


@cache
def core_artifacts() -> dict[str, dict]:
    """Name -> hardhat artifact of every contract in ``@aave/core-v3`` (first by path order)."""
    out: dict[str, dict] = {}
    for f in sorted(CORE_ART.rglob("*.json")):
        if not f.name.endswith(".dbg.json"):
            out.setdefault(f.stem, json.loads(f.read_text()))
    return out


def origin_artifacts() -> dict[str, dict]:
    """aave-v3-origin 3.6.0: the devnet's recipe (one compile cache entry for both)."""
    return aave_artifacts()


@dataclass
class Market:
    """A deployed market: contracts by name plus the accounts used."""

    version: str
    w3: Any
    art: dict[str, dict]
    admin: str
    treasury: str
    c: dict[str, Any] = field(default_factory=dict)
    tokens: list[Any] = field(default_factory=list)
    atokens: list[Any] = field(default_factory=list)
    vtokens: list[Any] = field(default_factory=list)

    def tx(self, fn: Any, frm: str | None = None, ts: int | None = None) -> Any:
        """Send and wait (2 ms polling, gotcha G1); ``ts`` fixes the block timestamp (G7)."""
        if ts is not None:
            self.w3.provider.make_request("evm_setNextBlockTimestamp", [ts])
        h = fn.transact({"from": frm or self.admin, "gas": 15_000_000})
        return self.w3.eth.wait_for_transaction_receipt(h, poll_latency=0.002)

    def ok(self, fn: Any, frm: str | None = None, ts: int | None = None) -> Any:
        r = self.tx(fn, frm, ts)
        assert r.status == 1, r
        return r

    def deploy(self, name: str, *args: Any, key: str | None = None) -> Any:
        a = self.art[name]
        libs = {k: v.address for k, v in self.c.items()}
        code = link(a["bytecode"], a.get("linkReferences", {}), libs)
        assert "__$" not in code, f"unlinked library in {name}"
        r = self.ok(self.w3.eth.contract(abi=a["abi"], bytecode=code).constructor(*args))
        inst = self.w3.eth.contract(address=r.contractAddress, abi=a["abi"])
        self.c[key or name] = inst
        return inst

    def at(self, name: str, addr: str) -> Any:
        return self.w3.eth.contract(address=addr, abi=self.art[name]["abi"])

    @property
    def pool(self) -> Any:
        return self.c["pool"]

    def set_price(self, i: int, price: int) -> None:
        """Point the oracle at a new aggregator answering ``price`` (8 decimals)."""
        agg = self.deploy("MockAggregator", price, key=f"agg{i}")
        self.ok(self.c["oracle"].functions.setAssetSources([self.tokens[i].address], [agg.address]))

    def mint(self, i: int, to: str, amount: int) -> None:
        t = self.tokens[i]
        if self.version == "3.0":
            self.ok(t.functions.mint(amount), to)  # MintableERC20.mint(amount) to msg.sender
        else:
            self.ok(t.functions.mint(to, amount))  # TestnetERC20: owner-only mint(to, amount)
        self.ok(t.functions.approve(self.pool.address, 2**256 - 1), to)


def _common_head(m: Market, provider_name: str) -> Any:
    provider = m.deploy("PoolAddressesProvider", provider_name, m.admin)
    m.ok(provider.functions.setACLAdmin(m.admin))
    acl = m.deploy("ACLManager", provider.address)
    m.ok(provider.functions.setACLManager(acl.address))
    for f in ("addPoolAdmin", "addRiskAdmin", "addEmergencyAdmin"):
        m.ok(getattr(acl.functions, f)(m.admin))
    return provider


def _tail(m: Market, provider: Any, pool_name: str, conf_name: str) -> None:
    m.c["pool"] = m.at(pool_name, provider.functions.getPool().call())
    m.c["conf"] = m.at(conf_name, provider.functions.getPoolConfigurator().call())
    dp = m.deploy("AaveProtocolDataProvider", provider.address)
    m.ok(provider.functions.setPoolDataProvider(dp.address))


def _oracle(m: Market, provider: Any, erc20: str, *ctor: Any) -> None:
    for sym, dec, _ in ASSETS:
        m.tokens.append(m.deploy(erc20, "Token " + sym, sym, dec, *ctor, key=sym))
    aggs = [m.deploy("MockAggregator", p, key=f"agg{i}") for i, (_, _, p) in enumerate(ASSETS)]
    oracle = m.deploy(
        "AaveOracle",
        provider.address,
        [t.address for t in m.tokens],
        [a.address for a in aggs],
        ZERO,
        ZERO,
        10**8,
    )
    m.ok(provider.functions.setPriceOracle(oracle.address))
    m.c["oracle"] = oracle


def _configure(m: Market) -> None:
    conf = m.c["conf"]
    for t in m.tokens:
        m.ok(conf.functions.configureReserveAsCollateral(t.address, LTV, LT, BONUS))
        m.ok(conf.functions.setReserveBorrowing(t.address, True))
        m.ok(conf.functions.setReserveFactor(t.address, RF))
        m.ok(conf.functions.setLiquidationProtocolFee(t.address, PROTOCOL_FEE))
    for t in m.tokens:
        rd = m.pool.functions.getReserveData(t.address).call()
        m.atokens.append(m.at("AToken" if m.version == "3.0" else "ATokenInstance", rd[8]))
        vname = "VariableDebtToken" if m.version == "3.0" else "VariableDebtTokenInstance"
        m.vtokens.append(m.at(vname, rd[10]))


def deploy_v30(w3: Any) -> Market:
    """Aave v3.0.x from the prebuilt artifacts, libraries linked by hand (notes §3.2)."""
    acc = w3.eth.accounts
    m = Market("3.0", w3, core_artifacts(), acc[0], acc[9])
    provider = _common_head(m, "Local v3.0")
    for lib in (
        "SupplyLogic",
        "BorrowLogic",
        "LiquidationLogic",
        "EModeLogic",
        "BridgeLogic",
        "PoolLogic",
        "FlashLoanLogic",  # links BorrowLogic, so after it
        "ConfiguratorLogic",
    ):
        m.deploy(lib)
    impl = m.deploy("Pool", provider.address, key="PoolImpl")
    m.ok(impl.functions.initialize(provider.address))
    m.ok(provider.functions.setPoolImpl(impl.address))
    cimpl = m.deploy("PoolConfigurator", key="ConfImpl")
    m.ok(cimpl.functions.initialize(provider.address))
    m.ok(provider.functions.setPoolConfiguratorImpl(cimpl.address))
    _tail(m, provider, "Pool", "PoolConfigurator")
    _oracle(m, provider, "MintableERC20")
    opt, base, s1, s2 = (x * 10**23 for x in RATE_BPS)
    strat = m.deploy(
        "DefaultReserveInterestRateStrategy", provider.address, opt, base, s1, s2, 0, 0, 0, 0,
        20 * RAY // 100,
    )  # fmt: skip
    a_impl = m.deploy("AToken", m.pool.address, key="ATokenImpl")
    s_impl = m.deploy("StableDebtToken", m.pool.address, key="SDImpl")
    v_impl = m.deploy("VariableDebtToken", m.pool.address, key="VDImpl")
    inputs = [
        (a_impl.address, s_impl.address, v_impl.address, dec, strat.address, t.address,
         m.treasury, ZERO, "a" + s, "a" + s, "v" + s, "v" + s, "s" + s, "s" + s, b"")
        for t, (s, dec, _) in zip(m.tokens, ASSETS, strict=True)
    ]  # fmt: skip
    m.ok(m.c["conf"].functions.initReserves(inputs))
    _configure(m)
    cid, eltv, elt, ebonus = EMODE
    m.ok(m.c["conf"].functions.setEModeCategory(cid, eltv, elt, ebonus, ZERO, "USD"))
    m.ok(m.c["conf"].functions.setAssetEModeCategory(m.tokens[1].address, cid))
    return m


def deploy_v36(w3: Any) -> Market:
    """Aave v3.6 (aave-v3-origin 3.6.0) compiled from npm source (notes §3.3, Appendix E)."""
    acc = w3.eth.accounts
    m = Market("3.6", w3, origin_artifacts(), acc[0], acc[9])
    provider = _common_head(m, "Local v3.6")
    m.ok(m.c["ACLManager"].functions.addAssetListingAdmin(m.admin))
    irs = m.deploy("DefaultReserveInterestRateStrategyV2", provider.address)
    for lib in (
        "SupplyLogic",
        "BorrowLogic",
        "LiquidationLogic",
        "PoolLogic",
        "FlashLoanLogic",
        "ConfiguratorLogic",
    ):
        m.deploy(lib)
    impl = m.deploy("PoolInstance", provider.address, irs.address, key="PoolImpl")
    m.ok(provider.functions.setPoolImpl(impl.address))
    m.deploy("PoolConfiguratorInstance", key="ConfImpl")
    m.ok(provider.functions.setPoolConfiguratorImpl(m.c["ConfImpl"].address))
    _tail(m, provider, "PoolInstance", "PoolConfiguratorInstance")
    _oracle(m, provider, "TestnetERC20", m.admin)
    a_impl = m.deploy("ATokenInstance", m.pool.address, ZERO, m.treasury, key="ATokenImpl")
    v_impl = m.deploy("VariableDebtTokenInstance", m.pool.address, ZERO, key="VDImpl")
    ird = encode(["(uint16,uint32,uint32,uint32)"], [RATE_BPS])
    inputs = [
        (a_impl.address, v_impl.address, t.address, "a" + s, "a" + s, "v" + s, "v" + s, b"", ird)
        for t, (s, _, _) in zip(m.tokens, ASSETS, strict=True)
    ]
    m.ok(m.c["conf"].functions.initReserves(inputs))
    _configure(m)
    cid, eltv, elt, ebonus = EMODE
    conf = m.c["conf"].functions
    m.ok(conf.setEModeCategory(cid, eltv, elt, ebonus, "USD"))
    m.ok(conf.setAssetCollateralInEMode(m.tokens[1].address, cid, True))
    m.ok(conf.setAssetBorrowableInEMode(m.tokens[1].address, cid, True))
    return m

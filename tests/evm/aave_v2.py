"""Deploy a minimal real Aave v2 market on a local node from ``@aave/protocol-v2`` 1.0.1 artifacts.

Two ``MintableERC20`` reserves (WETH 18 dec, USDC 6 dec) priced in ETH by a real ``AaveOracle``
over ETH-quoted ``MockAggregator``s (WETH is the oracle's ``weth``: 1 ETH), plus an ETH/USD
``MockAggregator`` (8 decimals) for the adapter's ``eth_usd_feed``. In this early v2 release the
token implementations are per reserve (constructor takes the underlying) and
``LendingPoolConfigurator.initReserve`` takes (aToken, stableDebt, variableDebt, decimals,
strategy); the rate strategy reads a ``LendingRateOracle`` for the stable base rate.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.evm.aave import Market
from tests.evm.harness import NODE_MODULES

ZERO = "0x0000000000000000000000000000000000000000"
RAY = 10**27
V2_ART = NODE_MODULES / "@aave" / "protocol-v2" / "artifacts" / "contracts"

LTV, LT, BONUS, RF = 8000, 8250, 10500, 1000
ETH_USD = 2000 * 10**8
# symbol, decimals, price in ETH wei (18 decimals)
ASSETS = (("WETH", 18, 10**18), ("USDC", 6, 10**18 // 2000))


@cache
def v2_artifacts() -> dict[str, dict]:
    """Name -> hardhat artifact of every contract in ``@aave/protocol-v2`` (first by path)."""
    out: dict[str, dict] = {}
    for f in sorted(V2_ART.rglob("*.json")):
        if not f.name.endswith(".dbg.json"):
            out.setdefault(f.stem, json.loads(f.read_text()))
    return out


def mint(m: Market, i: int, to: str, amount: int) -> None:
    """``MintableERC20.mint(amount)`` mints to the sender; approve the pool."""
    t = m.tokens[i]
    m.ok(t.functions.mint(amount), to)
    m.ok(t.functions.approve(m.pool.address, 2**256 - 1), to)


def deploy_v2(w3: Any) -> Market:
    """Aave v2 (1.0.1): provider, pool (libraries linked), configurator, 2 reserves, oracles."""
    acc = w3.eth.accounts
    m = Market("2", w3, v2_artifacts(), acc[0], acc[9])
    provider = m.deploy("LendingPoolAddressesProvider", "Local v2")
    m.ok(provider.functions.setPoolAdmin(m.admin))
    m.ok(provider.functions.setEmergencyAdmin(m.admin))
    for lib in ("ReserveLogic", "GenericLogic", "ValidationLogic"):  # Validation links Generic
        m.deploy(lib)
    impl = m.deploy("LendingPool", key="PoolImpl")
    m.ok(impl.functions.initialize(provider.address))
    m.ok(provider.functions.setLendingPoolImpl(impl.address))
    cimpl = m.deploy("LendingPoolConfigurator", key="ConfImpl")
    m.ok(provider.functions.setLendingPoolConfiguratorImpl(cimpl.address))
    m.c["pool"] = m.at("LendingPool", provider.functions.getLendingPool().call())
    m.c["conf"] = m.at(
        "LendingPoolConfigurator", provider.functions.getLendingPoolConfigurator().call()
    )
    m.c["dp"] = m.deploy("AaveProtocolDataProvider", provider.address)
    rate_oracle = m.deploy("LendingRateOracle")
    m.ok(provider.functions.setLendingRateOracle(rate_oracle.address))
    for sym, dec, _ in ASSETS:
        m.tokens.append(m.deploy("MintableERC20", "Token " + sym, sym, dec, key=sym))
    aggs = [m.deploy("MockAggregator", p, key=f"agg{i}") for i, (_, _, p) in enumerate(ASSETS)]
    m.c["eth_usd"] = m.deploy("MockAggregator", ETH_USD, key="eth_usd")
    oracle = m.deploy(
        "AaveOracle",
        [t.address for t in m.tokens[1:]],
        [a.address for a in aggs[1:]],
        ZERO,
        m.tokens[0].address,  # weth: priced 1 ETH by the oracle itself
    )
    m.ok(provider.functions.setPriceOracle(oracle.address))
    m.c["oracle"] = oracle
    # 80% kink; variable 0 / 4% / 60%, stable slopes 2% / 60%.
    strat = m.deploy(
        "DefaultReserveInterestRateStrategy", provider.address, 80 * RAY // 100, 0,
        4 * RAY // 100, 60 * RAY // 100, 2 * RAY // 100, 60 * RAY // 100,
    )  # fmt: skip
    conf = m.c["conf"].functions
    for t, (s, dec, _) in zip(m.tokens, ASSETS, strict=True):
        a = m.deploy("AToken", m.pool.address, t.address, m.treasury, "a" + s, "a" + s, ZERO,
                     key="aImpl" + s)  # fmt: skip
        sd = m.deploy("StableDebtToken", m.pool.address, t.address, "s" + s, "s" + s, ZERO,
                      key="sImpl" + s)  # fmt: skip
        vd = m.deploy("VariableDebtToken", m.pool.address, t.address, "v" + s, "v" + s, ZERO,
                      key="vImpl" + s)  # fmt: skip
        m.ok(conf.initReserve(a.address, sd.address, vd.address, dec, strat.address))
        m.ok(conf.configureReserveAsCollateral(t.address, LTV, LT, BONUS))
        m.ok(conf.enableBorrowingOnReserve(t.address, True))
        m.ok(conf.setReserveFactor(t.address, RF))
    for t in m.tokens:
        a, s, v = m.c["dp"].functions.getReserveTokensAddresses(t.address).call()
        m.atokens.append(m.at("AToken", a))
        m.vtokens.append((m.at("StableDebtToken", s), m.at("VariableDebtToken", v)))
    return m

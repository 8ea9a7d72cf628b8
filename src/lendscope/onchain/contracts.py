"""Compile recipes for the protocol bytecode the devnet and the differential tests deploy.

One recipe per protocol, so ``lendscope devnet`` and ``tests/evm`` compile the same sources with
the same settings into one cache entry (:func:`lendscope.onchain.evm.compile_contracts`).
"""

from __future__ import annotations

from functools import cache

from lendscope.core.settings import evm_dir
from lendscope.onchain.evm import compile_contracts, node_modules

AAVE_FILES = [
    "src/contracts/instances/PoolInstance.sol",
    "src/contracts/instances/PoolConfiguratorInstance.sol",
    "src/contracts/instances/ATokenInstance.sol",
    "src/contracts/instances/VariableDebtTokenInstance.sol",
    "src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol",
    "src/contracts/misc/AaveOracle.sol",
    "src/contracts/protocol/configuration/PoolAddressesProvider.sol",
    "src/contracts/protocol/configuration/ACLManager.sol",
    "src/contracts/helpers/AaveProtocolDataProvider.sol",
    "src/contracts/mocks/testnet-helpers/TestnetERC20.sol",
    "src/contracts/mocks/oracle/CLAggregators/MockAggregator.sol",
]
AAVE_SETTINGS = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "shanghai",
    "metadata": {"bytecodeHash": "none"},
}
MORPHO_FILES = ["Morpho.sol", "mocks/ERC20Mock.sol", "mocks/OracleMock.sol", "mocks/IrmMock.sol"]
MORPHO_SETTINGS = {
    "viaIR": True,
    "optimizer": {"enabled": True, "runs": 999999},
    "evmVersion": "paris",
    "metadata": {"bytecodeHash": "none"},
}


@cache
def aave_artifacts() -> dict[str, dict]:
    """aave-v3-origin 3.6.0 compiled with solc 0.8.27 (same settings and cache as the tests)."""
    nm = node_modules()
    oz = nm / "@openzeppelin"
    return compile_contracts(
        "aave-v3-origin-3.6.0",
        "solc-0.8.27",
        nm / "@aave-dao" / "aave-v3-origin",
        AAVE_FILES,
        AAVE_SETTINGS,
        [
            ("openzeppelin-contracts-upgradeable/contracts/", oz / "contracts-upgradeable"),
            ("openzeppelin-contracts/contracts/", oz / "contracts"),
            ("solidity-utils/", nm / "@bgd-labs" / "solidity-utils" / "src"),
        ],
    )


@cache
def morpho_artifacts() -> dict[str, dict]:
    """Morpho Blue 1.0.0 with its foundry.toml settings, events merged into Morpho's ABI."""
    src = node_modules() / "@morpho-org" / "morpho-blue" / "src"
    art = compile_contracts("morpho-blue-1.0.0", "solc-0.8.19", src, MORPHO_FILES, MORPHO_SETTINGS)
    # Morpho emits its events through EventsLib, so solc leaves them out of Morpho's ABI.
    events = [e for e in art["EventsLib"]["abi"] if e["type"] == "event"]
    have = {e.get("name") for e in art["Morpho"]["abi"] if e["type"] == "event"}
    art["Morpho"]["abi"] = art["Morpho"]["abi"] + [e for e in events if e["name"] not in have]
    return art


@cache
def multicall_artifact() -> dict:
    """Our Multicall3 stand-in (``aggregate3`` only)."""
    out = compile_contracts(
        "multicall3lite",
        "solc-0.8.27",
        evm_dir() / "multicall3",
        ["Multicall3Lite.sol"],
        {"optimizer": {"enabled": True, "runs": 200}},
    )
    return out["Multicall3Lite"]


@cache
def seeder_artifacts() -> dict[str, dict]:
    """Our devnet seeder (``evm/seeder/Seeder.sol``): ``Seeder`` and ``BorrowerAccount``."""
    return compile_contracts(
        "seeder",
        "solc-0.8.27",
        evm_dir() / "seeder",
        ["Seeder.sol"],
        {"optimizer": {"enabled": True, "runs": 200}},
    )

"""Local-node harness: anvil from npm on 127.0.0.1, solcjs compilation cached by versions.

The node, the compiler driver and the linker are the package's (``lendscope.sources.evm``, also
used by ``lendscope devnet``), so tests and the devnet share one compile cache under
``build/evm``. Real protocol bytecode comes from npm packages pinned in
``tests/evm/package-lock.json``; BUSL-licensed sources stay in ``node_modules`` and are compiled
at test time.
"""

from __future__ import annotations

from pathlib import Path

from lendscope.sources.evm import Anvil, compile_contracts, link

__all__ = ["ANVIL", "BUILD", "EVM_DIR", "NODE_MODULES", "Anvil", "compile_contracts",
           "installed", "link"]  # fmt: skip

EVM_DIR = Path(__file__).resolve().parent
NODE_MODULES = EVM_DIR / "node_modules"
ANVIL = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
BUILD = EVM_DIR.parents[1] / "build" / "evm"


def installed() -> bool:
    """Whether ``npm ci`` has been run in tests/evm (``make test`` does it)."""
    return ANVIL.exists()

"""Local-node harness: anvil from npm on 127.0.0.1, solcjs compilation cached by versions.

The node, the compiler driver, the linker and the compile recipes are the package's
(``lendscope.onchain.evm``, ``lendscope.onchain.contracts``, also used by ``lendscope devnet``),
so tests and the devnet share one compile cache under ``build/evm``. Real protocol bytecode comes
from npm packages pinned in ``evm/package-lock.json``; BUSL-licensed sources stay in
``node_modules`` and are compiled at test time.
"""

from __future__ import annotations

from lendscope.core.settings import evm_dir
from lendscope.onchain.evm import anvil_bin, build_dir, node_modules

EVM_DIR = evm_dir()
NODE_MODULES = node_modules()
ANVIL = anvil_bin()
BUILD = build_dir()


def installed() -> bool:
    """Whether ``npm ci`` has been run in evm/ (``make test`` does it)."""
    return ANVIL.exists()

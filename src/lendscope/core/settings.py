"""Settings read from the environment: the one place lendscope looks at ``os.environ``.

Each is read when asked for, not at import, so a test or a long-running server sees changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def db_path() -> Path:
    """``$LENDSCOPE_DB`` or ``lendscope.duckdb`` in the user data directory."""
    env = os.environ.get("LENDSCOPE_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_path

    return user_data_path("lendscope") / "lendscope.duckdb"


def spark_master() -> str:
    """``$LENDSCOPE_SPARK_MASTER``, else a single local core."""
    return os.environ.get("LENDSCOPE_SPARK_MASTER", "local[1]")


def api_token() -> str | None:
    """``$LENDSCOPE_API_TOKEN`` (empty means no token)."""
    return os.environ.get("LENDSCOPE_API_TOKEN") or None


def rpc_url(chain: str, *, any_chain_fallback: bool = True) -> str | None:
    """``{CHAIN}_RPC`` (DefiLlama convention), else ``ETH_RPC_URL`` (cryo convention).

    ``any_chain_fallback=False`` offers ``ETH_RPC_URL`` to ``ethereum`` only (multi-chain runs).
    """
    own = os.environ.get(f"{chain.upper()}_RPC")
    if own or (not any_chain_fallback and chain != "ethereum"):
        return own or None
    return os.environ.get("ETH_RPC_URL")


def evm_dir() -> Path:
    """``$LENDSCOPE_EVM_DIR``, else the ``evm/`` toolchain folder of a source checkout."""
    env = os.environ.get("LENDSCOPE_EVM_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "evm"


def quiet_progress() -> bool:
    """Progress stays quiet when stderr is not a terminal or ``$CI`` is set."""
    return not sys.stderr.isatty() or bool(os.environ.get("CI"))


def cache_dir() -> Path:
    """``$LENDSCOPE_CACHE_DIR``, else ``lendscope`` in the user cache directory (downloads)."""
    env = os.environ.get("LENDSCOPE_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_path

    return user_cache_path("lendscope")

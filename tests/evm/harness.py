"""Local-node harness: anvil from npm on 127.0.0.1, solcjs compilation cached by versions.

The node itself is the package's :class:`lendscope.sources.evm.Anvil` (also used by `devnet`).

Real protocol bytecode comes from npm packages pinned in ``tests/evm/package-lock.json``;
BUSL-licensed sources stay in ``node_modules`` and are compiled at test time.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from lendscope.sources.evm import Anvil

__all__ = ["Anvil", "compile_contracts", "installed", "link"]

EVM_DIR = Path(__file__).resolve().parent
NODE_MODULES = EVM_DIR / "node_modules"
ANVIL = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
BUILD = EVM_DIR.parents[1] / "build" / "evm"


def installed() -> bool:
    """Whether ``npm ci`` has been run in tests/evm (``make test`` does it)."""
    return ANVIL.exists()


def _lock_versions() -> dict[str, str]:
    lock = json.loads((EVM_DIR / "package-lock.json").read_text())
    return {k: v.get("version", "") for k, v in lock["packages"].items() if k}


def compile_contracts(
    name: str,
    solc: str,
    root: Path,
    files: list[str],
    settings: dict[str, Any],
    remappings: list[tuple[str, Path]] = (),
) -> dict[str, dict]:
    """Compile ``files`` under ``root`` with the npm ``solc`` alias; cached by every version."""
    cfg = {
        "solc": solc,
        "root": str(root),
        "files": files,
        "settings": settings,
        "remappings": [[p, str(d)] for p, d in remappings],
    }
    key = hashlib.sha256(
        json.dumps(
            [cfg, _lock_versions(), (EVM_DIR / "compile.js").read_text()], sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    out = BUILD / f"{name}-{key}.json"
    if not out.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        cfg_file = BUILD / f"{name}-{key}.config.json"
        cfg_file.write_text(json.dumps(cfg))
        tmp = out.with_suffix(".tmp")
        subprocess.run(
            ["node", str(EVM_DIR / "compile.js"), str(cfg_file), str(tmp)], check=True, cwd=EVM_DIR
        )
        tmp.replace(out)
    return json.loads(out.read_text())


def link(bytecode: str, link_refs: dict, addresses: dict[str, str]) -> str:
    """Insert library addresses into unlinked bytecode."""
    code = bytecode[2:] if bytecode.startswith("0x") else bytecode
    for _file, libs in link_refs.items():
        for lib, spots in libs.items():
            addr = addresses[lib].lower().removeprefix("0x")
            for s in spots:
                start = s["start"] * 2
                code = code[:start] + addr + code[start + 40 :]
    return "0x" + code

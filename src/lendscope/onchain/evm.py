"""The local EVM toolchain for the devnet and the tests: anvil and solcjs from npm.

The npm packages (anvil binary, solc, BUSL protocol sources) are not shipped in the wheel. They
live in ``$LENDSCOPE_EVM_DIR``, by default the source checkout's ``evm/`` (run ``npm ci``
there; ``make test`` does). Compiled artifacts are cached under ``build/evm`` beside that folder,
so the tests and ``lendscope devnet`` share one compilation.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lendscope.core.settings import evm_dir


def node_modules() -> Path:
    """The fixtures' ``node_modules``."""
    return evm_dir() / "node_modules"


def anvil_bin() -> Path:
    """The anvil binary installed by npm."""
    return node_modules() / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def build_dir() -> Path:
    """Where compiled artifacts are cached."""
    return evm_dir().resolve().parent / "build" / "evm"


def compile_contracts(
    name: str,
    solc: str,
    root: Path,
    files: list[str],
    settings: dict[str, Any],
    remappings: list[tuple[str, Path]] = (),
) -> dict[str, dict]:
    """Compile with the npm ``solc`` alias; cached by config, lockfile versions and compile.js."""
    d = evm_dir()
    cfg = {
        "solc": solc,
        "root": str(root),
        "files": files,
        "settings": settings,
        "remappings": [[p, str(r)] for p, r in remappings],
    }
    lock = json.loads((d / "package-lock.json").read_text())
    versions = {k: v.get("version", "") for k, v in lock["packages"].items() if k}
    key = hashlib.sha256(
        json.dumps([cfg, versions, (d / "compile.js").read_text()], sort_keys=True).encode()
    ).hexdigest()[:16]
    out = build_dir() / f"{name}-{key}.json"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        cfg_file = out.with_suffix(".config.json")
        cfg_file.write_text(json.dumps(cfg))
        tmp = out.with_suffix(".tmp")
        subprocess.run(["node", str(d / "compile.js"), str(cfg_file), str(tmp)], check=True, cwd=d)
        tmp.replace(out)
    return json.loads(out.read_text())


def link(bytecode: str, link_refs: dict, addresses: dict[str, str]) -> str:
    """Insert library addresses into unlinked bytecode."""
    code = bytecode.removeprefix("0x")
    for libs in link_refs.values():
        for lib, spots in libs.items():
            addr = addresses[lib].lower().removeprefix("0x")
            for s in spots:
                code = code[: s["start"] * 2] + addr + code[s["start"] * 2 + 40 :]
    return "0x" + code


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM anvil when its parent dies, so no node outlives us."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Anvil:
    """An anvil process on 127.0.0.1 (OS-chosen port unless given); ``stop`` always ends it."""

    proc: subprocess.Popen
    url: str
    log: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, *args: str, port: int = 0, timeout: float = 20.0) -> Anvil:
        """Start anvil and wait until it listens."""
        if not anvil_bin().exists():
            raise FileNotFoundError(
                f"anvil not found at {anvil_bin()}: run `npm ci` in {evm_dir()} "
                "or point LENDSCOPE_EVM_DIR at a directory where it was run"
            )
        proc = subprocess.Popen(
            [str(anvil_bin()), "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_die_with_parent,
        )
        deadline, log = time.monotonic() + timeout, []
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            log.append(line)
            m = re.search(r"Listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                node = cls(proc, f"http://127.0.0.1:{m.group(1)}", log)
                # anvil logs every request; an unread pipe fills at 64 KiB and blocks the node.
                threading.Thread(target=node._drain, daemon=True).start()
                return node
        proc.kill()
        raise RuntimeError("anvil did not start:\n" + "".join(log[-20:]))

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)
            if len(self.log) > 2000:
                del self.log[:1000]

    def stop(self) -> None:
        """Terminate (then kill) the process."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Node:
    """Bare JSON-RPC to a dev node (unlocked accounts, anvil_* methods)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(timeout=120)
        self._id = 0

    def rpc(self, method: str, *params: Any) -> Any:
        """One call; raises on an error answer."""
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}
        r = self._http.post(self.url, json=body).json()
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

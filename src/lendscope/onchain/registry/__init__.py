"""The deployment registry: one TOML entry per deployment, every address labelled and cited.

Bundled registries live next to this module (``ethereum.toml``). A fork or a chain is a few
lines: a ``[chains.<name>]`` table and a ``[[deployment]]`` entry naming an existing ``family``.

Every address is EIP-55-checked when a registry loads: a mixed-case address whose checksum is
wrong is an error naming the file, the entry and the field (an all-lower or all-upper address
carries no checksum and is accepted). Addresses are stored checksummed; :meth:`Deployment.addr`
hands adapters the lower-case form they key on.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from lendscope.chain.cache import normalize_address

REGISTRY_DIR = Path(__file__).resolve().parent
SEGMENTS = ("defi", "cdp")


class RegistryError(ValueError):
    """A registry file is malformed."""


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def checksum_address(raw: str, where: str) -> str:
    """``raw`` in EIP-55 form; :class:`RegistryError` naming ``where`` if its checksum fails.

    A mixed-case address must already be its own EIP-55 form (a wrong letter case is how a
    typo shows); all-lower and all-upper addresses carry no checksum and are converted.
    """
    try:
        low = normalize_address(raw)
    except (ValueError, AttributeError):
        raise RegistryError(f"{where}: not an address: {raw!r}") from None
    digits = raw[2:] if raw[:2] in ("0x", "0X") else raw
    good = to_checksum_address(low)
    if digits not in (digits.lower(), digits.upper()) and "0x" + digits != good:
        raise RegistryError(f"{where}: {raw} fails its EIP-55 checksum (a wrong address?)")
    return good


def _check_config(where: str, v: Any) -> None:
    """EIP-55-check every address-shaped string (keys too) in a config value."""
    if isinstance(v, str):
        if _ADDRESS.fullmatch(v):
            checksum_address(v, where)
    elif isinstance(v, dict):
        for k, x in v.items():
            if _ADDRESS.fullmatch(str(k)):
                checksum_address(str(k), f"{where} key")
            _check_config(f"{where}.{k}", x)
    elif isinstance(v, list | tuple):
        for i, x in enumerate(v):
            _check_config(f"{where}[{i}]", x)


@dataclass(frozen=True)
class Address:
    """A contract address with what it is and where it is documented."""

    address: str
    label: str
    url: str


@dataclass(frozen=True)
class Deployment:
    """One deployment of a protocol family on one chain."""

    id: str
    protocol: str
    family: str
    chain: str
    chain_id: int
    platform: str
    segment: str
    source: str
    addresses: dict[str, Address]
    config: dict[str, Any] = field(default_factory=dict)

    def addr(self, key: str) -> str:
        """The lower-case address labelled ``key`` (raises :class:`RegistryError` if absent)."""
        try:
            return self.addresses[key].address.lower()
        except KeyError:
            raise RegistryError(f"deployment {self.id!r} has no address {key!r}") from None

    def label(self, key: str) -> str:
        """The human label of address ``key``."""
        return self.addresses[key].label


@dataclass(frozen=True)
class Registry:
    """Chains (name -> chain id) and deployments."""

    chains: dict[str, int]
    deployments: list[Deployment]
    files: tuple[str, ...] = ()

    def select(self, chain: str, protocols: list[str] | None = None) -> list[Deployment]:
        """Deployments on ``chain``, filtered by protocol name or deployment id."""
        want = set(protocols or [])
        return [
            d
            for d in self.deployments
            if d.chain == chain and (not want or d.protocol in want or d.id in want)
        ]


def _address(where: str, raw: Any, default_url: str) -> Address:
    if isinstance(raw, str):
        raise RegistryError(f"{where}: give {{address, label, url}}, not a string")
    try:
        a = checksum_address(raw["address"], f"{where}.address")
        return Address(a, raw["label"], raw.get("url", default_url))
    except (KeyError, TypeError) as e:
        raise RegistryError(f"{where}: {e!r}") from None


def parse_registry(data: dict[str, Any], origin: str = "<registry>") -> Registry:
    """Build a :class:`Registry` from parsed TOML."""
    chains = {name: int(c["chain_id"]) for name, c in data.get("chains", {}).items()}
    deps = []
    for raw in data.get("deployment", []):
        did = raw.get("id", "?")
        missing = [
            k for k in ("id", "protocol", "family", "chain", "platform", "segment", "source")
            if k not in raw
        ]  # fmt: skip
        if missing:
            raise RegistryError(f"{origin}: deployment {did!r} lacks {', '.join(missing)}")
        if raw["chain"] not in chains:
            raise RegistryError(f"{origin}: deployment {did!r}: unknown chain {raw['chain']!r}")
        if raw["segment"] not in SEGMENTS:
            raise RegistryError(f"{origin}: deployment {did!r}: segment must be defi or cdp")
        where = f"{origin}: deployment {did!r}"
        addrs = {
            k: _address(f"{where}: addresses.{k}", v, raw["source"])
            for k, v in raw.get("addresses", {}).items()
        }
        skip = {"id", "protocol", "family", "chain", "platform", "segment", "source", "addresses"}
        for k, v in raw.items():
            if k not in skip:
                _check_config(f"{where}: {k}", v)
        deps.append(
            Deployment(
                did,
                raw["protocol"],
                raw["family"],
                raw["chain"],
                chains[raw["chain"]],
                raw["platform"],
                raw["segment"],
                raw["source"],
                addrs,
                {k: v for k, v in raw.items() if k not in skip},
            )
        )
    ids = [d.id for d in deps]
    if len(ids) != len(set(ids)):
        raise RegistryError(f"{origin}: duplicate deployment ids")
    return Registry(chains, deps, (origin,))


def load_registry(path: str | Path | None = None) -> Registry:
    """The registry in ``path``, else every bundled ``*.toml`` merged."""
    files = [Path(path)] if path else sorted(REGISTRY_DIR.glob("*.toml"))
    chains: dict[str, int] = {}
    deps: list[Deployment] = []
    for f in files:
        reg = parse_registry(tomllib.loads(f.read_text()), str(f))
        chains.update(reg.chains)
        deps += reg.deployments
    return Registry(chains, deps, tuple(str(f) for f in files))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dump_registry(reg: Registry, header: str = "") -> str:
    """TOML text for ``reg`` (round-trips through :func:`parse_registry`)."""
    lines = [f"# {h}" for h in header.splitlines()]
    for name, cid in reg.chains.items():
        lines += [f"[chains.{name}]", f"chain_id = {cid}", ""]
    for d in reg.deployments:
        lines.append("[[deployment]]")
        for k in ("id", "protocol", "family", "chain", "platform", "segment", "source"):
            lines.append(f"{k} = {_toml_value(getattr(d, k))}")
        lines += [f"{k} = {_toml_value(v)}" for k, v in d.config.items()]
        lines.append("[deployment.addresses]")
        for k, a in d.addresses.items():
            lines.append(
                f"{k} = {_toml_value({'address': a.address, 'label': a.label, 'url': a.url})}"
            )
        lines.append("")
    return "\n".join(lines)

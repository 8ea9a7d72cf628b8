"""The deployment registry: one TOML entry per deployment, every address labelled and cited.

Bundled registries live next to this module (``ethereum.toml``). A fork or a chain is a few
lines: a ``[chains.<name>]`` table and a ``[[deployment]]`` entry naming an existing ``family``.

Every address is EIP-55-checked when a registry loads: a mixed-case address whose checksum is
wrong is an error naming the file, the entry and the field (an all-lower or all-upper address
carries no checksum and is accepted). Addresses are stored checksummed; :meth:`Deployment.addr`
hands adapters the lower-case form they key on.

Where contracts changed over time, ``[[deployment.versions]]`` tables give the addresses that
differ over a window: ``from_block``/``until_block`` (or ``from_time``/``until_time``, TOML
datetimes, where only the date a source listed an address is known), each bound optional, the
window half-open (``until`` is the first block or second the version no longer covers), plus a
``source`` citation and an ``addresses`` table in the usual form. Blocks outside every window read
the deployment's own addresses. :meth:`Deployment.at` resolves the addresses valid at a block.

A chain's ``kind`` (evm, tron, solana, sui: :mod:`.chains`) sets how its addresses are checked
and stored (:mod:`lendscope.onchain.addresses`): Tron ``T...`` base58check, Solana base58 public
keys, Sui ``0x`` + 64 hex. Bundled files share chains: a deployment may name a chain any bundled
file defines (``chains.toml`` holds the shared ones); two files defining one chain must agree.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from lendscope.onchain.addresses import evm_lower, to_call, to_stored
from lendscope.onchain.registry.chains import Chain, ChainError, dump_chain, parse_chains
from lendscope.onchain.registry.toml_out import WINDOW as _WINDOW
from lendscope.onchain.registry.toml_out import toml_address, toml_value, version_lines

REGISTRY_DIR = Path(__file__).resolve().parent
SEGMENTS = ("defi", "cdp")
_FAMILY = re.compile(r"[a-z][a-z0-9_]*")


class RegistryError(ValueError):
    """A registry file is malformed."""


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def checksum_address(raw: str, where: str) -> str:
    """``raw`` in EIP-55 form; :class:`RegistryError` naming ``where`` if its checksum fails.

    A mixed-case address must already be its own EIP-55 form (a wrong letter case is how a
    typo shows); all-lower and all-upper addresses carry no checksum and are converted.
    """
    try:
        low = evm_lower(raw)
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
class Version:
    """Addresses that differ from a deployment's own in the window ``[start, until)``."""

    addresses: dict[str, Address]
    source: str
    from_block: int | None = None
    until_block: int | None = None
    from_time: int | None = None  # unix seconds
    until_time: int | None = None

    @property
    def by_time(self) -> bool:
        """Whether the window is in unix time (else in block numbers)."""
        return self.from_time is not None or self.until_time is not None

    def bounds(self) -> tuple[int | None, int | None]:
        """(start, until) in the window's unit; ``None`` is unbounded."""
        if self.by_time:
            return self.from_time, self.until_time
        return self.from_block, self.until_block

    def covers(self, block: int, timestamp: int | None = None) -> bool:
        """Whether the block (its ``timestamp`` for a time window) is in the window."""
        at = timestamp if self.by_time else block
        if at is None:
            raise RegistryError("a time window needs the block's timestamp")
        lo, hi = self.bounds()
        return (lo is None or at >= lo) and (hi is None or at < hi)


@dataclass(frozen=True)
class Deployment:
    """One deployment of a protocol family on one chain."""

    id: str
    protocol: str
    family: str
    chain: str
    chain_id: int | None  # None: a Solana or Sui chain identified otherwise (see Chain)
    platform: str
    segment: str
    source: str
    addresses: dict[str, Address]
    config: dict[str, Any] = field(default_factory=dict)
    versions: tuple[Version, ...] = ()
    chain_kind: str = "evm"

    def version_at(self, block: int, timestamp: int | None = None) -> int | None:
        """Index of the version whose window holds ``block``, or ``None`` (own addresses)."""
        for i, v in enumerate(self.versions):
            if v.covers(block, timestamp):
                return i
        return None

    def at(self, block: int, timestamp: int | None = None) -> Deployment:
        """The deployment with the addresses valid at ``block`` (and no versions left)."""
        if not self.versions:
            return self
        try:
            i = self.version_at(block, timestamp)
        except RegistryError:
            raise RegistryError(f"deployment {self.id!r} has time windows: give the block's "
                                "timestamp") from None  # fmt: skip
        addrs = self.addresses if i is None else {**self.addresses, **self.versions[i].addresses}
        return replace(self, addresses=addrs, versions=())

    def addr(self, key: str) -> str:
        """Address ``key`` as readers call it: lower-case 0x hex on EVM and Tron, else as stored.

        Raises :class:`RegistryError` if absent.
        """
        try:
            return to_call(self.chain_kind, self.addresses[key].address)
        except KeyError:
            raise RegistryError(f"deployment {self.id!r} has no address {key!r}") from None

    def label(self, key: str) -> str:
        """The human label of address ``key``."""
        return self.addresses[key].label


@dataclass(frozen=True)
class Registry:
    """Chains (name -> chain id, ``None`` where a chain has none) and deployments."""

    chains: dict[str, int | None]
    deployments: list[Deployment]
    files: tuple[str, ...] = ()
    chain_info: dict[str, Chain] = field(default_factory=dict)

    def chain(self, name: str) -> Chain:
        """The chain ``name`` with its kind (an EVM chain where only its id was given)."""
        if name in self.chain_info:
            return self.chain_info[name]
        if name not in self.chains:
            raise RegistryError(f"chain {name!r} is not in the registry")
        return Chain(name, "evm", self.chains[name])

    def select(self, chain: str, protocols: list[str] | None = None) -> list[Deployment]:
        """Deployments on ``chain``, filtered by protocol name or deployment id."""
        want = set(protocols or [])
        return [
            d
            for d in self.deployments
            if d.chain == chain and (not want or d.protocol in want or d.id in want)
        ]


def _address(where: str, raw: Any, default_url: str, kind: str = "evm") -> Address:
    if isinstance(raw, str):
        raise RegistryError(f"{where}: give {{address, label, url}}, not a string")
    try:
        if kind == "evm":
            a = checksum_address(raw["address"], f"{where}.address")
        else:
            a = _stored(kind, raw["address"], f"{where}.address")
        return Address(a, raw["label"], raw.get("url", default_url))
    except (KeyError, TypeError) as e:
        raise RegistryError(f"{where}: {e!r}") from None


def _stored(kind: str, raw: Any, where: str) -> str:
    try:
        return to_stored(kind, raw)
    except (ValueError, TypeError) as e:
        raise RegistryError(f"{where}: {e} (a {kind} chain)") from None


def _bound(where: str, key: str, v: Any) -> int:
    """A window bound: a block number, or a TOML date/datetime as unix seconds."""
    if key.endswith("_block"):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise RegistryError(f"{where}.{key}: give a block number >= 0, not {v!r}")
        return v
    if isinstance(v, datetime):
        if v.tzinfo is None:
            raise RegistryError(f"{where}.{key}: give a UTC offset (e.g. 2025-07-03T15:46:07Z)")
        return int(v.timestamp())
    if isinstance(v, date):
        return int(datetime(v.year, v.month, v.day, tzinfo=UTC).timestamp())
    raise RegistryError(f"{where}.{key}: give a TOML date or datetime, not {v!r}")


def _start(v: Version) -> int:
    lo = v.bounds()[0]
    return -1 if lo is None else lo


def _versions(
    where: str, raw: Any, own: dict[str, Address], kind: str = "evm"
) -> tuple[Version, ...]:
    """Parse and check ``versions``: known keys, bounds in order, windows that do not overlap."""
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise RegistryError(f"{where}: versions must be [[deployment.versions]] tables")
    out: list[Version] = []
    for i, r in enumerate(raw):
        w = f"{where}: versions[{i}]"
        unknown = set(r) - {*_WINDOW, "source", "addresses"}
        if unknown:
            raise RegistryError(f"{w}: unknown field {', '.join(sorted(unknown))}")
        if "source" not in r:
            raise RegistryError(f"{w}: lacks source (cite where its addresses come from)")
        got = {k: _bound(w, k, r[k]) for k in _WINDOW if k in r}
        if not got:
            raise RegistryError(f"{w}: give from_block/until_block or from_time/until_time")
        if {"from_block", "until_block"} & set(got) and {"from_time", "until_time"} & set(got):
            raise RegistryError(f"{w}: mixes block and time bounds")
        addrs = r.get("addresses")
        if not isinstance(addrs, dict) or not addrs:
            raise RegistryError(f"{w}: lacks addresses (the ones that differ)")
        for k in addrs:
            if k not in own:
                raise RegistryError(f"{w}: addresses.{k}: not one of the deployment's addresses")
        v = Version(
            {k: _address(f"{w}: addresses.{k}", a, r["source"], kind) for k, a in addrs.items()},
            r["source"],
            **got,
        )
        lo, hi = v.bounds()
        unit = "time" if v.by_time else "block"
        if lo is not None and hi is not None and lo >= hi:
            raise RegistryError(f"{w}: from_{unit} {lo} is not before until_{unit} {hi}")
        out.append(v)
    if len({v.by_time for v in out}) > 1:
        raise RegistryError(f"{where}: versions mix block and time windows")
    order = sorted(range(len(out)), key=lambda i: _start(out[i]))
    for a, b in pairwise(order):
        hi, lo = out[a].bounds()[1], out[b].bounds()[0]
        if hi is None or lo is None or hi > lo:
            unit = "time" if out[a].by_time else "block"
            raise RegistryError(
                f"{where}: versions[{a}] (until_{unit} {'open' if hi is None else hi}) and "
                f"versions[{b}] (from_{unit} {'open' if lo is None else lo}) overlap"
            )
    return tuple(out)


def _chains(origin: str, data: dict[str, Any]) -> dict[str, Chain]:
    try:
        return parse_chains(origin, data.get("chains", {}))
    except ChainError as e:
        raise RegistryError(str(e)) from None


def parse_registry(
    data: dict[str, Any], origin: str = "<registry>", chains: dict[str, Chain] | None = None
) -> Registry:
    """Build a :class:`Registry` from parsed TOML; ``chains``: ones other files define."""
    info = {**(chains or {}), **_chains(origin, data)}
    deps = []
    for raw in data.get("deployment", []):
        did = raw.get("id", "?")
        missing = [
            k for k in ("id", "protocol", "family", "chain", "platform", "segment", "source")
            if k not in raw
        ]  # fmt: skip
        if missing:
            raise RegistryError(f"{origin}: deployment {did!r} lacks {', '.join(missing)}")
        if raw["chain"] not in info:
            raise RegistryError(f"{origin}: deployment {did!r}: unknown chain {raw['chain']!r}")
        if not isinstance(raw["family"], str) or not _FAMILY.fullmatch(raw["family"]):
            raise RegistryError(f"{origin}: deployment {did!r}: family: not a module name")
        kind = info[raw["chain"]].kind
        if raw["segment"] not in SEGMENTS:
            raise RegistryError(f"{origin}: deployment {did!r}: segment must be defi or cdp")
        where = f"{origin}: deployment {did!r}"
        addrs = {
            k: _address(f"{where}: addresses.{k}", v, raw["source"], kind)
            for k, v in raw.get("addresses", {}).items()
        }
        versions = _versions(where, raw["versions"], addrs, kind) if "versions" in raw else ()
        skip = {"id", "protocol", "family", "chain", "platform", "segment", "source", "addresses",
                "versions"}  # fmt: skip
        for k, v in raw.items():
            if k not in skip and kind == "evm":
                _check_config(f"{where}: {k}", v)
        deps.append(
            Deployment(
                did,
                raw["protocol"],
                raw["family"],
                raw["chain"],
                info[raw["chain"]].chain_id,
                raw["platform"],
                raw["segment"],
                raw["source"],
                addrs,
                {k: v for k, v in raw.items() if k not in skip},
                versions,
                kind,
            )
        )
    ids = [d.id for d in deps]
    if len(ids) != len(set(ids)):
        raise RegistryError(f"{origin}: duplicate deployment ids")
    return Registry({n: c.chain_id for n, c in info.items()}, deps, (origin,), info)


def load_registry(path: str | Path | None = None) -> Registry:
    """The registry in ``path``, else every bundled ``*.toml`` merged (chains shared)."""
    files = [Path(path)] if path else sorted(REGISTRY_DIR.glob("*.toml"))
    data = {f: tomllib.loads(f.read_text()) for f in files}
    info: dict[str, Chain] = {}
    for f, d in data.items():
        for name, c in _chains(str(f), d).items():
            if name in info and info[name] != c:
                raise RegistryError(f"{f}: chains.{name}: differs from another file's definition")
            info[name] = c
    deps: list[Deployment] = []
    for f, d in data.items():
        deps += parse_registry(d, str(f), info).deployments
    ids = [d.id for d in deps]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise RegistryError(f"duplicate deployment ids across files: {', '.join(dup)}")
    chains = {n: c.chain_id for n, c in info.items()}
    return Registry(chains, deps, tuple(str(f) for f in files), info)


def dump_registry(reg: Registry, header: str = "") -> str:
    """TOML text for ``reg`` (round-trips through :func:`parse_registry`)."""
    lines = [f"# {h}" for h in header.splitlines()]
    for name in reg.chains:
        c = reg.chain(name)
        lines += dump_chain(c) + [f"{k} = {toml_value(v)}" for k, v in c.config.items()] + [""]
    for d in reg.deployments:
        lines.append("[[deployment]]")
        for k in ("id", "protocol", "family", "chain", "platform", "segment", "source"):
            lines.append(f"{k} = {toml_value(getattr(d, k))}")
        lines += [f"{k} = {toml_value(v)}" for k, v in d.config.items()]
        lines.append("[deployment.addresses]")
        lines += [f"{k} = {toml_address(a)}" for k, a in d.addresses.items()]
        for v in d.versions:
            lines += version_lines(v)
        lines.append("")
    return "\n".join(lines)

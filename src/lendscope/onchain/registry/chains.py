"""``[chains.<name>]`` tables: a chain's kind and the identity its node reports.

``kind`` is ``evm`` (the default), ``tron``, ``solana`` or ``sui``. EVM and Tron chains need a
``chain_id`` (what ``eth_chainId`` answers; Tron mainnet 0x2b6653dc = 728126428). Solana and Sui
chains may give one, and a Solana chain gives its ``genesis_hash`` (``getGenesisHash``, base58 of
32 bytes) instead; a Sui chain may give ``chain_identifier`` (``sui_getChainIdentifier``, 8 hex).
Other keys are kept in :attr:`Chain.config`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lendscope.onchain.addresses import KINDS, is_solana_pubkey

NEEDS_CHAIN_ID = ("evm", "tron")
_FIELDS = ("kind", "chain_id", "genesis_hash", "chain_identifier")
_CHAIN_NAME = re.compile(r"[a-z][a-z0-9_-]*")


class ChainError(ValueError):
    """A ``[chains.<name>]`` table is malformed."""


@dataclass(frozen=True)
class Chain:
    """One chain: its name in the registry, kind and node identity."""

    name: str
    kind: str = "evm"
    chain_id: int | None = None
    genesis_hash: str | None = None
    chain_identifier: str | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """What the chain's node must report: ``chain_id 1``, ``genesis_hash 5eyk...``."""
        if self.chain_id is not None:
            return f"chain_id {self.chain_id}"
        if self.genesis_hash is not None:
            return f"genesis_hash {self.genesis_hash}"
        if self.chain_identifier is not None:
            return f"chain_identifier {self.chain_identifier}"
        return "unchecked"


def parse_chain(origin: str, name: str, raw: Any) -> Chain:
    """One ``[chains.<name>]`` table; :class:`ChainError` names the file, chain and field."""
    where = f"{origin}: chains.{name}"
    if not _CHAIN_NAME.fullmatch(name):
        raise ChainError(f"{where}: a chain name is lower-case letters, digits, - and _")
    if not isinstance(raw, dict):
        raise ChainError(f"{where}: give a [chains.{name}] table")
    kind = raw.get("kind", "evm")
    if kind not in KINDS:
        raise ChainError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    cid = raw.get("chain_id")
    if cid is None and kind in NEEDS_CHAIN_ID:
        raise ChainError(f"{where}.chain_id: required for a {kind} chain")
    if cid is not None and (isinstance(cid, bool) or not isinstance(cid, int) or cid <= 0):
        raise ChainError(f"{where}.chain_id: give a positive integer, not {cid!r}")
    genesis = raw.get("genesis_hash")
    if genesis is not None and (kind != "solana" or not is_solana_pubkey(genesis)):
        raise ChainError(f"{where}.genesis_hash: give a Solana chain's base58 genesis hash")
    ident = raw.get("chain_identifier")
    if ident is not None and (kind != "sui" or not re.fullmatch(r"[0-9a-f]{8}", str(ident))):
        raise ChainError(f"{where}.chain_identifier: give a Sui chain's 8-hex identifier")
    extra = {k: v for k, v in raw.items() if k not in _FIELDS}
    return Chain(name, kind, cid, genesis, ident, extra)


def parse_chains(origin: str, raw: Any) -> dict[str, Chain]:
    """Every ``[chains.*]`` table of one file."""
    if not isinstance(raw, dict):
        raise ChainError(f"{origin}: chains must be [chains.<name>] tables")
    return {name: parse_chain(origin, name, c) for name, c in raw.items()}


def dump_chain(c: Chain) -> list[str]:
    """TOML lines for ``c`` (extra config keys are written by the caller's value writer)."""
    lines = [f"[chains.{c.name}]"]
    if c.kind != "evm":
        lines.append(f'kind = "{c.kind}"')
    if c.chain_id is not None:
        lines.append(f"chain_id = {c.chain_id}")
    if c.genesis_hash is not None:
        lines.append(f'genesis_hash = "{c.genesis_hash}"')
    if c.chain_identifier is not None:
        lines.append(f'chain_identifier = "{c.chain_identifier}"')
    return lines

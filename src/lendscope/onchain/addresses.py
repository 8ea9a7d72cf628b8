"""Address formats by chain kind: EVM (EIP-55), Tron (base58check), Solana (base58), Sui (hex).

Tron addresses are a 0x41 byte and a 20-byte EVM-style account, written base58check (``T...``,
34 characters; the checksum is the first 4 bytes of a double SHA-256). Tron's Ethereum-compatible
JSON-RPC takes the 20-byte account as ``0x`` + 40 hex: :func:`tron_to_hex` and
:func:`hex_to_tron` convert. Solana public keys are 32 bytes written base58 (no checksum). Sui
addresses are ``0x`` + 64 hex (32 bytes). Every ``to_*`` function raises :class:`ValueError` on
bad input and returns the form the registry stores.
"""

from __future__ import annotations

import hashlib
import re

from eth_utils import to_checksum_address

from lendscope.core.base58 import B58, b58decode, b58encode  # noqa: F401 (re-exported)

KINDS = ("evm", "solana", "tron", "sui")
TRON_PREFIX = 0x41
_EVM = re.compile(r"0x[0-9a-fA-F]{40}")
_SUI = re.compile(r"0x[0-9a-fA-F]{64}")


def _check4(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def b58check_encode(payload: bytes) -> str:
    """Base58check: ``payload`` and the first 4 bytes of its double SHA-256."""
    return b58encode(payload + _check4(payload))


def b58check_decode(text: str) -> bytes:
    """The payload of a base58check string (:class:`ValueError` if the checksum fails)."""
    raw = b58decode(text)
    if len(raw) < 5 or _check4(raw[:-4]) != raw[-4:]:
        raise ValueError(f"{text!r} fails its base58check checksum")
    return raw[:-4]


def tron_to_hex(address: str) -> str:
    """The 20-byte account of a Tron ``T...`` address as lower-case ``0x`` + 40 hex."""
    if not isinstance(address, str) or len(address) != 34 or not address.startswith("T"):
        raise ValueError(f"not a Tron address (T + 33 base58 characters): {address!r}")
    raw = b58check_decode(address)
    if len(raw) != 21 or raw[0] != TRON_PREFIX:
        raise ValueError(f"not a Tron address (0x41 + 20 bytes): {address!r}")
    return "0x" + raw[1:].hex()


def hex_to_tron(address: str) -> str:
    """A Tron ``T...`` address from ``0x`` + 40 hex, or from Tron's own ``41`` + 40 hex."""
    h = address.lower().removeprefix("0x")
    if len(h) == 42 and h.startswith("41"):
        h = h[2:]
    if len(h) != 40 or any(c not in "0123456789abcdef" for c in h):
        raise ValueError(f"not a 20-byte hex account: {address!r}")
    return b58check_encode(bytes([TRON_PREFIX]) + bytes.fromhex(h))


def is_tron_address(address: str) -> bool:
    """Whether ``address`` is a valid base58check Tron ``T...`` address."""
    try:
        tron_to_hex(address)
    except ValueError:
        return False
    return True


def is_solana_pubkey(address: str) -> bool:
    """Whether ``address`` is base58 of exactly 32 bytes (a Solana public key)."""
    if not isinstance(address, str) or not 32 <= len(address) <= 44:
        return False
    try:
        return len(b58decode(address)) == 32
    except ValueError:
        return False


def is_sui_address(address: str) -> bool:
    """Whether ``address`` is ``0x`` + 64 hex (a Sui address or object id)."""
    return isinstance(address, str) and _SUI.fullmatch(address) is not None


def evm_lower(address: str) -> str:
    """Lower-case ``0x`` + 40 hex (a missing ``0x`` added); :class:`ValueError` otherwise."""
    a = address.lower()
    if not a.startswith("0x"):
        a = "0x" + a
    if len(a) != 42 or any(c not in "0123456789abcdef" for c in a[2:]):
        raise ValueError(f"not an address: {address!r}")
    return a


def to_evm(address: str) -> str:
    """EIP-55 form; a mixed-case address whose checksum fails is an error."""
    if not isinstance(address, str) or not _EVM.fullmatch(address):
        raise ValueError(f"not an address (0x + 40 hex): {address!r}")
    good = to_checksum_address(address.lower())
    digits = address[2:]
    if digits not in (digits.lower(), digits.upper()) and address != good:
        raise ValueError(f"{address} fails its EIP-55 checksum (a wrong address?)")
    return good


def to_tron(address: str) -> str:
    """A valid Tron ``T...`` address, unchanged."""
    tron_to_hex(address)
    return address


def to_solana(address: str) -> str:
    """A valid Solana public key, unchanged."""
    if not is_solana_pubkey(address):
        raise ValueError(f"not a Solana public key (base58 of 32 bytes): {address!r}")
    return address


def to_sui(address: str) -> str:
    """A Sui address in lower case."""
    if not is_sui_address(address):
        raise ValueError(f"not a Sui address (0x + 64 hex): {address!r}")
    return address.lower()


_STORED = {"evm": to_evm, "tron": to_tron, "solana": to_solana, "sui": to_sui}


def to_stored(kind: str, address: str) -> str:
    """``address`` checked for a chain of ``kind`` and in the form the registry stores."""
    if kind not in _STORED:
        raise ValueError(f"unknown chain kind {kind!r}; known: {', '.join(KINDS)}")
    return _STORED[kind](address)


def to_call(kind: str, stored: str) -> str:
    """The form readers key and call on: lower-case 0x hex for EVM and Tron, else as stored."""
    if kind == "evm":
        return stored.lower()
    if kind == "tron":
        return tron_to_hex(stored)
    return stored

"""Fixed-offset account layouts: little-endian integers, public keys and byte strings."""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from lendscope.chain.solana import b58encode

_INTS = {
    "u8": (1, False),
    "u16": (2, False),
    "u32": (4, False),
    "i32": (4, True),
    "u64": (8, False),
    "i64": (8, True),
    "u128": (16, False),
    "i128": (16, True),
}
I80F48_ONE = 2**48  # marginfi's I80F48 fixed point: a signed i128 with 48 fractional bits


class LayoutError(ValueError):
    """Account data that does not have the expected size or discriminator."""


@dataclass(frozen=True)
class Field:
    """One field: ``kind`` at byte ``offset`` from the account start.

    ``kind`` is an int kind (``u8`` ... ``i128``), ``pubkey``, ``pubkeys`` (``count`` keys in a
    row) or ``bytes`` (``count`` bytes).
    """

    name: str
    offset: int
    kind: str
    count: int = 1

    @property
    def size(self) -> int:
        """Bytes the field spans."""
        if self.kind in _INTS:
            return _INTS[self.kind][0]
        return 32 * self.count if self.kind in ("pubkey", "pubkeys") else self.count

    def read(self, data: bytes) -> Any:
        """The field's value in ``data``."""
        raw = data[self.offset : self.offset + self.size]
        if self.kind in _INTS:
            return int.from_bytes(raw, "little", signed=_INTS[self.kind][1])
        if self.kind == "pubkey":
            return b58encode(raw)
        if self.kind == "pubkeys":
            return tuple(b58encode(raw[i : i + 32]) for i in range(0, len(raw), 32))
        if self.kind == "bytes":
            return bytes(raw)
        raise LayoutError(f"unknown field kind {self.kind!r}")


def decode_fields(
    data: bytes, layout: tuple[Field, ...], *, size: int, discriminator: bytes = b"", what: str
) -> dict[str, Any]:
    """Every field of ``layout`` read from ``data`` after checking its size and discriminator."""
    if len(data) != size:
        raise LayoutError(f"{what}: {len(data)} bytes, expected {size}")
    if discriminator and data[: len(discriminator)] != discriminator:
        raise LayoutError(f"{what}: wrong discriminator {data[:8].hex()}")
    return {f.name: f.read(data) for f in layout}


def build(cls: type, data: bytes, layout: tuple[Field, ...], **kw: Any) -> Any:
    """``cls`` (a dataclass whose fields are ``layout``'s names) from account ``data``."""
    names = [f.name for f in fields(cls)]
    if names != [f.name for f in layout]:
        raise LayoutError(f"{cls.__name__} fields differ from its layout")
    return cls(**decode_fields(data, layout, **kw))


def i80f48(raw: int) -> Fraction:
    """The exact value of an I80F48 fixed-point number from its i128 bits."""
    return Fraction(raw, I80F48_ONE)


def text(raw: bytes) -> str:
    """A NUL-padded UTF-8 name (``''`` when empty)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")

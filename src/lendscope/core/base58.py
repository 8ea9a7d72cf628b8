"""Bitcoin-alphabet base58: Solana keys and hashes, Tron addresses (with a checksum on top)."""

from __future__ import annotations

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58)}


def b58encode(data: bytes) -> str:
    """Base58 of ``data`` (each leading zero byte is a ``1``)."""
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    """Bytes of a base58 string (:class:`ValueError` on a character outside the alphabet)."""
    n = 0
    for c in text:
        if c not in _B58_INDEX:
            raise ValueError(f"not base58: {text!r} (bad character {c!r})")
        n = n * 58 + _B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body

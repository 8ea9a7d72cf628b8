"""Minimal ABI plumbing for adapters: typed ``eth_call`` specs and a block-pinned reader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from lendscope.chain import Caller, RpcClient


def split_types(inner: str) -> list[str]:
    """Top-level comma split of an ABI type list (``"address,(uint8,bool)[]"``)."""
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    return [t for t in [*out, cur] if t]


def input_types(sig: str) -> list[str]:
    """Argument types of a signature such as ``"getReserveData(address)"``."""
    return split_types(sig[sig.index("(") + 1 : sig.rindex(")")])


@dataclass(frozen=True)
class Call:
    """One view call: target, signature, arguments and the return types to decode."""

    to: str
    sig: str
    args: tuple[Any, ...] = ()
    out: tuple[str, ...] = ("uint256",)
    label: str = field(default="", compare=False)

    @property
    def data(self) -> bytes:
        """Selector plus ABI-encoded arguments."""
        return function_signature_to_4byte_selector(self.sig) + encode(
            input_types(self.sig), list(self.args)
        )

    def decode(self, ret: bytes) -> tuple[Any, ...]:
        """Decode return data into a tuple of ``out`` values."""
        return tuple(decode(list(self.out), ret))

    def describe(self) -> str:
        """``Label.sig`` for provenance columns."""
        return f"{self.label or self.to}.{self.sig}"


class Reader:
    """Decoded view calls at a pinned block through a cached, batched :class:`Caller`."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    @property
    def client(self) -> RpcClient:
        """The underlying :class:`~lendscope.chain.RpcClient`."""
        return self.caller.client

    def read(self, block: int, calls: Sequence[Call]) -> list[tuple[Any, ...] | None]:
        """Decoded results per call (``None`` where a call reverted or returned garbage)."""
        raw = self.caller.call_many(block, [(c.to, c.data) for c in calls])
        out: list[tuple[Any, ...] | None] = []
        for c, r in zip(calls, raw, strict=True):
            try:
                out.append(None if r is None else c.decode(r))
            except Exception:  # short or empty return data: the contract lacks the function
                out.append(None)
        return out

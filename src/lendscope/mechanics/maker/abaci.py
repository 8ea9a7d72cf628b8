"""Maker/Sky auction price curves (``abaci.sol``); the float64 twin is in :mod:`.twin`.

Ported from ``makerdao/dss`` ``src/abaci.sol`` (commit fa4f663): ``LinearDecrease``,
``StairstepExponentialDecrease`` and ``ExponentialDecrease`` give the Clipper's price ``dur``
seconds after an auction starts at ``top`` [ray]; ``cut`` is a per-step multiplier [ray].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from lendscope.mechanics.intmath import RAY
from lendscope.mechanics.maker.math import MakerRevert, rmul, u256


def rpow_abaci(x: int, n: int, b: int = RAY) -> int:
    """``abaci.sol`` ``rpow``: as ``jug._rpow`` (half-up per step); reverts if ``x >= 2**128``."""
    if n == 0:
        return b
    if x == 0:
        return 0
    z = b if n % 2 == 0 else x
    half = b // 2
    n //= 2
    while n:
        if x >> 128:
            raise MakerRevert("rpow/overflow")
        x = u256(x * x + half) // b
        if n % 2:
            z = u256(u256(z * x) + half) // b
        n //= 2
    return z


class Abacus(Protocol):
    """``abaci.sol`` ``Abacus``: ``price(top, dur)`` [ray]."""

    def price(self, top: int, dur: int) -> int:
        """Auction price ``dur`` seconds after the start."""
        ...


@dataclass(frozen=True)
class LinearDecrease:
    """``LinearDecrease.price``: ``rmul(top, (tau - dur) * RAY / tau)``, 0 from ``tau`` on."""

    tau: int

    def price(self, top: int, dur: int) -> int:
        """Price at ``dur``."""
        if dur >= self.tau:
            return 0
        return rmul(top, u256((self.tau - dur) * RAY) // self.tau)


@dataclass(frozen=True)
class StairstepExponentialDecrease:
    """``StairstepExponentialDecrease.price``: ``rmul(top, rpow(cut, dur / step, RAY))``."""

    cut: int
    step: int

    def __post_init__(self) -> None:
        """``file("cut")`` requires ``cut <= RAY``."""
        if self.cut > RAY:
            raise MakerRevert("StairstepExponentialDecrease/cut-gt-RAY")

    def price(self, top: int, dur: int) -> int:
        """Price at ``dur``."""
        return rmul(top, rpow_abaci(self.cut, dur // self.step, RAY))


@dataclass(frozen=True)
class ExponentialDecrease:
    """``ExponentialDecrease.price``: ``rmul(top, rpow(cut, dur, RAY))``."""

    cut: int

    def __post_init__(self) -> None:
        """``file("cut")`` requires ``cut <= RAY``."""
        if self.cut > RAY:
            raise MakerRevert("ExponentialDecrease/cut-gt-RAY")

    def price(self, top: int, dur: int) -> int:
        """Price at ``dur``."""
        return rmul(top, rpow_abaci(self.cut, dur, RAY))

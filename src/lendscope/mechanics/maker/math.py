"""Maker/Sky dss integer math: units, checked uint256, ``wmul``/``rmul``/``rdiv`` and ``rpow``.

Ported from ``makerdao/dss`` ``src/vat.sol``, ``src/jug.sol`` (``_rpow``), ``src/spot.sol`` and
``src/clip.sol`` (checked at commit fa4f663). ``WAD`` and ``RAY`` are
:mod:`lendscope.mechanics.intmath`'s; ``RAD`` (1e45) and ``BLN`` (1e9) are dss' own. Unlike the
Aave helpers in :mod:`~lendscope.mechanics.intmath`, dss rounds products and quotients *down*, and
an out-of-range result raises :class:`MakerRevert` (``"overflow"``), as dss' checked helpers do.
"""

from __future__ import annotations

from lendscope.mechanics.errors import MechanicsRevert
from lendscope.mechanics.intmath import RAY, UINT256_MAX, WAD

RAD = 10**45  # wad * ray: dai balances and debt ceilings
BLN = 10**9  # wad price -> ray (spot.sol, clip.sol)


class MakerRevert(MechanicsRevert):
    """A dss ``require`` failed; ``args[0]`` is its message (e.g. ``"Vat/not-safe"``)."""


def u256(x: int) -> int:
    """A uint256 result; dss' checked add/sub/mul revert (:class:`MakerRevert`) outside it."""
    if not 0 <= x <= UINT256_MAX:
        raise MakerRevert("overflow")
    return x


def wmul(x: int, y: int) -> int:
    """``clip.sol`` ``wmul``: ``x * y / WAD`` (down)."""
    return u256(x * y) // WAD


def rmul(x: int, y: int) -> int:
    """``jug.sol`` ``_rmul`` / ``clip.sol`` ``rmul``: ``x * y / RAY`` (down)."""
    return u256(x * y) // RAY


def rdiv(x: int, y: int) -> int:
    """``spot.sol`` / ``clip.sol`` ``rdiv``: ``x * RAY / y`` (down)."""
    if y == 0:
        raise MakerRevert("division by zero")
    return u256(x * RAY) // y


def rpow(x: int, n: int, b: int = RAY) -> int:
    """``jug.sol`` ``_rpow``: ``x**n`` in base ``b``, squaring with half-up rounding per step.

    Each square ``x*x`` and each product ``z*x`` gets ``b/2`` added before the division by ``b``;
    any intermediate above 2**256 reverts, as in the assembly.
    """
    if x == 0:
        return b if n == 0 else 0
    z = b if n % 2 == 0 else x
    half = b // 2
    n //= 2
    while n:
        x = u256(u256(x * x) + half) // b
        if n % 2:
            z = u256(u256(z * x) + half) // b
        n //= 2
    return z

"""Solidity-style integer fixed point shared by the protocol ports: WAD, RAY, bps and mulDiv.

Everything here is exact ``int`` arithmetic on the contracts' scaled units (``WAD = 1e18``,
``RAY = 1e27``, ``PERCENTAGE_FACTOR = 1e4``) with the contracts' own rounding, and every result is
checked against ``[0, 2**256)``: Solidity reverts on overflow and on division by zero, and so do
these, with :class:`~lendscope.mechanics.errors.MathOverflow`. That is how it differs from
:mod:`lendscope.mechanics.offchain.decimal_math`, which the off-chain products (OTC loans, prime
brokerage, private credit, perps) use: :class:`decimal.Decimal` at 50 significant digits, with no
fixed scale, no uint range and rounding only where money changes hands.

Aave's rounding (half up) is ported from aave-v3-core ``contracts/protocol/libraries/math/
WadRayMath.sol`` and ``PercentageMath.sol`` (identical in aave-v3-origin 3.6
``src/contracts/protocol/libraries/math/``); ``mul_div_down``/``mul_div_up`` from Morpho Blue
``src/libraries/MathLib.sol``.
"""

from __future__ import annotations

from lendscope.mechanics.errors import MathOverflow

WAD = 10**18
HALF_WAD = WAD // 2
RAY = 10**27
HALF_RAY = RAY // 2
WAD_RAY_RATIO = 10**9
PERCENTAGE_FACTOR = 10**4  # 100.00%
HALF_PERCENTAGE_FACTOR = PERCENTAGE_FACTOR // 2
UINT256_MAX = 2**256 - 1


def u256(x: int) -> int:
    """A checked uint256 result: ``x``, or :class:`MathOverflow` outside ``[0, 2**256)``."""
    if x < 0 or x > UINT256_MAX:
        raise MathOverflow(x)
    return x


def wad_mul(a: int, b: int) -> int:
    """``WadRayMath.wadMul``: ``(a * b + HALF_WAD) / WAD``."""
    return u256(a * b + HALF_WAD) // WAD


def wad_div(a: int, b: int) -> int:
    """``WadRayMath.wadDiv``: ``(a * WAD + b / 2) / b``."""
    if b == 0:
        raise MathOverflow("division by zero")
    return u256(a * WAD + b // 2) // b


def ray_mul(a: int, b: int) -> int:
    """``WadRayMath.rayMul``: ``(a * b + HALF_RAY) / RAY``."""
    return u256(a * b + HALF_RAY) // RAY


def ray_div(a: int, b: int) -> int:
    """``WadRayMath.rayDiv``: ``(a * RAY + b / 2) / b``."""
    if b == 0:
        raise MathOverflow("division by zero")
    return u256(a * RAY + b // 2) // b


def ray_to_wad(a: int) -> int:
    """``WadRayMath.rayToWad``: rounds half up."""
    q, r = divmod(a, WAD_RAY_RATIO)
    return q + (1 if r >= WAD_RAY_RATIO // 2 else 0)


def wad_to_ray(a: int) -> int:
    """``WadRayMath.wadToRay``."""
    return u256(a * WAD_RAY_RATIO)


def percent_mul(value: int, percentage: int) -> int:
    """``PercentageMath.percentMul``: ``(value * percentage + HALF) / 1e4``."""
    return u256(value * percentage + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


def percent_div(value: int, percentage: int) -> int:
    """``PercentageMath.percentDiv``: ``(value * 1e4 + percentage / 2) / percentage``."""
    if percentage == 0:
        raise MathOverflow("division by zero")
    return u256(value * PERCENTAGE_FACTOR + percentage // 2) // percentage


def mul_div_down(x: int, y: int, d: int) -> int:
    """``x * y / d`` rounded down (Morpho ``MathLib.mulDivDown``)."""
    if d == 0:
        raise MathOverflow("division by zero")
    return u256(x * y) // d


def mul_div_up(x: int, y: int, d: int) -> int:
    """``(x * y + d - 1) / d`` (Morpho ``MathLib.mulDivUp``)."""
    if d == 0:
        raise MathOverflow("division by zero")
    return u256(x * y + d - 1) // d

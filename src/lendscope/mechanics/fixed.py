"""Fixed-point integer math shared by the protocol ports.

Aave's rounding (half up) is ported from aave-v3-core ``contracts/protocol/libraries/math/
WadRayMath.sol`` and ``PercentageMath.sol`` (identical in aave-v3-origin 3.6
``src/contracts/protocol/libraries/math/``). Solidity reverts on overflow; so do these.
"""

from __future__ import annotations

WAD = 10**18
HALF_WAD = WAD // 2
RAY = 10**27
HALF_RAY = RAY // 2
WAD_RAY_RATIO = 10**9
PERCENTAGE_FACTOR = 10**4  # 100.00%
HALF_PERCENTAGE_FACTOR = PERCENTAGE_FACTOR // 2
UINT256_MAX = 2**256 - 1


class MathOverflow(ArithmeticError):
    """The contract would revert: a result does not fit in uint256 or a divisor is zero."""


def _u(x: int) -> int:
    if x < 0 or x > UINT256_MAX:
        raise MathOverflow(x)
    return x


def wad_mul(a: int, b: int) -> int:
    """``WadRayMath.wadMul``: ``(a * b + HALF_WAD) / WAD``."""
    return _u(a * b + HALF_WAD) // WAD


def wad_div(a: int, b: int) -> int:
    """``WadRayMath.wadDiv``: ``(a * WAD + b / 2) / b``."""
    if b == 0:
        raise MathOverflow("division by zero")
    return _u(a * WAD + b // 2) // b


def ray_mul(a: int, b: int) -> int:
    """``WadRayMath.rayMul``: ``(a * b + HALF_RAY) / RAY``."""
    return _u(a * b + HALF_RAY) // RAY


def ray_div(a: int, b: int) -> int:
    """``WadRayMath.rayDiv``: ``(a * RAY + b / 2) / b``."""
    if b == 0:
        raise MathOverflow("division by zero")
    return _u(a * RAY + b // 2) // b


def ray_to_wad(a: int) -> int:
    """``WadRayMath.rayToWad``: rounds half up."""
    q, r = divmod(a, WAD_RAY_RATIO)
    return q + (1 if r >= WAD_RAY_RATIO // 2 else 0)


def wad_to_ray(a: int) -> int:
    """``WadRayMath.wadToRay``."""
    return _u(a * WAD_RAY_RATIO)


def percent_mul(value: int, percentage: int) -> int:
    """``PercentageMath.percentMul``: ``(value * percentage + HALF) / 1e4``."""
    return _u(value * percentage + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


def percent_div(value: int, percentage: int) -> int:
    """``PercentageMath.percentDiv``: ``(value * 1e4 + percentage / 2) / percentage``."""
    if percentage == 0:
        raise MathOverflow("division by zero")
    return _u(value * PERCENTAGE_FACTOR + percentage // 2) // percentage


def mul_div_down(x: int, y: int, d: int) -> int:
    """``x * y / d`` rounded down (Morpho ``MathLib.mulDivDown``)."""
    if d == 0:
        raise MathOverflow("division by zero")
    return _u(x * y) // d


def mul_div_up(x: int, y: int, d: int) -> int:
    """``(x * y + d - 1) / d`` (Morpho ``MathLib.mulDivUp``)."""
    if d == 0:
        raise MathOverflow("division by zero")
    return _u(x * y + d - 1) // d

"""Morpho Blue integer math: constants, ``MathLib``, ``SharesMathLib`` and ``UtilsLib``.

Ported from ``morpho-org/morpho-blue`` v1.0.0 (npm ``@morpho-org/morpho-blue`` 1.0.0), ``src/``:
``libraries/MathLib.sol``, ``SharesMathLib.sol``, ``ConstantsLib.sol``, ``UtilsLib.sol``, plus
Solidity's checked arithmetic and the liquidation incentive factor of ``Morpho.liquidate``.
Reverts raise :class:`MorphoRevert`.
"""

from __future__ import annotations

from lendscope.mechanics.errors import MechanicsRevert
from lendscope.mechanics.intmath import UINT256_MAX, WAD, mul_div_down, mul_div_up

VIRTUAL_SHARES = 10**6  # SharesMathLib.VIRTUAL_SHARES
VIRTUAL_ASSETS = 1  # SharesMathLib.VIRTUAL_ASSETS
ORACLE_PRICE_SCALE = 10**36  # ConstantsLib.ORACLE_PRICE_SCALE
LIQUIDATION_CURSOR = 3 * 10**17  # ConstantsLib.LIQUIDATION_CURSOR
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16  # ConstantsLib
MAX_FEE = 25 * 10**16  # ConstantsLib.MAX_FEE
UINT128_MAX = 2**128 - 1
ZERO_ADDRESS = "0x" + "00" * 20
PANIC = "arithmetic underflow or overflow"  # Panic(0x11), as nodes decode it
PANIC_DIV = "division or modulo by zero"  # Panic(0x12)


class MorphoRevert(MechanicsRevert):
    """The contract would revert; ``reason`` is the ``ErrorsLib`` string or :data:`PANIC`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- MathLib / SharesMathLib / Utils


def w_mul_down(x: int, y: int) -> int:
    """``MathLib.wMulDown`` (v1.0.0)."""
    return mul_div_down(x, y, WAD)


def w_div_down(x: int, y: int) -> int:
    """``MathLib.wDivDown`` (v1.0.0)."""
    return mul_div_down(x, WAD, y)


def w_div_up(x: int, y: int) -> int:
    """``MathLib.wDivUp`` (v1.0.0)."""
    return mul_div_up(x, WAD, y)


def w_taylor_compounded(x: int, n: int) -> int:
    """``MathLib.wTaylorCompounded`` (v1.0.0): ``e^(x n) - 1`` to third order, in wad."""
    first = u256(x * n)
    second = mul_div_down(first, first, 2 * WAD)
    third = mul_div_down(second, first, 3 * WAD)
    return u256(first + second + third)


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toSharesDown`` (v1.0.0), virtual shares 1e6 and virtual assets 1."""
    return mul_div_down(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toSharesUp`` (v1.0.0)."""
    return mul_div_up(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toAssetsDown`` (v1.0.0)."""
    return mul_div_down(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """``SharesMathLib.toAssetsUp`` (v1.0.0)."""
    return mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def u256(x: int) -> int:
    """Checked uint256 result."""
    if not 0 <= x <= UINT256_MAX:
        raise MorphoRevert(PANIC)
    return x


def to_uint128(x: int) -> int:
    """``UtilsLib.toUint128`` (v1.0.0)."""
    if x > UINT128_MAX:
        raise MorphoRevert("max uint128 exceeded")
    return x


def add128(a: int, b: int) -> int:
    """Checked ``uint128 += toUint128(b)``."""
    s = a + to_uint128(b)
    if s > UINT128_MAX:
        raise MorphoRevert(PANIC)
    return s


def checked_sub(a: int, b: int) -> int:
    """Checked subtraction (Solidity >=0.8 panics on underflow)."""
    if b > a:
        raise MorphoRevert(PANIC)
    return a - b


def zero_floor_sub(x: int, y: int) -> int:
    """``UtilsLib.zeroFloorSub`` (v1.0.0)."""
    return x - y if x > y else 0


def exactly_one_zero(x: int, y: int) -> None:
    """``UtilsLib.exactlyOneZero`` (v1.0.0) as a require."""
    if (x == 0) == (y == 0):
        raise MorphoRevert("inconsistent input")


def liquidation_incentive_factor(lltv: int) -> int:
    """LIF in ``Morpho.liquidate`` (v1.0.0): ``min(1.15, 1 / (1 - 0.3 (1 - lltv)))`` in wad."""
    return min(
        MAX_LIQUIDATION_INCENTIVE_FACTOR,
        w_div_down(WAD, WAD - w_mul_down(LIQUIDATION_CURSOR, WAD - lltv)),
    )

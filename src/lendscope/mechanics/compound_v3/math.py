"""Compound v3 (Comet) integer math: constants, safe casts, scaled values and the kinked rate.

Ported from ``compound-finance/comet`` ``contracts/CometMath.sol``, ``CometCore.sol`` and
``Comet.sol`` (checked at commit d5a30b0). Balances are signed principals (``int104``) scaled by
``uint64`` supply/borrow indices with ``BASE_INDEX_SCALE = 1e15``; factors use
``FACTOR_SCALE = 1e18``; prices have 8 decimals. Solidity integer division truncates toward zero,
also for signed values (``signedMulPrice``), which :func:`sdiv` reproduces. The market itself is
:class:`lendscope.mechanics.compound_v3.comet.Comet`.
"""

from __future__ import annotations

from lendscope.mechanics.errors import MechanicsRevert

SECONDS_PER_YEAR = 31_536_000
BASE_INDEX_SCALE = 10**15
FACTOR_SCALE = 10**18
PRICE_SCALE = 10**8
FACTOR_DESCALE = FACTOR_SCALE // 10**4  # asset factors keep 4 decimals (getPackedAssetInternal)
MAX_ASSETS = 12  # Comet.sol has 12 immutable asset slots (getAssetInfo reverts `Absurd` beyond)
UINT64_MAX = 2**64 - 1
UINT104_MAX = 2**104 - 1
UINT128_MAX = 2**128 - 1
INT104_MAX = 2**103 - 1
INT256_MAX = 2**255 - 1


class CometRevert(MechanicsRevert):
    """The contract would revert; ``args[0]`` is the custom error name (``NotLiquidatable``...)."""


def sdiv(a: int, b: int) -> int:
    """Solidity signed division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def safe64(n: int) -> int:
    """``CometMath.safe64``."""
    if not 0 <= n <= UINT64_MAX:
        raise CometRevert("InvalidUInt64")
    return n


def safe104(n: int) -> int:
    """``CometMath.safe104``."""
    if not 0 <= n <= UINT104_MAX:
        raise CometRevert("InvalidUInt104")
    return n


def signed104(n: int) -> int:
    """``CometMath.signed104``."""
    if n > INT104_MAX:
        raise CometRevert("InvalidInt104")
    return n


def mul_factor(n: int, factor: int) -> int:
    """``Comet.mulFactor``: ``n * factor / FACTOR_SCALE``."""
    return n * factor // FACTOR_SCALE


def mul_price(n: int, price: int, from_scale: int) -> int:
    """``Comet.mulPrice``: ``n * price / fromScale``."""
    return n * price // from_scale


def signed_mul_price(n: int, price: int, from_scale: int) -> int:
    """``Comet.signedMulPrice``: signed, truncating toward zero."""
    return sdiv(n * price, from_scale)


def div_price(n: int, price: int, to_scale: int) -> int:
    """``Comet.divPrice``: ``n * toScale / price``."""
    return n * to_scale // price


def present_value_supply(index: int, principal: int) -> int:
    """``CometCore.presentValueSupply``: ``principal * index / 1e15`` (down)."""
    return principal * index // BASE_INDEX_SCALE


def present_value_borrow(index: int, principal: int) -> int:
    """``CometCore.presentValueBorrow``: ``principal * index / 1e15`` (down)."""
    return principal * index // BASE_INDEX_SCALE


def principal_value_supply(index: int, present: int) -> int:
    """``CometCore.principalValueSupply``: rounded down."""
    return safe104(present * BASE_INDEX_SCALE // index)


def principal_value_borrow(index: int, present: int) -> int:
    """``CometCore.principalValueBorrow``: rounded up."""
    return safe104((present * BASE_INDEX_SCALE + index - 1) // index)


def kinked_rate(u: int, kink: int, base: int, low: int, high: int) -> int:
    """Shared body of ``Comet.getSupplyRate``/``getBorrowRate`` (per-second)."""
    if u <= kink:
        return safe64(base + mul_factor(low, u))
    return safe64(base + mul_factor(low, kink) + mul_factor(high, u - kink))


def repay_and_supply_amount(old: int, new: int) -> tuple[int, int]:
    """``Comet.repayAndSupplyAmount``."""
    if new < old:
        return 0, 0
    if new <= 0:
        return new - old, 0
    if old >= 0:
        return 0, new - old
    return -old, new


def withdraw_and_borrow_amount(old: int, new: int) -> tuple[int, int]:
    """``Comet.withdrawAndBorrowAmount``."""
    if new > old:
        return 0, 0
    if new >= 0:
        return old - new, 0
    if old <= 0:
        return 0, old - new
    return old, -new

"""Compound v3 (Comet) borrower positions at a block, plus helpers shared by position readers.

Sources: ``compound-finance/comet`` at d5a30b0 (the registry's citation). Borrowers come from
``Withdraw(address indexed src, address indexed to, uint256 amount)`` logs
(``contracts/CometMainInterface.sol`` l.39, emitted by ``Comet.withdrawBase``,
``contracts/Comet.sol`` l.1125), the only way a base borrow is drawn out; a borrow created by
``transferBase`` to another account (l.993-1029) emits no ``Withdraw`` and is missed unless its
owner is passed in ``owners``. State read per account at the block:

* ``borrowBalanceOf(account)`` (``Comet.sol`` l.1358): principal x borrow index accrued to the
  block, the debt ``absorb`` tests after its ``accrueInternal``;
* ``collateralBalanceOf(account, asset)`` (``contracts/CometExt.sol`` l.113) for every asset of
  ``getAssetInfo(i)``, i < ``numAssets`` (``Comet.sol`` l.98, l.309);
* prices ``getPrice(priceFeed)`` / ``getPrice(baseTokenPriceFeed())`` (``Comet.sol`` l.493,
  8 decimals); cWETHv3 quotes in ETH (registry ``price_quote``), turned into USD with the
  registry's Chainlink ``eth_usd_feed`` ``latestAnswer()``.

Health is the margin of ``Comet.isLiquidatable`` (l.566-600) with Comet's own integer math
(:mod:`lendscope.mechanics.compound_v3.math`): Σ mulFactor(mulPrice(balance, price, scale),
liquidateCollateralFactor) / mulPrice(borrow, basePrice, baseScale); below 1 = absorbable. The
``isLiquidatable`` view uses the stored borrow index, not the accrued one, so right at the
boundary it can lag the accrued verdict by the interest since the last accrual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from eth_utils import keccak

from lendscope.chain import get_logs
from lendscope.mechanics.compound_v3.math import FACTOR_SCALE, PRICE_SCALE, mul_factor, mul_price
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import symbol_of
from lendscope.onchain.registry import Deployment
from lendscope.onchain.rows import Item, partition

COMET_WITHDRAW = "0x" + keccak(text="Withdraw(address,address,uint256)").hex()
#: ``CometCore.AssetInfo`` (``contracts/CometCore.sol`` l.9-18) as ``getAssetInfo`` returns it.
ASSET_INFO = "(uint8,address,address,uint64,uint64,uint64,uint64,uint128)"


class PositionReadError(RuntimeError):
    """A view call a position reader needs failed; the message names deployment, call, block."""


def _arg(a: Any) -> str:
    return "0x" + a.hex() if isinstance(a, bytes) else str(a)


def read_all(reader: Reader, dep: Deployment, block: int, calls: Sequence[Call]) -> list[tuple]:
    """Decoded results of calls that must all succeed, else :class:`PositionReadError`."""
    res = reader.read(block, calls)
    for c, r in zip(calls, res, strict=True):
        if r is None:
            args = ", ".join(_arg(a) for a in c.args)
            raise PositionReadError(
                f"{dep.id}: {c.describe()} failed at block {block} (to {c.to}, args [{args}])"
            )
    return res  # type: ignore[return-value]


def discover(reader: Reader, dep: Deployment, address: str, topic: str, block: int) -> list[str]:
    """Addresses in topic 1 of ``topic`` logs of ``address`` from ``start_block`` to ``block``."""
    start = int(dep.config.get("start_block", 0))
    chunk = int(dep.config.get("log_chunk", 0) or 0) or None
    logs = get_logs(reader.client, address, [topic], start, block, initial_range=chunk)
    return sorted({"0x" + lg["topics"][1][-40:].lower() for lg in logs})


def frac_float(raw: int, unit: int) -> float:
    """``raw / unit`` rounded once, from the exact quotient."""
    return float(Fraction(raw, unit))


# --------------------------------------------------------------------------- Compound v3
@dataclass(frozen=True)
class CometCollateral:
    """One collateral of a Comet account, raw as read (``getAssetInfo`` fields, 1e18 factors)."""

    asset: str
    symbol: str
    scale: int
    balance: int
    price: int  # getPrice(priceFeed), 8 decimals in the comet's quote
    liquidate_cf: int
    liquidation_factor: int


@dataclass(frozen=True)
class CometAccount:
    """A Comet borrower's exact state at the block."""

    comet: str
    owner: str
    base_symbol: str
    base_scale: int
    borrow: int  # borrowBalanceOf
    base_price: int
    usd: Fraction  # USD per price unit (1e-8, x ETH/USD for an ETH-quoted comet)
    collateral: tuple[CometCollateral, ...]

    @property
    def account(self) -> str:
        """The key rows and health share."""
        return f"{self.comet}:{self.owner}"


def comet_margin(a: CometAccount) -> tuple[int, int]:
    """``(collateral, debt)`` sides of ``isLiquidatable``'s liquidity, 8-decimal quote units.

    ``signedMulPrice(presentValue(principal), basePrice, baseScale)`` of a debt is
    ``-mulPrice(borrow, ...)`` (truncation toward zero); each collateral adds
    ``mulFactor(mulPrice(balance, price, scale), liquidateCollateralFactor)``.
    """
    debt = mul_price(a.borrow, a.base_price, a.base_scale)
    coll = sum(
        mul_factor(mul_price(c.balance, c.price, c.scale), c.liquidate_cf)
        for c in a.collateral
        if c.balance
    )
    return coll, debt


def comet_health(a: CometAccount) -> Fraction | None:
    """Exact health (collateral side / debt side); ``None`` when the debt side rounds to 0."""
    coll, debt = comet_margin(a)
    return Fraction(coll, debt) if debt else None


def comet_liquidatable(a: CometAccount) -> bool:
    """``Comet.isLiquidatable`` at the accrued index: liquidity = collateral - debt < 0."""
    coll, debt = comet_margin(a)
    return a.borrow > 0 and coll < debt


def _usd_unit(reader: Reader, dep: Deployment, key: str, block: int) -> Fraction:
    quote = dep.config.get("price_quote", {}).get(key, "USD")
    if quote == "USD":
        return Fraction(1, PRICE_SCALE)
    if quote != "ETH":
        raise PositionReadError(f"{dep.id}: {dep.label(key)} quotes in {quote}: no USD conversion")
    feed = dep.addresses.get("eth_usd_feed")
    if feed is None:
        raise PositionReadError(f"{dep.id}: {dep.label(key)} quotes in ETH but no eth_usd_feed")
    call = Call(feed.address, "latestAnswer()", out=("int256",), label=feed.label)
    (ans,) = read_all(reader, dep, block, [call])
    return Fraction(int(ans[0]), PRICE_SCALE * PRICE_SCALE)


def _comet(
    reader: Reader, dep: Deployment, key: str, block: int, owners: list[str] | None
) -> list[CometAccount]:
    c, lab = dep.addr(key), dep.label(key)
    base, bfeed, n, dec = (
        x[0]
        for x in read_all(reader, dep, block, [
            Call(c, "baseToken()", out=("address",), label=lab),
            Call(c, "baseTokenPriceFeed()", out=("address",), label=lab),
            Call(c, "numAssets()", out=("uint8",), label=lab),
            Call(c, "decimals()", out=("uint8",), label=lab),
        ])
    )  # fmt: skip
    infos = [
        r[0]
        for r in read_all(
            reader,
            dep,
            block,
            [Call(c, "getAssetInfo(uint8)", (i,), (ASSET_INFO,), lab) for i in range(int(n))],
        )
    ]
    feeds = [bfeed] + [i[2] for i in infos]
    prices = read_all(
        reader, dep, block, [Call(c, "getPrice(address)", (f,), label=lab) for f in feeds]
    )
    syms = reader.read(
        block, [Call(t, "symbol()", out=("string",)) for t in [base] + [i[1] for i in infos]]
    )
    usd = _usd_unit(reader, dep, key, block)
    users = (
        sorted({o.lower() for o in owners})
        if owners is not None
        else discover(reader, dep, c, COMET_WITHDRAW, block)
    )  # fmt: skip
    calls = []
    for u in users:
        calls.append(Call(c, "borrowBalanceOf(address)", (u,), label=lab))
        calls += [
            Call(c, "collateralBalanceOf(address,address)", (u, i[1]), ("uint128",), lab)
            for i in infos
        ]
    res = read_all(reader, dep, block, calls)
    k = 1 + len(infos)
    out = []
    for j, u in enumerate(users):
        borrow = int(res[k * j][0])
        if not borrow:
            continue
        coll = tuple(
            CometCollateral(
                i[1].lower(), symbol_of(syms[1 + m]), int(i[3]), int(res[k * j + 1 + m][0]),
                int(prices[1 + m][0]), int(i[5]), int(i[6]),
            )
            for m, i in enumerate(infos)
        )  # fmt: skip
        out.append(
            CometAccount(
                c, u, symbol_of(syms[0]), 10 ** int(dec), borrow, int(prices[0][0]), usd, coll
            )
        )
    return out


def comet_accounts(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[CometAccount]:
    """Borrowers (debt > 0) of every ``comet_*`` market of ``dep`` at ``block``, exact state."""
    keys = sorted(k for k in dep.addresses if k.startswith("comet"))
    return [a for k in keys for a in _comet(reader, dep, k, block, owners)]


def comet_rows(dep: Deployment, accounts: list[CometAccount]) -> list[dict]:
    """Position rows (``POSITION_COLUMNS``): LT = liquidateCF, bonus = 1/liquidationFactor - 1."""
    rows = []
    for a in accounts:
        debt: list[Item] = [
            (a.base_symbol, frac_float(a.borrow, a.base_scale), float(a.base_price * a.usd),
             None, None)
        ]  # fmt: skip
        coll: list[Item] = [
            (
                c.symbol,
                frac_float(c.balance, c.scale),
                float(c.price * a.usd),
                frac_float(c.liquidate_cf, FACTOR_SCALE),
                float(Fraction(FACTOR_SCALE, c.liquidation_factor) - 1)
                if c.liquidation_factor
                else None,
            )
            for c in a.collateral
            if c.balance
        ]
        base = {"platform": dep.platform, "protocol": "compound_v3"}
        rows += partition(base, a.account, a.owner, coll, debt)
    return rows


def comet_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[dict]:
    """Compound v3 position rows at ``block`` (``owners``: only those accounts, no log scan)."""
    return comet_rows(dep, comet_accounts(reader, dep, block, owners))


def comet_check(
    reader: Reader, dep: Deployment, block: int, accounts: list[CometAccount]
) -> list[str]:
    """Accounts whose exact verdict differs from the chain's ``Comet.isLiquidatable(account)``."""
    calls = [Call(a.comet, "isLiquidatable(address)", (a.owner,), ("bool",)) for a in accounts]
    res = read_all(reader, dep, block, calls)
    return [
        a.account for a, r in zip(accounts, res, strict=True) if bool(r[0]) != comet_liquidatable(a)
    ]


READERS = {"compound_v3": comet_positions}

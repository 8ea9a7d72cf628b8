"""Compound v2 family (cTokens and a Comptroller): Compound v2, Venus, Benqi, Moonwell, JustLend.

Markets are ``Comptroller.getAllMarkets()``; debt per cToken is ``totalBorrows()`` accrued to
the block exactly as ``CToken.accrueInterest()`` would (compound-finance/compound-protocol@a3214f6
contracts/CToken.sol lines 327-361: ``simpleInterestFactor = borrowRate * blockDelta``,
``interestAccumulated = mul_ScalarTruncate(simpleInterestFactor, totalBorrows)``, i.e.
``rate * delta * totalBorrows // 1e18``, added to ``totalBorrows``), so untouched markets are
not understated. ``borrowRatePerBlock()`` (line 207) is the view of the same
``interestRateModel.getBorrowRate(cash, totalBorrows, totalReserves)`` that ``accrueInterest``
uses, on the same state. Forks that accrue by time (Benqi ``QiToken``, Moonwell ``MToken``:
``borrowRatePerTimestamp()``, ``accrualBlockTimestamp()``) set ``accrual = "timestamp"``; the
block's timestamp comes from the reader's pinned block.

Price: the Comptroller's ``oracle()`` at the block, ``getUnderlyingPrice(cToken)``, which every
fork scales so that ``price x amount`` is in one quote unit across markets: USD x 1e36 per
smallest unit (``1e(36 - underlying decimals)`` per whole token). Oracles that quote another
unit (JustLend's prices in sun) name ``price_numeraire``, a cToken whose underlying is valued at
its $1 peg: a token's USD price is its oracle price over the numeraire's.

Config: ``accrual`` ("block" default, or "timestamp"); ``native_ctoken`` (cETH, vBNB, qiAVAX,
jTRX: no ``underlying()``; a list, or one address) with ``native_symbol`` and
``native_decimals`` (18); without ``native_ctoken`` a market whose ``underlying()`` fails is
taken as native. ``price_numeraire``; ``exclude_markets`` (cToken -> reason). Registry address:
``comptroller`` (the Unitroller proxy). Tron deployments show ``T...`` addresses in rows.
Three rounds of batched calls: markets and oracle; per market debt, rate, accrual point,
underlying and price; per underlying decimals and symbol (one more level than a reserve list).
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.addresses import hex_to_tron, tron_to_hex
from lendscope.onchain.protocols import MarketRow, Snapshot, symbol_of
from lendscope.onchain.registry import Deployment

VERSION = "1"
WAD = 10**18
#: Oracle scale: USD x 1e36 per smallest unit of the underlying (Compound PriceOracle.sol).
PRICE_SCALE = 36
NATIVE_ASSET = "0x0000000000000000000000000000000000000000"
#: (accrual point, borrow rate per unit) getters by ``accrual`` mode.
ACCRUAL = {
    "block": ("accrualBlockNumber()", "borrowRatePerBlock()"),
    "timestamp": ("accrualBlockTimestamp()", "borrowRatePerTimestamp()"),
}
PER_MARKET = 5  # totalBorrows, rate, accrual point, underlying, price


class SymbolCall(Call):
    """``symbol()`` decoded as a string, or as bytes32 for MKR-style tokens."""

    def decode(self, ret: bytes) -> tuple[Any, ...]:
        """String first; a 32-byte answer that is not one is read as bytes32."""
        try:
            return tuple(decode(["string"], ret))
        except Exception:
            if len(ret) == 32:
                return (ret,)
            raise


def accrue(total_borrows: int, rate: int, accrued_at: int, now: int) -> int:
    """``totalBorrows`` after ``CToken.accrueInterest()`` at ``now`` (block or second).

    Simple interest since the last accrual, truncated as ``mul_ScalarTruncate`` does. A state
    read after ``now`` (Tron serves the head only) has ``accrued_at > now``: nothing to add.
    """
    delta = now - accrued_at
    if delta <= 0:
        return total_borrows
    return total_borrows + rate * delta * total_borrows // WAD


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every market's accrued total borrows and oracle price at ``block``."""
    tron = dep.chain_kind == "tron"

    def call_form(a: str) -> str:  # config addresses as readers call them
        return tron_to_hex(a) if tron and a.startswith("T") else a.lower()

    def show(a: str) -> str:  # addresses as users of the chain write them
        return hex_to_tron(a) if tron else a.lower()

    mode = dep.config.get("accrual", "block")
    if mode not in ACCRUAL:
        raise ValueError(f"{dep.id}: accrual must be block or timestamp, not {mode!r}")
    point_sig, rate_sig = ACCRUAL[mode]
    comp, cl = dep.addr("comptroller"), dep.label("comptroller")
    natives = {call_form(a) for a in _as_list(dep.config.get("native_ctoken"))}
    exclude = {call_form(k): v for k, v in dep.config.get("exclude_markets", {}).items()}
    numeraire = dep.config.get("price_numeraire")
    num = call_form(numeraire) if numeraire else None

    r1 = reader.read(block, [
        Call(comp, "getAllMarkets()", out=("address[]",), label=cl),
        Call(comp, "oracle()", out=("address",), label=cl),
    ])  # fmt: skip
    if r1[0] is None or r1[1] is None:
        raise RuntimeError(f"{dep.id}: {cl}.getAllMarkets()/oracle() failed at block {block}")
    markets = [m.lower() for m in r1[0][0]]
    oracle = r1[1][0].lower()
    if num and num not in markets:
        raise RuntimeError(f"{dep.id}: price_numeraire {numeraire} is not a listed market")

    second = []
    for m in markets:
        second += [
            Call(m, "totalBorrows()"),
            Call(m, rate_sig),
            Call(m, point_sig),
            Call(m, "underlying()", out=("address",)),
            Call(oracle, "getUnderlyingPrice(address)", (m,), label="oracle"),
        ]
    r2 = reader.read(block, second)
    now = block if mode == "block" else reader.caller.pin(block).timestamp

    under: dict[str, str | None] = {}
    for i, m in enumerate(markets):
        got = r2[PER_MARKET * i + 3]
        if m in natives or (got is None and not natives):
            under[m] = None  # native
        else:
            under[m] = got[0].lower() if got else ""
    tokens = sorted({u for u in under.values() if u})
    third = [(Call(u, "decimals()", out=("uint8",)), SymbolCall(u, "symbol()")) for u in tokens]
    r3 = reader.read(block, [c for pair in third for c in pair])
    meta = {u: (r3[2 * j], r3[2 * j + 1]) for j, u in enumerate(tokens)}
    native_sym = str(dep.config.get("native_symbol", "ETH"))
    native_dec = int(dep.config.get("native_decimals", 18))

    def decimals_of(m: str) -> int | None:
        u = under[m]
        if u is None:
            return native_dec
        dec = meta.get(u, (None, None))[0] if u else None
        return int(dec[0]) if dec else None

    prices = {m: (int(r2[PER_MARKET * i + 4][0]) if r2[PER_MARKET * i + 4] else None)
              for i, m in enumerate(markets)}  # fmt: skip
    num_unit = None
    if num:
        pn, dn = prices[num], decimals_of(num)
        num_unit = pn * 10**dn if pn and dn is not None else None
    price_src = f"{cl}.oracle().getUnderlyingPrice(cToken)" + (
        f" / its price of the numeraire market {numeraire} (at $1)" if num else " (USD x 1e36)"
    )
    rows = []
    for i, m in enumerate(markets):
        borrows, rate, point, _, _ = r2[PER_MARKET * i : PER_MARKET * i + PER_MARKET]
        if borrows is None or rate is None or point is None:
            raise RuntimeError(f"{dep.id}: totalBorrows/{rate_sig}/{point_sig} of {show(m)} "
                               f"failed at block {block}")  # fmt: skip
        debt = accrue(int(borrows[0]), int(rate[0]), int(point[0]), now)
        u, dec = under[m], decimals_of(m)
        note = exclude.get(m, "")
        if u == "":
            note = note or "underlying() failed on a market not listed as native_ctoken"
        if u and dec is None:
            note = note or "underlying decimals() failed"
        price, unit = prices[m], 1
        if price is not None and dec is not None:
            if num:
                price, unit = (price * 10**dec, num_unit) if num_unit else (None, 1)
            elif dec <= PRICE_SCALE:
                unit = 10 ** (PRICE_SCALE - dec)
        if not price:
            price = None
        sym = native_sym if u is None else symbol_of(meta.get(u, (None, None))[1] if u else None)
        rows.append(
            MarketRow(
                market=show(m),
                asset=show(u or NATIVE_ASSET),
                symbol=sym,
                decimals=dec if dec is not None else 0,
                debt_raw=debt,
                price_raw=price,
                price_unit=unit,
                contract=show(m),
                call=f"cToken.totalBorrows() + totalBorrows x {rate_sig} x (now - {point_sig})"
                " / 1e18 (CToken.accrueInterest)",
                price_source=price_src,
                counted=not note and dec is not None,
                note=note,
            )
        )
    return Snapshot(
        dep, block, VERSION, show(comp),
        f"sum over {cl}.getAllMarkets() of totalBorrows accrued to the {mode} x oracle price",
        price_src, rows,
    )  # fmt: skip

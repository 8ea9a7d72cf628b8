"""Fluid: every token's total borrow at the Liquidity layer, read from its storage slots.

All Fluid borrowing (vaults, smart-debt DEXes) is borrowed from the Liquidity contract, whose
state is internal: the proxy exposes ``readFromStorage(bytes32)`` (Instadapp/fluid-contracts-public
contracts/infiniteProxy/interfaces/iProxy.sol). Slots and bit layout are
contracts/libraries/liquiditySlotsLink.sol: the listed tokens array at slot 10, per token
``exchangePricesAndConfig`` (mapping slot 5) and ``totalAmounts`` (mapping slot 7), a mapping
entry at ``keccak256(abi.encode(token, slot))``. ``totalBorrow`` is computed as the
LiquidityResolver does (contracts/periphery/resolvers/liquidity/main.sol ``getOverallTokenData``):
``borrowRawInterest x borrowExchangePrice / 1e12 + borrowInterestFree``, the amounts BigMath
packed (mantissa << exponent, 8-bit exponent), the exchange price brought to the block's
timestamp by ``LiquidityCalcs.calcExchangePrices`` (contracts/libraries/liquidityCalcs.sol:
``price += price x borrowRate x seconds / (365 days x 1e4)``).

Price: the registry's USD ``price_oracle`` (AaveOracle-style ``getAssetPrice``); the native
token (``0xEeee…EEeE``) is priced as the wrapped token named in config ``native.price_as``, with
``native.decimals``/``native.symbol``. Config ``list_slots`` (default 128): listed-token slots
read speculatively with the array length, so a snapshot is two rounds of calls (plus the block's
timestamp, which ``sync`` has already pinned); more tokens than that cost one more round.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import MarketRow, Snapshot, symbol_of
from lendscope.onchain.registry import Deployment

VERSION = "1"
NATIVE = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
LISTED_TOKENS_SLOT = 10
EXCHANGE_PRICES_SLOT = 5
TOTAL_AMOUNTS_SLOT = 7
EXCHANGE_PRICES_PRECISION = 10**12
SECONDS_PER_YEAR = 365 * 86400
FOUR_DECIMALS = 10**4
X15, X16, X33, X64 = (1 << 15) - 1, (1 << 16) - 1, (1 << 33) - 1, (1 << 64) - 1
READ = "readFromStorage(bytes32)"


def mapping_slot(slot: int, key: str) -> bytes:
    """``keccak256(abi.encode(key, slot))`` (LiquiditySlotsLink.calculateMappingStorageSlot)."""
    return keccak(encode(["address", "uint256"], [key, slot]))


def array_slot(slot: int, i: int) -> bytes:
    """Element ``i`` of the dynamic array at ``slot``: ``keccak256(slot) + i``."""
    base = int.from_bytes(keccak(encode(["uint256"], [slot])), "big")
    return (base + i).to_bytes(32, "big")


def big_math(packed: int) -> int:
    """BigMath ``(mantissa >> 8) << exponent`` with the low 8 bits the exponent."""
    return (packed >> 8) << (packed & 0xFF)


def total_borrow(exchange_prices: int, total_amounts: int, timestamp: int) -> int:
    """Token units borrowed at ``timestamp`` from the two packed storage words."""
    if exchange_prices == 0:
        return 0
    price = (exchange_prices >> 155) & X64
    rate = exchange_prices & X16
    last = (exchange_prices >> 58) & X33
    borrow_ratio = (exchange_prices >> 234) & X15
    elapsed = max(timestamp - last, 0)
    if elapsed and rate and borrow_ratio != 1:
        price += price * rate * elapsed // (SECONDS_PER_YEAR * FOUR_DECIMALS)
    raw = big_math((total_amounts >> 128) & X64)
    free = big_math(total_amounts >> 192)
    return raw * price // EXCHANGE_PRICES_PRECISION + free


def listed_tokens(reader: Reader, dep: Deployment, block: int, first: list) -> list[str]:
    """Token addresses from the speculative first-round reads (one more round if needed)."""
    liq = dep.addr("liquidity")
    if first[0] is None:
        raise RuntimeError(f"{dep.id}: Liquidity.readFromStorage failed at block {block}")
    n = int(first[0][0])
    words = [int(x[0]) if x else None for x in first[1:]]
    if n > len(words):
        more = [Call(liq, READ, (array_slot(LISTED_TOKENS_SLOT, i),)) for i in range(len(words), n)]
        words += [int(x[0]) if x else None for x in reader.read(block, more)]
    if any(w is None for w in words[:n]):
        raise RuntimeError(f"{dep.id}: listed token slots failed at block {block}")
    return ["0x" + format(w & ((1 << 160) - 1), "040x") for w in words[:n]]


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every listed token's total borrow (accrued to the block) x USD price."""
    liq, oracle, orl = dep.addr("liquidity"), dep.addr("price_oracle"), dep.label("price_oracle")
    native = dep.config.get("native", {})
    k = int(dep.config.get("list_slots", 128))
    first = [Call(liq, READ, (LISTED_TOKENS_SLOT.to_bytes(32, "big"),), label="Liquidity")]
    first += [Call(liq, READ, (array_slot(LISTED_TOKENS_SLOT, i),)) for i in range(k)]
    first.append(Call(oracle, "BASE_CURRENCY_UNIT()", label=orl))
    r1 = reader.read(block, first)
    unit = int(r1[-1][0]) if r1[-1] else 10**8
    tokens = listed_tokens(reader, dep, block, r1[:-1])
    ts = reader.caller.pin(block).timestamp
    calls = []
    for t in tokens:
        priced = str(native.get("price_as", t)).lower() if t == NATIVE else t
        calls += [
            Call(liq, READ, (mapping_slot(EXCHANGE_PRICES_SLOT, t),), label="Liquidity"),
            Call(liq, READ, (mapping_slot(TOTAL_AMOUNTS_SLOT, t),), label="Liquidity"),
            Call(oracle, "getAssetPrice(address)", (priced,), label=orl),
        ]
        if t != NATIVE:
            calls += [Call(t, "decimals()", out=("uint8",)), Call(t, "symbol()", out=("string",))]
    res = reader.read(block, calls)
    rows, j = [], 0
    for t in tokens:
        ep, ta, price = res[j : j + 3]
        j += 3
        if t == NATIVE:
            dec, sym = int(native.get("decimals", 18)), str(native.get("symbol", "native"))
        else:
            d, s = res[j : j + 2]
            j += 2
            dec, sym = (int(d[0]) if d else 18), symbol_of(s)
        if ep is None or ta is None:
            raise RuntimeError(f"{dep.id}: storage of {t} unreadable at block {block}")
        p = int(price[0]) if price and price[0] else None
        src = f"{orl}.getAssetPrice(" + ("native.price_as)" if t == NATIVE else "token)")
        rows.append(
            MarketRow(
                market=t,
                asset=t,
                symbol=sym,
                decimals=dec,
                debt_raw=total_borrow(int(ep[0]), int(ta[0]), ts),
                price_raw=p,
                price_unit=unit,
                contract=liq,
                call="Liquidity storage: borrowRawInterest x borrowExchangePrice + interestFree",
                price_source=src,
                counted=p is not None,
                note="" if p else "token has no USD oracle price",
            )
        )
    return Snapshot(
        dep,
        block,
        VERSION,
        liq,
        "sum over Liquidity listed tokens of total borrow (storage, accrued to the block) x price",
        f"{orl}.getAssetPrice(token)",
        rows,
    )

"""Aave v3 accounts at a block, read from state and valued with lendscope's exact port.

Nothing comes from ``getUserAccountData``: the reader reads each reserve's configuration
bitmap and oracle price, each user's configuration bitmap (collateral and borrowing flags per
reserve id) and e-mode category, the category's collateral set and threshold, and the token
balances of the reserves the user actually uses; :func:`lendscope.mechanics.aave_v3.account`
then applies ``GenericLogic.calculateUserAccountData``. So an asset supplied but not enabled as
collateral is left out, and e-mode users get their category's threshold and bonus.

Calls (aave-dao/aave-v3-origin v3.6.0 ``src/contracts/interfaces/IPool.sol``; v3.0 forks fall
back to ``getEModeCategoryData``): ``Pool.getReserveData(asset)`` (configuration bits: LTV 0-15,
LT 16-31, bonus 32-47, decimals 48-55, e-mode category 168-175 before v3.2, per
``ReserveConfiguration.sol``), ``Pool.getUserConfiguration(user)`` (bit 2·id borrowing, 2·id+1
collateral, ``UserConfiguration.sol``), ``Pool.getUserEMode(user)``,
``Pool.getEModeCategoryCollateralConfig(id)`` / ``getEModeCategoryCollateralBitmap(id)``,
``AaveProtocolDataProvider.getUserReserveData(asset, user)`` (aToken and debt token
``balanceOf`` at the block), ``AaveOracle.getAssetPrice(asset)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lendscope.mechanics.aave_v3.account import Account, Leg, account
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.registry import Deployment

RESERVE_DATA = ("uint256",) + ("uint128",) * 5 + ("uint40", "uint16") + ("address",) * 4 + (
    "uint128",
) * 3  # fmt: skip
USER_RESERVE = ("uint256",) * 7 + ("uint40", "bool")
EMODE_LEGACY = ("(uint16,uint16,uint16,address,string)",)


def _bits(word: int, lo: int, width: int) -> int:
    return (word >> lo) & ((1 << width) - 1)


@dataclass(frozen=True)
class Reserve:
    """A reserve's id, token, configuration and price at the block."""

    asset: str
    symbol: str
    id: int
    decimals: int
    ltv: int
    liquidation_threshold: int  # bps
    bonus: int  # bps, 10500 = +5 %
    emode_legacy: int  # e-mode category in the configuration (before v3.2)
    price: int


@dataclass(frozen=True)
class EMode:
    """An e-mode category: threshold, bonus, and which reserve ids it covers as collateral."""

    liquidation_threshold: int
    bonus: int
    collateral_ids: frozenset[int] | None  # None: legacy (by the reserve's own category)
    price_source: str = ""

    def covers(self, cat: int, r: Reserve) -> bool:
        """Whether ``r`` is collateral of this category (bitmap from v3.2, config bits before)."""
        if self.collateral_ids is None:
            return r.emode_legacy == cat
        return r.id in self.collateral_ids


@dataclass
class AaveAccount:
    """One user's reserves in use, with what the contract applies to each."""

    user: str
    emode: int
    legs: list[tuple[Reserve, Leg, int]] = field(default_factory=list)  # (reserve, leg, bonus)

    def exact(self, version: str) -> Account:
        """Totals and health factor by the exact port."""
        return account(version, [leg for _, leg, _ in self.legs])


def reserves(reader: Reader, dep: Deployment, block: int) -> tuple[list[Reserve], int]:
    """Every listed reserve with its configuration and price; and the oracle's unit."""
    dp, pool, oracle = dep.addr("data_provider"), dep.addr("pool"), dep.addr("oracle")
    lst, unit = reader.read(
        block,
        [
            Call(dp, "getAllReservesTokens()", out=("(string,address)[]",), label="DataProvider"),
            Call(oracle, "BASE_CURRENCY_UNIT()", label="AaveOracle"),
        ],
    )
    if lst is None:
        raise RuntimeError(f"{dep.id}: getAllReservesTokens() failed at block {block}")
    tokens = [(str(s), a.lower()) for s, a in lst[0]]
    calls = []
    for _, a in tokens:
        calls += [
            Call(pool, "getReserveData(address)", (a,), RESERVE_DATA, "Pool"),
            Call(oracle, "getAssetPrice(address)", (a,), label="AaveOracle"),
        ]
    got = reader.read(block, calls)
    out = []
    for i, (sym, a) in enumerate(tokens):
        data, price = got[2 * i], got[2 * i + 1]
        if data is None:
            raise RuntimeError(f"{dep.id}: Pool.getReserveData({a}) failed at block {block}")
        conf = int(data[0])
        out.append(
            Reserve(
                a, sym, int(data[7]), _bits(conf, 48, 8), _bits(conf, 0, 16),
                _bits(conf, 16, 16), _bits(conf, 32, 16), _bits(conf, 168, 8),
                int(price[0]) if price else 0,
            )
        )  # fmt: skip
    return out, int(unit[0]) if unit else 10**8


def _emodes(reader: Reader, dep: Deployment, block: int, cats: set[int]) -> dict[int, EMode]:
    pool, cats_l = dep.addr("pool"), sorted(cats)
    calls = []
    for c in cats_l:
        calls += [
            Call(pool, "getEModeCategoryCollateralConfig(uint8)", (c,), ("uint16",) * 3, "Pool"),
            Call(pool, "getEModeCategoryCollateralBitmap(uint8)", (c,), ("uint128",), "Pool"),
            Call(pool, "getEModeCategoryData(uint8)", (c,), EMODE_LEGACY, "Pool"),
        ]
    got = reader.read(block, calls)
    out = {}
    for k, c in enumerate(cats_l):
        conf, bitmap, legacy = got[3 * k : 3 * k + 3]
        if conf is not None and bitmap is not None:
            ids = frozenset(i for i in range(128) if int(bitmap[0]) >> i & 1)
            out[c] = EMode(int(conf[1]), int(conf[2]), ids)
        elif legacy is not None:
            _ltv, lt, bonus, src, _label = legacy[0]
            zero = src is None or int(src, 16) == 0
            out[c] = EMode(int(lt), int(bonus), None, "" if zero else src.lower())
        else:
            raise RuntimeError(f"{dep.id}: e-mode category {c} unreadable at block {block}")
    return out


def read_accounts(
    reader: Reader,
    dep: Deployment,
    block: int,
    users: list[str],
    known: tuple[list[Reserve], int] | None = None,
) -> tuple[list[AaveAccount], int]:
    """The accounts of ``users`` (those with no reserve in use are left out); oracle unit.

    ``known``: the reserves and unit from :func:`reserves` at this block, read once per run
    when users come in chunks.
    """
    res, unit = known or reserves(reader, dep, block)
    by_id = {r.id: r for r in res}
    pool, dp = dep.addr("pool"), dep.addr("data_provider")
    calls = []
    for u in users:
        calls += [
            Call(pool, "getUserConfiguration(address)", (u,), ("uint256",), "Pool"),
            Call(pool, "getUserEMode(address)", (u,), ("uint256",), "Pool"),
        ]
    got = reader.read(block, calls)
    used: list[tuple[str, int, list[tuple[Reserve, bool, bool]]]] = []
    for k, u in enumerate(users):
        conf, em = got[2 * k], got[2 * k + 1]
        if conf is None or em is None:
            raise RuntimeError(f"{dep.id}: getUserConfiguration({u}) failed at block {block}")
        word, flags = int(conf[0]), []
        for rid, r in by_id.items():
            borrowing, coll = bool(word >> (2 * rid) & 1), bool(word >> (2 * rid + 1) & 1)
            if borrowing or coll:
                flags.append((r, coll, borrowing))
        if flags:
            used.append((u.lower(), int(em[0]), flags))
    emodes = _emodes(reader, dep, block, {e for _, e, _ in used if e})
    legacy_src = {m.price_source for m in emodes.values() if m.price_source}
    calls = [
        Call(dp, "getUserReserveData(address,address)", (r.asset, u), USER_RESERVE, "DataProvider")
        for u, _, flags in used
        for r, _, _ in flags
    ]
    calls += [Call(dep.addr("oracle"), "getAssetPrice(address)", (s,)) for s in sorted(legacy_src)]
    got = iter(reader.read(block, calls))
    rows = [(u, e, [(r, c, b, next(got)) for r, c, b in flags]) for u, e, flags in used]
    src_price = {s: int(p[0]) if p else 0 for s, p in zip(sorted(legacy_src), got, strict=True)}
    out = []
    for u, e, legs in rows:
        acct, cat = AaveAccount(u, e), emodes.get(e)
        for r, coll, borrowing, data in legs:
            if data is None:
                raise RuntimeError(
                    f"{dep.id}: getUserReserveData({r.asset}, {u}) failed at block {block}"
                )
            lt, bonus, price = r.liquidation_threshold, r.bonus, r.price
            if cat is not None and cat.covers(e, r):
                lt, bonus = cat.liquidation_threshold, cat.bonus
                price = src_price.get(cat.price_source, price)
            debt = int(data[1]) + int(data[2])  # stable (v3.0) + variable
            leg = Leg(coll, borrowing, int(data[0]), debt, price, 10**r.decimals, lt)
            acct.legs.append((r, leg, bonus))
        out.append(acct)
    return out, unit

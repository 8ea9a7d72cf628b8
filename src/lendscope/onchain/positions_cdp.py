"""CDP vault rows at a block for Maker/Sky vaults and Liquity v1 troves (crvUSD: positions_crvusd).

Rows are the CDP vaults CSV of ``docs/books.md`` plus ``account`` (the key health is computed
over); ``vault_id`` is ``{platform}:{account}:{k}``. An account's health from its rows is
Σ collateral_amount x collateral_price_usd / Σ debt_usd x liquidation_ratio (:func:`cdp_health`),
and equals the exact integer health of each family's own liquidation test:

* Maker (``makerdao/dss`` fa4f663): ``ink x spot / (art x rate)``, the ``Vat/not-safe`` test of
  ``src/vat.sol`` ``frob`` and ``Dog/not-unsafe`` of ``src/dog.sol`` ``bark`` (l.181);
* Liquity v1 (``liquity/dev`` 39f1f7f): ``ICR / MCR`` with ``ICR = LiquityMath._computeCR``
  over ``getEntireDebtAndColl`` (pending redistribution included), as ``getCurrentICR``
  (``packages/contracts/contracts/TroveManager.sol`` l.1036) — liquidatable below 1 (normal mode);
* crvUSD: :mod:`lendscope.onchain.positions_crvusd` (``Controller._health`` port).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lendscope.mechanics.intmath import RAY, WAD
from lendscope.mechanics.liquity.troves import MCR, compute_cr
from lendscope.mechanics.maker.math import RAD
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.positions_comet import read_all
from lendscope.onchain.protocols import symbol_of
from lendscope.onchain.protocols.maker import DEFAULT_EXCLUDE, ilk_name
from lendscope.onchain.registry import Deployment
from lendscope.onchain.rows import book_asset as asset_name

CDP_COLUMNS = (
    "vault_id", "owner", "platform", "collateral_asset", "collateral_amount", "debt_usd",
    "liquidation_ratio", "penalty", "collateral_price_usd", "account",
)  # fmt: skip


def cdp_row(base: dict[str, Any], account: str, k: int, **kw: Any) -> dict[str, Any]:
    """Row ``k`` of an account: ``asset``, ``amount``, ``price``; ``debt``, ``lr``, ``penalty``."""
    return {
        "vault_id": f"{base['platform']}:{account}:{k}", "owner": base["owner"],
        "platform": base["platform"], "collateral_asset": kw["asset"],
        "collateral_amount": kw["amount"], "debt_usd": kw.get("debt", 0.0),
        "liquidation_ratio": kw.get("lr", ""), "penalty": kw.get("penalty", ""),
        "collateral_price_usd": kw["price"], "account": account,
    }  # fmt: skip


def cdp_health(rows: list[dict]) -> dict[str, float]:
    """Per account: Σ collateral x price / Σ debt_usd x liquidation_ratio over its rows."""
    num: dict[str, float] = defaultdict(float)
    den: dict[str, float] = defaultdict(float)
    for r in rows:
        num[r["account"]] += r["collateral_amount"] * r["collateral_price_usd"]
        if r["debt_usd"]:  # an empty ratio (crvUSD health <= -100 %) reads as health 0
            den[r["account"]] += r["debt_usd"] * (r["liquidation_ratio"] or float("inf"))
    return {a: num[a] / d for a, d in den.items()}


# --------------------------------------------------------------------------- Maker / Sky
@dataclass(frozen=True)
class MakerVault:
    """A DssCdpManager vault: ``Vat.urns`` (ink, art), ``Vat.ilks`` (rate, spot), mat, chop."""

    cdp: int
    owner: str
    urn: str
    ilk: str
    ink: int  # wad
    art: int  # wad
    rate: int  # ray
    spot: int  # ray
    mat: int  # ray
    chop: int  # wad
    symbol: str

    @property
    def account(self) -> str:
        """``{ilk}:{urn}``: the urn the Vat's safety test is over."""
        return f"{self.ilk}:{self.urn}"


def maker_health(v: MakerVault) -> Fraction:
    """``ink x spot / (art x rate)``: below 1 is ``bark``-able (``dog.sol`` l.181)."""
    return Fraction(v.ink * v.spot, v.art * v.rate)


def _maker_addr(dep: Deployment, key: str) -> str:
    return dep.addr(key).lower()


def _maker_ids(reader: Reader, dep: Deployment, block: int, owners: list[str] | None) -> list[int]:
    """Vault ids: 1..``cdpi()``, or each owner's ``first``/``list(id).next`` chain."""
    man = _maker_addr(dep, "cdp_manager")
    if owners is None:
        (n,) = read_all(reader, dep, block, [Call(man, "cdpi()", label="CDP_MANAGER")])
        return list(range(1, int(n[0]) + 1))
    firsts = read_all(
        reader, dep, block, [Call(man, "first(address)", (o,), label="CDP_MANAGER") for o in owners]
    )
    ids, frontier = [], [int(f[0]) for f in firsts if int(f[0])]
    while frontier:
        ids += frontier
        nxt = read_all(reader, dep, block, [
            Call(man, "list(uint256)", (i,), ("uint256",) * 2, "CDP_MANAGER") for i in frontier
        ])  # fmt: skip
        frontier = [int(r[1]) for r in nxt if int(r[1]) and int(r[1]) not in ids]
    return sorted(set(ids))


def maker_vaults(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[MakerVault]:
    """Vaults with debt, from ``makerdao/dss-cdp-manager`` 95eb088 ``src/DssCdpManager.sol``.

    Per id ``urns``/``ilks``/``owns`` (l.40-43), then ``Vat.urns(ilk, urn)`` and per ilk
    ``Vat.ilks`` (``src/vat.sol`` l.44-57), ``Spotter.ilks`` (pip, mat; ``src/spot.sol`` l.43),
    ``Dog.ilks`` (clip, chop, hole, dirt; ``src/dog.sol`` l.64) and ``IlkRegistry.symbol(ilk)``
    (``makerdao/ilk-registry`` 1d65fb6 ``src/IlkRegistry.sol`` l.364).
    Ilks with an ``exclude_prefixes`` prefix (PSM, RWA, ...) are left out, as in the adapter.
    """
    man, vat = _maker_addr(dep, "cdp_manager"), dep.addr("vat")
    ids = _maker_ids(reader, dep, block, owners)
    res = read_all(reader, dep, block, [
        Call(man, f"{f}(uint256)", (i,), (t,), "CDP_MANAGER")
        for i in ids for f, t in (("urns", "address"), ("ilks", "bytes32"), ("owns", "address"))
    ])  # fmt: skip
    excl = tuple(dep.config.get("exclude_prefixes", DEFAULT_EXCLUDE))
    meta = [
        (i, res[3 * j][0].lower(), res[3 * j + 1][0], res[3 * j + 2][0].lower())
        for j, i in enumerate(ids)
        if not ilk_name(res[3 * j + 1][0]).startswith(excl)
    ]
    urns = read_all(reader, dep, block, [
        Call(vat, "urns(bytes32,address)", (ilk, u), ("uint256", "uint256"), "MCD_VAT")
        for _, u, ilk, _ in meta
    ])  # fmt: skip
    live = [(m, int(r[0]), int(r[1])) for m, r in zip(meta, urns, strict=True) if int(r[1])]
    ilks = sorted({m[2] for m, _, _ in live})
    spot, dog = _maker_addr(dep, "spotter"), _maker_addr(dep, "dog")
    per = read_all(reader, dep, block, [c for ilk in ilks for c in (
        Call(vat, "ilks(bytes32)", (ilk,), ("uint256",) * 5, "MCD_VAT"),
        Call(spot, "ilks(bytes32)", (ilk,), ("address", "uint256"), "MCD_SPOT"),
        Call(dog, "ilks(bytes32)", (ilk,), ("address", "uint256", "uint256", "uint256"), "MCD_DOG"),
    )])  # fmt: skip
    reg = dep.addresses.get("ilk_registry")
    syms = (
        reader.read(block, [Call(reg.address, "symbol(bytes32)", (i,), ("string",)) for i in ilks])
        if reg
        else [None] * len(ilks)
    )
    info = {
        ilk: (int(per[3 * j][1]), int(per[3 * j][2]), int(per[3 * j + 1][1]),
              int(per[3 * j + 2][1]), symbol_of(syms[j]) or ilk_name(ilk).split("-")[0])
        for j, ilk in enumerate(ilks)
    }  # fmt: skip
    return [
        MakerVault(i, o, u, ilk_name(ilk), ink, art, *info[ilk])
        for (i, u, ilk, o), ink, art in live
    ]


def maker_rows(dep: Deployment, vaults: list[MakerVault]) -> list[dict]:
    """One row per vault: debt ``art x rate`` (DAI at 1 USD), price ``spot x mat`` (OSM / par)."""
    return [
        cdp_row(
            {"owner": v.owner, "platform": dep.platform}, v.account, 0,
            asset=asset_name(v.symbol), amount=float(Fraction(v.ink, WAD)),
            debt=float(Fraction(v.art * v.rate, RAD)), lr=float(Fraction(v.mat, RAY)),
            penalty=float(Fraction(v.chop, WAD) - 1),
            price=float(Fraction(v.spot * v.mat, RAY * RAY)),
        )
        for v in vaults
    ]  # fmt: skip


def maker_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[dict]:
    """Maker vault rows (``owners``: DssCdpManager owners, i.e. ``owns(id)``, often a DSProxy)."""
    return maker_rows(dep, maker_vaults(reader, dep, block, owners))


# --------------------------------------------------------------------------- Liquity v1
@dataclass(frozen=True)
class LiquityTrove:
    """``getEntireDebtAndColl(owner)`` (debt, coll incl. pending rewards) and ``lastGoodPrice``."""

    manager: str
    owner: str
    debt: int
    coll: int
    price: int

    @property
    def account(self) -> str:
        """``{trove_manager}:{owner}``."""
        return f"{self.manager}:{self.owner}"


def liquity_icr(t: LiquityTrove) -> int:
    """``getCurrentICR(owner, price)``: ``LiquityMath._computeCR(coll, debt, price)``."""
    return compute_cr(t.coll, t.debt, t.price)


def liquity_health(t: LiquityTrove) -> Fraction:
    """``ICR / MCR`` (MCR 110 %, ``Dependencies/LiquityBase.sol`` l.22)."""
    return Fraction(liquity_icr(t), MCR)


def _price_feed(reader: Reader, dep: Deployment, block: int) -> str:
    if "price_feed" in dep.addresses:
        return dep.addr("price_feed")
    tm = dep.addr("trove_manager")
    (r,) = read_all(
        reader, dep, block, [Call(tm, "priceFeed()", out=("address",), label="TroveManager")]
    )
    return r[0].lower()


def liquity_troves(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[LiquityTrove]:
    """Troves with debt: ``getTroveOwnersCount``/``getTroveFromTroveOwnersArray`` (l.292-296).

    Price: ``PriceFeed.lastGoodPrice`` (``PriceFeed.sol`` l.54), the feed from
    ``TroveManager.priceFeed()`` (``Dependencies/LiquityBase.sol`` l.42) unless the registry
    names ``price_feed``.
    """
    tm, lab = dep.addr("trove_manager"), "TroveManager"
    feed = _price_feed(reader, dep, block)
    (price,) = read_all(reader, dep, block, [Call(feed, "lastGoodPrice()", label="PriceFeed")])
    if owners is None:
        (n,) = read_all(reader, dep, block, [Call(tm, "getTroveOwnersCount()", label=lab)])
        got = read_all(reader, dep, block, [
            Call(tm, "getTroveFromTroveOwnersArray(uint256)", (i,), ("address",), lab)
            for i in range(int(n[0]))
        ])  # fmt: skip
        owners = [g[0] for g in got]
    who = sorted({o.lower() for o in owners})
    res = read_all(reader, dep, block, [
        Call(tm, "getEntireDebtAndColl(address)", (o,), ("uint256",) * 4, lab) for o in who
    ])  # fmt: skip
    return [
        LiquityTrove(tm, o, int(r[0]), int(r[1]), int(price[0]))
        for o, r in zip(who, res, strict=True)
        if int(r[0])
    ]


def liquity_rows(dep: Deployment, troves: list[LiquityTrove]) -> list[dict]:
    """One row per trove: ratio = MCR; penalty = MCR - 1 (collateral forfeited up to 110 %)."""
    coll = asset_name(dep.config.get("collateral_symbol", "ETH"))
    return [
        cdp_row(
            {"owner": t.owner, "platform": dep.platform}, t.account, 0, asset=coll,
            amount=float(Fraction(t.coll, WAD)), debt=float(Fraction(t.debt, WAD)),
            lr=float(Fraction(MCR, WAD)), penalty=float(Fraction(MCR, WAD) - 1),
            price=float(Fraction(t.price, WAD)),
        )
        for t in troves
    ]  # fmt: skip


def liquity_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[dict]:
    """Liquity trove rows at ``block``."""
    return liquity_rows(dep, liquity_troves(reader, dep, block, owners))


def liquity_check(
    reader: Reader, dep: Deployment, block: int, troves: list[LiquityTrove]
) -> list[str]:
    """Accounts whose exact ICR differs from the chain's ``getCurrentICR(owner, price)``."""
    res = read_all(reader, dep, block, [
        Call(t.manager, "getCurrentICR(address,uint256)", (t.owner, t.price), label="TroveManager")
        for t in troves
    ])  # fmt: skip
    return [t.account for t, r in zip(troves, res, strict=True) if int(r[0]) != liquity_icr(t)]


READERS = {"maker": maker_positions, "liquity": liquity_positions}

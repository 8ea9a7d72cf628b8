"""The borrower mix of the scale devnet: drawn in Python (numpy, per seed), executed on chain.

:func:`draw_mix` returns every borrower's Aave supplies, collateral switches, e-mode and
debts and its Morpho positions, all in token units, plus the liquidity the suppliers add and
the isolated asset's debt ceiling. :func:`steps` packs one borrower into the ``uint256`` step
words of ``evm/seeder/Seeder.sol``. Amounts are sized from the prices below so every borrow
passes the protocols' checks; only the ``liquidatable`` categories fall below health factor 1,
and only after :data:`DROP_ASSET`'s price is cut to :data:`DROP_FACTOR` at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Asset:
    """An Aave reserve: price (8 decimals, USD), collateral and rate parameters (bps)."""

    symbol: str
    decimals: int
    price: int
    ltv: int
    lt: int
    bonus: int
    rate: tuple[int, int, int, int]  # optimal usage, base, slope 1, slope 2


_ETH = (9000, 0, 270, 8000)
_BTC = (8000, 0, 400, 30000)
_STABLE = (9200, 0, 550, 3500)
_ALT = (4500, 0, 700, 30000)
ASSETS = (
    Asset("WETH", 18, 2000 * 10**8, 8050, 8300, 10500, _ETH),
    Asset("wstETH", 18, 2400 * 10**8, 7850, 8100, 10600, _ETH),
    Asset("WBTC", 8, 60000 * 10**8, 7300, 7800, 10500, _BTC),
    Asset("USDC", 6, 10**8, 7500, 7800, 10450, _STABLE),
    Asset("USDT", 6, 10**8, 7500, 7800, 10450, _STABLE),
    Asset("DAI", 18, 10**8, 6300, 7700, 10500, _STABLE),
    Asset("LINK", 18, 15 * 10**8, 6600, 7100, 10700, _ALT),
    Asset("AAVE", 18, 100 * 10**8, 6600, 7300, 10750, _ALT),
    Asset("CRV", 18, 5 * 10**7, 5500, 6100, 10830, _ALT),
)
INDEX = {a.symbol: i for i, a in enumerate(ASSETS)}
BY_SYMBOL = {a.symbol: a for a in ASSETS}
ISOLATED = "CRV"  # debt ceiling > 0: its suppliers may borrow only stablecoins
ISOLATION_BORROWABLE = ("USDC", "USDT", "DAI")
EMODE_ID, EMODE_LTV, EMODE_LT, EMODE_BONUS, EMODE_LABEL = 1, 9300, 9500, 10100, "ETH correlated"
EMODE_ASSETS = ("WETH", "wstETH")  # collateral and borrowable in the e-mode category
DROP_ASSET, DROP_FACTOR = "LINK", 0.75  # price cut at the end, after every position is open
# Morpho markets (loan, collateral, LLTV); the first is the small devnet's USDC/WETH market.
MARKETS = (
    ("USDC", "WETH", 86 * 10**16),
    ("USDC", "WBTC", 86 * 10**16),
    ("WETH", "wstETH", 945 * 10**15),
    ("DAI", "LINK", 77 * 10**16),
)
CATEGORIES = {
    "simple": 0.28,  # one collateral, one debt
    "multi": 0.17,  # two or three collaterals, two debts
    "emode": 0.12,  # ETH-correlated e-mode: WETH/wstETH collateral, ETH debt
    "isolated": 0.07,  # CRV collateral only (isolation mode), stablecoin debt
    "non_collateral": 0.10,  # also supplies an asset with collateral switched off
    "liquidatable": 0.04,  # LINK collateral near its LTV: health factor < 1 after the drop
    "morpho": 0.17,  # one Morpho market
    "morpho_multi": 0.02,  # two Morpho markets
    "morpho_liquidatable": 0.01,  # DAI/LINK market near its LLTV
    "both": 0.02,  # an Aave position and a Morpho one
}
# Step kinds of Seeder.sol.
NEW, SUPPLY, COLLATERAL_OFF, COLLATERAL_ON, EMODE, BORROW = 0, 1, 2, 3, 4, 5
M_COLLATERAL, M_BORROW, LEND, M_LEND = 6, 7, 8, 9
# Rough gas per step kind, to size transactions.
STEP_GAS = {
    NEW: 60_000,
    SUPPLY: 180_000,
    COLLATERAL_OFF: 80_000,
    COLLATERAL_ON: 80_000,
    EMODE: 80_000,
    BORROW: 300_000,
    M_COLLATERAL: 90_000,
    M_BORROW: 150_000,
    LEND: 180_000,
    M_LEND: 120_000,
}


@dataclass(frozen=True)
class BorrowerSpec:
    """One borrower's positions, amounts in token units."""

    id: int
    category: str
    supplies: tuple[tuple[str, int], ...] = ()  # Aave supplies used as collateral
    idle: tuple[tuple[str, int], ...] = ()  # Aave supplies with collateral switched off
    emode: int = 0
    borrows: tuple[tuple[str, int], ...] = ()  # Aave variable debt
    morpho: tuple[tuple[int, int, int], ...] = ()  # (market index, collateral, borrowed)


@dataclass(frozen=True)
class Mix:
    """A drawn mix: borrowers, suppliers' liquidity and the isolated asset's debt ceiling."""

    seed: int
    borrowers: tuple[BorrowerSpec, ...]
    lend: tuple[tuple[str, int], ...]  # Aave liquidity per asset
    morpho_lend: tuple[int, ...]  # Morpho loan-token supply per market
    debt_ceiling: int  # USD with two decimals


def units(symbol: str, usd: float) -> int:
    """Token units worth ``usd`` at the devnet price."""
    a = BY_SYMBOL[symbol]
    return int(usd * 1e8 / a.price * 10**a.decimals)


def usd(symbol: str, amount: int) -> float:
    """USD value of ``amount`` token units at the devnet price."""
    a = BY_SYMBOL[symbol]
    return amount / 10**a.decimals * a.price / 1e8


def morpho_price(market: int) -> int:
    """OracleMock price (collateral in loan units, 1e36 scale) consistent with the Aave prices."""
    loan, coll, _ = MARKETS[market]
    lo, co = BY_SYMBOL[loan], BY_SYMBOL[coll]
    return co.price * 10 ** (36 + lo.decimals - co.decimals) // lo.price


_LOG_MEDIAN = math.log(8000)


class _Draw:
    """Per-borrower drawing from one numpy Generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def pick(self, options: dict[str, float], k: int = 1, exclude: tuple[str, ...] = ()) -> list:
        """``k`` distinct keys drawn by weight (faster than ``Generator.choice`` per call)."""
        keys = [o for o in options if o not in exclude]
        out = []
        for _ in range(k):
            w = [options[o] for o in keys]
            r, acc = self.rng.random() * sum(w), 0.0
            j = len(keys) - 1
            for n, x in enumerate(w):
                acc += x
                if r < acc:
                    j = n
                    break
            out.append(keys.pop(j))
        return out

    def size(self) -> float:
        """Position size in USD: lognormal, median $8,000, clipped to [$100, $20M]."""
        return min(max(float(self.rng.lognormal(_LOG_MEDIAN, 1.4)), 100.0), 20_000_000.0)

    def weights(self, n: int) -> list[float]:
        """A flat Dirichlet draw (normalised exponentials)."""
        e = [-math.log1p(-float(self.rng.random())) for _ in range(n)]
        return [x / sum(e) for x in e]

    def frac(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def aave(self, coll: list[str], debts: list[str], f: float, emode: bool = False) -> tuple:
        """Collateral worth ``size`` split at random; debts worth ``f`` of the borrowing power."""
        total, w = self.size(), self.weights(len(coll))
        supplies = tuple((s, units(s, total * x)) for s, x in zip(coll, w, strict=True))
        ltv = {s: (EMODE_LTV if emode else BY_SYMBOL[s].ltv) / 1e4 for s in coll}
        power = sum(usd(s, a) * ltv[s] for s, a in supplies) * f
        wd = self.weights(len(debts))
        return supplies, tuple((s, units(s, power * x)) for s, x in zip(debts, wd, strict=True))

    def morpho(self, market: int, f: float) -> tuple[int, int, int]:
        _loan, coll, lltv = MARKETS[market]
        c = units(coll, self.size())
        return market, c, int(c * morpho_price(market) // 10**36 * lltv // 10**18 * f)


COLL = {"WETH": 35, "wstETH": 15, "WBTC": 25, "LINK": 5, "AAVE": 5, "USDC": 10, "DAI": 5}
STABLES = {"USDC": 5, "USDT": 3, "DAI": 2}
VOLATILE_DEBT = {"WETH": 6, "WBTC": 4}
DEBT = {**STABLES, **VOLATILE_DEBT, "LINK": 1}
MORPHO_PICK = {"0": 45, "1": 25, "2": 25, "3": 5}


def _borrower(d: _Draw, i: int, cat: str) -> BorrowerSpec:
    """Draw one borrower of category ``cat``."""

    def f_for(coll: list[str]) -> float:  # LINK holders must survive the price drop
        return d.frac(0.05, 0.7 if DROP_ASSET in coll else 0.9)

    if cat in ("simple", "both"):
        coll = d.pick(COLL)
        debt = d.pick(VOLATILE_DEBT if coll[0] in STABLES else STABLES)
        sup, bor = d.aave(coll, debt, f_for(coll))
        if cat == "simple":
            return BorrowerSpec(i, cat, sup, borrows=bor)
        m = int(d.pick(MORPHO_PICK, exclude=("3",))[0])
        return BorrowerSpec(i, cat, sup, borrows=bor, morpho=(d.morpho(m, d.frac(0.05, 0.9)),))
    if cat == "multi":
        coll = d.pick(COLL, k=int(d.rng.integers(2, 4)))
        debt = d.pick(DEBT, k=2, exclude=tuple(coll))
        sup, bor = d.aave(coll, debt, f_for(coll))
        return BorrowerSpec(i, cat, sup, borrows=bor)
    if cat == "emode":
        coll = {"s": ["wstETH"], "b": ["WETH", "wstETH"], "w": ["WETH"]}[
            d.pick({"s": 0.6, "b": 0.25, "w": 0.15})[0]
        ]
        debt = ["wstETH"] if coll == ["WETH"] else ["WETH"]
        sup, bor = d.aave(coll, debt, d.frac(0.3, 0.9), emode=True)
        return BorrowerSpec(i, cat, sup, emode=EMODE_ID, borrows=bor)
    if cat == "isolated":
        sup, bor = d.aave([ISOLATED], d.pick(STABLES), d.frac(0.05, 0.85))
        return BorrowerSpec(i, cat, sup, borrows=bor)
    if cat == "non_collateral":
        coll = d.pick({"WETH": 5, "WBTC": 3, "wstETH": 2})
        idle = d.pick({"USDC": 4, "DAI": 2, "USDT": 2, "LINK": 1, "AAVE": 1})
        sup, bor = d.aave(coll, d.pick(STABLES, exclude=tuple(idle)), d.frac(0.05, 0.85))
        return BorrowerSpec(i, cat, sup, ((idle[0], units(idle[0], d.size())),), borrows=bor)
    if cat == "liquidatable":
        sup, bor = d.aave([DROP_ASSET], d.pick(STABLES), d.frac(0.9, 0.99))
        return BorrowerSpec(i, cat, sup, borrows=bor)
    if cat == "morpho":
        m = int(d.pick(MORPHO_PICK)[0])
        return BorrowerSpec(i, cat, morpho=(d.morpho(m, d.frac(0.05, 0.7 if m == 3 else 0.9)),))
    if cat == "morpho_multi":
        ms = sorted(int(m) for m in d.pick(MORPHO_PICK, k=2, exclude=("3",)))
        return BorrowerSpec(i, cat, morpho=tuple(d.morpho(m, d.frac(0.05, 0.9)) for m in ms))
    if cat == "morpho_liquidatable":
        return BorrowerSpec(i, cat, morpho=(d.morpho(3, d.frac(0.9, 0.99)),))
    raise ValueError(cat)


def draw_mix(n: int, seed: int) -> Mix:
    """``n`` borrowers (every category at least once when ``n`` allows), deterministic per seed."""
    rng = np.random.default_rng(seed)
    names = list(CATEGORIES)
    p = np.array(list(CATEGORIES.values()))
    cats = [names[k] for k in rng.choice(len(names), size=n, p=p / p.sum())]
    cats[: min(n, len(names))] = names[: min(n, len(names))]
    cats = [cats[k] for k in rng.permutation(n)]
    d = _Draw(rng)
    people = tuple(_borrower(d, i, c) for i, c in enumerate(cats))
    borrowed = dict.fromkeys(INDEX, 0)
    supplied = dict.fromkeys(INDEX, 0)
    m_borrowed = [0] * len(MARKETS)
    iso_debt = 0.0
    for b in people:
        for s, a in b.supplies + b.idle:
            supplied[s] += a
        for s, a in b.borrows:
            borrowed[s] += a
            if b.category == "isolated":
                iso_debt += usd(s, a)
        for m, _c, a in b.morpho:
            m_borrowed[m] += a
    util = rng.uniform(0.5, 0.85, size=len(ASSETS) + len(MARKETS))
    lend = tuple(
        (s, max(0, int(borrowed[s] / util[k]) - supplied[s]) + units(s, 1_000_000))
        for k, s in enumerate(INDEX)
    )
    m_lend = tuple(
        int(m_borrowed[m] / util[len(ASSETS) + m]) + units(MARKETS[m][0], 1_000_000)
        for m in range(len(MARKETS))
    )
    ceiling = max(10_000_000, int(iso_debt * 1.5 // 1_000_000 + 1) * 1_000_000)
    return Mix(seed, people, lend, m_lend, ceiling * 100)


def word(kind: int, index: int, amount: int) -> int:
    """One step word: kind | index | amount."""
    return kind << 248 | index << 240 | amount


def steps(b: BorrowerSpec) -> list[int]:
    """The Seeder steps that open ``b``'s positions (e-mode and collateral switches first)."""
    out = [word(NEW, 0, b.id)]
    out += [word(SUPPLY, INDEX[s], a) for s, a in b.supplies + b.idle]
    out += [word(COLLATERAL_OFF, INDEX[s], 0) for s, _ in b.idle]
    if any(s == ISOLATED for s, _ in b.supplies):
        out.append(word(COLLATERAL_ON, INDEX[ISOLATED], 0))
    if b.emode:
        out.append(word(EMODE, b.emode, 0))
    out += [word(BORROW, INDEX[s], a) for s, a in b.borrows]
    for m, c, a in b.morpho:
        out += [word(M_COLLATERAL, m, c), word(M_BORROW, m, a)]
    return out


def liquidity_steps(mix: Mix) -> list[int]:
    """Suppliers' liquidity (held by the seeder), sent before any borrower."""
    out = [word(LEND, INDEX[s], a) for s, a in mix.lend]
    return out + [word(M_LEND, m, a) for m, a in enumerate(mix.morpho_lend)]


def token_needs(mix: Mix) -> dict[str, int]:
    """Token units the seeder spends, per asset (minted to it up front)."""
    need = dict(mix.lend)
    for b in mix.borrowers:
        for s, a in b.supplies + b.idle:
            need[s] += a
        for m, c, _a in b.morpho:
            need[MARKETS[m][1]] += c
    for m, a in enumerate(mix.morpho_lend):
        need[MARKETS[m][0]] += a
    return need

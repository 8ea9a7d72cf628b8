"""The stress engine: revalue, liquidate by protocol rules, feed sales back into prices, repeat.

Each scenario day: prices are the scenario multipliers (every asset following its underlying)
times the impact of forced sales on each liquidity pool (:mod:`lendscope.risk.prices`: shared
pools, a permanent part and a temporary part that decays, a floor the depth implies; for a
historical scenario only the book's selling in excess of the market the history already
contains). Borrowers first act on their health (:mod:`lendscope.risk.behaviour`: a share tops
up or repays), then a fixed point is iterated: liquidate every position that is unhealthy at
the current prices (Aave v3 close factor and bonus, Morpho Blue LIF, Compound v3 absorb, Maker
bark + Dutch auction), default the loans of counterparties that fail today, run CeFi margin
calls and forced sales, sell all seized collateral into the pools, recompute prices, and repeat
until nobody new is liquidated. That shared market is the contagion channel across segments; a
CeFi lender's own on-chain positions (``owner`` = lender) are liquidated on-chain and their
losses hit its capital.

Bad debt follows Risk DAO: Σ over accounts (platform, owner) of max(0, debt - collateral),
unweighted, plus CeFi credit losses. Values are USD; books carry USD at the scenario's start prices.
Monte Carlo VaR lives in :mod:`lendscope.risk.var`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from lendscope.core.assets import ASSETS
from lendscope.mechanics import aave_v3 as aave
from lendscope.mechanics.compound_v3 import FACTOR_SCALE, absorb_vec, liquidatable_vec
from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.maker import expected_auction_proceeds_vec, unsafe_vec
from lendscope.mechanics.morpho_blue import full_liquidation_vec
from lendscope.risk.behaviour import Borrowers
from lendscope.risk.book_types import DEFAULT_PRICES, SEGMENTS, Book
from lendscope.risk.engine_cefi import CefiBook, CefiParams
from lendscope.risk.prices import DEFAULT_LIQUIDITY, Market
from lendscope.risk.scenarios import Scenario

PROTOCOL_CODE = {"aave_v3": 0, "morpho_blue": 1, "compound_v3": 2, "maker": 3}


@dataclasses.dataclass(frozen=True)
class EngineParams:
    """Liquidation and market assumptions (defaults documented in ``docs/books.md``)."""

    aave_version: str = "3.3"
    aave_protocol_fee: float = 0.10  # share of the bonus kept by the Aave treasury
    auction_discount: float = 0.05  # Maker keepers take at market x (1 - discount)
    max_iter: int = 25
    borrowers: Borrowers = dataclasses.field(default_factory=Borrowers)
    cefi: CefiParams = dataclasses.field(default_factory=CefiParams)
    default_liquidity: bool = True  # pools a scenario leaves out use DEFAULT_LIQUIDITY
    #: "scenario": the scenario's pools (the market it happened in) override the defaults;
    #: "today": today's pools only (DEFAULT_LIQUIDITY), for "what would it do now?"
    market: str = "scenario"


def excess_share(scenario: Scenario, book: Book) -> float:
    """Share of the book's forced sales that moves prices beyond what the history contains."""
    if scenario.history_market_debt_usd is None:
        return 1.0
    debt = sum(book.positions.debt_usd) + sum(book.loans.principal_usd)
    return max(0.0, 1.0 - scenario.history_market_debt_usd / debt) if debt > 0 else 0.0


def repay_to_restore_hf(coll: float, debt: float, lt: float, bonus: float) -> float:
    """Repay r giving HF = 1 after seizing r·(1+b): r = (D - LT·C)/(1 - LT·(1+b)), risk.md §4.5."""
    if lt * (1 + bonus) >= 1:
        raise ValueError("no finite repay restores HF when LT·(1+bonus) >= 1")
    return max(0.0, (debt - lt * coll) / (1 - lt * (1 + bonus)))


def toxic_ltv(bonus: float) -> float:
    """LTV above which each liquidation raises LTV: 1/(1 + bonus) (Warmuz et al.)."""
    return 1.0 / (1.0 + bonus)


class Positions:
    """Mutable DeFi and CDP positions (collateral and debt in start-price USD units)."""

    def __init__(self, book: Book) -> None:
        p = book.positions
        self.c = np.array(p.coll_usd, float)
        self.d = np.array(p.debt_usd, float)
        self.ca = np.array(p.coll_asset, np.int64)
        self.da = np.array(p.debt_asset, np.int64)
        self.lt = np.array(p.lt, float)
        self.bonus = np.array(p.bonus, float)
        self.proto = np.array([PROTOCOL_CODE[x] for x in p.protocol], np.int64)
        self.segment, self.platform, self.owner = list(p.segment), list(p.platform), list(p.owner)
        accounts = [f"{pl}\x00{a}" for pl, a in zip(self.platform, p.accounts(), strict=True)]
        keys = {a: i for i, a in enumerate(sorted(set(accounts)))}
        self.account = np.array([keys[a] for a in accounts], np.int64)
        self.liq_usd = np.zeros(len(self.c))
        self.repaid_usd = np.zeros(len(self.c))  # voluntary repayments (behaviour)
        self.saved_c, self.saved_d = np.zeros(len(self.c)), np.zeros(len(self.c))
        self.hf0 = self.health(np.ones(len(ASSETS)))  # books carry start-price USD
        self.n_liquidations = 0

    def health(self, P: np.ndarray) -> np.ndarray:
        """Health factor c·P_c·LT / (d·P_d) per position (inf without debt)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.d > 0, self.c * P[self.ca] * self.lt / (self.d * P[self.da]),
                            np.inf)  # fmt: skip

    def act(self, P: np.ndarray, who: Borrowers) -> None:
        """Borrowers below ``act_hf`` act on a share of their position, back to ``target_hf``.

        Above HF 1 the share's repayment lowers the whole position's debt. Below 1 the acting
        share is set aside (at the target HF) for the day, so the rest is liquidated by the
        protocol's rules rather than rescued by the average; :meth:`merge` puts it back.
        """
        h = self.health(P)
        a = who.share(h)
        live = (a > 0) & (self.c > 0) & (self.d > 0)
        pc, pd = P[self.ca], P[self.da]
        with np.errstate(divide="ignore", invalid="ignore"):
            goal = np.where(live, self.c * pc * self.lt / (who.target_hf * pd), 0.0)
        blend = live & (h >= 1.0)
        cut = np.where(blend, a * np.maximum(self.d - goal, 0.0), 0.0)
        up = (self.c > 0) & (self.d > 0) & (h > np.maximum(self.hf0, who.act_hf))
        if up.any():  # prices lifted it above its own starting leverage: borrow back toward it
            want = self.c[up] * pc[up] * self.lt[up] / (self.hf0[up] * pd[up])
            self.d[up] += who.releverage * np.maximum(want - self.d[up], 0.0)
        split = live & (h < 1.0)
        self.saved_c = np.where(split, a * self.c, 0.0)
        self.saved_d = np.where(split, a * goal, 0.0)
        self.repaid_usd += (cut + np.where(split, a * self.d - self.saved_d, 0.0)) * pd
        self.d -= cut + np.where(split, a * self.d, 0.0)
        self.c -= self.saved_c

    def merge(self) -> None:
        """End of day: the acting shares set aside by :meth:`act` rejoin their positions."""
        self.c += self.saved_c
        self.d += self.saved_d
        self.saved_c = np.zeros(len(self.c))
        self.saved_d = np.zeros(len(self.c))

    def liquidate(self, P: np.ndarray, prm: EngineParams) -> np.ndarray:
        """One round of liquidations at prices ``P``; returns collateral units sold per position."""
        c, d, pc, pd = self.c, self.d, P[self.ca], P[self.da]
        sold, repaid = np.zeros(len(c)), np.zeros(len(c))
        # Every family here liquidates only below c·P·LT < d·P (each applies its own exact test
        # next); the cheap superset skips the healthy majority on most days.
        live = (c > 0) & (d > 0) & (c * pc * self.lt < d * pd * (1 + 1e-9))
        if not live.any():
            return sold
        for code, fn in enumerate((self._aave, self._morpho, self._compound, self._maker)):
            m = np.flatnonzero(live & (self.proto == code))
            if len(m):
                s, r = fn(m, c[m], d[m], pc[m], pd[m], prm)
                sold[m], repaid[m] = s, r
        hit = (sold > 0) | (repaid > 0)
        self.n_liquidations += int(hit.sum())
        self.liq_usd += repaid * pd
        return sold

    def _aave(self, m, c, d, pc, pd, prm):
        hf = aave.health_factor_vec(c, pc, d, pd, self.lt[m] * 1e4)
        cap = aave.liquidatable_debt_vec(prm.aave_version, hf, c, pc, d, pd)
        b_bps, fee_bps = (1 + self.bonus[m]) * 1e4, prm.aave_protocol_fee * 1e4
        to_liq, rep, fee = aave.seized_collateral_vec(cap, c, pc, pd, b_bps, fee_bps)
        seized = np.where(cap > 0, to_liq + fee, 0.0)
        # Exhausted collateral: the rest stays as debt with no collateral (v3.3 deficit).
        self.c[m] = np.where(seized >= c, 0.0, c - seized)
        self.d[m] = d - np.where(cap > 0, rep, 0.0)
        return to_liq * (cap > 0), np.where(cap > 0, rep, 0.0)  # the fee is not sold

    def _morpho(self, m, c, d, pc, pd, prm):
        sold, rep = np.zeros(len(m)), np.zeros(len(m))
        for lt in np.unique(self.lt[m]):
            k = self.lt[m] == lt
            # Shares = assets: total_borrow_assets + 1 = total_borrow_shares + 1e6.
            s, r, _bad = full_liquidation_vec(
                c[k], d[k], 10**6 - 1, 0, pc[k] / pd[k] * 1e36, round(lt * WAD)
            )
            sold[k], rep[k] = s, r
        self.c[m] = np.where(sold >= c, 0.0, c - sold)
        self.d[m] = d - rep  # what is left with no collateral is the bad debt
        return sold, rep

    def _compound(self, m, c, d, pc, pd, prm):
        value = (c * pc / pd)[:, None]  # collateral in base (debt) units
        one = np.ones(1)
        sold, rep = np.zeros(len(m)), np.zeros(len(m))
        for lt in np.unique(self.lt[m]):
            k = self.lt[m] == lt
            hit = liquidatable_vec(d[k], value[k], one, one, np.array([lt * FACTOR_SCALE]), 1, 1)
            lf = 1.0 / (1.0 + self.bonus[m][k])
            out = absorb_vec(d[k], value[k] * lf[:, None], one, one, np.array([FACTOR_SCALE]), 1, 1)
            # absorb: the protocol takes all collateral (sold via buyCollateral), pays the debt.
            sold[k] = np.where(hit, c[k], 0.0)
            rep[k] = np.where(hit, d[k] - out["shortfall"], 0.0)
        hit = sold > 0
        self.c[m] = np.where(hit, 0.0, c)
        self.d[m] = d - rep
        return sold, rep

    def _maker(self, m, c, d, pc, pd, prm):
        hit = unsafe_vec(c, d, 1.0, pc / pd * self.lt[m])
        take = pc * (1.0 - prm.auction_discount)
        chop = (1.0 + self.bonus[m]) * WAD
        out = expected_auction_proceeds_vec(c, d * pd, 1.0, chop, take)
        rep = np.where(hit, np.minimum(d * pd, out["proceeds"]) / pd, 0.0)
        sold = np.where(hit, out["sold"], 0.0)
        self.c[m] = np.where(hit, np.where(rep < d, 0.0, out["returned"]), c)
        self.d[m] = d - rep
        return sold, rep

    def shortfall(self, P: np.ndarray) -> np.ndarray:
        """Per position, max(0, debt - collateral) in USD at prices ``P``."""
        return np.maximum(self.d * P[self.da] - self.c * P[self.ca], 0.0)

    def account_bad_debt(self, P: np.ndarray) -> np.ndarray:
        """Risk DAO bad debt per position.

        Each account's negative net value, spread over its positions by their shortfalls.
        """
        net = self.c * P[self.ca] - self.d * P[self.da]
        acct = np.bincount(self.account, net, self.account.max() + 1 if len(net) else 0)
        short = self.shortfall(P)
        tot = np.bincount(self.account, short, len(acct))
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(tot[self.account] > 0, short / tot[self.account], 0.0)
        return np.maximum(-acct, 0.0)[self.account] * share


@dataclasses.dataclass
class StressRun:
    """Raw per-day outputs of one scenario run (turned into JSON by ``results``)."""

    scenario: Scenario
    book: Book
    seed: int
    prices: np.ndarray  # (days + 1, assets) multipliers after impact
    usd_start: np.ndarray  # start price per asset, USD
    excess_share: float
    liquidated: dict[str, np.ndarray]  # segment -> per-day liquidated USD
    bad_debt: dict[str, np.ndarray]  # segment -> per-day bad debt USD (end of day)
    by_platform: dict[tuple[str, str], dict[str, float]]
    by_asset: dict[str, dict[str, float]]
    sold_usd: np.ndarray  # per asset, cumulative collateral sold (start prices)
    cefi: CefiBook
    exposures: list[dict]
    onchain_liquidated: dict[str, float]
    counts: Mapping[str, int]
    repaid_usd: float = 0.0  # debt borrowers repaid or topped up on their own (behaviour)
    market: str = "scenario"  # whose liquidity pools: the scenario's, or today's
    #: platform -> per-day debt repaid by liquidations (DeFi and CDP)
    platform_daily: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def run_stress(
    book: Book, scenario: Scenario, seed: int = 0, params: EngineParams | None = None
) -> StressRun:
    """Run ``book`` through ``scenario`` day by day with behaviour and the liquidation cascade."""
    prm = params or EngineParams()
    S = scenario.full_paths()
    if prm.market not in ("scenario", "today"):
        raise ValueError(f"market must be 'scenario' or 'today', got {prm.market!r}")
    liquidity = dict(DEFAULT_LIQUIDITY) if prm.default_liquidity else {}
    if prm.market == "scenario":
        liquidity.update(scenario.liquidity)
    share = excess_share(scenario, book)
    market = Market(liquidity, share)
    pos = Positions(book)
    cefi = CefiBook(book, scenario.dates[0], prm.cefi, seed)
    exposures = cefi.exposures()
    owner_lender = np.array([cefi.lenders.index(o) if o in cefi.lenders else -1 for o in pos.owner])
    eq0 = pos.c - pos.d  # start prices are 1
    n_days = len(S) - 1
    prices = np.ones((n_days + 1, len(ASSETS)))
    liq = {s: np.zeros(n_days) for s in SEGMENTS}
    bad = {s: np.zeros(n_days) for s in SEGMENTS}
    seg = np.array([SEGMENTS.index(s) for s in pos.segment], np.int64)
    sold_total = np.zeros(len(ASSETS))
    plats = sorted(set(pos.platform))
    pl = np.array([plats.index(x) for x in pos.platform], np.int64)
    plat_daily = np.zeros((len(plats), n_days))
    for t in range(1, n_days + 1):
        liq_before = pos.liq_usd.sum(), cefi.liq_usd.sum()
        pos_before = pos.liq_usd.copy()
        seg_before = np.bincount(seg, pos.liq_usd, 3) if len(seg) else np.zeros(3)
        pos.act(S[t] * market.multipliers(), prm.borrowers)
        pending = np.zeros(len(market.pools))
        for it in range(prm.max_iter):
            P = market.floor_prices(S[t], S[t] * market.multipliers(pending))
            sold = _by(pos.ca, pos.liquidate(P, prm), len(ASSETS))
            if it == 0:
                sold += _by(cefi.ca, cefi.defaults(t, P), len(ASSETS))
            sold += _by(cefi.ca, cefi.margin(t, P), len(ASSETS))
            if not sold.any():
                break
            sold_total += sold
            pending += market.to_pools(sold)
        market.book(pending)
        pos.merge()
        P = market.floor_prices(S[t], S[t] * market.multipliers())
        prices[t] = P
        market.end_of_day()
        if len(pl):
            plat_daily[:, t - 1] = np.bincount(pl, pos.liq_usd - pos_before, len(plats))
        if (owner_lender >= 0).any():  # contagion: lenders' on-chain equity losses
            eq = pos.c * P[pos.ca] - pos.d * P[pos.da]
            loss = np.where(owner_lender >= 0, eq0 - np.maximum(eq, 0.0), 0.0)
            cefi.onchain_loss[:] = np.bincount(
                owner_lender[owner_lender >= 0], loss[owner_lender >= 0], len(cefi.lenders)
            )
        cefi.settle(t, P)
        seg_after = np.bincount(seg, pos.liq_usd, 3) if len(seg) else np.zeros(3)
        for i, s in enumerate(SEGMENTS):
            liq[s][t - 1] = seg_after[i] - seg_before[i]
        liq["cefi"][t - 1] = cefi.liq_usd.sum() - liq_before[1]
        acct_bad = pos.account_bad_debt(P)
        for i, s in enumerate(SEGMENTS):
            bad[s][t - 1] = acct_bad[seg == i].sum() if len(seg) else 0.0
        bad["cefi"][t - 1] = cefi.bad_usd.sum() + cefi.open_shortfall(t, P).sum()
    P = prices[-1]
    by_platform: dict[tuple[str, str], dict[str, float]] = {}
    by_asset: dict[str, dict[str, float]] = {}
    acct_bad, cefi_bad = pos.account_bad_debt(P), cefi.bad_usd + cefi.open_shortfall(n_days, P)
    rows = [
        (pos.segment[i], pos.platform[i], int(pos.ca[i]), pos.liq_usd[i], acct_bad[i])
        for i in range(len(pos.c))
    ] + [
        ("cefi", cefi.lenders[cefi.li[j]], int(cefi.ca[j]), cefi.liq_usd[j], cefi_bad[j])
        for j in range(len(cefi.p0))
    ]
    for s, platform, a, lq, bd in rows:
        for acc in (
            by_platform.setdefault((s, platform), _zero()),
            by_asset.setdefault(ASSETS[a], _zero()),
        ):
            acc["liquidated_usd"] += float(lq)
            acc["bad_debt_usd"] += float(bd)
    onchain = {
        name: float(pos.liq_usd[owner_lender == i].sum())
        for i, name in enumerate(cefi.lenders)
        if (owner_lender == i).any()
    }
    counts = {"defi_cdp_liquidations": pos.n_liquidations, **cefi.counts}
    usd = np.array([scenario.usd_start.get(a, DEFAULT_PRICES[a]) for a in ASSETS])
    return StressRun(
        scenario, book, seed, prices, usd, share, liq, bad, by_platform, by_asset, sold_total,
        cefi, exposures, onchain, counts, float(pos.repaid_usd.sum()),
        platform_daily={x: plat_daily[k] for k, x in enumerate(plats)}, market=prm.market,
    )  # fmt: skip


def _by(idx: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """Float sums of ``w`` by ``idx`` (bincount of empty weights would be int)."""
    return np.bincount(idx, w, n).astype(float)


def _zero() -> dict[str, float]:
    return {"liquidated_usd": 0.0, "bad_debt_usd": 0.0}

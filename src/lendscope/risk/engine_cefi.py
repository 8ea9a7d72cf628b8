"""CeFi side of the stress engine: margin ladders, top-ups, forced sales, credit losses, liquidity.

Each day a secured loan is revalued (debt = principal·P_asset·(1 + rate·t/365), LTV against
its collateral). At the margin-call LTV the borrower tops up to the initial LTV with probability
``topup_prob`` (one seeded draw per call); otherwise after ``cure_days`` the lender sells just
enough collateral to get back to the initial LTV (``partial_sale_vec``). At the liquidation LTV
it sells everything needed to repay, and any shortfall is a credit loss (``liquidation_vec``).
Unsecured loans default, with loss ``unsecured_lgd``, once the BTC/ETH drawdown passes
``unsecured_default_drawdown`` (the 2022 pattern: 3AC, Alameda). Loans repay at maturity.

Liquidity: a deposit bucket is withdrawable after its tenor and runs off at
``runoff·(1 + panic·drawdown)`` of what is left per day. Withdrawals are paid from liquid
assets, which loan repayments and sale proceeds refill. A lender *fails* on the first day its
liquid assets go negative (cannot pay: withdrawals freeze) or its capital (own capital minus
credit losses minus on-chain losses) reaches zero (insolvent).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from lendscope.core.assets import ASSETS
from lendscope.mechanics.offchain import liquidation_vec, partial_sale_vec, top_up_vec
from lendscope.risk.book_types import Book

OPEN_TERM = 10**9  # maturity day of open-term loans
_BTC, _ETH = ASSETS.index("BTC"), ASSETS.index("ETH")


@dataclasses.dataclass(frozen=True)
class CefiParams:
    """Behavioural assumptions of the CeFi model (documented defaults, not fitted)."""

    topup_prob: float = 0.5
    cure_days: int = 1
    slippage: float = 0.02
    unsecured_default_drawdown: float = 0.5
    unsecured_lgd: float = 0.6
    runoff: float = 0.02  # per day, when a funding bucket gives none
    panic: float = 4.0  # run-off multiplier per unit of BTC/ETH drawdown


def drawdown(prices: np.ndarray) -> float:
    """Market drawdown used for runs and unsecured defaults: 1 - mean(BTC, ETH multiplier)."""
    return max(0.0, 1.0 - 0.5 * (prices[_BTC] + prices[_ETH]))


class CefiBook:
    """Mutable state of every CeFi loan and lender through one scenario."""

    def __init__(self, book: Book, start: dt.date, params: CefiParams, seed: int) -> None:
        ln, self.p = book.loans, params
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCEF1]))
        self.lenders = book.lenders()
        self.li = np.array([self.lenders.index(x) for x in ln.lender], np.int64)
        self.p0 = np.array(ln.principal_usd, float)
        self.asset = np.array(ln.asset, np.int64)
        self.rate = np.array(ln.rate, float)
        self.mat = np.array([OPEN_TERM if m is None else (m - start).days for m in ln.maturity])
        self.c = np.array(ln.coll_usd, float)  # collateral units (USD at the start price)
        self.ca = np.array(ln.coll_asset, np.int64)
        self.l0, self.lc, self.ll = (
            np.array(x, float) for x in (ln.initial_ltv, ln.margin_call_ltv, ln.liquidation_ltv)
        )
        self.unsec = np.array(ln.unsecured, bool)
        self.open = np.ones(len(self.p0), bool)
        self.call_day = np.full(len(self.p0), -1)
        self.cpty = list(ln.counterparty)
        nl = len(self.lenders)
        fund = [book.funding.get(x) for x in self.lenders]
        self.capital0 = np.array([f.own_capital_usd if f else 0.0 for f in fund])
        self.liquid = np.array([f.liquid_assets_usd if f else 0.0 for f in fund])
        self.liquid0 = self.liquid.copy()
        dep = [(i, d) for i, f in enumerate(fund) if f for d in f.deposits]
        self.d_lender = np.array([i for i, _ in dep], np.int64)
        self.d_tenor = np.array([d.tenor_days for _, d in dep], np.int64)
        self.d_left = np.array([d.amount_usd for _, d in dep], float)
        self.d_rate = np.array([params.runoff if d.runoff is None else d.runoff for _, d in dep])
        self.deposits0 = np.bincount(self.d_lender, self.d_left, nl) if dep else np.zeros(nl)
        self.loss = np.zeros(nl)  # credit losses
        self.onchain_loss = np.zeros(nl)
        self.withdrawn = np.zeros(nl)
        self.failed_day = np.full(nl, -1)
        self.illiquid_day = np.full(nl, -1)
        self.insolvent_day = np.full(nl, -1)
        self.counts = {"margin_calls": 0, "top_ups": 0, "forced_sales": 0, "liquidations": 0}
        self.forced_sales_usd = 0.0
        self.unsecured_losses_usd = 0.0
        self.liq_usd = np.zeros(len(self.p0))  # debt repaid by forced sales/liquidations
        self.bad_usd = np.zeros(len(self.p0))  # realised credit losses per loan

    def debt(self, t: int, P: np.ndarray) -> np.ndarray:
        """Debt in USD at day ``t``: principal at the asset's price plus simple interest."""
        return self.p0 * P[self.asset] * (1.0 + self.rate * t / 365.0)

    def margin(self, t: int, P: np.ndarray) -> np.ndarray:
        """Margin calls, top-ups, forced sales and liquidations at prices ``P``.

        Returns collateral units sold per loan (start-price USD), for the market-impact loop.
        """
        sold = np.zeros(len(self.p0))
        sec = self.open & ~self.unsec
        if not sec.any():
            return sold
        D, px = self.debt(t, P), P[self.ca]
        with np.errstate(divide="ignore", invalid="ignore"):
            ltv = np.where(self.c > 0, D / (self.c * px), np.inf)
        h = self.p.slippage
        cured = sec & (ltv < self.lc)
        self.call_day[cured] = -1
        called = sec & (ltv >= self.lc) & (ltv < self.ll)
        new = np.flatnonzero(called & (self.call_day < 0))
        if len(new):
            self.counts["margin_calls"] += len(new)
            # One draw per new call, in book order: same seed, same outcome.
            up = new[self.rng.random(len(new)) < self.p.topup_prob]
            self.counts["top_ups"] += len(up)
            self.c[up] += top_up_vec(D[up], self.c[up], px[up], self.l0[up])
            self.call_day[np.setdiff1d(new, up)] = t
        due = np.flatnonzero(
            called & (self.call_day >= 0) & (t - self.call_day >= self.p.cure_days)
        )
        s = partial_sale_vec(D[due], self.c[due], px[due], self.l0[due], h) if len(due) else []
        cure = due[np.isfinite(s)]
        if len(cure):
            units = np.asarray(s)[np.isfinite(s)]
            proceeds = units * px[cure] * (1 - h)
            self.counts["forced_sales"] += len(cure)
            self.forced_sales_usd += float(proceeds.sum())
            self.c[cure] -= units
            self.p0[cure] *= 1.0 - proceeds / D[cure]  # the proceeds repay principal
            np.add.at(self.liquid, self.li[cure], proceeds)
            self.liq_usd[cure] += proceeds
            sold[cure] = units
            self.call_day[cure] = -1
        full = np.union1d(np.flatnonzero(sec & (ltv >= self.ll)), due[~np.isfinite(s)])
        if len(full):
            d, c, p = D[full], self.c[full], px[full]
            need = np.minimum(c, d / (p * (1 - h)))  # sell only what repays the debt
            short, _ = liquidation_vec(d, c, p, h)
            paid = d - short
            self.counts["liquidations"] += len(full)
            np.add.at(self.liquid, self.li[full], paid)
            np.add.at(self.loss, self.li[full], short)
            self.liq_usd[full] += paid
            self.bad_usd[full] += short
            sold[full] = need
            self.c[full] = 0.0
            self.open[full] = False
        return sold

    def settle(self, t: int, P: np.ndarray) -> None:
        """End of day ``t``: maturities, unsecured defaults, withdrawals, failure checks."""
        D = self.debt(t, P)
        matured = self.open & (self.mat <= t)
        np.add.at(self.liquid, self.li[matured], D[matured])
        self.open &= ~matured
        dd = drawdown(P)
        if dd >= self.p.unsecured_default_drawdown:
            bust = np.flatnonzero(self.open & self.unsec)
            lost = D[bust] * self.p.unsecured_lgd
            np.add.at(self.loss, self.li[bust], lost)
            self.bad_usd[bust] += lost
            self.unsecured_losses_usd += float(lost.sum())
            self.open[bust] = False
        live = self.failed_day[self.d_lender] < 0  # a failed lender freezes withdrawals
        ok = live & (t > self.d_tenor)
        w = np.where(ok, self.d_left * np.minimum(1.0, self.d_rate * (1.0 + self.p.panic * dd)), 0)
        self.d_left -= w
        out = np.bincount(self.d_lender, w, len(self.lenders)) if len(w) else 0.0
        self.liquid -= out
        self.withdrawn += out
        for arr, bad in (
            (self.illiquid_day, self.liquid < 0),
            (self.insolvent_day, self.capital() <= 0),
        ):
            arr[(arr < 0) & bad] = t
        hit = (self.failed_day < 0) & ((self.illiquid_day == t) | (self.insolvent_day == t))
        self.failed_day[hit] = t

    def capital(self) -> np.ndarray:
        """Own capital less credit and on-chain losses, per lender."""
        return self.capital0 - self.loss - self.onchain_loss

    def open_shortfall(self, t: int, P: np.ndarray) -> np.ndarray:
        """Per loan, max(0, debt - collateral value) of open secured loans (Risk DAO style)."""
        gap = self.debt(t, P) - self.c * P[self.ca]
        return np.where(self.open & ~self.unsec, np.maximum(gap, 0.0), 0.0)

    def exposures(self) -> list[dict]:
        """Per lender at the start: unsecured exposure and single-counterparty concentration."""
        net = np.maximum(self.p0 - np.where(self.unsec, 0.0, self.c), 0.0)  # EAD - collateral
        out = []
        for i, name in enumerate(self.lenders):
            mine = np.flatnonzero(self.li == i)
            by: dict[str, float] = {}
            for j in mine:
                by[self.cpty[j]] = by.get(self.cpty[j], 0.0) + float(net[j])
            top = max(sorted(by.items()), key=lambda kv: kv[1], default=("", 0.0))
            cap = float(self.capital0[i])
            out.append(
                {
                    "lender": name,
                    "loans_usd": float(self.p0[mine].sum()),
                    "unsecured_usd": float(self.p0[mine][self.unsec[mine]].sum()),
                    "largest_counterparty": top[0] or None,
                    "largest_exposure_usd": top[1],
                    "largest_exposure_pct_capital": top[1] / cap if cap > 0 else None,
                    "over_large_exposure_limit": bool(cap <= 0 or top[1] > 0.25 * cap),
                }
            )
        return out

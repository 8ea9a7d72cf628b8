"""CeFi side of the stress engine: margin calls, credit events, runs, credit lines, failures.

**Loans.** A secured loan is revalued daily (debt = principal·P_asset·(1 + rate·t/365)). At the
margin-call LTV the borrower tops up to the initial LTV with the health hazard of
:class:`~lendscope.risk.behaviour.Borrowers` (health = margin-call LTV / LTV, so a call is met
like a liquidation on chain; one seeded draw per call); otherwise after ``cure_days`` the lender
sells enough collateral to get back to the initial LTV, and at the liquidation LTV it sells all
it needs to repay (shortfall = credit loss).

**Credit events.** A loan defaults when its counterparty does: on the counterparty's
``default_date`` (book credit file), when the counterparty is a lender of the book that fails,
or — for unsecured loans to counterparties the book does not name — once the BTC/ETH drawdown
from the start passes a threshold drawn per counterparty (seeded, uniform in
``unnamed_default_drawdown``). A defaulted secured loan's collateral is sold; an unsecured
claim recovers the counterparty's ``recovery`` (``1 - unsecured_lgd`` when unnamed).

**Liquidity.** Deposits past their tenor run off with the stress signal of
:class:`~lendscope.risk.behaviour.Depositors` (zero when calm). Withdrawals are paid from liquid
assets, refilled by repayments, sales, recalls of open-term loans (once liquid assets fall
below ``recall_trigger`` of deposits) and committed credit lines (while their provider stands).
A lender **freezes** on the first day it cannot pay, or when a named counterparty's default has
left it insolvent in public view for ``resolution_days`` without new capital; it **fails**
(files) when it is frozen and
insolvent (capital after losses <= 0), or has stayed frozen ``resolution_days``. An insolvent
lender that can still pay keeps operating.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from lendscope.core.assets import ASSETS
from lendscope.mechanics.offchain import liquidation_vec, partial_sale_vec, top_up_vec
from lendscope.risk.behaviour import Borrowers, Depositors
from lendscope.risk.book_types import Book

OPEN_TERM = 10**9  # maturity day of open-term loans
NEVER = 10**9
_BTC, _ETH = ASSETS.index("BTC"), ASSETS.index("ETH")


@dataclasses.dataclass(frozen=True)
class CefiParams:
    """Behaviour of CeFi borrowers, depositors and lenders (``docs/risk-calibration.md``)."""

    borrowers: Borrowers = dataclasses.field(default_factory=Borrowers)
    depositors: Depositors = dataclasses.field(default_factory=Depositors)
    cure_days: int = 1
    slippage: float = 0.02
    unnamed_default_drawdown: tuple[float, float] = (0.5, 0.95)
    unsecured_lgd: float = 0.6
    recall_trigger: float = 0.10  # BlockFi's guideline: >= 10% of on-demand obligations on hand
    #: Days a frozen (or publicly insolvent) lender has to find capital before it files: the
    #: median freeze-to-filing lag of seven other platforms (docs/risk-calibration.md).
    resolution_days: int = 9


def market_level(prices: np.ndarray) -> float:
    """BTC/ETH level the drawdowns are measured on: the mean of the two multipliers."""
    return 0.5 * (prices[_BTC] + prices[_ETH])


class CefiBook:
    """Mutable state of every CeFi loan and lender through one scenario."""

    def __init__(self, book: Book, start: dt.date, params: CefiParams, seed: int) -> None:
        ln, self.p = book.loans, params
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCEF1]))
        self.lenders = book.lenders()
        nl, n = len(self.lenders), len(ln)
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
        notice = ln.notice_days or [None] * n
        self.notice = np.array([-1 if x is None else x for x in notice], np.int64)
        self.recall_due = np.full(n, -1)
        self.open = np.ones(n, bool)
        self.call_day = np.full(n, -1)
        self.cpty = list(ln.counterparty)
        self._default_days(book, start)
        fund = [book.funding.get(x) for x in self.lenders]
        self.capital0 = np.array([f.own_capital_usd if f else 0.0 for f in fund])
        self.liquid = np.array([f.liquid_assets_usd if f else 0.0 for f in fund])
        self.liquid0 = self.liquid.copy()
        dep = [(i, d) for i, f in enumerate(fund) if f for d in f.deposits]
        self.d_lender = np.array([i for i, _ in dep], np.int64)
        self.d_tenor = np.array([d.tenor_days for _, d in dep], np.int64)
        self.d_left = np.array([d.amount_usd for _, d in dep], float)
        base = params.depositors.base
        self.d_rate = np.array([base if d.runoff is None else d.runoff for _, d in dep])
        self.deposits0 = np.bincount(self.d_lender, self.d_left, nl) if dep else np.zeros(nl)
        self.lines = [
            (self.lenders.index(c.borrower), c.provider, c.limit_usd, (c.start - start).days)
            for c in book.credit_lines
        ]
        self.drawn = np.zeros(nl)
        self.events = [(ev, (ev.day - start).days) for ev in book.events]
        self.support = np.zeros(nl)  # capital injections
        self.loss = np.zeros(nl)  # credit losses
        self.onchain_loss = np.zeros(nl)
        self.withdrawn = np.zeros(nl)
        self.failed_day = np.full(nl, -1)
        self.frozen_day = np.full(nl, -1)
        self.illiquid_day = self.frozen_day  # the day it could not pay (name kept for results)
        self.insolvent_day = np.full(nl, -1)
        self.counts = {"margin_calls": 0, "top_ups": 0, "forced_sales": 0, "liquidations": 0,
                       "defaults": 0, "recalls": 0}  # fmt: skip
        self.forced_sales_usd = 0.0
        self.unsecured_losses_usd = 0.0
        self.default_losses_usd = 0.0
        self.liq_usd = np.zeros(n)  # debt repaid by forced sales/liquidations
        self.bad_usd = np.zeros(n)  # realised credit losses per loan
        self.public_hit = np.zeros(nl, bool)
        self.exposed_day = np.full(nl, -1)
        self.freeze_cause = np.zeros(nl, np.int8)  # 1 cannot pay, 2 publicly insolvent
        self.peak = 1.0
        self.levels: list[float] = [1.0]
        self.signal = np.zeros(nl)

    def _default_days(self, book: Book, start: dt.date) -> None:
        """Default day per loan from the counterparty list; unnamed: a drawn drawdown threshold."""
        n = len(self.cpty)
        self.def_day = np.full(n, NEVER)
        self.recovery = np.full(n, 1.0 - self.p.unsecured_lgd)
        self.def_dd = np.full(n, np.inf)
        lo, hi = self.p.unnamed_default_drawdown
        named = set(book.counterparties) | set(self.lenders)
        pairs = zip(self.cpty, self.unsec, strict=True)
        unnamed = sorted({c for c, u in pairs if u and c not in named})
        # One draw per unnamed counterparty, in name order: same seed, same thresholds.
        thr = dict(zip(unnamed, self.rng.uniform(lo, hi, len(unnamed)), strict=True))
        for j, c in enumerate(self.cpty):
            cp = book.counterparties.get(c)
            if cp is not None:
                self.recovery[j] = cp.recovery
                if cp.default_date is not None:
                    self.def_day[j] = (cp.default_date - start).days
            elif c in thr:
                self.def_dd[j] = thr[c]
        self.lender_cpty = np.array([self.lenders.index(c) if c in self.lenders else -1
                                     for c in self.cpty], np.int64)  # fmt: skip
        self.providers_down: set[str] = set()
        self.cp_default_day = {
            c.name: (c.default_date - start).days for c in book.counterparties.values()
            if c.default_date is not None
        }  # fmt: skip

    def debt(self, t: int, P: np.ndarray) -> np.ndarray:
        """Debt in USD at day ``t``: principal at the asset's price plus simple interest."""
        return self.p0 * P[self.asset] * (1.0 + self.rate * t / 365.0)

    def defaults(self, t: int, P: np.ndarray) -> np.ndarray:
        """Loans whose counterparty defaults today; returns collateral units sold per loan."""
        sold = np.zeros(len(self.p0))
        dd = 1.0 - market_level(P)
        failed_lender = (self.lender_cpty >= 0) & (
            self.failed_day[np.maximum(self.lender_cpty, 0)] >= 0
        )
        hit = np.flatnonzero(
            self.open & ((self.def_day <= t) | (dd >= self.def_dd) | failed_lender)
        )
        if not len(hit):
            return sold
        D, px, h = self.debt(t, P)[hit], P[self.ca[hit]], self.p.slippage
        coll = np.where(self.unsec[hit], 0.0, self.c[hit] * px * (1 - h))
        paid = np.minimum(D, coll)
        lost = (D - paid) * (1.0 - self.recovery[hit])
        np.add.at(self.liquid, self.li[hit], paid + (D - paid) * self.recovery[hit])
        np.add.at(self.loss, self.li[hit], lost)
        self.bad_usd[hit] += lost
        self.default_losses_usd += float(lost.sum())
        self.unsecured_losses_usd += float(lost[self.unsec[hit]].sum())
        self.counts["defaults"] += len(hit)
        sold[hit] = np.where(self.unsec[hit], 0.0, np.minimum(self.c[hit], D / (px * (1 - h))))
        self.c[hit] = 0.0
        self.open[hit] = False
        self.providers_down |= {self.cpty[j] for j in hit}
        public = hit[self.def_day[hit] <= t]  # a named, dated default: depositors hear of it
        self.public_hit[np.unique(self.li[public])] = True
        return sold

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
            # A margin call is the CeFi borrower's moment to act, as HF < 1 is on chain.
            odds = self.p.borrowers.share(self.lc[new] / ltv[new])
            up = new[self.rng.random(len(new)) < odds]
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
        """End of day ``t``: maturities, recalls, events, withdrawals, lines, freeze and failure."""
        D = self.debt(t, P)
        repaid = self.open & ((self.mat <= t) | ((self.recall_due >= 0) & (self.recall_due <= t)))
        np.add.at(self.liquid, self.li[repaid], D[repaid])
        self.open &= ~repaid
        news = np.zeros(len(self.lenders))
        for ev, day in self.events:
            mine = [self.lenders.index(x) for x in ev.lenders] or list(range(len(self.lenders)))
            if ev.kind == "news":
                news[mine] += ev.intensity * float(self.p.depositors.news_weight(t - day))
            elif day == t:
                target = self.support if ev.kind == "capital" else self.liquid
                target[mine] += ev.usd
        level = market_level(P)
        self.levels.append(level)
        self.peak = max(self.levels[-self.p.depositors.window_days - 1 :])
        peers = [t - int(d) for d in self.failed_day if d >= 0]
        loss_share = self.known_loss() / np.maximum(self.deposits0, 1.0)
        self.signal = self.p.depositors.signal(1.0 - level / self.peak, news, np.array(peers),
                                               loss_share)  # fmt: skip
        live = self.frozen_day[self.d_lender] < 0  # a frozen lender pays nobody
        ok = live & (t > self.d_tenor)
        rate = np.minimum(self.p.depositors.cap, self.d_rate * self.signal[self.d_lender])
        w = np.where(ok, self.d_left * rate, 0.0)
        self.d_left -= w
        out = np.bincount(self.d_lender, w, len(self.lenders)) if len(w) else 0.0
        self.liquid -= out
        self.withdrawn += out
        self._fund(t)
        self._recall(t)
        insolvent = self.capital() <= 0
        # A named default that leaves the lender insolvent in public view starts the clock: it
        # halts if no capital arrives within ``resolution_days``.
        start = insolvent & self.public_hit & (self.exposed_day < 0)
        self.exposed_day[start] = t
        self.exposed_day[~insolvent] = -1
        halt = (self.exposed_day >= 0) & (t - self.exposed_day >= self.p.resolution_days)
        cant_pay = self.liquid < 0
        new_freeze = (self.frozen_day < 0) & (cant_pay | halt)
        self.freeze_cause[new_freeze & cant_pay] = 1
        self.freeze_cause[new_freeze & ~cant_pay] = 2
        for arr, bad in ((self.frozen_day, cant_pay | halt), (self.insolvent_day, insolvent)):
            arr[(arr < 0) & bad] = t
        self.public_hit[:] = False
        frozen = self.frozen_day >= 0
        frozen_long = frozen & (t - self.frozen_day >= self.p.resolution_days)
        # An insolvent lender that can still pay keeps operating (depositors see its losses);
        # one that cannot pay and is insolvent has nothing to restructure with.
        hit = (self.failed_day < 0) & ((frozen & (self.insolvent_day >= 0)) | frozen_long)
        self.failed_day[hit] = t

    def _fund(self, t: int) -> None:
        """Draw committed lines for any shortfall, while the provider stands."""
        for i, provider, limit, start in self.lines:
            if self.liquid[i] >= 0 or t < start or self.frozen_day[i] >= 0:
                continue
            down = provider in self.providers_down or self.cp_default_day.get(provider, NEVER) <= t
            if provider in self.lenders:
                down |= self.failed_day[self.lenders.index(provider)] >= 0
            if down:
                continue
            take = min(limit - self.drawn[i], -self.liquid[i])
            self.drawn[i] += take
            self.liquid[i] += take

    def _recall(self, t: int) -> None:
        """Recall open-term loans once liquid assets fall below the trigger share of deposits.

        Just enough principal, largest loans first, to restore twice the trigger (the buffer a
        lender aims for), counting loans already recalled and not yet repaid.
        """
        nl = len(self.lenders)
        left = np.bincount(self.d_lender, self.d_left, nl) if len(self.d_left) else np.zeros(nl)
        # Only secured open-term loans can be called back; unsecured lines run to their term.
        callable_ = self.open & ~self.unsec & (self.notice >= 0) & (self.recall_due < 0)
        coming = np.bincount(self.li[self.open & (self.recall_due >= 0)],
                             self.p0[self.open & (self.recall_due >= 0)], nl)  # fmt: skip
        for i in np.flatnonzero(self.liquid < self.p.recall_trigger * left):
            need = 2 * self.p.recall_trigger * left[i] - self.liquid[i] - coming[i]
            mine = np.flatnonzero(callable_ & (self.li == i))
            for j in mine[np.argsort(-self.p0[mine], kind="stable")]:
                if need <= 0:
                    break
                self.recall_due[j] = t + self.notice[j]
                self.counts["recalls"] += 1
                need -= self.p0[j]

    def known_loss(self) -> np.ndarray:
        """Losses depositors can see: credit losses and on-chain losses less injected capital."""
        return np.maximum(self.loss + self.onchain_loss - self.support, 0.0)

    def capital(self) -> np.ndarray:
        """Own capital plus injections less credit and on-chain losses, per lender."""
        return self.capital0 + self.support - self.loss - self.onchain_loss

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

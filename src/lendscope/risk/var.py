"""Monte Carlo VaR of a book: bad debt and liquidations with jumps, impact and behaviour.

Every single-collateral position (DeFi, CDP and secured CeFi loans) is shocked by its
collateral/debt price ratio along correlated Merton jump-diffusion paths, fitted to the bundled
daily history over a trailing window (:func:`fitted_market`; :data:`VOL` / :data:`LOAD` without
jumps when ``calibrate=False`` or the history does not cover the window). Liquidations use the
exact Brownian-bridge minimum between monitoring points; the collateral they sell moves the
pools' prices (iterated to a fixed point) and borrowers who act first shrink them.
:func:`run_var` reports VaR95 / EVaR99 of bad debt and LaR95 of liquidations with Monte Carlo
standard errors. The deterministic scenario engine is :mod:`lendscope.risk.engine`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numba as nb
import numpy as np

from lendscope.core.assets import ASSETS
from lendscope.risk import history
from lendscope.risk.behaviour import Borrowers
from lendscope.risk.book_types import SEGMENTS, Book
from lendscope.risk.executors import get_executor
from lendscope.risk.kernels import SB
from lendscope.risk.montecarlo import (
    JUMP_K,
    GBMModel,
    Jumps,
    block_seeds,
    bridge_min,
    fit_merton,
    risk_stats,
    simulate_parts,
)
from lendscope.risk.prices import DEFAULT_LIQUIDITY, POOL, STABLE, UNDERLYING, chain

#: Annualised volatility per asset: the fallback model, and always the stablecoins' (their
#: history is mostly peg noise and rare depegs, which scenarios model explicitly).
VOL = {
    "BTC": 0.55, "ETH": 0.70, "stETH": 0.70, "wstETH": 0.70, "WBTC": 0.55, "USDC": 0.02,
    "USDT": 0.03, "DAI": 0.03, "UST": 0.30, "LUNA": 1.50, "GBTC": 0.65, "SOL": 0.90,
    "miner_collateral": 1.00, "alt": 1.00, "FTT": 1.20, "CEL": 1.50,
}  # fmt: skip
#: Factor loadings (market, ETH family, BTC family, stablecoins): correlation = L·Lᵀ off the
#: diagonal, so it is positive semi-definite by construction; pegged pairs correlate ~0.98.
LOAD = {
    "BTC": (0.80, 0.0, 0.59, 0.0), "WBTC": (0.80, 0.0, 0.59, 0.0), "GBTC": (0.75, 0.0, 0.5, 0.0),
    "ETH": (0.80, 0.59, 0.0, 0.0), "stETH": (0.80, 0.58, 0.0, 0.0),
    "wstETH": (0.80, 0.58, 0.0, 0.0), "SOL": (0.75, 0.0, 0.0, 0.0), "alt": (0.75, 0.0, 0.0, 0.0),
    "miner_collateral": (0.6, 0.0, 0.4, 0.0), "LUNA": (0.6, 0.0, 0.0, 0.0),
    "USDC": (0.0, 0.0, 0.0, 0.5), "USDT": (0.0, 0.0, 0.0, 0.5), "DAI": (0.0, 0.0, 0.0, 0.5),
    "UST": (0.2, 0.0, 0.0, 0.3), "FTT": (0.6, 0.0, 0.0, 0.0), "CEL": (0.5, 0.0, 0.0, 0.0),
}  # fmt: skip
HORIZONS = {"1d": (1, 24), "7d": (7, 6)}  # days, monitoring steps per day
VAR_BLOCK = 1024
WINDOW_DAYS = 365
IMPACT_ITER = 30  # most paths settle in 1-3 passes; a runaway pool cascade takes more


def _corr(assets: tuple[str, ...] | list[str]) -> np.ndarray:
    L = np.array([LOAD[a] for a in assets], float).reshape(len(assets), 4)
    corr = L @ L.T
    np.fill_diagonal(corr, 1.0)
    return corr


def market_model(assets: tuple[str, ...], steps_per_day: int) -> GBMModel:
    """Zero-drift correlated GBM over ``assets`` from :data:`VOL` and :data:`LOAD`."""
    sig = np.array([VOL[a] for a in assets])
    return GBMModel(assets, np.zeros(len(assets)), sig, _corr(assets), dt=1 / 365 / steps_per_day)


@dataclasses.dataclass(frozen=True)
class Market:
    """The simulated model, the model column of each book asset, and what to report."""

    model: GBMModel
    cols: np.ndarray
    info: dict


def fixed_market(assets: tuple[str, ...], steps_per_day: int) -> Market:
    """:func:`market_model` with one column per asset and no jumps."""
    m = market_model(assets, steps_per_day)
    zero = {"jump_intensity": 0.0, "jump_mean": 0.0, "jump_std": 0.0}
    info = {a: {"sigma": VOL[a], **zero} for a in assets}
    return Market(m, np.arange(len(assets)), {"source": "fixed", "window": None, **info})


def fitted_market(
    assets: tuple[str, ...],
    steps_per_day: int,
    as_of: dt.date | None = None,
    window: int = WINDOW_DAYS,
    jumps: bool = True,
) -> Market | None:
    """Merton model fitted to the ``window`` days of bundled closes ending ``as_of``.

    An asset whose own series does not cover the window is simulated as its underlying (one
    column: WBTC without data moves exactly as BTC). Stablecoins keep :data:`VOL`, no jumps and
    their :data:`LOAD` correlations among themselves, none with the rest. Per asset,
    :func:`~lendscope.risk.montecarlo.fit_merton` gives the diffusion sigma; jumps are market
    events taken from the asset's dependency root (BTC or ETH) and shared with it, so pegged
    pairs do not jump apart. Correlations are of daily log returns winsorised at the jump
    threshold. None when the history cannot cover the window (the caller falls back).
    """
    h = history.load()
    end = as_of or max(s.last for s in h.series.values())
    start = end - dt.timedelta(days=window)
    cover = {a: s for a, s in h.series.items() if s.first <= start <= end <= s.last}
    own = {a for a in ASSETS if a in cover and a not in STABLE}

    def base(a: str) -> str | None:
        if a in STABLE or a in own:
            return a
        return base(UNDERLYING[a][0]) if a in UNDERLYING else None

    bases = [base(a) for a in assets]
    if None in bases or window < 30:
        return None
    risky = [b for b in dict.fromkeys(bases) if b is not None and b not in STABLE]
    roots = [chain(b)[-1] for b in risky]  # jumps come from (and are shared with) these
    names = list(dict.fromkeys([*bases, *roots]))  # type: ignore[list-item]
    risky = [b for b in names if b not in STABLE]
    fits, rets = {}, []
    for b in risky:
        if b not in own:
            return None
        s = h.get(b)
        sel = (s.days >= start.toordinal()) & (s.days <= end.toordinal())
        fits[b] = fit_merton(np.diff(np.log(s.values[sel])), np.diff(s.days[sel]))
        r = np.diff(np.log(s.daily(start, end)))
        med, mad = np.median(r), 1.4826 * np.median(np.abs(r - np.median(r)))
        rets.append(np.clip(r, med - JUMP_K * mad, med + JUMP_K * mad))
    corr = np.zeros((len(names), len(names)))
    ri = [names.index(b) for b in risky]
    si = [i for i, b in enumerate(names) if b in STABLE]
    if ri:
        corr[np.ix_(ri, ri)] = np.atleast_2d(np.corrcoef(np.array(rets)))
    corr[np.ix_(si, si)] = _corr([names[i] for i in si])
    np.fill_diagonal(corr, 1.0)
    if not np.isfinite(corr).all():  # a flat series in the window
        return None
    sig = np.array([VOL[b] if b in STABLE else fits[b].sigma for b in names])
    root = [b if b in STABLE else chain(b)[-1] for b in names]
    jp = np.array([[0.0] * 3 if r in STABLE else [fits[r].intensity, fits[r].mean, fits[r].std]
                   for r in root]) * (1.0 if jumps else 0.0)  # fmt: skip
    group = np.array([names.index(r) for r in root])
    model = GBMModel(
        tuple(names), np.zeros(len(names)), sig, corr, 1 / 365 / steps_per_day,
        Jumps(jp[:, 0], jp[:, 1], jp[:, 2], group),
    )  # fmt: skip
    cols = np.array([names.index(b) for b in bases if b is not None])
    info: dict = {"source": "history", "window": [start.isoformat(), end.isoformat()]}
    for a, c in zip(assets, cols, strict=True):
        info[a] = {"sigma": float(sig[c]), "jump_intensity": float(jp[c, 0]),
                   "jump_mean": float(jp[c, 1]), "jump_std": float(jp[c, 2]),
                   "from": names[c], "jumps_from": root[c]}  # fmt: skip
    return Market(model, cols, info)


def pair_paths(
    mk: Market, pairs: tuple[tuple[int, int], ...], steps: int, seq, n: int, bridge: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(horizon, path-minimum) multipliers of each pair's price ratio, each (n, pairs).

    The minimum is over the continuous path: within a step the diffusion runs as a Brownian
    bridge between its endpoints (minimum sampled exactly, uniforms from the block's own
    generator) and the step's jumps land at its end. ``bridge=False``: monitored points only.
    """
    diff, jumps, rng = simulate_parts(mk.model, steps, seq, n)
    ci, di = (mk.cols[list(x)] for x in zip(*pairs, strict=True))
    dr = diff[:, :, ci] - diff[:, :, di]
    x = np.cumsum(dr if jumps is None else dr + jumps[:, :, ci] - jumps[:, :, di], axis=1)
    low = np.minimum(x.min(axis=1), 0.0)
    if bridge:
        m = mk.model
        s, c = m.sigma, m.corr
        var = np.maximum(s[ci] ** 2 + s[di] ** 2 - 2 * c[ci, di] * s[ci] * s[di], 0.0) * m.dt
        x0 = np.concatenate([np.zeros((n, 1, len(ci))), x[:, :-1]], axis=1)
        u = 1.0 - rng.random(dr.shape)  # (0, 1]: ln u finite
        low = np.minimum(low, bridge_min(x0, dr, var, u).min(axis=1))
    return np.exp(x[:, -1]), np.exp(low)


@dataclasses.dataclass(frozen=True)
class FlatBook:
    """Single-collateral positions; ``pair`` indexes the (collateral, debt) pair shocking it."""

    assets: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    pair: np.ndarray
    coll: np.ndarray
    debt: np.ndarray
    lt: np.ndarray
    segment: np.ndarray
    bonus: np.ndarray  # liquidation bonus / CDP penalty (0 for CeFi loans)


def flat_book(book: Book) -> FlatBook:
    """DeFi positions, CDP vaults (LT = 1/LR) and secured CeFi loans (LT = liquidation LTV)."""
    p, ln = book.positions, book.loans
    sec = [j for j in range(len(ln)) if not ln.unsecured[j]]
    ca = list(p.coll_asset) + [ln.coll_asset[j] for j in sec]
    da = list(p.debt_asset) + [ln.asset[j] for j in sec]
    used = sorted(set(ca) | set(da) | {ASSETS.index("BTC"), ASSETS.index("ETH")})
    col = {a: i for i, a in enumerate(used)}
    pairs = sorted(set(zip((col[a] for a in ca), (col[a] for a in da), strict=True)))
    key = {pr: i for i, pr in enumerate(pairs)}
    bonus = list(p.bonus) if len(p.bonus) == len(p) else [0.0] * len(p)
    return FlatBook(
        tuple(ASSETS[a] for a in used),
        tuple(pairs),
        np.array([key[(col[a], col[b])] for a, b in zip(ca, da, strict=True)], np.int32),
        np.array(list(p.coll_usd) + [ln.coll_usd[j] for j in sec], float),
        np.array(list(p.debt_usd) + [ln.principal_usd[j] for j in sec], float),
        np.array(list(p.lt) + [ln.liquidation_ltv[j] for j in sec], float),
        np.array([SEGMENTS.index(s) for s in p.segment] + [0] * len(sec), np.int64),
        np.array(bonus + [0.0] * len(sec), float),
    )


@dataclasses.dataclass(frozen=True)
class Impact:
    """Pools the book's collateral is sold into, and which assets each pool's price reaches."""

    sell: np.ndarray  # (pools, assets): asset a is sold into pool p
    expo: np.ndarray  # (assets, pools): pool p is on asset a's dependency chain
    pools: tuple[str, ...]

    @classmethod
    def of(cls, assets: tuple[str, ...]) -> Impact:
        """Pools with an impact model in :data:`DEFAULT_LIQUIDITY` that the assets reach."""
        reach = [{POOL[u] for u in chain(a)} for a in assets]
        live = {p for p, q in DEFAULT_LIQUIDITY.items() if q.model != "none"}
        pools = tuple(sorted(set().union(*reach) & live, key=ASSETS.index))
        sell = np.array([[POOL[a] == p for a in assets] for p in pools], float)
        expo = np.array([[p in r for p in pools] for r in reach], float).reshape(len(assets), -1)
        return cls(sell.reshape(-1, len(assets)), expo, pools)

    def pair_multipliers(self, sold: np.ndarray, pairs: tuple[tuple[int, int], ...]):
        """(paths, pairs) ratio multipliers from collateral ``sold`` (assets, paths).

        One horizon-end figure per pool: max(floor, 1 - f(Q)) with Q all the pool's sales, as if
        none of the temporary impact had decayed yet (conservative; prices.py's pool law with
        Q_temp = Q_perm).
        """
        q = self.sell @ sold
        lm = np.zeros((len(self.pools), sold.shape[1]))
        for i, p in enumerate(self.pools):
            liq = DEFAULT_LIQUIDITY[p]
            lm[i] = np.log(np.maximum(liq.min_multiplier(), 1.0 - liq.drop(q[i])))
        la = self.expo @ lm
        ci, di = (list(x) for x in zip(*pairs, strict=True))
        return np.exp(la[ci] - la[di]).T


KEEP_GRID = 64  # health steps of the behaviour table on [0, 1)


def keep_table(borrowers: Borrowers | None) -> np.ndarray:
    """1 - share(h) at the midpoints of :data:`KEEP_GRID` health bins on [0, 1)."""
    h = (np.arange(KEEP_GRID) + 0.5) / KEEP_GRID
    return np.ones(KEEP_GRID) if borrowers is None else 1.0 - borrowers.share(h)


@nb.njit(parallel=True, cache=True, fastmath=False)
def _tail_nb(
    pair, seg, cpair, coll, debt, lt, bonus, kt, end, low, bad, liq, sold
):  # pragma: no cover
    for blk in nb.prange(end.shape[1] // SB):
        m0 = blk * SB
        ab, al = np.zeros((bad.shape[0], SB)), np.zeros((bad.shape[0], SB))
        asold = np.zeros((sold.shape[0], SB))
        for i in range(pair.shape[0]):
            p, g, c, d, li = pair[i], seg[i], coll[i], debt[i], lt[i]
            ca, dg = cpair[p], d * (1.0 + bonus[i])
            for j in range(SB):
                ab[g, j] += max(d - c * end[p, m0 + j], 0.0)
                r = low[p, m0 + j]
                v = c * r * li
                if v < d:
                    w = kt[min(int(v / d * KEEP_GRID), KEEP_GRID - 1)]  # at the health it hits
                    al[g, j] += d * w
                    # Seized collateral (start-price USD) covers debt + bonus, or is all of it.
                    asold[ca, j] += w * (min(c, dg / r) if r > 0.0 else c)
        bad[:, m0 : m0 + SB] = ab
        liq[:, m0 : m0 + SB] = al
        sold[:, m0 : m0 + SB] = asold


def tail_kernel(fb: FlatBook, end: np.ndarray, low: np.ndarray, keep: np.ndarray | None = None):
    """Bad debt at ``end``, debt liquidated at ``low`` (x ``keep`` by health), collateral sold.

    Shocks are (paths, pairs) ratio multipliers; results (segments | assets, paths).
    """
    n, pad = len(end), -len(end) % SB
    st = [np.ones((len(fb.pairs), n + pad)) for _ in range(2)]
    st[0][:, :n], st[1][:, :n] = end.T, low.T
    bad, liq = np.zeros((len(SEGMENTS), n + pad)), np.zeros((len(SEGMENTS), n + pad))
    sold = np.zeros((len(fb.assets), n + pad))
    cpair = np.array([c for c, _ in fb.pairs], np.int64)
    kt = keep_table(None) if keep is None else keep
    _tail_nb(fb.pair, fb.segment, cpair, fb.coll, fb.debt, fb.lt, fb.bonus, kt, *st, bad, liq, sold)
    return bad[:, :n], liq[:, :n], sold[:, :n]


def _var_task(args: tuple) -> tuple[np.ndarray, int]:
    """One RNG block: (array (segments + 1, 4, paths), impact iterations).

    Rows: bad debt and liquidations with impact, then the same before impact; per segment and
    in total (last). Impact is iterated per block: sales → pool prices → more liquidations,
    until no path's liquidations grow (or :data:`IMPACT_ITER` passes).
    """
    mk, steps, seq, n, fb, imp, (bridge, impact, keep) = args
    end, low = pair_paths(mk, fb.pairs, steps, seq, n, bridge)
    pre = tail_kernel(fb, end, low, keep)
    post = [x.copy() for x in pre]
    # Per path: only paths that sold something, then only those whose liquidations still grow.
    act = np.flatnonzero(pre[2].sum(axis=0) > 0) if impact and len(imp.pools) else []
    it, tol = 0, 1e-9 * fb.debt.sum()
    while len(act) and it < IMPACT_ITER:
        it += 1
        f = imp.pair_multipliers(post[2][:, act], fb.pairs)
        nxt = tail_kernel(fb, end[act] * f, low[act] * f, keep)
        grown = nxt[1].sum(axis=0) - post[1][:, act].sum(axis=0) > tol
        for x, y in zip(post, nxt, strict=True):
            x[:, act] = y
        act = act[grown]
    out = np.zeros((len(SEGMENTS) + 1, 4, n))
    out[:-1] = np.stack([post[0], post[1], pre[0], pre[1]], axis=1)
    out[-1] = out[:-1].sum(axis=0)
    return out, it


def run_var(
    book: Book,
    n_paths: int,
    horizon: str = "1d",
    seed: int = 0,
    executor: str = "serial",
    *,
    as_of: dt.date | None = None,
    window: int = WINDOW_DAYS,
    calibrate: bool = True,
    jumps: bool = True,
    bridge: bool = True,
    impact: bool = True,
    behaviour: bool | Borrowers = True,
) -> dict:
    """VaR95 / EVaR99 of bad debt and LaR95 of liquidations over ``horizon`` (Monte Carlo).

    Bad debt is Σ max(0, debt - collateral) at the horizon (Gauntlet's 2022 definition);
    liquidations count debt whose position crosses its threshold anywhere on the continuous
    path (bridge minimum; ``bridge=False``: hourly (1d) / 4-hourly (7d) points only, which
    understates LaR). ``impact``: liquidated collateral is sold into its pool
    (:data:`DEFAULT_LIQUIDITY`), lowering every price on the pool's chain, to a fixed point;
    ``*_pre_impact_usd`` are the figures before. ``behaviour``: of each liquidated position a
    share ``Borrowers.share(h)`` at the health h < 1 it hits (bridge minimum, 1/64 bins)
    repays first, once a horizon (the engine asks daily). Bad debt is not reduced: an
    underwater borrower has nothing to save. Unsecured loans carry no price risk here. Same
    seed → same numbers on every executor.
    """
    if horizon not in HORIZONS:
        raise ValueError(f"horizon must be one of {', '.join(HORIZONS)}, got {horizon!r}")
    if n_paths < 1:
        raise ValueError("paths must be >= 1")
    fb = flat_book(book)
    days, per_day = HORIZONS[horizon]
    mk = fitted_market(fb.assets, per_day, as_of, window, jumps) if calibrate else None
    mk = mk or fixed_market(fb.assets, per_day)
    b = Borrowers() if behaviour is True else behaviour or None
    opt = (bridge, impact, keep_table(b) if b else None)
    imp = Impact.of(fb.assets)
    seeds = block_seeds(seed, n_paths, VAR_BLOCK)
    tasks = [(mk, days * per_day, s, n, fb, imp, opt) for _, s, n in seeds]
    ex = get_executor(executor)
    try:
        parts = ex.map(_var_task, tasks) if len(fb.pair) else []
    finally:
        ex.close()
    res = (
        np.concatenate([p[0] for p in parts], axis=2)
        if parts
        else np.zeros((len(SEGMENTS) + 1, 4, n_paths))
    )
    pre, fitted = risk_stats(res[-1, 2], res[-1, 3]), mk.info["source"] == "history"
    return {
        "paths": n_paths, "horizon": horizon, "seed": seed,
        "monitoring_steps": days * per_day, "assets": list(fb.assets),
        **risk_stats(res[-1, 0], res[-1, 1]),
        **{f"{k.removesuffix('_usd')}_pre_impact_usd": pre[k]
           for k in ("var95_usd", "evar99_usd", "lar95_usd", "mean_liquidated_usd")},
        "impact_iterations": max((p[1] for p in parts), default=0),
        "options": {"calibrated": fitted, "jumps": jumps and fitted,
                    "bridge": bridge, "impact": impact, "behaviour": b is not None},
        "model": mk.info,
        "by_segment": {s: risk_stats(res[i, 0], res[i, 1]) for i, s in enumerate(SEGMENTS)},
    }  # fmt: skip

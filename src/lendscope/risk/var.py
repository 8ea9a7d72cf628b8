"""Monte Carlo VaR of a book: bad debt and liquidations under correlated GBM price paths.

Every single-collateral position (DeFi, CDP and secured CeFi loans) is shocked by its
collateral/debt price ratio along zero-drift correlated GBM paths (:data:`VOL`, :data:`LOAD`);
:func:`run_var` reports VaR95 / EVaR99 of bad debt and LaR95 of liquidations over a horizon.
The deterministic scenario engine is :mod:`lendscope.risk.engine`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lendscope.core.assets import ASSETS
from lendscope.risk.book_types import SEGMENTS, Book
from lendscope.risk.executors import get_executor
from lendscope.risk.kernels import evar99, expected_tail, lar95, var95, var_kernel
from lendscope.risk.montecarlo import GBMModel, block_seeds, simulate_block

#: Annualised volatility per asset (order-of-magnitude assumptions, 2023-25 realised).
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


def market_model(assets: tuple[str, ...], steps_per_day: int) -> GBMModel:
    """Zero-drift correlated GBM over ``assets`` from :data:`VOL` and :data:`LOAD`."""
    L = np.array([LOAD[a] for a in assets], float)
    corr = L @ L.T
    np.fill_diagonal(corr, 1.0)
    sig = np.array([VOL[a] for a in assets])
    return GBMModel(assets, np.zeros(len(assets)), sig, corr, dt=1 / 365 / steps_per_day)


@dataclasses.dataclass(frozen=True)
class FlatBook:
    """Single-collateral positions (every segment) for the VaR kernel.

    ``pair`` indexes (collateral, debt) asset pairs, whose price ratio is the position's shock.
    """

    assets: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    pair: np.ndarray
    coll: np.ndarray
    debt: np.ndarray
    lt: np.ndarray
    segment: np.ndarray


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
    return FlatBook(
        tuple(ASSETS[a] for a in used),
        tuple(pairs),
        np.array([key[(col[a], col[b])] for a, b in zip(ca, da, strict=True)], np.int32),
        np.array(list(p.coll_usd) + [ln.coll_usd[j] for j in sec], float),
        np.array(list(p.debt_usd) + [ln.principal_usd[j] for j in sec], float),
        np.array(list(p.lt) + [ln.liquidation_ltv[j] for j in sec], float),
        np.array([SEGMENTS.index(s) for s in p.segment] + [0] * len(sec), np.int64),
    )


def _var_task(args: tuple) -> np.ndarray:
    """One RNG block: an array (segments + 1, 2, paths).

    Bad debt at the horizon and liquidatable debt at the worst monitored price, per segment and
    in total (last row).
    """
    model, steps, seq, n, fb = args
    S = simulate_block(model, steps, seq, n)
    ci, di = (np.array(x) for x in zip(*fb.pairs, strict=True))
    ratio = S[:, :, ci] / S[:, :, di]  # (paths, steps + 1, pairs)
    end, low = ratio[:, -1], ratio.min(axis=1)
    out = np.zeros((len(SEGMENTS) + 1, 2, n))
    for i in range(len(SEGMENTS)):
        m = fb.segment == i
        if m.any():
            args_i = (fb.pair[m], fb.coll[m], fb.debt[m], fb.lt[m])
            out[i, 0] = var_kernel(*args_i, end)[0]
            out[i, 1] = var_kernel(*args_i, low)[1]
    out[-1] = out[:-1].sum(axis=0)
    return out


def run_var(
    book: Book, n_paths: int, horizon: str = "1d", seed: int = 0, executor: str = "serial"
) -> dict:
    """VaR95 / EVaR99 of bad debt and LaR95 of liquidations over ``horizon`` (Monte Carlo).

    Bad debt is Σ max(0, debt - collateral) at the horizon (Gauntlet's 2022 definition);
    liquidations count debt whose position crosses its threshold at any hourly (1d) or 4-hourly
    (7d) monitoring point, since terminal-only checks understate LaR (risk.md §4.5). Unsecured
    loans carry no price risk here. Same seed → same numbers on every executor.
    """
    if horizon not in HORIZONS:
        raise ValueError(f"horizon must be one of {', '.join(HORIZONS)}, got {horizon!r}")
    if n_paths < 1:
        raise ValueError("paths must be >= 1")
    fb = flat_book(book)
    days, per_day = HORIZONS[horizon]
    model = market_model(fb.assets, per_day)
    tasks = [(model, days * per_day, s, n, fb) for _, s, n in block_seeds(seed, n_paths, VAR_BLOCK)]
    ex = get_executor(executor)
    try:
        res = np.concatenate(ex.map(_var_task, tasks), axis=2) if len(fb.pair) else None
    finally:
        ex.close()
    if res is None:
        res = np.zeros((len(SEGMENTS) + 1, 2, n_paths))

    def stats(r: np.ndarray) -> dict[str, float]:
        return {
            "var95_usd": var95(r[0]), "evar99_usd": evar99(r[0]),
            "expected_tail99_usd": expected_tail(r[0], 0.99), "lar95_usd": lar95(r[1]),
            "mean_bad_debt_usd": float(r[0].mean()), "mean_liquidated_usd": float(r[1].mean()),
        }  # fmt: skip

    return {
        "paths": n_paths, "horizon": horizon, "seed": seed,
        "monitoring_steps": days * per_day, "assets": list(fb.assets),
        **stats(res[-1]),
        "by_segment": {s: stats(res[i]) for i, s in enumerate(SEGMENTS)},
    }  # fmt: skip

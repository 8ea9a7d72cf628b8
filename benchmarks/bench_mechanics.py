"""Throughput of the exact protocol math, and the vectorised health factor vs a Python loop.

    python benchmarks/bench_mechanics.py [--positions 1000000]

Exact operations are integer ports of the contracts (one call = one contract-equivalent
operation). The plain reference for the vectorised kernel is a pure-Python loop over the same
positions in the same run; the last line is ``ratio=<x> positions_per_s=<y>``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.aave_v3 import twin as aave_vec
from lendscope.mechanics.aave_v3.params import ReserveParams
from lendscope.mechanics.aave_v3.pool import AaveMarket
from lendscope.mechanics.maker.dss import Jug, Vat
from lendscope.mechanics.morpho_blue import market as mb
from lendscope.mechanics.morpho_blue.math import ORACLE_PRICE_SCALE

RATES = am.RateParams.from_bps(8000, 0, 400, 6000)
WETH = ReserveParams("WETH", 18, 8000, 8250, 10500, 1000, RATES, 0)
USDC = ReserveParams("USDC", 6, 8000, 8250, 10500, 1000, RATES, 0)


def rate(fn: Callable[[int], object], n: int) -> float:
    """Calls per second of ``fn(i)`` over ``n`` calls."""
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t)


def aave_ops(n: int) -> float:
    m = AaveMarket("3.6", [WETH, USDC], [2000 * 10**8, 10**8])
    m.supply("lp", 1, 10**15, 0)
    users = [f"u{i}" for i in range(64)]
    for k, u in enumerate(users):
        m.supply(u, 0, 10**18, 1)
        m.borrow(u, 1, 1000 * 10**6, 2 + k)

    def op(i: int) -> None:
        u = users[i % 64]
        now = 1000 + i
        if i % 2:
            m.repay(u, 1, 10**6, now)
        else:
            m.borrow(u, 1, 10**6, now)
        m.account_data(u, now)

    return rate(op, n) * 2  # two contract operations per call


def morpho_ops(n: int) -> float:
    params = mb.MarketParams("loan", "coll", "oracle", "irm", 86 * 10**16)
    market = mb.Market(10**24, 10**30, 6 * 10**23, 6 * 10**29, 0, 0)
    pos = mb.Position(0, 10**27, 10**21)
    price = 2000 * ORACLE_PRICE_SCALE

    def op(i: int) -> None:
        mb.accrue_interest(market, 10**9, market.last_update + 12)
        mb.health_factor(pos, market, params.lltv, price)
        mb.liquidation_amounts(market, params.lltv, price, 10**15, 0)

    return rate(op, n) * 3


def maker_ops(n: int) -> float:
    vat = Vat()
    jug = Jug(vat, "vow")
    vat.init("ETH-A")
    jug.init("ETH-A", 0)
    jug.file_duty("ETH-A", 1_000_000_000_627_937_192_491_029_810, 0)
    return rate(lambda i: jug.drip("ETH-A", 12 * (i + 1)), n)


def loop_hf(c, cp, d, dp, lt) -> list[float]:
    out = []
    for i in range(len(c)):
        den = d[i] * dp[i]
        out.append(c[i] * cp[i] * lt[i] / 1e4 / den if den > 0 else float("inf"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--positions", type=int, default=1_000_000)
    ap.add_argument("--ops", type=int, default=20_000)
    args = ap.parse_args()
    print(f"aave v3.6 exact ops/s (borrow|repay + account data): {aave_ops(args.ops // 4):,.0f}")
    print(f"morpho blue exact ops/s (accrue, HF, liquidation):     {morpho_ops(args.ops):,.0f}")
    print(f"maker jug.drip exact ops/s (rpow):                     {maker_ops(args.ops):,.0f}")
    rng = np.random.default_rng(0)
    n = args.positions
    c, d = rng.uniform(0.1, 100, n), rng.uniform(10, 100_000, n)
    cp, dp = np.full(n, 2000.0), np.ones(n)
    lt = rng.choice([7500.0, 8250.0, 8600.0], n)
    t = time.perf_counter()
    vec = aave_vec.health_factor_vec(c, cp, d, dp, lt)
    t_vec = time.perf_counter() - t
    lists = [x.tolist() for x in (c, cp, d, dp, lt)]
    t = time.perf_counter()
    ref = loop_hf(*lists)
    t_loop = time.perf_counter() - t
    assert np.allclose(vec, ref, rtol=1e-12)
    print(
        f"health factor, {n:,} positions: NumPy {t_vec * 1e3:.1f} ms, "
        f"Python loop {t_loop * 1e3:.0f} ms"
    )
    print(f"ratio={t_loop / t_vec:.1f} positions_per_s={n / t_vec:.3g}")


if __name__ == "__main__":
    main()

"""Throughput of the risk kernels vs their plain NumPy references (positionxscenario cells/s).

Usage: python benchmarks/bench_risk.py [--quick]
The cascade runs with temporary-impact decay and the borrower repay share on; ``run_var`` with
fitted jumps, bridge minima, impact and behaviour on the synthetic book.
Last line: ``ratio=<x> cells_per_s=<y>`` for the VaR kernel (Numba fused vs NumPy reference).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from collections.abc import Callable

import numpy as np

from lendscope.core.assets import ASSETS
from lendscope.risk.behaviour import Borrowers
from lendscope.risk.executors import cascade_mc
from lendscope.risk.kernels import (
    CascadeBook,
    CascadeParams,
    ThresholdBook,
    cascade,
    cascade_reference,
    var_kernel,
    var_reference,
)
from lendscope.risk.montecarlo import GBMModel, simulate
from lendscope.risk.synth import calibration, synth_book
from lendscope.risk.var import run_var


def best(fn: Callable[[], object], reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def book(n: int, k: int, seed: int = 0, uniform_lt: bool = False):
    rng = np.random.default_rng(seed)
    asset = rng.integers(0, k, n).astype(np.int32)
    coll = rng.lognormal(8, 1.5, n)
    debt = coll * rng.uniform(0.3, 0.85, n)
    lt = np.full(n, 0.86) if uniform_lt else rng.choice([0.78, 0.82, 0.86], n)
    return asset, coll, debt, lt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    q = ap.parse_args().quick
    n, m, k = 100_000, (2_000 if q else 10_000), len(ASSETS)
    rng = np.random.default_rng(1)
    shocks = np.exp(rng.normal(-0.1, 0.3, (m, k)))
    a, c, d, lt = book(n, k)

    var_kernel(a, c, d, lt, shocks[:64])  # warm up / load the Numba cache
    t_nb = best(lambda: var_kernel(a, c, d, lt, shocks))
    m_ref = 256 if q else 1_000
    t_ref = best(lambda: var_reference(a, c, d, lt, shocks[:m_ref]), 2)
    nb_cps, ref_cps = n * m / t_nb, n * m_ref / t_ref
    print(f"var_kernel    N={n:.0e} M={m:.0e}: {nb_cps:.3g} cells/s ({t_nb * 1e3:.1f} ms)")
    print(f"var_reference N={n:.0e} M={m_ref:.0e}: {ref_cps:.3g} cells/s")
    print(f"  numba / numpy = {nb_cps / ref_cps:.1f}x")

    tb = ThresholdBook.build(a, c, d, lt, k)
    t_th = best(lambda: tb.var(shocks))
    print(f"threshold VaR (sorted suffix sums): {n * m / t_th:.3g} cells/s equiv, "
          f"{m / t_th:.3g} scenarios/s, ratio to numpy {n * m / t_th / ref_cps:.0f}x")  # fmt: skip

    # 24-step hourly cascade on a 1M-position single-collateral (ETH) book.
    nc, paths, steps = 1_000_000, (50_000 if q else 200_000), 24
    ca, cc, cd, clt = book(nc, 1, 2, uniform_lt=True)
    t0 = time.perf_counter()
    cb = CascadeBook.build(ca, cc, cd, clt, 1)
    t_build = time.perf_counter() - t0
    model = GBMModel(("ETH",), [0.0], [0.9], [[1.0]], dt=1 / (365 * 24))
    # sqrt law with Y·sigma_day ≈ 0.05 and a $15B daily volume: a liquid ETH market; 70% of the
    # impact fades with a one-day (24-step) half-life; crossing borrowers save the hazard's cap.
    params = CascadeParams(
        close_factor=0.5, bonus=0.05, kind=[1], a=[0.05], b=[1.5e10], half_life=[24.0],
        permanent=[0.3], repay_share=float(Borrowers().share(0.99)),
    )  # fmt: skip
    S = simulate(model, paths, steps, seed=7)
    cascade(S[:1000], cb, params)  # warm up
    t_c = best(lambda: cascade(S, cb, params))
    n_ref = 2
    t_cref = best(lambda: cascade_reference(S[:n_ref], ca, cc, cd, clt, params), 1)
    c_cps, cref_cps = nc * paths / t_c, nc * n_ref / t_cref
    print(f"cascade kernel N=1e6 T={steps} paths={paths:.0e}: {paths / t_c:.3g} paths/s, "
          f"{c_cps:.3g} positionxpath cells/s (book build {t_build:.2f} s)")  # fmt: skip
    print(f"cascade brute-force NumPy reference: {n_ref / t_cref:.3g} paths/s, "
          f"ratio {c_cps / cref_cps:.0f}x")  # fmt: skip
    t_mc = best(lambda: cascade_mc(model, cb, paths, steps, 7, params), 1)
    print(f"cascade MC incl. path generation (serial): {paths / t_mc:.3g} paths/s")
    from lendscope.cli._common import _metrics

    sb = synth_book(calibration(_metrics(None, None)), 2000, 0, dt.date(2025, 1, 1))
    nv = 16_384 if q else 65_536
    run_var(sb, 1024)  # warm up
    for hz in ("1d", "7d"):
        t_v = best(lambda hz=hz: run_var(sb, nv, hz, seed=1), 1)
        r = run_var(sb, 1024, hz)
        print(f"run_var {hz} (jumps, bridge min, impact, behaviour; {len(sb.positions)} positions, "
              f"{r['monitoring_steps']} steps, serial): {nv / t_v:.3g} paths/s")  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS {rss:.2f} GiB")
    print(f"ratio={nb_cps / ref_cps:.1f} cells_per_s={nb_cps:.3g}")


if __name__ == "__main__":
    main()

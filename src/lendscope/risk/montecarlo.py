"""Seeded correlated GBM / Merton-jump price paths, Brownian bridges and calibration.

Randomness is organised in fixed *blocks* of paths: block ``i`` draws from
``np.random.SeedSequence(root).spawn(n_blocks)[i]``. Chunks (for memory) and executor tasks are
groups of whole blocks, so the same root seed gives bit-identical paths however the work is cut
or wherever it runs. Paths are price multipliers of the start price, shape
``(paths, steps + 1, assets)``, row 0 = 1.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

import numpy as np
from scipy.stats import norm

from lendscope.risk.kernels import evar99, expected_tail, lar95, var95

#: Paths per RNG block; part of the seed contract (changing it changes every result).
BLOCK = 4096


@dataclasses.dataclass(frozen=True)
class Jumps:
    """Merton jumps per asset: Poisson ``intensity`` per year, log jump ~ N(mean, std²).

    Assets with one ``group`` id share their jump draws (counts and the size's normal), so a
    wrapped or pegged asset jumps with its underlying; they must share the intensity.
    """

    intensity: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    group: np.ndarray | None = None


@dataclasses.dataclass(frozen=True)
class Bridge:
    """Pin ``asset``'s multiplier to ``target`` at ``step`` with a Brownian bridge."""

    asset: str
    step: int
    target: float


@dataclasses.dataclass(frozen=True)
class GBMModel:
    """Correlated GBM: dS/S = mu·dt + sigma·dW (annualised), ``dt`` in years per step."""

    assets: tuple[str, ...]
    mu: np.ndarray
    sigma: np.ndarray
    corr: np.ndarray
    dt: float = 1 / 365
    jumps: Jumps | None = None
    chol: np.ndarray = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        k = len(self.assets)
        for name in ("mu", "sigma"):
            arr = np.asarray(getattr(self, name), float)
            if arr.shape != (k,) or not np.isfinite(arr).all():
                raise ValueError(f"{name} must be {k} finite values, got shape {arr.shape}")
            object.__setattr__(self, name, arr)
        if (self.sigma < 0).any():
            raise ValueError("sigma must be >= 0")
        if not self.dt > 0:
            raise ValueError("dt must be > 0")
        object.__setattr__(self, "corr", c := np.asarray(self.corr, float))
        object.__setattr__(self, "chol", correlation_factor(c, k))
        if self.jumps is not None:
            for name in ("intensity", "mean", "std"):
                arr = np.asarray(getattr(self.jumps, name), float)
                if arr.shape != (k,) or (name != "mean" and (arr < 0).any()):
                    raise ValueError(f"jumps.{name} must be {k} values (>= 0 except mean)")
            g = self.jumps.group
            if g is not None:
                g, lam = np.asarray(g), np.asarray(self.jumps.intensity, float)
                if g.shape != (k,) or g.min() < 0 or g.max() >= k or (lam != lam[g]).any():
                    raise ValueError("jumps.group: ids in [0, k), one intensity per group")

    def index(self, asset: str) -> int:
        """Column of ``asset`` in the paths."""
        return self.assets.index(asset)


def correlation_factor(c: np.ndarray, k: int) -> np.ndarray:
    """A factor L with L·Lᵀ = c; validates shape, symmetry, unit diagonal and PSD."""
    if c.shape != (k, k):
        raise ValueError(f"correlation matrix must be {k}x{k}, got {c.shape}")
    if not np.allclose(c, c.T, atol=1e-12) or not np.allclose(np.diag(c), 1.0):
        raise ValueError("correlation matrix must be symmetric with a unit diagonal")
    if (np.abs(c) > 1 + 1e-12).any():
        raise ValueError("correlations must lie in [-1, 1]")
    w, v = np.linalg.eigh(c)
    if w.min() < -1e-10:
        raise ValueError(
            f"correlation matrix is not positive semi-definite (min eig {w.min():.3g})"
        )
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        # Singular but PSD (e.g. two perfectly correlated assets): symmetric square root.
        return v * np.sqrt(np.clip(w, 0, None))


def calibrate(prices: np.ndarray, dt: float, assets: Sequence[str]) -> GBMModel:
    """Fit mu, sigma and correlation from a price history of shape (times, assets)."""
    p = np.asarray(prices, float)
    if p.ndim != 2 or p.shape[1] != len(assets) or p.shape[0] < 3:
        raise ValueError("prices must be (times >= 3, len(assets))")
    if not (p > 0).all():
        raise ValueError("prices must be > 0")
    r = np.diff(np.log(p), axis=0)
    sigma = r.std(axis=0, ddof=1) / math.sqrt(dt)
    mu = r.mean(axis=0) / dt + 0.5 * sigma**2  # log drift → GBM drift
    corr = np.atleast_2d(np.corrcoef(r, rowvar=False))
    np.fill_diagonal(corr, 1.0)
    return GBMModel(tuple(assets), mu, sigma, corr, dt)


#: Jump threshold of :func:`fit_merton`, in robust standard deviations.
JUMP_K = 4.0


@dataclasses.dataclass(frozen=True)
class MertonFit:
    """One asset's jump-diffusion: annualised ``sigma``, jumps a year, log-jump mean / std."""

    sigma: float
    intensity: float
    mean: float
    std: float


def fit_merton(log_returns: np.ndarray, gaps: np.ndarray | None = None, k: float = JUMP_K):
    """Threshold fit of a Merton jump-diffusion to daily log returns.

    Each return is put on a one-day scale by √gap (``gaps``: days it spans, default 1); those
    more than ``k``·s from the median (robust s = 1.4826·MAD, which jumps barely move)
    are jumps: intensity = count / years observed, jump mean / std = their mean / std (std 0
    for a single jump). The diffusion sigma is the std of the remaining returns, annualised.
    """
    r = np.asarray(log_returns, float)
    g = np.ones_like(r) if gaps is None else np.asarray(gaps, float)
    if r.ndim != 1 or r.shape != g.shape or len(r) < 10 or (g <= 0).any():
        raise ValueError("need >= 10 returns with matching positive gaps")
    z = r / np.sqrt(g)
    med = np.median(z)
    robust = 1.4826 * np.median(np.abs(z - med))
    jump = np.abs(z - med) > k * robust if robust > 0 else np.zeros(len(z), bool)
    rest, js = z[~jump], z[jump]
    years = g.sum() / 365.0
    return MertonFit(
        float(rest.std(ddof=1) * math.sqrt(365.0)),
        float(len(js) / years),
        float(js.mean()) if len(js) else 0.0,
        float(js.std()) if len(js) > 1 else 0.0,
    )


def block_seeds(
    seed: int, n_paths: int, block: int = BLOCK
) -> list[tuple[int, np.random.SeedSequence, int]]:
    """(block index, child seed, paths in block) for every block of ``n_paths``."""
    n_blocks = -(-n_paths // block)
    kids = np.random.SeedSequence(seed).spawn(n_blocks)
    return [(i, s, min(block, n_paths - i * block)) for i, s in enumerate(kids)]


def simulate_block(
    model: GBMModel,
    steps: int,
    seq: np.random.SeedSequence,
    n: int,
    bridges: Sequence[Bridge] = (),
    dtype: type = np.float64,
) -> np.ndarray:
    """Paths of one block, shape (n, steps + 1, assets); depends only on ``seq`` and ``n``."""
    k, dt = len(model.assets), model.dt
    rng = np.random.Generator(np.random.PCG64(seq))
    z = rng.standard_normal((n, steps, k)) @ model.chol.T
    drift = (model.mu - 0.5 * model.sigma**2) * dt
    inc = drift + model.sigma * math.sqrt(dt) * z
    if model.jumps is not None:
        j = model.jumps
        g = slice(None) if j.group is None else np.asarray(j.group)  # members copy column g
        counts = rng.poisson(j.intensity * dt, (n, steps, k))[:, :, g]
        # A sum of N normal log-jumps is N(N·mean, N·std²); compensate the drift so E[S] keeps mu.
        eps = rng.standard_normal((n, steps, k))[:, :, g]
        inc += counts * j.mean + np.sqrt(counts) * j.std * eps
        inc -= j.intensity * (np.exp(j.mean + 0.5 * j.std**2) - 1) * dt
    x = np.zeros((n, steps + 1, k))
    np.cumsum(inc, axis=1, out=x[:, 1:])
    _pin(x, model, bridges, steps)
    return np.exp(x).astype(dtype, copy=False)


def simulate_parts(
    model: GBMModel, steps: int, seq: np.random.SeedSequence, n: int
) -> tuple[np.ndarray, np.ndarray | None, np.random.Generator]:
    """Log increments of one block split into (diffusion, jumps), each (n, steps, assets).

    The diffusion part carries the drift and the jump compensator; jumps (None without a jump
    model) are placed at the end of their step. The generator is returned, positioned after
    these draws, so callers draw further block-seeded randomness (bridge minima) from it.
    """
    k, dt = len(model.assets), model.dt
    rng = np.random.Generator(np.random.PCG64(seq))
    z = rng.standard_normal((n, steps, k)) @ model.chol.T
    diff = (model.mu - 0.5 * model.sigma**2) * dt + model.sigma * math.sqrt(dt) * z
    jumps = None
    if model.jumps is not None:
        j = model.jumps
        g = slice(None) if j.group is None else np.asarray(j.group)  # members copy column g
        counts = rng.poisson(j.intensity * dt, (n, steps, k))[:, :, g]
        eps = rng.standard_normal((n, steps, k))[:, :, g]
        jumps = counts * j.mean + np.sqrt(counts) * j.std * eps
        diff -= j.intensity * (np.exp(j.mean + 0.5 * j.std**2) - 1) * dt
    return diff, jumps, rng


def bridge_min(x0: np.ndarray, dx: np.ndarray, var: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Exact sample of the minimum of a Brownian bridge from x0 to x0 + dx, variance ``var``.

    Inverting P(min <= m) = exp(-2(x0 - m)(x1 - m)/var) at a uniform u in (0, 1] gives
    m = (x0 + x1 - √((x1 - x0)² - 2·var·ln u)) / 2; the law :func:`hit_probability` uses.
    """
    return x0 + 0.5 * (dx - np.sqrt(dx * dx - 2.0 * var * np.log(u)))


def _pin(x: np.ndarray, model: GBMModel, bridges: Sequence[Bridge], steps: int) -> None:
    """Condition log paths on pins: X_t += (t-k0)/(k1-k0)·(x* - X_k1), shifted after k1.

    For Brownian motion (with any drift) this is exactly the bridge conditional law; pins of one
    asset are applied in step order so earlier pins stay fixed. Other assets are not conditioned.
    """
    for b in sorted(bridges, key=lambda b: (b.asset, b.step)):
        if not 1 <= b.step <= steps or not b.target > 0:
            raise ValueError(f"bridge {b}: step must be in 1..{steps} and target > 0")
    by_asset: dict[str, list[Bridge]] = {}
    for b in bridges:
        by_asset.setdefault(b.asset, []).append(b)
    t = np.arange(steps + 1)
    for asset, pins in by_asset.items():
        col, k0 = model.index(asset), 0
        for b in sorted(pins, key=lambda b: b.step):
            gap = math.log(b.target) - x[:, b.step, col]
            w = np.clip((t - k0) / (b.step - k0), 0.0, 1.0)
            w[:k0] = 0.0
            x[:, :, col] += gap[:, None] * w[None, :]
            k0 = b.step


def iter_chunks(
    model: GBMModel,
    n_paths: int,
    steps: int,
    seed: int,
    chunk_paths: int,
    bridges: Sequence[Bridge] = (),
    dtype: type = np.float64,
    block: int = BLOCK,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first path index, paths) in chunks of whole blocks, <= ``chunk_paths`` paths."""
    per = max(1, chunk_paths // block)
    seeds = block_seeds(seed, n_paths, block)
    for g in range(0, len(seeds), per):
        group = seeds[g : g + per]
        parts = [simulate_block(model, steps, s, n, bridges, dtype) for _, s, n in group]
        yield group[0][0] * block, np.concatenate(parts)


def simulate(
    model: GBMModel,
    n_paths: int,
    steps: int,
    seed: int,
    bridges: Sequence[Bridge] = (),
    dtype: type = np.float64,
    chunk_paths: int = 8 * BLOCK,
    block: int = BLOCK,
) -> np.ndarray:
    """All paths, shape (n_paths, steps + 1, assets); identical for any ``chunk_paths``."""
    out = np.empty((n_paths, steps + 1, len(model.assets)), dtype)
    for start, chunk in iter_chunks(
        model, n_paths, steps, seed, chunk_paths, bridges, dtype, block
    ):
        out[start : start + len(chunk)] = chunk
    return out


def plan_chunk(budget_bytes: int, bytes_per_path: int, block: int = BLOCK) -> int:
    """Largest whole-block path count whose working set fits ``budget_bytes`` (≥ 1 block)."""
    return max(1, budget_bytes // (bytes_per_path * block)) * block


def first_passage_probability(log_drift: float, sigma: float, t: float, barrier: float) -> float:
    """P(min_{s≤t} S_s/S_0 ≤ barrier) for GBM with log drift ``log_drift`` (barrier < 1)."""
    b, st = math.log(barrier), sigma * math.sqrt(t)
    return float(
        norm.cdf((b - log_drift * t) / st)
        + math.exp(2 * log_drift * b / sigma**2) * norm.cdf((b + log_drift * t) / st)
    )


def hit_probability(paths: np.ndarray, barrier: float, sigma: float, dt: float) -> np.ndarray:
    """Per-path barrier-hit probability with the Brownian-bridge correction between steps.

    Between monitored points x0, x1 above log barrier b the bridge crosses with probability
    exp(-2(x0-b)(x1-b)/(sigma²·dt)); a path already at or below the barrier has probability 1.
    """
    x = np.log(np.asarray(paths, float)) - math.log(barrier)
    below = (x <= 0).any(axis=1)
    x0, x1 = np.clip(x[:, :-1], 0, None), np.clip(x[:, 1:], 0, None)
    survive = np.prod(1 - np.exp(-2 * x0 * x1 / (sigma**2 * dt)), axis=1)
    return np.where(below, 1.0, 1 - survive)


def quantile_se(x: np.ndarray, q: float) -> float:
    """Order-statistic standard error of the ``q`` quantile (distribution-free).

    The count below the true quantile is Binomial(n, q), so its rank is nq ± h, h = √(nq(1-q));
    the value spread per rank between the order statistics at nq - h and nq + h, times h.
    """
    n = len(x)
    h = float(np.sqrt(n * q * (1 - q)))
    lo, hi = max(int(np.floor(n * q - h)), 0), min(int(np.ceil(n * q + h)), n - 1)
    if hi <= lo:
        return 0.0
    part = np.partition(x, (lo, hi))
    return float((part[hi] - part[lo]) * h / (hi - lo))


def risk_stats(bad: np.ndarray, liq: np.ndarray) -> dict[str, float]:
    """Risk figures of per-path bad debt and liquidations, each with its standard error.

    Quantiles: :func:`quantile_se`; means: std / √n; the 99% tail mean: the tail's std / √(its
    size), ignoring the quantile's own noise.
    """
    n = len(bad)
    tail = bad[bad >= np.quantile(bad, 0.99)]
    out = {
        "var95_usd": var95(bad), "evar99_usd": evar99(bad),
        "expected_tail99_usd": expected_tail(bad, 0.99), "lar95_usd": lar95(liq),
        "mean_bad_debt_usd": float(bad.mean()), "mean_liquidated_usd": float(liq.mean()),
    }  # fmt: skip
    se = {
        "var95": quantile_se(bad, 0.95), "evar99": quantile_se(bad, 0.99),
        "expected_tail99": float(tail.std(ddof=1) / np.sqrt(len(tail))) if len(tail) > 1 else 0.0,
        "lar95": quantile_se(liq, 0.95),
        "mean_bad_debt": float(bad.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
        "mean_liquidated": float(liq.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
    }  # fmt: skip
    return out | {f"{k}_se_usd": v for k, v in se.items()}

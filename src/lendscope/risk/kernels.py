"""Position x scenario kernels: bad debt / liquidatable debt, risk metrics and the cascade.

A *book* is N single-collateral positions: ``asset`` (int32 column of the price array),
``coll`` (collateral value at the start price, USD), ``debt`` (USD) and ``lt`` (liquidation
threshold). A scenario is a row of per-asset price multipliers.

Determinism: Numba kernels run with ``fastmath=False`` and give every scenario (or path) to one
thread, which sums positions in book order; results are therefore bit-identical for any thread
count or executor, and exact on integer-valued books. Reassociation (fastmath) would buy little:
the inner loop already vectorises across independent scenario accumulators.
"""

from __future__ import annotations

import dataclasses

import numba as nb
import numpy as np

COARSE = 64  # cascade search index stride (positions per coarse entry)
SB = 32  # scenarios per register block: 4 AVX-512 vectors of accumulators per position pass


# --------------------------------------------------------------------------- VaR kernel
@nb.njit(parallel=True, cache=True, fastmath=False)
def _var_nb(asset, coll, debt, lt, st, bad, liq):  # pragma: no cover - compiled
    n_blocks = st.shape[1] // SB
    for blk in nb.prange(n_blocks):
        m0 = blk * SB
        accb = np.zeros(SB)
        accl = np.zeros(SB)
        for i in range(asset.shape[0]):
            a, c, d, lti = asset[i], coll[i], debt[i], lt[i]
            for j in range(SB):
                v = c * st[a, m0 + j]
                accb[j] += max(d - v, 0.0)
                accl[j] += d if v * lti < d else 0.0
        bad[m0 : m0 + SB] = accb
        liq[m0 : m0 + SB] = accl


def _book(asset, coll, debt, lt, n_assets: int):
    asset = np.ascontiguousarray(asset, np.int32)
    arrs = [np.ascontiguousarray(x, np.float64) for x in (coll, debt, lt)]
    if not all(x.shape == asset.shape for x in arrs) or asset.ndim != 1:
        raise ValueError("asset, coll, debt, lt must be 1-D arrays of one length")
    if asset.size and (asset.min() < 0 or asset.max() >= n_assets):
        raise ValueError(f"asset ids must lie in [0, {n_assets})")
    return asset, *arrs


def var_kernel(asset, coll, debt, lt, shocks) -> tuple[np.ndarray, np.ndarray]:
    """Per-scenario bad debt Σ max(0, d - c·S[a]) and liquidatable debt Σ d·[c·S[a]·LT < d].

    ``shocks`` has shape (scenarios, assets). Numba, parallel over scenario blocks.
    """
    shocks = np.asarray(shocks, np.float64)
    m, k = shocks.shape
    asset, coll, debt, lt = _book(asset, coll, debt, lt, k)
    pad = -m % SB
    # (assets, scenarios) so the SB shocks of one asset are contiguous for the inner loop.
    st = np.ones((k, m + pad))
    st[:, :m] = shocks.T
    bad, liq = np.empty(m + pad), np.empty(m + pad)
    _var_nb(asset, coll, debt, lt, st, bad, liq)
    return bad[:m], liq[:m]


def var_reference(asset, coll, debt, lt, shocks, block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Plain NumPy reference of :func:`var_kernel` (gather S[:, a], ``block`` scenarios a pass)."""
    shocks = np.asarray(shocks, np.float64)
    asset, coll, debt, lt = _book(asset, coll, debt, lt, shocks.shape[1])
    bad, liq = np.empty(len(shocks)), np.empty(len(shocks))
    for m0 in range(0, len(shocks), block):
        v = shocks[m0 : m0 + block][:, asset] * coll
        bad[m0 : m0 + block] = np.maximum(debt - v, 0.0).sum(axis=1)
        liq[m0 : m0 + block] = np.where(v * lt < debt, debt, 0.0).sum(axis=1)
    return bad, liq


# --------------------------------------------------------------------------- metrics
def var95(bad_debt: np.ndarray) -> float:
    """VaR: 95th percentile of per-scenario bad debt (Chaos Labs / Gauntlet; linear quantile)."""
    return float(np.quantile(bad_debt, 0.95))


def evar99(bad_debt: np.ndarray) -> float:
    """EVaR: 99th percentile of bad debt (Chaos Labs' definition, risk.md §1.2)."""
    return float(np.quantile(bad_debt, 0.99))


def expected_tail(x: np.ndarray, q: float = 0.99) -> float:
    """Mean of the outcomes at or beyond the ``q`` quantile (expected shortfall of the tail)."""
    x = np.asarray(x, float)
    return float(x[x >= np.quantile(x, q)].mean())


def lar95(liquidated: np.ndarray) -> float:
    """LaR: 95th percentile of liquidated (or liquidatable) debt (Gauntlet)."""
    return float(np.quantile(liquidated, 0.95))


# --------------------------------------------------------------------------- sorted thresholds
@dataclasses.dataclass(frozen=True)
class ThresholdBook:
    """Single-collateral book sorted by thresholds: O(log N) per scenario and asset.

    Bad debt at shock s is Σ_{t>s} d - s·Σ_{t>s} c with t = d/c; liquidatable debt is Σ_{u>s} d
    with u = d/(c·LT). Per asset, thresholds are sorted and suffix sums kept. The subtraction
    cancels, so agreement with brute force is ~1e-12 relative to the book's total debt.
    """

    n_assets: int
    t: list[np.ndarray]
    t_debt: list[np.ndarray]
    t_coll: list[np.ndarray]
    u: list[np.ndarray]
    u_debt: list[np.ndarray]

    @classmethod
    def build(cls, asset, coll, debt, lt, n_assets: int) -> ThresholdBook:
        """Sort one asset at a time; suffix sums have a trailing 0 for the empty suffix."""
        asset, coll, debt, lt = _book(asset, coll, debt, lt, n_assets)
        fields: dict[str, list] = {k: [] for k in ("t", "t_debt", "t_coll", "u", "u_debt")}
        with np.errstate(divide="ignore", invalid="ignore"):
            t_all = np.where(debt > 0, debt / coll, 0.0)  # c = 0 with d > 0 → inf: always bad
            u_all = np.where(debt > 0, debt / (coll * lt), 0.0)
        for a in range(n_assets):
            sel = asset == a
            for key, thr, sums in (("t", t_all, (debt, coll)), ("u", u_all, (debt,))):
                o = np.argsort(thr[sel], kind="stable")
                fields[key].append(thr[sel][o])
                for name, w in zip(("_debt", "_coll"), sums, strict=False):
                    fields[key + name].append(_suffix(w[sel][o]))
        return cls(n_assets, **fields)

    def var(self, shocks) -> tuple[np.ndarray, np.ndarray]:
        """(bad debt, liquidatable debt) per scenario row of ``shocks`` (scenarios, assets)."""
        shocks = np.asarray(shocks, np.float64)
        bad, liq = np.zeros(len(shocks)), np.zeros(len(shocks))
        for a in range(self.n_assets):
            if not len(self.t[a]):
                continue
            s = shocks[:, a]
            k = np.searchsorted(self.t[a], s, side="right")
            bad += self.t_debt[a][k] - s * self.t_coll[a][k]
            liq += self.u_debt[a][np.searchsorted(self.u[a], s, side="right")]
        return np.maximum(bad, 0.0), liq


def _suffix(w: np.ndarray) -> np.ndarray:
    out = np.zeros(len(w) + 1)
    out[:-1] = np.cumsum(w[::-1])[::-1]
    return out


# --------------------------------------------------------------------------- cascade
@dataclasses.dataclass(frozen=True)
class CascadeParams:
    """Liquidation rules, per-asset price impact and its decay (arrays indexed like the paths).

    ``kind`` 0 none, 1 square-root law max(1e-9, 1 - a·√(Q/b)), 2 constant product 1/(1 + Q/b)²,
    Q the collateral sold so far (USD at the start price; see ``Scenario.impact_params``). With
    ``half_life`` (steps) the multiplier is max(1e-9, 1 - perm·f(Q) - (1 - perm)·f(Q_temp)),
    f = 1 - multiplier, Q_temp sales decayed by 0.5^(1/half_life) a step, perm = ``permanent``.
    ``repay_share`` stands in for the engine's borrower hazard (at its cap once HF < 1): that
    share of each newly crossing position repays in full and leaves instead of being liquidated.
    """

    close_factor: float = 1.0
    bonus: float = 0.05
    kind: np.ndarray | None = None
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    tol: float = 1e-9
    max_iter: int = 30
    half_life: np.ndarray | None = None
    permanent: np.ndarray | None = None
    repay_share: float = 0.0

    def arrays(self, k: int) -> tuple[np.ndarray, ...]:
        """(kind, a, b, decay per step, permanent share), each of length ``k``."""
        kind = np.zeros(k, np.int8) if self.kind is None else np.asarray(self.kind, np.int8)
        a = np.zeros(k) if self.a is None else np.asarray(self.a, float)
        b = np.full(k, np.inf) if self.b is None else np.asarray(self.b, float)
        hl = np.full(k, np.inf) if self.half_life is None else np.asarray(self.half_life, float)
        perm = np.ones(k) if self.permanent is None else np.asarray(self.permanent, float)
        if not all(len(x) == k for x in (kind, a, b, hl, perm)):
            raise ValueError(f"impact arrays must have length {k}")
        if not 0 < self.close_factor <= 1 or self.bonus < 0:
            raise ValueError("close_factor must be in (0, 1] and bonus >= 0")
        if not 0 <= self.repay_share < 1 or (hl <= 0).any() or ((perm < 0) | (perm > 1)).any():
            raise ValueError("need 0 <= repay_share < 1, half_life > 0, permanent in [0, 1]")
        return kind, a, b, 0.5 ** (1.0 / hl), perm  # inf half-life → decay exactly 1.0


@dataclasses.dataclass(frozen=True)
class CascadeResult:
    """Per path and step (paths, steps): debt repaid by liquidators and new bad debt."""

    liquidated: np.ndarray
    bad_debt: np.ndarray
    impact: np.ndarray  # (paths, assets): final price-impact multiplier per asset


@dataclasses.dataclass(frozen=True)
class CascadeBook:
    """Positions sorted per asset by u = d/(c·LT) with prefix sums of c and d (CSR offsets)."""

    u: np.ndarray
    cpre: np.ndarray  # prefix sums per asset segment, each segment one longer than its positions
    dpre: np.ndarray
    off: np.ndarray  # positions of asset a: u[off[a]:off[a+1]]
    poff: np.ndarray  # prefix sums of asset a start at poff[a] = off[a] + a
    lt: np.ndarray  # the (uniform) liquidation threshold per asset
    cu: np.ndarray  # every COARSE-th u per asset segment (a small, cache-resident search index)
    coff: np.ndarray  # segment of asset a in cu starts at coff[a]

    @classmethod
    def build(cls, asset, coll, debt, lt, n_assets: int) -> CascadeBook:
        """Requires one LT per asset (as in Aave/Compound), which makes every set a suffix."""
        asset, coll, debt, lt = _book(asset, coll, debt, lt, n_assets)
        if (coll <= 0).any() or (lt <= 0).any() or (debt < 0).any():
            raise ValueError("cascade books need coll > 0, lt > 0 and debt >= 0")
        o = np.lexsort((debt / (coll * lt), asset))
        a_s, c_s, d_s = asset[o], coll[o], debt[o]
        lt_a = np.ones(n_assets)
        for a in range(n_assets):
            vals = np.unique(lt[asset == a])
            if len(vals) > 1:
                raise ValueError(f"asset {a}: one liquidation threshold per asset required")
            lt_a[a] = vals[0] if len(vals) else 1.0
        counts = np.bincount(a_s, minlength=n_assets)
        off = np.concatenate([[0], np.cumsum(counts)])
        cpre, dpre = np.zeros(len(o) + n_assets), np.zeros(len(o) + n_assets)
        for a in range(n_assets):
            s, e = off[a], off[a + 1]
            cpre[s + a + 1 : e + a + 1] = np.cumsum(c_s[s:e])
            dpre[s + a + 1 : e + a + 1] = np.cumsum(d_s[s:e])
        u = d_s / (c_s * lt_a[a_s])
        cu = [u[off[a] : off[a + 1] : COARSE] for a in range(n_assets)]
        coff = np.concatenate([[0], np.cumsum([len(x) for x in cu])])
        poff = off[:-1] + np.arange(n_assets)
        return cls(u, cpre, dpre, off, poff, lt_a, np.concatenate(cu), coff)


@nb.njit(cache=True, fastmath=False)
def _impact(kind, a, b, q):  # pragma: no cover - compiled
    if kind == 1:
        return max(1e-9, 1.0 - a * np.sqrt(q / b))
    if kind == 2:
        x = 1.0 + q / b
        return 1.0 / (x * x)
    return 1.0


@nb.njit(cache=True, fastmath=False)
def _impact_mix(kind, a, b, qp, qt, perm, dec):  # pragma: no cover - compiled
    if dec == 1.0:  # no decay: Q_temp = Q_perm, and today's arithmetic exactly
        return _impact(kind, a, b, qp)
    fp, ft = 1.0 - _impact(kind, a, b, qp), 1.0 - _impact(kind, a, b, qt)
    return max(1e-9, 1.0 - perm * fp - (1.0 - perm) * ft)


@nb.njit(cache=True, fastmath=False)
def _search(u, o0, n, cu, c0, x):  # pragma: no cover - compiled
    """First j in [0, n] with u[o0+j] > x.

    Bisects the cache-resident every-COARSE-th sample ``cu[c0:]``, then the <= COARSE-wide
    slice of ``u`` (a few cache lines instead of ~20 misses).
    """
    lo, hi = 0, (n + COARSE - 1) // COARSE
    while lo < hi:
        mid = (lo + hi) // 2
        if cu[c0 + mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    # u[(lo-1)·COARSE] <= x (or lo = 0) and u[lo·COARSE] > x (or past the end)
    hi = min(lo * COARSE, n)
    lo = max((lo - 1) * COARSE + 1, 0)
    while lo < hi:
        mid = (lo + hi) // 2
        if u[o0 + mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


# fmt: off
@nb.njit(parallel=True, cache=True, fastmath=False)
def _cascade_nb(
    S, u, cu, coff, cpre, dpre, off, poff, lt, kind, ia, ib, dec, perm, cf, bonus, rs, tol,
    max_iter, liq, bad, imp,
):  # pragma: no cover
    # fmt: on
    n_paths, t1, k = S.shape
    w = 1.0 - rs  # share of each crossing range liquidated (the rest repays)
    for p in nb.prange(n_paths):
        for a in range(k):
            o0, n, q0, c0 = off[a], off[a + 1] - off[a], poff[a], coff[a]
            qp, qt, mprev, hi = 0.0, 0.0, np.inf, n
            ka, aa, ba, lta, da, pa = kind[a], ia[a], ib[a], lt[a], dec[a], perm[a]
            g = 1.0
            for t in range(1, t1):
                if da != 1.0 and qp > 0.0:  # temporary impact fades between steps
                    qt *= da
                    g = _impact_mix(ka, aa, ba, qp, qt, pa, da)
                s = S[p, t, a]
                price = s * g  # g = impact of everything sold so far
                if n == 0 or hi == 0 or price >= mprev:
                    continue  # no new running minimum → nobody new crosses HF < 1
                for it in range(max_iter):
                    lo = _search(u, o0, n, cu, c0, price)  # newly liquidated: [lo, hi)
                    if lo == hi:  # nobody new: nothing sold, price stands
                        cx, dp, ec, units = 0.0, 0.0, hi, 0.0
                        break
                    # Collateral runs out (bad debt) when u > price / (cf·(1+bonus)·LT).
                    e = _search(u, o0, n, cu, c0, price / (cf * (1.0 + bonus) * lta))
                    ec = min(max(e, lo), hi)
                    cx = cpre[q0 + hi] - cpre[q0 + ec]
                    dp = dpre[q0 + ec] - dpre[q0 + lo]
                    units = w * (cx + cf * (1.0 + bonus) * dp / price)
                    nxt = s * _impact_mix(ka, aa, ba, qp + units, qt + units, pa, da)
                    if nxt >= price * (1.0 - tol) or it == max_iter - 1:
                        break
                    price = nxt  # more selling → lower price → more crossings (monotone)
                dx = dpre[q0 + hi] - dpre[q0 + ec]
                liq[p, t - 1] += w * (cx * price / (1.0 + bonus) + cf * dp)
                bad[p, t - 1] += w * (dx - cx * price / (1.0 + bonus))
                qp += units
                qt += units
                g = _impact_mix(ka, aa, ba, qp, qt, pa, da)
                mprev, hi = price, lo
            imp[p, a] = g


def cascade(paths, book: CascadeBook, params: CascadeParams | None = None) -> CascadeResult:
    """Liquidation cascade over ``paths`` (paths, steps + 1, assets) of price multipliers.

    Each step a position is liquidated once when HF = c·P·LT/d < 1 at the clearing price P. The
    liquidator repays cf·d and seizes cf·d·(1+bonus)/P of collateral, or all of it when that is
    short, the remaining debt becoming bad debt. Seized collateral is sold at once, moving the
    asset's price via its impact curve; P is the bounded fixed point of that feedback. Residuals
    of partial (cf < 1) liquidations are not re-liquidated. Sorting by u = d/(c·LT) makes every
    set a contiguous range, so a step costs O(log N) with prefix sums, independent of N.
    """
    S = np.ascontiguousarray(paths, np.float64)
    n, t1, k = S.shape
    params = params or CascadeParams()
    if len(book.off) != k + 1:
        raise ValueError(f"book has {len(book.off) - 1} assets, paths have {k}")
    arrs = params.arrays(k)
    liq, bad, imp = np.zeros((n, t1 - 1)), np.zeros((n, t1 - 1)), np.ones((n, k))
    bk = (book.u, book.cu, book.coff, book.cpre, book.dpre, book.off, book.poff, book.lt)
    p = (params.close_factor, params.bonus, params.repay_share, params.tol, params.max_iter)
    _cascade_nb(S, *bk, *arrs, *p, liq, bad, imp)
    return CascadeResult(liq, bad, imp)


def cascade_reference(
    paths, asset, coll, debt, lt, params: CascadeParams = CascadeParams()
) -> CascadeResult:
    """Brute-force cascade on an unsorted book (per-position HF tests); for small books only."""
    S = np.asarray(paths, np.float64)
    n, t1, k = S.shape
    params = params or CascadeParams()
    asset, coll, debt, lt = _book(asset, coll, debt, lt, k)
    kind, ia, ib, dec, perm = params.arrays(k)
    cf, g, w = params.close_factor, 1.0 + params.bonus, 1.0 - params.repay_share
    liq, bad, imp = np.zeros((n, t1 - 1)), np.zeros((n, t1 - 1)), np.ones((n, k))
    for p in range(n):
        for a in range(k):
            sel = asset == a
            c, d, lta, alive = coll[sel], debt[sel], lt[sel], np.ones(sel.sum(), bool)
            mix = (kind[a], ia[a], ib[a])

            def imp_at(qp: float, qt: float, a: int = a, mix: tuple = mix) -> float:
                return _impact_mix(*mix, qp, qt, perm[a], dec[a])

            qp, qt, mprev = 0.0, 0.0, np.inf
            for t in range(1, t1):
                qt *= dec[a]
                s = S[p, t, a]
                price = s * imp_at(qp, qt)
                if price >= mprev:
                    continue
                for it in range(params.max_iter):
                    hit = alive & (c * price * lta < d)
                    out = hit & (c * price < cf * d * g)  # collateral exhausted
                    part = hit & ~out
                    units = w * (c[out].sum() + (cf * d[part] * g / price).sum())
                    nxt = s * imp_at(qp + units, qt + units)
                    if nxt >= price * (1 - params.tol) or it == params.max_iter - 1:
                        break
                    price = nxt
                liq[p, t - 1] += w * ((c[out] * price / g).sum() + (cf * d[part]).sum())
                bad[p, t - 1] += w * (d[out] - c[out] * price / g).sum()
                qp += units
                qt += units
                alive &= ~hit
                mprev = price
            imp[p, a] = imp_at(qp, qt)
    return CascadeResult(liq, bad, imp)

"""Prices that behave: every asset follows its underlying, and forced sales move shared pools.

**Dependency map.** An asset a scenario does not name is priced from its underlying
(:data:`UNDERLYING`): WBTC → BTC, wstETH → stETH (times the Lido share-rate accrual) → ETH,
GBTC → BTC, assets with no underlying of their own follow the market factor they trade with
(SOL, alt → ETH; miner collateral → BTC), and stablecoins stay at their peg unless the scenario
gives them a depeg path.

**Pools.** Forced sales are sold into one liquidity pool per underlying market (:data:`POOL`:
stETH and wstETH share the stETH pool, WBTC and BTC the BTC market). A pool's impact multiplier
reaches every asset priced through it, down the dependency chain: selling wstETH lowers stETH
and wstETH; selling ETH lowers ETH, stETH and wstETH.

**Impact.** With Q_perm the pool's cumulative sales and Q_temp its sales decayed with half-life
``half_life_days``, the pool multiplier is
``max(floor, 1 - permanent·f(Q_perm) - (1 - permanent)·f(Q_temp))``, f being the square-root
law ``coef·√(Q/adv)`` or the constant-product drop ``1 - 1/(1 + Q/depth)²``. The floor is the
level the depth implies: the impact of selling one whole day's volume (sqrt) or the whole
reserve (cpmm) at once. Defaults and their sources: ``docs/risk-calibration.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lendscope.core.assets import ASSETS

#: asset → (underlying, log beta): multiplier = underlying multiplier ** beta.
UNDERLYING: dict[str, tuple[str, float]] = {
    "WBTC": ("BTC", 1.0), "GBTC": ("BTC", 1.0), "stETH": ("ETH", 1.0), "wstETH": ("stETH", 1.0),
    "SOL": ("ETH", 1.0), "alt": ("ETH", 1.0), "miner_collateral": ("BTC", 1.0),
    "LUNA": ("ETH", 1.0), "FTT": ("ETH", 1.0), "CEL": ("ETH", 1.0),
}  # fmt: skip
#: Stablecoins: at their peg (1 USD) unless a scenario gives a path.
STABLE = ("USDC", "USDT", "DAI", "UST")
#: Liquidity pool each asset is sold into (an asset priced through another's pool shares it).
POOL: dict[str, str] = {a: a for a in ASSETS} | {"wstETH": "stETH", "WBTC": "BTC"}
#: wstETH/stETH share-rate accrual per year (Lido staking APR, ``docs/risk-calibration.md``).
LIDO_APR = 0.04
IMPACT_MODELS = ("none", "sqrt", "cpmm")


@dataclasses.dataclass(frozen=True)
class PoolLiquidity:
    """Impact parameters of one pool (USD at the scenario's start prices)."""

    model: str = "none"
    coef: float = 0.0
    adv_usd: float = math.inf
    depth_usd: float = math.inf
    impact_multiplier: float = 1.0
    half_life_days: float = 1.0
    permanent: float = 0.5
    floor: float | None = None  # None: implied by the depth (see the module docstring)
    #: Lowest price (multiple of the start price) forced sales can push the pool's assets to,
    #: e.g. a stablecoin's reserve backing; a scenario path below it is kept as it is.
    price_floor: float | None = None

    def drop(self, q: np.ndarray | float) -> np.ndarray:
        """Fractional price drop f(Q) of having sold ``q``."""
        q = np.asarray(q, float) * self.impact_multiplier
        if self.model == "sqrt":
            return self.coef * np.sqrt(q / self.adv_usd)
        if self.model == "cpmm":
            return 1.0 - 1.0 / (1.0 + q / self.depth_usd) ** 2
        return np.zeros_like(q)

    def min_multiplier(self) -> float:
        """The floor: given, or the drop of selling one day's volume / the whole reserve."""
        if self.floor is not None:
            return self.floor
        if self.model == "sqrt":
            return max(0.0, 1.0 - self.coef)
        if self.model == "cpmm":
            return 0.25
        return 1.0


#: Pools a scenario leaves out (USD; ``docs/risk-calibration.md`` gives each figure's source).
DEFAULT_LIQUIDITY: dict[str, PoolLiquidity] = {
    "BTC": PoolLiquidity("sqrt", coef=0.04, adv_usd=2.0e10, half_life_days=1.0, permanent=0.3),
    "ETH": PoolLiquidity("sqrt", coef=0.05, adv_usd=1.0e10, half_life_days=1.0, permanent=0.3),
    # Since Lido's withdrawals opened (May 2023) stETH redeems 1:1 for ETH after the queue, so
    # forced sales cannot open more than a small discount (2% here); 2022 had no such floor and
    # its scenario gives its own pool.
    "stETH": PoolLiquidity("cpmm", depth_usd=2.0e9, half_life_days=3.0, permanent=0.3, floor=0.98),
    "GBTC": PoolLiquidity("sqrt", coef=0.05, adv_usd=2.0e8, half_life_days=1.0, permanent=0.3),
    "SOL": PoolLiquidity("sqrt", coef=0.07, adv_usd=2.0e9, half_life_days=1.0, permanent=0.3),
    "alt": PoolLiquidity("sqrt", coef=0.08, adv_usd=5.0e9, half_life_days=1.0, permanent=0.3),
    "miner_collateral": PoolLiquidity(
        "sqrt", coef=0.2, adv_usd=2.0e7, half_life_days=5.0, permanent=0.5
    ),
    "FTT": PoolLiquidity("sqrt", coef=0.1, adv_usd=1.0e8, half_life_days=1.0, permanent=0.5),
    "CEL": PoolLiquidity("sqrt", coef=0.1, adv_usd=2.0e7, half_life_days=1.0, permanent=0.5),
}


def chain(asset: str) -> list[str]:
    """``asset`` and the underlyings it is priced through, nearest first."""
    out = [asset]
    while out[-1] in UNDERLYING:
        out.append(UNDERLYING[out[-1]][0])
    return out


def complete_paths(
    named: Mapping[str, np.ndarray], days: int, lido_apr: float = LIDO_APR
) -> np.ndarray:
    """Multipliers of every asset in ``ASSETS`` order, shape (days + 1, len(ASSETS)).

    Named paths are kept; every other asset follows its underlying (stablecoins: their peg;
    wstETH also accrues the Lido share rate).
    """
    cols: dict[str, np.ndarray] = {a: np.asarray(v, float) for a, v in named.items()}
    t = np.arange(days + 1) / 365.0

    def col(a: str) -> np.ndarray:
        if a in cols:
            return cols[a]
        if a in UNDERLYING:
            base, beta = UNDERLYING[a]
            path = col(base) ** beta
            if a == "wstETH":
                path = path * (1.0 + lido_apr) ** t
        else:
            path = np.ones(days + 1)
        cols[a] = path
        return path

    return np.stack([col(a) for a in ASSETS], axis=1)


def exposure_matrix() -> np.ndarray:
    """(assets, pools) 0/1: pool p's impact reaches asset a (p on a's dependency chain)."""
    pools = sorted(set(POOL.values()), key=ASSETS.index)
    m = np.zeros((len(ASSETS), len(pools)))
    for i, a in enumerate(ASSETS):
        for u in chain(a):
            m[i, pools.index(POOL[u])] = 1.0
    return m


class Market:
    """Per-pool impact state through one scenario run (cumulative and decaying sales)."""

    def __init__(self, liquidity: Mapping[str, PoolLiquidity], excess_share: float = 1.0):
        self.pools = sorted(set(POOL.values()), key=ASSETS.index)
        self.liq = [liquidity.get(p, PoolLiquidity()) for p in self.pools]
        self.expo = exposure_matrix()
        self.pool_of = np.array([self.pools.index(POOL[a]) for a in ASSETS])
        self.excess = float(excess_share)
        self.perm = np.zeros(len(self.pools))
        self.temp = np.zeros(len(self.pools))
        self.decay = np.array([0.5 ** (1.0 / p.half_life_days) for p in self.liq])
        self.floor = np.array([p.min_multiplier() for p in self.liq])
        self.kind = np.array([IMPACT_MODELS.index(p.model) for p in self.liq])
        self.coef, self.adv, self.depth, self.mult, self.share = (
            np.array([getattr(p, k) for p in self.liq], float)
            for k in ("coef", "adv_usd", "depth_usd", "impact_multiplier", "permanent")
        )

    def pool_multipliers(self, extra: np.ndarray | None = None) -> np.ndarray:
        """Impact multiplier per pool, with ``extra`` sales (per pool) not yet booked."""
        x = 0.0 if extra is None else extra
        d = self.share * self._drop(self.perm + x) + (1 - self.share) * self._drop(self.temp + x)
        return np.where(self.kind == 0, 1.0, np.maximum(self.floor, 1.0 - d))

    def _drop(self, q: np.ndarray) -> np.ndarray:
        """:meth:`PoolLiquidity.drop` for every pool at once."""
        q = q * self.mult
        with np.errstate(divide="ignore", invalid="ignore"):
            sq = self.coef * np.sqrt(q / self.adv)
            cp = 1.0 - 1.0 / (1.0 + q / self.depth) ** 2
        return np.where(self.kind == 1, sq, np.where(self.kind == 2, cp, 0.0))

    def multipliers(self, extra: np.ndarray | None = None) -> np.ndarray:
        """Impact multiplier per asset (product over the pools on its chain)."""
        return np.exp(self.expo @ np.log(self.pool_multipliers(extra)))

    def floor_prices(self, base: np.ndarray, prices: np.ndarray) -> np.ndarray:
        """Apply each pool's ``price_floor`` to its own assets (never above the scenario path)."""
        out = prices
        for i, p in enumerate(self.liq):
            if p.price_floor is not None:
                m = self.pool_of == i
                out = np.where(m, np.maximum(prices, np.minimum(base, p.price_floor)), out)
        return out

    def to_pools(self, sold_by_asset: np.ndarray) -> np.ndarray:
        """Sales per asset (USD at start prices) → the excess that reaches each pool."""
        return np.bincount(self.pool_of, sold_by_asset, len(self.pools)) * self.excess

    def book(self, pooled: np.ndarray) -> None:
        """Add pooled sales to both the permanent and the temporary state."""
        self.perm += pooled
        self.temp += pooled

    def end_of_day(self) -> None:
        """Temporary impact decays by one day."""
        self.temp *= self.decay


def parse_liquidity(v: Any, spec: Any) -> dict[str, PoolLiquidity]:
    """A scenario's ``liquidity``, per pool; an asset key names its pool (wstETH → stETH).

    ``v`` is the scenario validator (``fail``, ``need``, ``asset``, ``positive``), so errors name
    the file and the field.
    """
    if not isinstance(spec, Mapping):
        v.fail("liquidity", "expected a mapping of asset → parameters")
    out: dict[str, PoolLiquidity] = {}
    known = {f.name for f in dataclasses.fields(PoolLiquidity)}
    for asset, p in spec.items():
        f = f"liquidity.{asset}"
        v.asset(asset, f)
        if not isinstance(p, Mapping):
            v.fail(f, "expected a mapping")
        model = p.get("model", "sqrt")
        if model not in IMPACT_MODELS:
            v.fail(f"{f}.model", f"must be one of {sorted(IMPACT_MODELS)}, got {model!r}")
        unknown = set(p) - known
        if unknown:
            v.fail(f"{f}.{sorted(unknown)[0]}", "unknown field")
        if model == "sqrt":
            v.need(p, "coef", f"{f}.coef"), v.need(p, "adv_usd", f"{f}.adv_usd")
        if model == "cpmm":
            v.need(p, "depth_usd", f"{f}.depth_usd")
        for k in ("adv_usd", "depth_usd", "impact_multiplier", "half_life_days"):
            if k in p:
                v.positive(p[k], f"{f}.{k}")
        for k in ("coef", "permanent", "floor", "price_floor"):
            x = p.get(k)
            hi = math.inf if k == "coef" else 1.0
            if x is not None and not (
                isinstance(x, int | float) and not isinstance(x, bool) and 0 <= x <= hi
            ):
                v.fail(f"{f}.{k}", f"must be a number in [0, {hi}], got {x!r}")
        pool = POOL[asset]
        if pool in out:
            v.fail(f, f"pool {pool!r} is given twice (its assets share one market)")
        out[pool] = PoolLiquidity(**{k: (x if k == "model" else float(x)) for k, x in p.items()})
    return out

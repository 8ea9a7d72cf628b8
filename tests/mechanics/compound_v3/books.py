"""A cUSDCv3-like configuration and random Comet books shared by the Compound v3 tests."""

from __future__ import annotations

import numpy as np

from lendscope.mechanics.compound_v3.comet import Comet
from lendscope.mechanics.compound_v3.config import AssetConfig, CometConfig
from lendscope.mechanics.compound_v3.math import SECONDS_PER_YEAR

E18 = 10**18
E8 = 10**8
E6 = 10**6


def usdc_config(**kw) -> CometConfig:
    """cUSDCv3-like parameters (per-year figures as passed to the constructor)."""
    base = dict(
        supply_kink=8 * 10**17,
        supply_per_year_interest_rate_slope_low=325 * 10**14,
        supply_per_year_interest_rate_slope_high=4 * 10**17,
        supply_per_year_interest_rate_base=0,
        borrow_kink=8 * 10**17,
        borrow_per_year_interest_rate_slope_low=35 * 10**15,
        borrow_per_year_interest_rate_slope_high=25 * 10**16,
        borrow_per_year_interest_rate_base=15 * 10**15,
        store_front_price_factor=5 * 10**17,
        base_decimals=6,
        base_borrow_min=100 * E6,
        target_reserves=5_000_000 * E6,
        assets=(
            AssetConfig("WETH", 18, 825 * 10**15, 895 * 10**15, 95 * 10**16, 2000 * E8),
            AssetConfig("WBTC", 8, 70 * 10**16, 77 * 10**16, 95 * 10**16, 30_000 * E8),
        ),
    )
    base.update(kw)
    return CometConfig(**base)


def random_book(rng: np.random.Generator, n: int):
    cfg = usdc_config()
    c = Comet(cfg, now=0)
    c.supply_base("lender", 10**15, now=0)
    weth = rng.uniform(0.5, 50, n)
    wbtc = rng.uniform(0.0, 3, n)
    for i in range(n):
        a = f"u{i}"
        c.supply_collateral(a, "WETH", int(weth[i] * E18))
        c.supply_collateral(a, "WBTC", int(wbtc[i] * E8))
        limit = (weth[i] * 2000 * 0.825 + wbtc[i] * 30_000 * 0.7) * E6
        c.withdraw_base(a, int(limit * rng.uniform(0.3, 0.999)), now=0)
    c.accrue(int(rng.integers(0, SECONDS_PER_YEAR)))
    c.prices["WETH"] = int(2000 * E8 * rng.uniform(0.45, 1.02))
    c.prices["WBTC"] = int(30_000 * E8 * rng.uniform(0.45, 1.02))
    accounts = [f"u{i}" for i in range(n)]
    debt = np.array([c.borrow_balance_of(a) for a in accounts], float)
    coll = np.array(
        [[c.user(a).collateral["WETH"], c.user(a).collateral["WBTC"]] for a in accounts], float
    )
    prices = np.array([c.prices["WETH"], c.prices["WBTC"]], float)
    scales = np.array([E18, E8], float)
    return c, accounts, debt, coll, prices, scales

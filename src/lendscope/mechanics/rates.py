"""Borrow and supply rates of the lending protocols' rate models, at a utilization.

Each model is evaluated with the protocol's own integer math (Aave ray, Comet per-second
1e18, Morpho per-second wad) and reported as APR and APY fractions. APY compounds per
second, as the protocols accrue on every second of block time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from lendscope.mechanics.aave_v3.math import RateParams, interest_rates_v36
from lendscope.mechanics.compound_v3.comet import Comet
from lendscope.mechanics.compound_v3.config import CometConfig
from lendscope.mechanics.intmath import PERCENTAGE_FACTOR, RAY, WAD
from lendscope.mechanics.morpho_blue import irm as morpho_irm

SECONDS_PER_YEAR = 365 * 86400
MODELS = ("aave-v3", "compound-v3", "morpho-adaptive")


class RateParamError(ValueError):
    """A rate-model parameter is out of its valid range; the message names it."""


@dataclass(frozen=True)
class Rates:
    """Rates at one utilization, as fractions per year."""

    utilization: float
    borrow_apr: float
    supply_apr: float

    @property
    def borrow_apy(self) -> float:
        """Per-second compounding of the borrow APR."""
        return apy(self.borrow_apr)

    @property
    def supply_apy(self) -> float:
        """Per-second compounding of the supply APR."""
        return apy(self.supply_apr)

    def as_dict(self) -> dict[str, float]:
        """The JSON keys of ``lendscope rates``."""
        return {
            "utilization": self.utilization,
            "borrow_apr": self.borrow_apr,
            "supply_apr": self.supply_apr,
            "borrow_apy": self.borrow_apy,
            "supply_apy": self.supply_apy,
        }


def apy(apr: float) -> float:
    """``(1 + apr / n) ** n - 1`` with one compounding per second of a year."""
    return math.expm1(SECONDS_PER_YEAR * math.log1p(apr / SECONDS_PER_YEAR))


def _check(name: str, value: float, lo: float, hi: float | None = None, *, open_: bool = False):
    bad = (
        (value <= lo or (hi is not None and value >= hi))
        if open_
        else (value < lo or (hi is not None and value > hi))
    )
    if bad or math.isnan(value):
        rng = f"({lo}, {hi})" if open_ else f"[{lo}, {'inf' if hi is None else hi}]"
        raise RateParamError(f"{name} = {value:g} is outside {rng}")


def _ray(x: float) -> int:
    return round(Fraction(x) * RAY)  # exact: float(RAY) is not


def _wad(x: float) -> int:
    return round(Fraction(x) * WAD)


def aave_v3(
    utilization: float,
    *,
    optimal: float = 0.9,
    base: float = 0.0,
    slope1: float = 0.04,
    slope2: float = 0.6,
    reserve_factor: float = 0.1,
    ltv: float | None = None,
    liquidation_threshold: float | None = None,
) -> Rates:
    """Aave v3.2+ ``DefaultReserveInterestRateStrategyV2`` at ``utilization`` (no deficit)."""
    _check("optimal", optimal, 0.0, 1.0, open_=True)
    for name, v in (("base", base), ("slope1", slope1), ("slope2", slope2)):
        _check(name, v, 0.0)
    _check("reserve_factor", reserve_factor, 0.0, 1.0)
    _check("utilization", utilization, 0.0, 1.0)
    if ltv is not None or liquidation_threshold is not None:
        if ltv is None or liquidation_threshold is None:
            raise RateParamError("give both ltv and liquidation_threshold, or neither")
        _check("ltv", ltv, 0.0, 1.0)
        _check("liquidation_threshold", liquidation_threshold, 0.0, 1.0)
        if liquidation_threshold < ltv:
            raise RateParamError(
                f"liquidation_threshold = {liquidation_threshold:g} is below ltv = {ltv:g}"
            )
    p = RateParams(_ray(optimal), _ray(base), _ray(slope1), _ray(slope2))
    # Debt and available liquidity in the ratio of the utilization; the curve is scale-free.
    debt = _ray(utilization)
    rf = round(reserve_factor * PERCENTAGE_FACTOR)
    lr, vr = interest_rates_v36(p, RAY - debt, debt, rf, 0)
    return Rates(utilization, vr / RAY, lr / RAY)


def compound_v3(
    utilization: float,
    *,
    kink: float = 0.9,
    supply_base: float = 0.0,
    supply_slope_low: float = 0.035,
    supply_slope_high: float = 0.4,
    borrow_base: float = 0.015,
    borrow_slope_low: float = 0.04,
    borrow_slope_high: float = 0.5,
) -> Rates:
    """Comet's kinked supply and borrow curves (``getSupplyRate``/``getBorrowRate``).

    Comet sets the supply rate by its own curve, not from the borrow rate, so there is no
    reserve factor parameter.
    """
    _check("kink", kink, 0.0, 1.0, open_=True)
    for name, v in (("supply_base", supply_base), ("supply_slope_low", supply_slope_low),
                    ("supply_slope_high", supply_slope_high), ("borrow_base", borrow_base),
                    ("borrow_slope_low", borrow_slope_low),
                    ("borrow_slope_high", borrow_slope_high)):  # fmt: skip
        _check(name, v, 0.0)
    _check("utilization", utilization, 0.0, 1.0)
    cfg = CometConfig(
        supply_kink=_wad(kink),
        supply_per_year_interest_rate_slope_low=_wad(supply_slope_low),
        supply_per_year_interest_rate_slope_high=_wad(supply_slope_high),
        supply_per_year_interest_rate_base=_wad(supply_base),
        borrow_kink=_wad(kink),
        borrow_per_year_interest_rate_slope_low=_wad(borrow_slope_low),
        borrow_per_year_interest_rate_slope_high=_wad(borrow_slope_high),
        borrow_per_year_interest_rate_base=_wad(borrow_base),
        store_front_price_factor=_wad(0.5),
    )
    market = Comet(cfg)
    u = _wad(utilization)
    per_s_b, per_s_s = market.get_borrow_rate(u), market.get_supply_rate(u)
    return Rates(utilization, per_s_b * SECONDS_PER_YEAR / WAD, per_s_s * SECONDS_PER_YEAR / WAD)


def morpho_adaptive(utilization: float, *, rate_at_target: float = 0.04, fee: float = 0.0) -> Rates:
    """Morpho's AdaptiveCurveIrm curve at ``utilization`` for a given rate at target (APR)."""
    lo = morpho_irm.MIN_RATE_AT_TARGET * SECONDS_PER_YEAR / WAD
    hi = morpho_irm.MAX_RATE_AT_TARGET * SECONDS_PER_YEAR / WAD
    _check("rate_at_target", rate_at_target, lo, hi)
    _check("fee", fee, 0.0, 0.25)
    _check("utilization", utilization, 0.0, 1.0)
    rat = _wad(rate_at_target) // SECONDS_PER_YEAR
    rate, _ = morpho_irm.borrow_rate_from_utilization(_wad(utilization), rat, 0)
    borrow = rate * SECONDS_PER_YEAR / WAD
    return Rates(utilization, borrow, borrow * utilization * (1 - fee))


_FUNCS = {"aave-v3": aave_v3, "compound-v3": compound_v3, "morpho-adaptive": morpho_adaptive}
PARAMS = {
    m: tuple(
        a for a in f.__code__.co_varnames[1 : f.__code__.co_argcount + f.__code__.co_kwonlyargcount]
    )
    for m, f in _FUNCS.items()
}


def evaluate(model: str, utilization: float, **params: float | None) -> Rates:
    """Dispatch to one model; a parameter of another model raises :class:`RateParamError`."""
    if model not in _FUNCS:
        raise RateParamError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
    given = {k: v for k, v in params.items() if v is not None}
    foreign = [k for k in given if k not in PARAMS[model]]
    if foreign:
        flags = ", ".join("--" + k.replace("_", "-") for k in foreign)
        raise RateParamError(
            f"{model} does not take {flags}; it takes "
            + ", ".join("--" + k.replace("_", "-") for k in PARAMS[model])
        )
    return _FUNCS[model](utilization, **given)


def curve(model: str, points: int = 101, **params: float | None) -> list[Rates]:
    """The model over utilization 0..1 in ``points`` steps."""
    return [evaluate(model, i / (points - 1), **params) for i in range(points)]

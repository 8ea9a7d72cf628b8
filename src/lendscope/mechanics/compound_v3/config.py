"""Compound v3 (Comet) configuration and account records.

``CometConfiguration.AssetConfig``/``CometCore.AssetInfo``, the constructor's configuration (with
its sanity checks and per-year to per-second rate conversion) and the ``UserBasic``/``absorb``
records, from ``compound-finance/comet`` ``contracts/`` (checked at commit d5a30b0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lendscope.mechanics.compound_v3.math import (
    FACTOR_DESCALE,
    FACTOR_SCALE,
    MAX_ASSETS,
    PRICE_SCALE,
    SECONDS_PER_YEAR,
    CometRevert,
)


@dataclass(frozen=True)
class AssetConfig:
    """One collateral asset (``CometConfiguration.AssetConfig``); factors scaled by 1e18."""

    name: str
    decimals: int
    borrow_collateral_factor: int
    liquidate_collateral_factor: int
    liquidation_factor: int
    price: int  # initial price, 8 decimals
    supply_cap: int = 2**127


@dataclass(frozen=True)
class AssetInfo:
    """``CometCore.AssetInfo`` as returned by ``getAssetInfo`` (factors truncated to 4 decimals)."""

    offset: int
    name: str
    scale: int
    borrow_collateral_factor: int
    liquidate_collateral_factor: int
    liquidation_factor: int
    supply_cap: int


@dataclass(frozen=True)
class CometConfig:
    """Constructor configuration; per-year rates are divided by ``SECONDS_PER_YEAR`` (floor)."""

    supply_kink: int
    supply_per_year_interest_rate_slope_low: int
    supply_per_year_interest_rate_slope_high: int
    supply_per_year_interest_rate_base: int
    borrow_kink: int
    borrow_per_year_interest_rate_slope_low: int
    borrow_per_year_interest_rate_slope_high: int
    borrow_per_year_interest_rate_base: int
    store_front_price_factor: int
    base_decimals: int = 6
    base_price: int = PRICE_SCALE
    base_borrow_min: int = 0
    target_reserves: int = 0
    assets: tuple[AssetConfig, ...] = ()
    supply_slope_low: int = field(init=False)
    supply_slope_high: int = field(init=False)
    supply_base: int = field(init=False)
    borrow_slope_low: int = field(init=False)
    borrow_slope_high: int = field(init=False)
    borrow_base: int = field(init=False)

    def __post_init__(self) -> None:
        """``Comet.constructor`` sanity checks and per-second rate storage."""
        if self.base_decimals > 18 or 10**self.base_decimals < 10**6:
            raise CometRevert("BadDecimals")
        if self.store_front_price_factor > FACTOR_SCALE:
            raise CometRevert("BadDiscount")
        if len(self.assets) > MAX_ASSETS:
            raise CometRevert("TooManyAssets")
        per_second = {
            "supply_slope_low": self.supply_per_year_interest_rate_slope_low,
            "supply_slope_high": self.supply_per_year_interest_rate_slope_high,
            "supply_base": self.supply_per_year_interest_rate_base,
            "borrow_slope_low": self.borrow_per_year_interest_rate_slope_low,
            "borrow_slope_high": self.borrow_per_year_interest_rate_slope_high,
            "borrow_base": self.borrow_per_year_interest_rate_base,
        }
        for key, per_year in per_second.items():
            object.__setattr__(self, key, per_year // SECONDS_PER_YEAR)

    @property
    def base_scale(self) -> int:
        """``baseScale = 10 ** decimals``."""
        return 10**self.base_decimals

    def asset_infos(self) -> tuple[AssetInfo, ...]:
        """``getPackedAssetInternal`` + ``getAssetInfo``: checks and 4-decimal truncation."""
        out = []
        for i, a in enumerate(self.assets):
            if a.borrow_collateral_factor >= a.liquidate_collateral_factor:
                raise CometRevert("BorrowCFTooLarge")
            if a.liquidate_collateral_factor > FACTOR_SCALE:
                raise CometRevert("LiquidateCFTooLarge")
            bcf = a.borrow_collateral_factor // FACTOR_DESCALE
            lcf = a.liquidate_collateral_factor // FACTOR_DESCALE
            if bcf >= lcf:
                raise CometRevert("BorrowCFTooLarge")
            lf = (a.liquidation_factor // FACTOR_DESCALE) % 2**16  # uint16 cast, unchecked
            scale = 10**a.decimals
            cap = (a.supply_cap // scale) * scale
            out.append(
                AssetInfo(i, a.name, scale, bcf * FACTOR_DESCALE, lcf * FACTOR_DESCALE,
                          lf * FACTOR_DESCALE, cap)
            )  # fmt: skip
        return tuple(out)


@dataclass
class UserBasic:
    """``CometStorage.UserBasic`` (tracking fields omitted); collateral held per asset name."""

    principal: int = 0
    collateral: dict[str, int] = field(default_factory=dict)


@dataclass
class AbsorbResult:
    """What ``absorbInternal`` did to one account (the ``AbsorbDebt`` event and more)."""

    old_balance: int
    new_balance: int
    base_paid_out: int
    value_of_base_paid_out: int
    seized: dict[str, int]
    shortfall: int  # debt not covered by the collateral credited at liquidationFactor

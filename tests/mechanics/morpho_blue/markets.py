"""The Morpho Blue market the tests build: LLTV 86%, ``IrmMock``, fee recipient ``F``."""

from __future__ import annotations

from lendscope.mechanics.morpho_blue.blue import MorphoBlue
from lendscope.mechanics.morpho_blue.market import Market, MarketParams
from lendscope.mechanics.morpho_blue.math import w_div_down

LLTV = 86 * 10**16
DAY = 86400


def irm_mock(market: Market, now: int) -> int:
    """``IrmMock.borrowRateView`` (morpho-blue 1.0.0 src/mocks): utilization / 365 days."""
    if market.total_supply_assets == 0:
        return 0
    return w_div_down(market.total_borrow_assets, market.total_supply_assets) // (365 * DAY)


def new_market(irm=irm_mock, fee: int = 0, lltv: int = LLTV, t0: int = 1_000) -> MorphoBlue:
    mb = MorphoBlue.create(MarketParams("L", "C", "O", "I", lltv), t0, irm, fee_recipient="F")
    if fee:
        mb.set_fee(t0, fee)
    return mb

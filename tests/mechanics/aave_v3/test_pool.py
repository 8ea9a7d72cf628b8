"""Aave v3 pool without a node: supply/borrow/repay round trip, versions, fork registry."""

from __future__ import annotations

import pytest

from lendscope.mechanics.aave_v3 import math as am
from lendscope.mechanics.aave_v3.params import FORKS, SPARK_ETH_WETH, ReserveParams
from lendscope.mechanics.aave_v3.pool import AaveMarket
from lendscope.mechanics.aave_v3.state import AaveRevert
from lendscope.mechanics.intmath import UINT256_MAX

SPY = am.SECONDS_PER_YEAR
RATES = am.RateParams.from_bps(8000, 0, 400, 6000)
WETH = ReserveParams("WETH", 18, 8000, 8250, 10500, 1000, RATES, 0)
USDC = ReserveParams("USDC", 6, 8000, 8250, 10500, 1000, RATES, 0)


def _market(version: str) -> AaveMarket:
    return AaveMarket(version, [WETH, USDC], [2000 * 10**8, 10**8])


@pytest.mark.parametrize("version", am.VERSIONS)
def test_round_trip_and_full_repay(version: str) -> None:
    m = _market(version)
    t = 1_000_000
    m.supply("lp", 1, 1_000_000 * 10**6, t)
    m.supply("b", 0, 10 * 10**18, t + 1)
    m.borrow("b", 1, 15_000 * 10**6, t + 2)
    assert m.reserves[1].variable_borrow_rate == 75 * 10**22
    with pytest.raises(AaveRevert):
        m.borrow("b", 1, 10**12, t + 3)  # beyond LTV
    debt = m.v_balance("b", 1, t + SPY)
    assert debt > 15_000 * 10**6
    assert m.repay("b", 1, UINT256_MAX, t + SPY) == debt
    assert m.user("b").v_scaled[1] == 0 and not m.user("b").borrowing[1]
    assert m.reserves[1].accrued_to_treasury > 0
    assert m.account_data("b", t + SPY).health_factor == UINT256_MAX


def test_unknown_version() -> None:
    with pytest.raises(ValueError):
        AaveMarket("3.9", [WETH], [1])


def test_fork_registry() -> None:
    assert FORKS["spark-ethereum"].version == "3.0"
    assert FORKS["spark-ethereum"].reserves[0] is SPARK_ETH_WETH
    m = AaveMarket("3.0", [SPARK_ETH_WETH], [3000 * 10**8])
    m.supply("a", 0, 10**18, 1)
    assert m.account_data("a", 1).total_collateral_base == 3000 * 10**8

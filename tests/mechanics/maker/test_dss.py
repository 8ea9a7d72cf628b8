"""Maker/Sky dss math, Vat, Jug and Spotter.

No bytecode for Maker dss is available on the registries; vectors here are derived by hand from
makerdao/dss src/vat.sol, src/jug.sol and src/spot.sol (commit fa4f663). A few vectors are the
expected values asserted by dss' own Solidity tests (src/test/jug.t.sol), cited where used. The
rest are closed forms and hypothesis properties.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendscope.mechanics.intmath import RAY, WAD
from lendscope.mechanics.maker.abaci import (
    rpow_abaci,
)
from lendscope.mechanics.maker.dss import Jug, Vat
from lendscope.mechanics.maker.math import RAD, MakerRevert, rpow
from tests.mechanics.maker.system import ILK, make_system


# --- math --------------------------------------------------------------------------------------
def test_rpow_half_up_rounding_per_step_by_hand():
    """jug.sol _rpow in base 10: rpow(15, 3, 10): z = 15; x = (225 + 5) / 10 = 23;
    z = (15 * 23 + 5) / 10 = 35 (3.5, not 3.375). rpow(15, 2, 10): z = 10, x = 23,
    z = (230 + 5) / 10 = 23. rpow(0, 0) = b, rpow(0, n) = 0."""
    assert rpow(15, 3, 10) == 35
    assert rpow(15, 2, 10) == 23
    assert rpow(0, 0, RAY) == RAY and rpow(0, 5, RAY) == 0
    assert rpow(15 * 10**26, 3) == 3375 * 10**24  # exact in base RAY
    assert rpow_abaci(15, 3, 10) == 35 and rpow_abaci(0, 0, 10) == 10


def test_rpow_dss_vector():
    """src/test/jug.t.sol test_rpow: rpow(1000234891009084238901289093, 3724) ~ 2.397991232255757e27
    to 10 decimals."""
    result = rpow(1000234891009084238901289093, 3724, RAY)
    assert result // 10**17 == 2397991232255757 * 10**12 // 10**17


@given(st.integers(RAY - 10**20, RAY + 10**20), st.integers(0, 10**8))
def test_rpow_matches_real_power(x, n):
    exact = Fraction(x, RAY) ** n if n < 200 else None
    got = rpow(x, n)
    if exact is not None:
        assert abs(Fraction(got, RAY) - exact) <= Fraction(n + 1, RAY) * max(exact, 1)
    else:
        assert got == pytest.approx(RAY * math.exp(n * math.log1p((x - RAY) / RAY)), rel=1e-12)


def test_rpow_overflow_reverts():
    with pytest.raises(MakerRevert):
        rpow(2**200, 2, 1)
    with pytest.raises(MakerRevert):
        rpow_abaci(2**128, 2, 1)


# --- Vat ---------------------------------------------------------------------------------------
def test_spot_poke_by_hand():
    """spot.sol poke: spot = rdiv(rdiv(2000e18 * 1e9, 1e27), 1.5e27) = floor(2000e27 / 1.5)."""
    vat, spot, _, _ = make_system()
    assert vat.ilks[ILK].spot == 1333333333333333333333333333333
    spot.set_price(ILK, 2000 * WAD, has=False)
    assert spot.poke(ILK) == 0


def test_vat_safety_boundary_exactly_at_equality():
    """vat.sol frob: require(tab <= ink * spot). rate = RAY, spot = 1500 RAY, ink = 1 ETH:
    art = 1500e18 gives tab == ink * spot (allowed); one more wei of art is Vat/not-safe."""
    vat, *_ = make_system()
    vat.file(ILK, "spot", 1500 * RAY)
    vat.slip(ILK, "a", WAD)
    vat.frob(ILK, "a", WAD, 1500 * WAD)
    assert vat.urn(ILK, "a").art * vat.ilks[ILK].rate == vat.urn(ILK, "a").ink * 1500 * RAY
    vat.slip(ILK, "b", WAD)
    before = (vat.debt, dict(vat.dai), vat.ilks[ILK].Art)
    with pytest.raises(MakerRevert, match="Vat/not-safe"):
        vat.frob(ILK, "b", WAD, 1500 * WAD + 1)
    assert (vat.debt, dict(vat.dai), vat.ilks[ILK].Art) == before  # reverted atomically
    assert vat.urn(ILK, "b").ink == 0


def test_vat_dust_ceiling_and_risk_reducing_moves():
    """vat.sol frob: dust (tab >= dust unless art == 0), line/Line, and the exemption for
    dart <= 0 && dink >= 0 from the safety check."""
    vat, *_ = make_system(dust=100 * RAD)
    vat.slip(ILK, "c", 5 * WAD)
    with pytest.raises(MakerRevert, match="Vat/dust"):
        vat.frob(ILK, "c", WAD, 99 * WAD)
    vat.frob(ILK, "c", WAD, 0)  # no debt: dust does not apply
    vat.file(ILK, "line", 1500 * RAD)  # 1000 already drawn by bob
    with pytest.raises(MakerRevert, match="Vat/ceiling-exceeded"):
        vat.frob(ILK, "c", 0, 500 * WAD + 1)
    vat.frob(ILK, "c", 0, 500 * WAD)
    vat.file(ILK, "spot", 100 * RAY)  # c is now unsafe
    with pytest.raises(MakerRevert, match="Vat/not-safe"):
        vat.frob(ILK, "c", -1, 0)  # freeing collateral is not risk-reducing
    vat.frob(ILK, "c", 0, -10 * WAD)  # repaying is allowed while unsafe
    with pytest.raises(MakerRevert, match="Vat/dust"):
        vat.frob(ILK, "c", 0, -401 * WAD)  # would leave 89 DAI < dust
    vat.frob(ILK, "c", 0, -490 * WAD)  # closing fully is fine


# --- Jug (expected values from src/test/jug.t.sol) ---------------------------------------------
def _jug_setup():
    vat = Vat()
    vat.Line = vat_line = 10**6 * RAD
    vat.init("i")
    vat.file("i", "line", vat_line)
    vat.file("i", "spot", 10000 * RAY)
    vat.slip("i", "self", WAD)
    vat.frob("i", "self", WAD, 100 * WAD)
    jug = Jug(vat, vow="ali")
    jug.init("i", now=0)
    return vat, jug


@pytest.mark.parametrize("days,expected", [(1, 5 * WAD), (2, 1025 * 10**16), (3, 157625 * 10**14)])
def test_jug_drip_dss_vectors(days, expected):
    """jug.t.sol test_drip_1d/2d/3d: duty 1000000564701133626865910626 (5%/day), Art 100."""
    vat, jug = _jug_setup()
    jug.file_duty("i", 1000000564701133626865910626, now=0)
    jug.drip("i", now=days * 86_400)
    assert vat.dai["ali"] // RAY == expected


def test_jug_drip_negative_multi_and_base():
    """jug.t.sol test_drip_negative_3d, test_drip_multi, test_drip_base."""
    vat, jug = _jug_setup()
    jug.file_duty("i", 999999706969857929985428567, now=0)  # -2.5%/day
    vat.move("self", "ali", 100 * RAD)
    jug.drip("i", now=3 * 86_400)
    assert vat.dai["ali"] // RAY == 926859375 * 10**11
    vat, jug = _jug_setup()
    jug.file_duty("i", 1000000564701133626865910626, now=0)
    jug.drip("i", now=86_400)
    jug.file_duty("i", 1000001103127689513476993127, now=86_400)  # 10%/day
    jug.drip("i", now=2 * 86_400)
    assert vat.dai["ali"] // RAY == 155 * 10**17
    assert vat.debt // RAY == 1155 * 10**17
    assert vat.ilks["i"].rate // 10**9 == 1155 * 10**15
    vat, jug = _jug_setup()
    jug.file_duty("i", 105 * 10**25, now=0)
    jug.base = 5 * 10**25
    jug.drip("i", now=1)
    assert vat.dai["ali"] // RAY == 10 * WAD
    with pytest.raises(MakerRevert, match="Jug/rho-not-updated"):
        jug.file_duty("i", RAY, now=2)


@given(st.integers(RAY, RAY + 10**19), st.integers(0, 10**7), st.integers(0, 10**7))
def test_jug_drip_closed_form(duty, t1, t2):
    """drip over n seconds sets rate = rmul(rpow(duty, n), prev); 0 seconds changes nothing."""
    vat, jug = _jug_setup()
    jug.file_duty("i", duty, now=0)
    assert jug.drip("i", now=0) == RAY
    r1 = jug.drip("i", now=t1)
    assert r1 == rpow(duty, t1) * RAY // RAY
    r2 = jug.drip("i", now=t1 + t2)
    assert r2 == rpow(duty, t2) * r1 // RAY
    assert vat.dai["ali"] == 100 * WAD * (r2 - RAY)  # fold pays Art * drate

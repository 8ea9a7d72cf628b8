"""Maker/Sky Liquidations 2.0: Dog ``bark``, the abaci price curves and Clipper ``take``.

Vectors derived by hand from makerdao/dss src/dog.sol, src/clip.sol and src/abaci.sol (commit
fa4f663), a few from dss' own src/test/abaci.t.sol (cited where used); the rest are closed forms
and hypothesis properties.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.intmath import RAY, WAD
from lendscope.mechanics.maker.abaci import (
    ExponentialDecrease,
    LinearDecrease,
    StairstepExponentialDecrease,
    rpow_abaci,
)
from lendscope.mechanics.maker.math import RAD, MakerRevert
from tests.mechanics.maker.system import ILK, make_system


# --- Dog ---------------------------------------------------------------------------------------
def test_bark_full_by_hand():
    """dog.sol bark at ETH 1400 (spot 933.33 < 1000): dart = art, dink = ink,
    due = 1000 RAD, tab = due * 1.13 = 1130 RAD; clip top = rmul(1400 RAY, buf 1.2) = 1680 RAY."""
    vat, spot, dog, clip = make_system()
    with pytest.raises(MakerRevert, match="Dog/not-unsafe"):
        dog.bark(ILK, "bob", "kpr", now=0)
    spot.set_price(ILK, 1400 * WAD)
    assert spot.poke(ILK) == 933333333333333333333333333333
    b = dog.bark(ILK, "bob", "kpr", now=0)
    assert (b.ink, b.art, b.due, b.tab) == (WAD, 1000 * WAD, 1000 * RAD, 1130 * RAD)
    assert clip.sales[b.id].top == 1680 * RAY
    assert vat.urn(ILK, "bob").art == 0 and vat.gem[(ILK, clip.address)] == WAD
    assert vat.sin["vow"] - 10**9 * RAD == 1000 * RAD and dog.Dirt == 1130 * RAD


def test_bark_partial_room_and_dust_rules_by_hand():
    """dog.sol bark with hole = Hole = 500 RAD:
    dart = 500e45 * 1e18 / 1e27 / 1.13e18 = 442_477_876_106_194_690_265;
    dink = 1e18 * dart / 1000e18 = 442_477_876_106_194_690; tab = dart * 1.13e27.
    A second bark has ~0 room: its dart is dusty while the remainder is not -> revert."""
    vat, spot, dog, _ = make_system(dust=100 * RAD, hole=500 * RAD)
    spot.set_price(ILK, 1400 * WAD)
    spot.poke(ILK)
    b = dog.bark(ILK, "bob", "kpr", now=0)
    assert b.art == 442_477_876_106_194_690_265 and b.ink == 442_477_876_106_194_690
    assert b.tab == 499_999_999_999_999_999_999_450 * 10**24
    assert vat.urn(ILK, "bob").art == 1000 * WAD - b.art
    with pytest.raises(MakerRevert, match="Dog/dusty-auction-from-partial-liquidation"):
        dog.bark(ILK, "bob", "kpr", now=0)
    # remainder below dust: the whole urn is taken even though room is smaller
    vat, spot, dog, _ = make_system(dust=600 * RAD, hole=500 * RAD)
    vat.slip(ILK, "carl", WAD)
    vat.frob(ILK, "carl", WAD, 1000 * WAD)
    spot.set_price(ILK, 1400 * WAD)
    spot.poke(ILK)
    b = dog.bark(ILK, "bob", "kpr", now=0)
    assert b.art == 1000 * WAD and b.tab == 1130 * RAD
    with pytest.raises(MakerRevert, match="Dog/liquidation-limit-hit"):
        dog.bark(ILK, "carl", "kpr", now=0)  # Dirt 1130 RAD >= Hole 500 RAD


# --- abaci -------------------------------------------------------------------------------------
def test_linear_decrease_closed_form():
    """abaci.sol LinearDecrease: top * (tau - dur) / tau, exactly 0 from tau on."""
    calc = LinearDecrease(3600)
    assert calc.price(1000 * RAY, 0) == 1000 * RAY
    assert calc.price(1000 * RAY, 1800) == 500 * RAY
    assert calc.price(1000 * RAY, 3599) > 0
    assert calc.price(1000 * RAY, 3600) == 0 == calc.price(1000 * RAY, 10**9)


@given(st.integers(10**26, RAY), st.integers(1, 600), st.integers(1, 10**6), st.integers(1, 10**40))
def test_stairstep_closed_form(cut, step, dur, top):
    """StairstepExponentialDecrease = rmul(top, rpow(cut, floor(dur / step))) ~ top * cut^k."""
    calc = StairstepExponentialDecrease(cut, step)
    k = dur // step
    assert calc.price(top, dur) == top * rpow_abaci(cut, k) // RAY
    assert calc.price(top, k * step) == calc.price(top, k * step + step - 1)  # flat within a step
    if k < 60:
        exact = Fraction(top) * Fraction(cut, RAY) ** k
        assert abs(calc.price(top, dur) - exact) <= 1 + Fraction(top * 2 * (k + 1), RAY)


def test_stairstep_two_steps_by_hand():
    """rpow(0.99e27, 2): z = RAY, x = (0.99e27^2 + RAY/2) / RAY = 0.9801e27, z = 0.9801e27."""
    calc = StairstepExponentialDecrease(99 * 10**25, 90)
    assert calc.price(1000 * RAY, 180) == 9801 * 10**26
    assert calc.price(1000 * RAY, 179) == 990 * RAY


def test_exponential_half_life_dss_vector():
    """abaci.t.sol test_continuous_exp_decrease: cut 0.999230132966e27 halves every 900 s
    within RAY / 1000 for top = 4000 RAY."""
    calc = ExponentialDecrease(999230132966 * 10**15)
    expected = 4000 * RAY
    for i in range(5):
        assert abs(calc.price(4000 * RAY, i * 900) - expected) <= RAY // 1000
        expected //= 2


# --- Clipper -----------------------------------------------------------------------------------
def _kicked(dust: int = 100 * RAD, **kw):
    vat, spot, dog, clip = make_system(dust=dust, **kw)
    spot.set_price(ILK, 1400 * WAD)
    spot.poke(ILK)
    b = dog.bark(ILK, "bob", "kpr", now=0)
    return vat, spot, dog, clip, b.id


def test_take_whole_lot_below_tab_by_hand():
    """clip.sol take at t = 1800 (linear, tau 3600): price = rmul(1680 RAY, 0.5 RAY) = 840 RAY.
    Buying the whole lot: owe = 1e18 * 840 RAY = 840 RAD < tab; lot -> 0, auction removed,
    dog.digs(tab + owe) releases the full 1130 RAD."""
    vat, _, dog, clip, sid = _kicked()
    r = clip.take(sid, WAD, 840 * RAY, "keeper", now=1800)
    assert (r.price, r.owe, r.slice, r.lot, r.tab) == (840 * RAY, 840 * RAD, WAD, 0, 290 * RAD)
    assert sid not in clip.sales and dog.Dirt == 0 and dog.ilks[ILK].dirt == 0
    assert vat.gem[(ILK, "keeper")] == WAD and vat.dai["vow"] == 840 * RAD


def test_take_over_tab_returns_leftover_by_hand():
    """t = 600: price = 1680 * ((3000 RAY) // 3600) = 1_399_999_999_999_999_999_999_999_999_440;
    owe = tab = 1130 RAD, slice = 1130e45 // price = 807_142_857_142_857_142 and the leftover
    192_857_142_857_142_858 goes back to the urn owner."""
    vat, _, _, clip, sid = _kicked()
    with pytest.raises(MakerRevert, match="Clipper/too-expensive"):
        clip.take(sid, WAD, 1399 * RAY, "keeper", now=600)
    r = clip.take(sid, WAD, 1400 * RAY, "keeper", now=600)
    assert r.price == 1_399_999_999_999_999_999_999_999_999_440
    assert (r.owe, r.slice, r.tab) == (1130 * RAD, 807_142_857_142_857_142, 0)
    assert vat.gem[(ILK, "bob")] == 9 * WAD + 192_857_142_857_142_858


def test_take_partial_leaves_exactly_chost_then_no_partial_purchase():
    """chost = wmul(dust 100 RAD, chop 1.13) = 113 RAD. At t = 600, buying 0.75 ETH would leave
    ~80 RAD < chost: owe is cut to tab - chost = 1017 RAD and slice = 1017e45 // price =
    726_428_571_428_571_428. A further partial take then reverts (tab <= chost)."""
    _, _, _, clip, sid = _kicked()
    assert clip.chost == 113 * RAD
    r = clip.take(sid, 75 * 10**16, 1400 * RAY, "keeper", now=600)
    assert (r.owe, r.slice, r.tab) == (1017 * RAD, 726_428_571_428_571_428, 113 * RAD)
    with pytest.raises(MakerRevert, match="Clipper/no-partial-purchase"):
        clip.take(sid, 10**16, 1400 * RAY, "keeper", now=601)
    r = clip.take(sid, WAD, 1400 * RAY, "keeper", now=601)  # buying it all is fine
    assert r.tab == 0 and sid not in clip.sales


def test_needs_redo_tail_cusp_and_incentives():
    """status: done iff dur > tail or rdiv(price, top) < cusp. Linear: price/top = 0.6 exactly at
    dur = 1440 (not done), below at 1441. Kick pays tip + wmul(tab, chip) = 10 + 11.3 RAD;
    redo pays it only while tab and lot * feed are >= chost."""
    vat, spot, dog, clip = make_system(dust=100 * RAD)
    clip.tail, clip.cusp, clip.tip, clip.chip = 1800, 6 * 10**26, 10 * RAD, 10**16
    spot.set_price(ILK, 1400 * WAD)
    spot.poke(ILK)
    sid = dog.bark(ILK, "bob", "kpr", now=0).id
    assert vat.dai["kpr"] == 213 * 10**44
    assert clip.get_status(sid, 1440)[0] is False
    assert clip.get_status(sid, 1441)[0] is True
    with pytest.raises(MakerRevert, match="Clipper/needs-reset"):
        clip.take(sid, WAD, 2000 * RAY, "keeper", now=1441)
    with pytest.raises(MakerRevert, match="Clipper/cannot-reset"):
        clip.redo(sid, "kpr2", now=100)
    clip.cusp = 0
    assert clip.get_status(sid, 1800)[0] is False and clip.get_status(sid, 1801)[0] is True
    spot.set_price(ILK, 1300 * WAD)
    assert clip.redo(sid, "kpr2", now=1801) == 213 * 10**44
    assert clip.sales[sid].tic == 1801 and clip.sales[sid].top == 1560 * RAY
    clip.chost = 1131 * RAD  # tab below chost: no incentive on redo
    assert clip.redo(sid, "kpr2", now=3602) == 0


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 2 * WAD),
    st.integers(0, 3599),
    st.integers(0, 500),
    st.integers(1, 2 * WAD),
)
def test_take_properties(amt, t, dust, amt2):
    """take never sells more than lot nor charges more than tab; what remains is 0 or >= chost;
    collateral and dai are conserved."""
    vat, _, _, clip, sid = _kicked(dust=dust * RAD)
    tab0, lot0 = clip.sales[sid].tab, clip.sales[sid].lot
    paid, bought = 0, 0
    for a, when in ((amt, t), (amt2, min(t + 1, 3599))):
        if sid not in clip.sales:
            break
        tab, lot = clip.sales[sid].tab, clip.sales[sid].lot
        try:
            r = clip.take(sid, a, 10**9 * RAY, "keeper", now=when)
        except MakerRevert as e:
            assert str(e) == "Clipper/no-partial-purchase" and tab <= clip.chost
            continue
        assert r.slice <= min(a, lot) and r.owe <= tab
        assert r.tab == 0 or r.lot == 0 or r.tab >= clip.chost
        paid, bought = paid + r.owe, bought + r.slice
    assert vat.dai["vow"] == paid and vat.gem[(ILK, "keeper")] == bought
    left = clip.sales[sid].lot if sid in clip.sales else 0
    assert bought + left + vat.gem[(ILK, "bob")] - 9 * WAD == lot0
    assert paid <= tab0

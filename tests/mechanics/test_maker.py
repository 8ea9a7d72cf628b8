"""Maker/Sky dss: Vat, Jug, Spotter, Dog, Clipper and abaci.

No bytecode for Maker dss is available on the registries; vectors here are derived by hand from
makerdao/dss src/vat.sol, src/jug.sol, src/spot.sol, src/dog.sol, src/clip.sol and src/abaci.sol
(commit fa4f663). A few vectors are the expected values asserted by dss' own Solidity tests
(src/test/jug.t.sol, src/test/abaci.t.sol), cited where used. The rest are closed forms,
hypothesis properties and vectorised-vs-exact agreement on random books.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.mechanics.maker import (
    RAD,
    RAY,
    WAD,
    Jug,
    MakerRevert,
    Spotter,
    Vat,
    collateralisation_ratio_vec,
    rpow,
    unsafe_vec,
)
from lendscope.mechanics.maker_clip import (
    Clipper,
    Dog,
    ExponentialDecrease,
    LinearDecrease,
    StairstepExponentialDecrease,
    clip_price_vec,
    expected_auction_proceeds_vec,
    rpow_abaci,
)

ILK = "ETH-A"
CHOP = 113 * 10**16  # 13% penalty


def make_system(dust: int = 0, hole: int = 10**9 * RAD, calc=None, buf: int = 12 * 10**26):
    """Vat + Spotter (mat 150%, ETH 2000) + Dog (chop 1.13) + Clipper; bob: 1 ETH, 1000 DAI."""
    vat = Vat()
    vat.Line = 10**12 * RAD
    vat.init(ILK)
    vat.file(ILK, "line", 10**12 * RAD)
    vat.file(ILK, "dust", dust)
    spot = Spotter(vat)
    spot.mat[ILK] = 15 * 10**26
    spot.set_price(ILK, 2000 * WAD)
    spot.poke(ILK)
    dog = Dog(vat)
    dog.Hole = hole
    dog.file_chop(ILK, CHOP)
    dog.ilks[ILK].hole = hole
    clip = Clipper(vat, spot, dog, ILK, calc or LinearDecrease(3600))
    clip.buf, clip.tail = buf, 7200
    clip.upchost()
    dog.ilks[ILK].clip = clip
    vat.slip(ILK, "bob", 10 * WAD)
    vat.frob(ILK, "bob", WAD, 1000 * WAD)
    vat.suck("vow", "keeper", 10**9 * RAD)  # a keeper with plenty of dai
    return vat, spot, dog, clip


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


# --- vectorised twins --------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_ratio_and_unsafe_match_exact(seed):
    rng = np.random.default_rng(seed)
    n = 200
    ink = [int(x) for x in rng.uniform(0.1, 1000, n) * WAD]
    art = [int(x) for x in rng.uniform(0, 1e6, n) * WAD]
    art[:5] = [0] * 5
    rate = int(RAY * rng.uniform(1.0, 1.5))
    spot = int(RAY * rng.uniform(100, 3000))
    ratio = collateralisation_ratio_vec(np.array(ink, float), np.array(art, float), rate, spot)
    flags = unsafe_vec(np.array(ink, float), np.array(art, float), rate, spot)
    for i in range(n):
        exact_unsafe = ink[i] * spot < art[i] * rate
        if art[i] == 0:
            assert np.isinf(ratio[i]) and not flags[i] and not exact_unsafe
            continue
        exact = Fraction(ink[i] * spot, art[i] * rate)
        assert ratio[i] == pytest.approx(float(exact), rel=1e-9)
        if abs(exact - 1) > Fraction(1, 10**9):
            assert flags[i] == exact_unsafe


@pytest.mark.parametrize(
    "calc",
    [
        LinearDecrease(7200),
        StairstepExponentialDecrease(99 * 10**25, 90),
        ExponentialDecrease(999_900_000_000_000_000_000_000_000),
    ],
)
def test_vectorised_clip_price_matches_exact(calc):
    rng = np.random.default_rng(3)
    top = [int(x) for x in rng.uniform(1, 1e5, 300) * RAY]
    dur = [int(x) for x in rng.integers(0, 7199, 300)]
    vec = clip_price_vec(calc, np.array(top, float), np.array(dur, float))
    for i in range(300):
        assert vec[i] == pytest.approx(calc.price(top[i], dur[i]), rel=1e-9)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_auction_proceeds_match_bark_and_take(seed):
    rng = np.random.default_rng(seed)
    n = 25
    vat, spot, dog, clip = make_system(
        calc=ExponentialDecrease(999_500_000_000_000_000_000_000_000)
    )
    vat.ilks[ILK].rate = int(RAY * rng.uniform(1.0, 1.3))
    ink = [int(x) for x in rng.uniform(1, 100, n) * WAD]
    art = [int(i * 1300 / (vat.ilks[ILK].rate / RAY) * rng.uniform(0.4, 0.99)) for i in ink]
    for k in range(n):
        vat.slip(ILK, f"u{k}", ink[k])
        vat.frob(ILK, f"u{k}", ink[k], art[k])
    spot.set_price(ILK, int(WAD * rng.uniform(500, 1200)))
    spot.poke(ILK)
    rate = vat.ilks[ILK].rate
    idx = [k for k in range(n) if ink[k] * vat.ilks[ILK].spot < art[k] * rate]
    prices, proceeds, sold, returned = [], [], [], []
    for k in idx:
        u = f"u{k}"
        sid = dog.bark(ILK, u, "kpr", now=0).id
        t = int(rng.integers(0, 3000))
        price = clip.get_status(sid, t)[1]
        r = clip.take(sid, ink[k], price, "keeper", now=t)
        prices.append(price)
        proceeds.append(r.owe)
        sold.append(r.slice)
        returned.append(vat.gem[(ILK, u)])
    out = expected_auction_proceeds_vec(
        np.array([ink[k] for k in idx], float),
        np.array([art[k] for k in idx], float),
        float(rate),
        float(CHOP),
        np.array(prices, float),
    )
    np.testing.assert_allclose(out["proceeds"], np.array(proceeds, float), rtol=1e-9)
    np.testing.assert_allclose(out["sold"], np.array(sold, float), rtol=1e-9)
    np.testing.assert_allclose(
        out["returned"], np.array(returned, float), rtol=1e-9, atol=1e-7 * WAD
    )
    assert len(idx) > 0

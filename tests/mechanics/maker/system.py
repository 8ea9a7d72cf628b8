"""The dss system the Maker tests build: Vat, Spotter, Dog and Clipper for one ilk."""

from __future__ import annotations

from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.maker.abaci import LinearDecrease
from lendscope.mechanics.maker.clip import Clipper, Dog
from lendscope.mechanics.maker.dss import Spotter, Vat
from lendscope.mechanics.maker.math import RAD

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

"""Maker/Sky Liquidations 2.0: Dog (bark) and Clipper (Dutch auctions).

Ported from ``makerdao/dss`` ``src/dog.sol`` and ``src/clip.sol`` (commit fa4f663). Units:
``tab``/``dirt``/``hole``/``tip``/``chost`` [rad], ``lot`` [wad], prices ``top``/``buf``/``cusp``
[ray], ``chop``/``chip`` [wad]. The vow's ``fess`` queue is not modelled (the bad debt still lands
in ``vat.sin[vow]``); flash-loan callbacks in ``take`` are omitted. The price curves a
:class:`Clipper` runs (``src/abaci.sol``) live in :mod:`.abaci`, the float64 twin of ``bark`` +
``take`` in :mod:`.twin`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lendscope.mechanics.intmath import RAY, WAD
from lendscope.mechanics.maker.abaci import Abacus
from lendscope.mechanics.maker.dss import Spotter, Vat
from lendscope.mechanics.maker.math import BLN, MakerRevert, rdiv, rmul, u256, wmul


# --- Clipper -----------------------------------------------------------------------------------
@dataclass
class Sale:
    """``Clipper.Sale``."""

    pos: int
    tab: int
    lot: int
    usr: str
    tic: int
    top: int


@dataclass(frozen=True)
class TakeResult:
    """The ``Take`` event: price paid, dai owed, collateral bought, and what is left."""

    price: int
    owe: int
    slice: int
    tab: int
    lot: int


class Clipper:
    """``clip.sol`` for one ilk: ``buf``/``cusp`` [ray], ``tail`` [s], ``chip`` [wad], ``tip``."""

    def __init__(
        self, vat: Vat, spotter: Spotter, dog: Dog, ilk: str, calc: Abacus, vow: str = "vow"
    ) -> None:
        """New clipper with ``buf = RAY`` and no keeper incentives."""
        self.vat, self.spotter, self.dog, self.ilk, self.calc, self.vow = (
            vat, spotter, dog, ilk, calc, vow
        )  # fmt: skip
        self.address = f"clip-{ilk}"
        self.buf, self.tail, self.cusp, self.chip, self.tip, self.chost = RAY, 0, 0, 0, 0, 0
        self.stopped = 0
        self.kicks = 0
        self.active: list[int] = []
        self.sales: dict[int, Sale] = {}

    def feed_price(self) -> int:
        """``getFeedPrice``: ``rdiv(mul(val, BLN), spotter.par())``."""
        val, has = self.spotter.pip[self.ilk]
        if not has:
            raise MakerRevert("Clipper/invalid-price")
        return rdiv(u256(val * BLN), self.spotter.par)

    def upchost(self) -> None:
        """``upchost``: ``chost = wmul(dust, chop)``."""
        self.chost = wmul(self.vat.ilks[self.ilk].dust, self.dog.ilks[self.ilk].chop)

    def status(self, tic: int, top: int, now: int) -> tuple[bool, int]:
        """``status``: price now and ``done = elapsed > tail or price / top < cusp``."""
        dur = u256(now - tic)
        price = self.calc.price(top, dur)
        return dur > self.tail or rdiv(price, top) < self.cusp, price

    def get_status(self, sale_id: int, now: int) -> tuple[bool, int, int, int]:
        """``getStatus``: ``(needsRedo, price, lot, tab)``."""
        s = self.sales.get(sale_id)
        if s is None:
            return False, self.calc.price(0, now), 0, 0
        done, price = self.status(s.tic, s.top, now)
        return done, price, s.lot, s.tab

    def _coin(self, tab: int, kpr: str) -> int:
        coin = 0
        if self.tip > 0 or self.chip > 0:
            coin = u256(self.tip + wmul(tab, self.chip))
            self.vat.suck(self.vow, kpr, coin)
        return coin

    def kick_checks(self, tab: int, lot: int) -> int:
        """The ``require``s of ``kick``; returns the starting price ``top``."""
        if self.stopped >= 1:
            raise MakerRevert("Clipper/stopped-incorrect")
        if tab == 0:
            raise MakerRevert("Clipper/zero-tab")
        if lot == 0:
            raise MakerRevert("Clipper/zero-lot")
        top = rmul(self.feed_price(), self.buf)
        if top == 0:
            raise MakerRevert("Clipper/zero-top-price")
        return top

    def kick(self, tab: int, lot: int, usr: str, kpr: str, now: int) -> int:
        """``kick``: start at ``top = rmul(feedPrice, buf)``; pay ``tip + wmul(tab, chip)``."""
        top = self.kick_checks(tab, lot)
        self.kicks += 1
        self.active.append(self.kicks)
        self.sales[self.kicks] = Sale(len(self.active) - 1, tab, lot, usr, now, top)
        self._coin(tab, kpr)
        return self.kicks

    def redo(self, sale_id: int, kpr: str, now: int) -> int:
        """``redo``: restart a done auction; incentives only if tab and lot value >= ``chost``."""
        if self.stopped >= 2:
            raise MakerRevert("Clipper/stopped-incorrect")
        s = self.sales.get(sale_id)
        if s is None:
            raise MakerRevert("Clipper/not-running-auction")
        if not self.status(s.tic, s.top, now)[0]:
            raise MakerRevert("Clipper/cannot-reset")
        feed = self.feed_price()
        top = rmul(feed, self.buf)
        if top == 0:
            raise MakerRevert("Clipper/zero-top-price")
        s.tic, s.top = now, top
        if s.tab >= self.chost and u256(s.lot * feed) >= self.chost:
            return self._coin(s.tab, kpr)
        return 0

    def take(
        self, sale_id: int, amt: int, max_price: int, who: str, now: int, sender: str | None = None
    ) -> TakeResult:
        """``take``: buy up to ``amt`` at the current price, paying from ``sender``'s vat dai.

        A partial purchase may not leave ``tab`` below ``chost``: the purchase is trimmed to leave
        exactly ``chost``, and reverts ``Clipper/no-partial-purchase`` if ``tab <= chost``.
        """
        sender = sender or who
        if self.stopped >= 3:
            raise MakerRevert("Clipper/stopped-incorrect")
        s = self.sales.get(sale_id)
        if s is None:
            raise MakerRevert("Clipper/not-running-auction")
        done, price = self.status(s.tic, s.top, now)
        if done:
            raise MakerRevert("Clipper/needs-reset")
        if max_price < price:
            raise MakerRevert("Clipper/too-expensive")
        lot, tab = s.lot, s.tab
        slice_ = min(lot, amt)
        owe = u256(slice_ * price)
        if owe > tab:
            owe = tab
            slice_ = owe // price
        elif owe < tab and slice_ < lot and tab - owe < self.chost:
            if tab <= self.chost:
                raise MakerRevert("Clipper/no-partial-purchase")
            if price == 0:
                raise MakerRevert("division by zero")
            owe = tab - self.chost
            slice_ = owe // price
        if self.vat.dai[sender] < owe:
            raise MakerRevert("Vat/insufficient-dai")
        tab, lot = tab - owe, lot - slice_
        self.vat.flux(self.ilk, self.address, who, slice_)
        self.vat.move(sender, self.vow, owe)
        self.dog.digs(self.ilk, tab + owe if lot == 0 else owe)
        if lot == 0:
            self._remove(sale_id)
        elif tab == 0:
            self.vat.flux(self.ilk, self.address, s.usr, lot)
            self._remove(sale_id)
        else:
            s.tab, s.lot = tab, lot
        return TakeResult(price, owe, slice_, tab, lot)

    def _remove(self, sale_id: int) -> None:
        """``_remove``: swap-and-pop from ``active``."""
        last = self.active[-1]
        if sale_id != last:
            pos = self.sales[sale_id].pos
            self.active[pos] = last
            self.sales[last].pos = pos
        self.active.pop()
        del self.sales[sale_id]


# --- Dog ---------------------------------------------------------------------------------------
@dataclass
class DogIlk:
    """``Dog.Ilk``: ``chop`` [wad], ``hole``/``dirt`` [rad] and the clipper."""

    chop: int = WAD
    hole: int = 0
    dirt: int = 0
    clip: Clipper | None = None


@dataclass(frozen=True)
class Bark:
    """The ``Bark`` event: auction id, collateral ``ink`` (lot), ``art`` taken, ``due``, ``tab``."""

    id: int
    ink: int
    art: int
    due: int
    tab: int

    @property
    def lot(self) -> int:
        """Collateral put up for auction (``dink``) [wad]."""
        return self.ink


class Dog:
    """``dog.sol``: starts auctions for unsafe urns within the ``Hole``/``hole`` limits."""

    def __init__(self, vat: Vat, vow: str = "vow") -> None:
        """Live dog with zero limits."""
        self.vat, self.vow = vat, vow
        self.ilks: dict[str, DogIlk] = {}
        self.Hole = 0
        self.Dirt = 0
        self.live = 1

    def file_chop(self, ilk: str, chop: int) -> None:
        """``file(ilk, "chop")``: must be >= WAD."""
        if chop < WAD:
            raise MakerRevert("Dog/file-chop-lt-WAD")
        self.ilks.setdefault(ilk, DogIlk()).chop = chop

    def bark(self, ilk: str, urn: str, kpr: str, now: int) -> Bark:
        """``bark``: liquidate ``dart = min(art, room * WAD / rate / chop)`` of an unsafe urn.

        A partial liquidation that would leave a dusty remainder takes the whole urn; one whose own
        debt is dusty reverts. ``tab = due * chop / WAD`` goes to ``Dirt``/``dirt``.
        """
        if self.live != 1:
            raise MakerRevert("Dog/not-live")
        u = self.vat.urns[(ilk, urn)]
        ink, art = u.ink, u.art
        m = self.ilks[ilk]
        vi = self.vat.ilks[ilk]
        rate, spot, dust = vi.rate, vi.spot, vi.dust
        if not (spot > 0 and u256(ink * spot) < u256(art * rate)):
            raise MakerRevert("Dog/not-unsafe")
        if not (self.Hole > self.Dirt and m.hole > m.dirt):
            raise MakerRevert("Dog/liquidation-limit-hit")
        room = min(self.Hole - self.Dirt, m.hole - m.dirt)
        dart = min(art, u256(room * WAD) // rate // m.chop)
        if art > dart:
            if u256((art - dart) * rate) < dust:
                dart = art
            elif u256(dart * rate) < dust:
                raise MakerRevert("Dog/dusty-auction-from-partial-liquidation")
        dink = u256(ink * dart) // art
        if dink == 0:
            raise MakerRevert("Dog/null-auction")
        if dart > 2**255 or dink > 2**255:
            raise MakerRevert("Dog/overflow")
        if m.clip is None:
            raise MakerRevert("Dog: no clipper filed for this ilk")
        due = u256(dart * rate)
        tab = u256(due * m.chop) // WAD
        m.clip.kick_checks(tab, dink)  # kick reverts the whole bark; check before mutating
        self.vat.grab(ilk, urn, m.clip.address, self.vow, -dink, -dart)
        self.Dirt = u256(self.Dirt + tab)
        m.dirt = u256(m.dirt + tab)
        sale_id = m.clip.kick(tab, dink, urn, kpr, now)
        return Bark(sale_id, dink, dart, due, tab)

    def digs(self, ilk: str, rad: int) -> None:
        """``digs``: release ``rad`` of the liquidation limits."""
        self.Dirt = u256(self.Dirt - rad)
        self.ilks[ilk].dirt = u256(self.ilks[ilk].dirt - rad)

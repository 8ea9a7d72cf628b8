"""Maker/Sky dss CDP engine (Vat), stability fees (Jug) and price feed (Spotter), integer-exact.

Ported from ``makerdao/dss`` ``src/vat.sol``, ``src/jug.sol`` and ``src/spot.sol`` (checked at
commit fa4f663). Units as in the contracts: ``wad`` = 1e18, ``ray`` = 1e27, ``rad`` = 1e45.
Every uint is checked against ``[0, 2**256)`` like dss' overflow-checked helpers; a failed
``require`` raises :class:`MakerRevert` with the contract's message and leaves state untouched.
The integer helpers live in :mod:`.math`, auctions (Dog, Clipper) in :mod:`.clip`, the abaci
price curves in :mod:`.abaci` and the float64 twins in :mod:`.twin`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lendscope.mechanics.intmath import RAY
from lendscope.mechanics.maker.math import BLN, MakerRevert, rdiv, rmul, rpow, u256


# --- Vat ---------------------------------------------------------------------------------------
@dataclass
class Ilk:
    """``Vat.Ilk``: ``Art`` [wad], ``rate`` [ray], ``spot`` [ray], ``line``/``dust`` [rad]."""

    Art: int = 0
    rate: int = 0
    spot: int = 0
    line: int = 0
    dust: int = 0


@dataclass
class Urn:
    """``Vat.Urn``: locked collateral ``ink`` and normalised debt ``art`` [wad]."""

    ink: int = 0
    art: int = 0

    def tab(self, rate: int) -> int:
        """Debt in rad: ``art * rate``."""
        return self.art * rate


class Vat:
    """``vat.sol``: ilks, urns, gem/dai/sin balances and the global debt accounts."""

    def __init__(self) -> None:
        """Empty, live engine."""
        self.ilks: dict[str, Ilk] = {}
        self.urns: dict[tuple[str, str], Urn] = defaultdict(Urn)
        self.gem: dict[tuple[str, str], int] = defaultdict(int)
        self.dai: dict[str, int] = defaultdict(int)
        self.sin: dict[str, int] = defaultdict(int)
        self.can: set[tuple[str, str]] = set()
        self.debt = 0
        self.vice = 0
        self.Line = 0
        self.live = 1

    def init(self, ilk: str) -> None:
        """``Vat.init``: ``rate = RAY``."""
        if ilk in self.ilks and self.ilks[ilk].rate != 0:
            raise MakerRevert("Vat/ilk-already-init")
        self.ilks[ilk] = Ilk(rate=RAY)

    def file(self, ilk: str, what: str, data: int) -> None:
        """``Vat.file(ilk, what, data)`` for ``spot``, ``line``, ``dust``."""
        if what not in ("spot", "line", "dust"):
            raise MakerRevert("Vat/file-unrecognized-param")
        setattr(self.ilks[ilk], what, data)

    def hope(self, owner: str, usr: str) -> None:
        """``Vat.hope``: let ``usr`` act for ``owner``."""
        self.can.add((owner, usr))

    def wish(self, bit: str, usr: str) -> bool:
        """``Vat.wish``."""
        return bit == usr or (bit, usr) in self.can

    def urn(self, ilk: str, u: str) -> Urn:
        """The urn ``urns[ilk][u]``."""
        return self.urns[(ilk, u)]

    def safe(self, ilk: str, u: str) -> bool:
        """The frob safety condition ``art * rate <= ink * spot``."""
        i, urn = self.ilks[ilk], self.urns[(ilk, u)]
        return urn.art * i.rate <= urn.ink * i.spot

    def frob(
        self,
        i: str,
        u: str,
        dink: int,
        dart: int,
        v: str | None = None,
        w: str | None = None,
        sender: str | None = None,
    ) -> None:
        """``Vat.frob``: lock/free ``dink`` collateral and draw/wipe ``dart`` normalised debt.

        ``v`` (gem source) and ``w`` (dai destination) default to ``u``; ``sender`` to ``u``.
        Checks, in contract order: ceiling (ilk ``line`` and global ``Line``), safety
        (``tab <= ink * spot`` unless the change is risk-reducing), consent, and dust.
        """
        v, w, sender = v or u, w or u, sender or u
        if self.live != 1:
            raise MakerRevert("Vat/not-live")
        ilk = self.ilks.get(i)
        if ilk is None or ilk.rate == 0:
            raise MakerRevert("Vat/ilk-not-init")
        urn = self.urns[(i, u)]
        ink, art, big_art = u256(urn.ink + dink), u256(urn.art + dart), u256(ilk.Art + dart)
        dtab = ilk.rate * dart
        tab = u256(ilk.rate * art)
        debt = u256(self.debt + dtab)
        if not (dart <= 0 or (u256(big_art * ilk.rate) <= ilk.line and debt <= self.Line)):
            raise MakerRevert("Vat/ceiling-exceeded")
        less_risky = dart <= 0 and dink >= 0
        if not (less_risky or tab <= u256(ink * ilk.spot)):
            raise MakerRevert("Vat/not-safe")
        if not (less_risky or self.wish(u, sender)):
            raise MakerRevert("Vat/not-allowed-u")
        if not (dink <= 0 or self.wish(v, sender)):
            raise MakerRevert("Vat/not-allowed-v")
        if not (dart >= 0 or self.wish(w, sender)):
            raise MakerRevert("Vat/not-allowed-w")
        if not (art == 0 or tab >= ilk.dust):
            raise MakerRevert("Vat/dust")
        gem, dai = u256(self.gem[(i, v)] - dink), u256(self.dai[w] + dtab)
        urn.ink, urn.art, ilk.Art, self.debt = ink, art, big_art, debt
        self.gem[(i, v)], self.dai[w] = gem, dai

    def slip(self, ilk: str, usr: str, wad: int) -> None:
        """``Vat.slip``: mint/burn collateral balance ``gem``."""
        self.gem[(ilk, usr)] = u256(self.gem[(ilk, usr)] + wad)

    def flux(self, ilk: str, src: str, dst: str, wad: int) -> None:
        """``Vat.flux``: move ``gem`` (permission checks omitted)."""
        self.gem[(ilk, src)] = u256(self.gem[(ilk, src)] - wad)
        self.gem[(ilk, dst)] = u256(self.gem[(ilk, dst)] + wad)

    def move(self, src: str, dst: str, rad: int) -> None:
        """``Vat.move``: move internal dai (permission checks omitted)."""
        self.dai[src] = u256(self.dai[src] - rad)
        self.dai[dst] = u256(self.dai[dst] + rad)

    def grab(self, i: str, u: str, v: str, w: str, dink: int, dart: int) -> None:
        """``Vat.grab``: confiscate; collateral to ``v``, bad debt to ``sin[w]`` and ``vice``."""
        ilk, urn = self.ilks[i], self.urns[(i, u)]
        dtab = ilk.rate * dart
        new = (u256(urn.ink + dink), u256(urn.art + dart), u256(ilk.Art + dart))
        gem, sin = u256(self.gem[(i, v)] - dink), u256(self.sin[w] - dtab)
        vice = u256(self.vice - dtab)
        urn.ink, urn.art, ilk.Art = new
        self.gem[(i, v)], self.sin[w], self.vice = gem, sin, vice

    def suck(self, u: str, v: str, rad: int) -> None:
        """``Vat.suck``: mint unbacked dai to ``v`` against ``sin[u]``."""
        self.sin[u] = u256(self.sin[u] + rad)
        self.dai[v] = u256(self.dai[v] + rad)
        self.vice = u256(self.vice + rad)
        self.debt = u256(self.debt + rad)

    def heal(self, u: str, rad: int) -> None:
        """``Vat.heal``: cancel ``rad`` of ``u``'s dai against its sin."""
        new = (u256(self.sin[u] - rad), u256(self.dai[u] - rad), u256(self.vice - rad))
        self.debt = u256(self.debt - rad)
        self.sin[u], self.dai[u], self.vice = new

    def fold(self, i: str, u: str, rate: int) -> None:
        """``Vat.fold``: add ``rate`` to the accumulator; ``Art * rate`` dai to ``u``."""
        if self.live != 1:
            raise MakerRevert("Vat/not-live")
        ilk = self.ilks[i]
        rad = ilk.Art * rate
        new_rate, dai, debt = u256(ilk.rate + rate), u256(self.dai[u] + rad), u256(self.debt + rad)
        ilk.rate, self.dai[u], self.debt = new_rate, dai, debt


# --- Jug ---------------------------------------------------------------------------------------
class Jug:
    """``jug.sol``: per-ilk ``duty`` [ray per second] plus global ``base``, accrued by ``drip``."""

    def __init__(self, vat: Vat, vow: str = "vow") -> None:
        """Jug over ``vat`` paying fees to ``vow``."""
        self.vat = vat
        self.vow = vow
        self.base = 0
        self.duty: dict[str, int] = {}
        self.rho: dict[str, int] = {}

    def init(self, ilk: str, now: int) -> None:
        """``Jug.init``: ``duty = ONE``, ``rho = now``."""
        if self.duty.get(ilk, 0) != 0:
            raise MakerRevert("Jug/ilk-already-init")
        self.duty[ilk], self.rho[ilk] = RAY, now

    def file_duty(self, ilk: str, duty: int, now: int) -> None:
        """``Jug.file(ilk, "duty", data)``: only right after a drip (``now == rho``)."""
        if now != self.rho[ilk]:
            raise MakerRevert("Jug/rho-not-updated")
        self.duty[ilk] = duty

    def drip(self, ilk: str, now: int) -> int:
        """``Jug.drip``: ``rate = rmul(rpow(base + duty, now - rho, ONE), prev)``; fold the diff."""
        if now < self.rho[ilk]:
            raise MakerRevert("Jug/invalid-now")
        prev = self.vat.ilks[ilk].rate
        rate = rmul(rpow(u256(self.base + self.duty[ilk]), now - self.rho[ilk], RAY), prev)
        self.vat.fold(ilk, self.vow, rate - prev)
        self.rho[ilk] = now
        return rate


# --- Spotter -----------------------------------------------------------------------------------
class Spotter:
    """``spot.sol``: ``spot = val * 1e9 / par / mat`` pushed into the Vat by ``poke``."""

    def __init__(self, vat: Vat) -> None:
        """Spotter with ``par = ONE``."""
        self.vat = vat
        self.par = RAY
        self.mat: dict[str, int] = {}  # liquidation ratio [ray]
        self.pip: dict[str, tuple[int, bool]] = {}  # oracle (value [wad], has)

    def set_price(self, ilk: str, val: int, has: bool = True) -> None:
        """What ``pip.peek()`` returns: price [wad] and validity."""
        self.pip[ilk] = (val, has)

    def poke(self, ilk: str) -> int:
        """``Spotter.poke``: ``spot = rdiv(rdiv(mul(val, 10**9), par), mat)`` or 0 if no price."""
        val, has = self.pip[ilk]
        spot = rdiv(rdiv(u256(val * BLN), self.par), self.mat[ilk]) if has else 0
        self.vat.file(ilk, "spot", spot)
        return spot

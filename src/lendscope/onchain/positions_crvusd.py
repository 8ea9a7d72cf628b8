"""crvUSD loans at a block as CDP vault rows, with an exact port of the Controller's health.

Sources: ``curvefi/curve-stablecoin`` at 57d91235 (Aug 2023, the mint markets' code):
``contracts/Controller.vy`` and ``contracts/AMM.vy`` (LLAMMA), ``contracts/ControllerFactory.vy``.
Health is ``Controller._health(user, debt, full=True, liquidation_discounts[user])``
(``Controller.vy`` l.903-925) — what ``health(user, True)`` returns (l.1132-1137) — ported in
:func:`crvusd_health_raw` over the AMM views it calls. The AMM's band valuation
``get_x_down`` (``AMM.vy`` l.1492) is read, not re-derived: porting LLAMMA's band math is
outside this module. A loan is hard-liquidatable when health < 0, i.e. ``1 + health/1e18 < 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from lendscope.mechanics.intmath import WAD
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.positions_cdp import cdp_row
from lendscope.onchain.positions_comet import read_all
from lendscope.onchain.protocols import symbol_of
from lendscope.onchain.registry import Deployment
from lendscope.onchain.rows import book_asset as asset_name

#: The risk engine books every CDP stablecoin as DAI (``risk.books.parse_vaults``), so the crvUSD
#: a soft-liquidated loan holds in its bands is booked as DAI collateral at the 1 USD peg.
STABLE = "DAI"


@dataclass(frozen=True)
class CrvusdLoan:
    """A loan: ``user_state`` (y, x, debt), its discount and the AMM reads ``_health`` makes."""

    controller: str
    user: str
    symbol: str
    decimals: int  # collateral token decimals (COLLATERAL_PRECISION = 10**(18 - decimals))
    collateral: int  # y = AMM.get_sum_xy(user)[1], token units
    stablecoin: int  # x = AMM.get_sum_xy(user)[0], crvUSD in the user's bands
    debt: int  # Controller._debt_ro(user)
    discount: int  # Controller.liquidation_discounts(user), 1e18
    x_down: int  # AMM.get_x_down(user)
    ns0: int  # AMM.read_user_tick_numbers(user)[0]
    active_band: int  # AMM.active_band()
    price_oracle: int  # AMM.price_oracle(), 1e18
    p_up: int | None  # AMM.p_oracle_up(ns0); read only where _health uses it

    @property
    def account(self) -> str:
        """``{controller}:{user}``."""
        return f"{self.controller}:{self.user}"


def crvusd_health_raw(ln: CrvusdLoan) -> int:
    """``Controller._health(user, debt, True, discount)`` (1e18; < 0 = liquidatable).

    ``x_down x (1e18 - discount) / debt - 1e18`` (l.914-915), plus, when the top band is above
    the active band and ``price_oracle > p_oracle_up(ns0)``, ``(p - p_up) x y x
    COLLATERAL_PRECISION / debt`` (l.917-923). Both divisions have non-negative operands, so
    Vyper's ``unsafe_div`` (truncation toward zero) is a floor here.
    """
    if ln.debt <= 0:
        raise ValueError(f"{ln.account}: Loan doesn't exist")
    h = ln.x_down * (WAD - ln.discount) // ln.debt - WAD
    if ln.ns0 > ln.active_band and ln.p_up is not None and ln.price_oracle > ln.p_up:
        cp = 10 ** (18 - ln.decimals)
        h += (ln.price_oracle - ln.p_up) * ln.collateral * cp // ln.debt
    return h


def crvusd_health(ln: CrvusdLoan) -> Fraction:
    """``1 + health/1e18``: below 1 is hard-liquidatable."""
    return Fraction(WAD + crvusd_health_raw(ln), WAD)


@dataclass(frozen=True)
class _Market:
    controller: str
    amm: str
    token: str
    n_loans: int


def _markets(reader: Reader, dep: Deployment, block: int) -> list[_Market]:
    """Controllers, i < ``n_collaterals()`` (``ControllerFactory.vy`` l.63-70), with AMM and token.

    Per controller ``amm()``, ``collateral_token()`` (``Controller.vy`` l.267-276), ``n_loans()``.
    """
    f, lab = dep.addr("factory"), "ControllerFactory"
    (n,) = read_all(reader, dep, block, [Call(f, "n_collaterals()", label=lab)])
    calls = [Call(f, "controllers(uint256)", (i,), ("address",), lab) for i in range(int(n[0]))]
    ctrls = [r[0].lower() for r in read_all(reader, dep, block, calls)]
    calls = []
    for c in ctrls:
        calls += [
            Call(c, "amm()", out=("address",), label="Controller"),
            Call(c, "collateral_token()", out=("address",), label="Controller"),
            Call(c, "n_loans()", label="Controller"),
        ]
    r = read_all(reader, dep, block, calls)
    return [
        _Market(c, r[3 * i][0].lower(), r[3 * i + 1][0].lower(), int(r[3 * i + 2][0]))
        for i, c in enumerate(ctrls)
    ]


def crvusd_loans(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[CrvusdLoan]:
    """Loans with debt of every factory controller at ``block``.

    Borrowers: ``loans(i)``, i < ``n_loans()`` (``Controller.vy`` l.135-137), or ``owners``.
    Per loan: ``user_state`` (l.1203-1211), ``liquidation_discounts`` (l.132), and on the AMM
    ``get_x_down``, ``read_user_tick_numbers``, then ``p_oracle_up(ns0)``; per market
    ``active_band``, ``price_oracle`` and the collateral's ``decimals``/``symbol``.
    """
    mks = _markets(reader, dep, block)
    calls = []
    for m in mks:
        calls += [
            Call(m.amm, "active_band()", out=("int256",), label="AMM"),
            Call(m.amm, "price_oracle()", label="AMM"),
            Call(m.token, "decimals()", out=("uint8",)),
        ]
    per = read_all(reader, dep, block, calls)
    syms = reader.read(block, [Call(m.token, "symbol()", out=("string",)) for m in mks])
    if owners is not None:
        who = sorted({o.lower() for o in owners})
        pairs = [(j, u) for j in range(len(mks)) for u in who]
    else:
        idx = [(j, i) for j, m in enumerate(mks) for i in range(m.n_loans)]
        calls = [
            Call(mks[j].controller, "loans(uint256)", (i,), ("address",), "Controller")
            for j, i in idx
        ]
        got = read_all(reader, dep, block, calls)
        pairs = [(j, g[0].lower()) for (j, _), g in zip(idx, got, strict=True)]
    calls = []
    for j, u in pairs:
        c, a = mks[j].controller, mks[j].amm
        calls += [
            Call(c, "user_state(address)", (u,), ("uint256[4]",), "Controller"),
            Call(c, "liquidation_discounts(address)", (u,), label="Controller"),
            Call(a, "get_x_down(address)", (u,), label="AMM"),
            Call(a, "read_user_tick_numbers(address)", (u,), ("int256[2]",), "AMM"),
        ]
    res = read_all(reader, dep, block, calls)
    live = []
    for q, (j, u) in enumerate(pairs):
        st, disc, xd, ns = (r[0] for r in res[4 * q : 4 * q + 4])
        if int(st[2]):
            live.append((j, u, st, int(disc), int(xd), int(ns[0])))
    band = [int(per[3 * j][0]) for j in range(len(mks))]
    up = sorted({(j, ns0) for j, _, _, _, _, ns0 in live if ns0 > band[j]})
    calls = [Call(mks[j].amm, "p_oracle_up(int256)", (n,), label="AMM") for j, n in up]
    p_up = {k: int(r[0]) for k, r in zip(up, read_all(reader, dep, block, calls), strict=True)}
    return [
        CrvusdLoan(
            mks[j].controller, u, symbol_of(syms[j]), int(per[3 * j + 2][0]), int(st[0]),
            int(st[1]), int(st[2]), disc, xd, ns0, band[j], int(per[3 * j + 1][0]),
            p_up.get((j, ns0)),
        )
        for j, u, st, disc, xd, ns0 in live
    ]  # fmt: skip


def crvusd_rows(dep: Deployment, loans: list[CrvusdLoan]) -> list[dict]:
    """Row 0: collateral y at ``price_oracle`` with the whole debt; row 1: band crvUSD x, if any.

    LLAMMA has no fixed liquidation ratio, so row 0 carries the account's effective ratio
    (y x p + x) / (debt x (1 + health/1e18)): the rows' health is then the Controller's at the
    block (ratio empty when health <= -100 %, nothing left to sell). Penalty: the loan's
    liquidation discount. Debt is crvUSD at its 1 USD peg.
    """
    out = []
    for ln in loans:
        base = {"owner": ln.user, "platform": dep.platform}
        y = Fraction(ln.collateral, 10**ln.decimals)
        p, x = Fraction(ln.price_oracle, WAD), Fraction(ln.stablecoin, WAD)
        debt, hf = Fraction(ln.debt, WAD), crvusd_health(ln)
        lr = float((y * p + x) / (debt * hf)) if hf > 0 else ""
        out.append(
            cdp_row(base, ln.account, 0, asset=asset_name(ln.symbol), amount=float(y),
                 debt=float(debt), lr=lr, penalty=float(Fraction(ln.discount, WAD)),
                 price=float(p))
        )  # fmt: skip
        if ln.stablecoin:
            out.append(cdp_row(base, ln.account, 1, asset=STABLE, amount=float(x), price=1.0))
    return out


def crvusd_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[dict]:
    """CDP vault rows of crvUSD loans at ``block`` (``owners``: only those borrowers)."""
    return crvusd_rows(dep, crvusd_loans(reader, dep, block, owners))


def crvusd_check(reader: Reader, dep: Deployment, block: int, loans: list[CrvusdLoan]) -> list[str]:
    """Accounts whose ported health differs from the chain's ``Controller.health(user, True)``."""
    calls = [
        Call(ln.controller, "health(address,bool)", (ln.user, True), ("int256",), "Controller")
        for ln in loans
    ]
    res = read_all(reader, dep, block, calls)
    return [
        ln.account for ln, r in zip(loans, res, strict=True) if int(r[0]) != crvusd_health_raw(ln)
    ]


READERS = {"crvusd": crvusd_positions}

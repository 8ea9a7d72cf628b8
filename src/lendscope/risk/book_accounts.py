"""Accounts written as a partition (``lendscope positions``) re-paired for the risk engine.

The engine holds one collateral and one debt asset per position. ``positions`` writes an
account's assets once each (a row may have only a collateral or only a debt side). An account
given as a partition (an ``account`` column, or any one-sided row) is re-paired here: every
collateral leg i meets every debt leg j with collateral c_i·d_j/D and debt d_j·c_i/C (USD), so
the pairs add up to the account exactly, and each pair gets the account's value-weighted
liquidation threshold, so every pair starts at the account's own health factor Σc·LT/D.
Accounts without debt carry no credit risk and are left out; accounts without collateral keep
their debt (bad debt from the start).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Leg:
    """One row as parsed: either side may be absent (asset ``None``)."""

    id: str
    owner: str
    platform: str
    protocol: str
    account: str
    coll_asset: int | None
    coll_usd: float
    debt_asset: int | None
    debt_usd: float
    lt: float
    bonus: float
    partition: bool = False  # the row is one part of its account (``account`` column given)


def pair(legs: list[Leg]) -> list[Leg]:
    """Rows ready for the engine; single pairs and rows of books without accounts unchanged."""
    groups: dict[tuple[str, str], list[Leg]] = {}
    for leg in legs:
        groups.setdefault((leg.platform, leg.account), []).append(leg)
    out: list[Leg] = []
    for rows in groups.values():
        two_sided = all(r.coll_asset is not None and r.debt_asset is not None for r in rows)
        if two_sided and (len(rows) == 1 or not any(r.partition for r in rows)):
            out += rows
            continue
        coll = [r for r in rows if r.coll_asset is not None and r.coll_usd > 0]
        debt = [r for r in rows if r.debt_asset is not None and r.debt_usd > 0]
        c_tot, d_tot = sum(r.coll_usd for r in coll), sum(r.debt_usd for r in debt)
        if not debt:
            continue
        first = rows[0]
        if not coll:
            out += [_leg(first, f"{first.account}:d{j}", d.debt_asset, 0.0, d, d.debt_usd,
                         first.lt, first.bonus) for j, d in enumerate(debt)]  # fmt: skip
            continue
        lt = sum(r.coll_usd * r.lt for r in coll) / c_tot
        for i, c in enumerate(coll):
            for j, d in enumerate(debt):
                out.append(_leg(first, f"{first.account}:{i}:{j}", c.coll_asset,
                                c.coll_usd * d.debt_usd / d_tot, d,
                                d.debt_usd * c.coll_usd / c_tot, lt, c.bonus))  # fmt: skip
    return out


def _leg(base: Leg, pid: str, ca, cu: float, d: Leg, du: float, lt: float, bonus: float) -> Leg:
    return Leg(pid, base.owner, base.platform, base.protocol, base.account, ca, cu,
               d.debt_asset, du, lt, bonus)  # fmt: skip

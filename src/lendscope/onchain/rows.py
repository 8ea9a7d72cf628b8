"""Position rows shared by every family's reader: asset names and the account partition.

Row k of an account pairs its k-th largest collateral with its k-th largest debt (by USD, ties
by asset), and a side may be empty, so each asset of the account appears in exactly one row and
Σ collateral x price x threshold / Σ debt x price over the rows is the account's health factor.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from itertools import zip_longest

from lendscope.core.assets import ASSETS

_ALIASES = {"WETH": "ETH", "ETH": "ETH", "WBTC": "WBTC", "cbBTC": "BTC", "tBTC": "BTC"}
#: DeFi positions CSV (docs/books.md) with ``account``, the key health is computed over.
COLUMNS = (
    "position_id", "account", "owner", "platform", "protocol", "collateral_asset",
    "collateral_amount", "debt_asset", "debt_amount", "liquidation_threshold", "bonus",
    "collateral_price_usd", "debt_price_usd",
)  # fmt: skip
#: One side of a row: (token symbol, whole tokens, USD price, liquidation threshold, bonus).
Item = tuple[str, float, float, float | None, float | None]


def book_asset(symbol: str) -> str:
    """The risk engine's asset name for a token symbol (unknown tokens are ``alt``)."""
    return _ALIASES.get(symbol, symbol if symbol in ASSETS else "alt")


def whole(raw: int, decimals: int) -> float:
    """Token units as a float, rounded once from the exact ratio."""
    return float(Fraction(raw, 10**decimals))


def partition(
    base: dict, account: str, owner: str, coll: list[Item], debt: list[Item]
) -> list[dict]:
    """Rows of one account: k-th largest collateral beside k-th largest debt (by USD)."""
    coll = sorted(coll, key=lambda x: (-x[1] * x[2], x[0]))
    debt = sorted(debt, key=lambda x: (-x[1] * x[2], x[0]))
    rows = []
    for k, (c, d) in enumerate(zip_longest(coll, debt)):
        row = {**base, "position_id": f"{base['platform']}:{account}:{k}", "account": account,
               "owner": owner, "collateral_asset": "", "collateral_amount": 0.0,
               "liquidation_threshold": "", "bonus": "", "collateral_price_usd": "",
               "debt_asset": "", "debt_amount": 0.0, "debt_price_usd": ""}  # fmt: skip
        if c is not None:
            row.update(collateral_asset=book_asset(c[0]), collateral_amount=c[1],
                       collateral_price_usd=c[2],
                       liquidation_threshold="" if c[3] is None else c[3],
                       bonus="" if c[4] is None else c[4])  # fmt: skip
        if d is not None:
            row.update(debt_asset=book_asset(d[0]), debt_amount=d[1], debt_price_usd=d[2])
        rows.append(row)
    return rows


def row_health(rows: Iterable[dict]) -> dict[str, float]:
    """Health factor per account from its rows (inf without debt)."""
    num: dict[str, float] = {}
    den: dict[str, float] = {}
    for r in rows:
        a = r["account"]
        if r["collateral_asset"]:
            num[a] = num.get(a, 0.0) + float(r["collateral_amount"]) * float(
                r["collateral_price_usd"]) * float(r["liquidation_threshold"] or 0.0)  # fmt: skip
        if r["debt_asset"]:
            den[a] = den.get(a, 0.0) + float(r["debt_amount"]) * float(r["debt_price_usd"])
    return {a: (num.get(a, 0.0) / den[a] if den.get(a) else float("inf")) for a in {*num, *den}}

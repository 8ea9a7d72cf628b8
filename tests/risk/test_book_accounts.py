"""Account partitions (``lendscope positions`` rows) re-paired for the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lendscope.core.assets import ASSETS
from lendscope.risk import engine
from lendscope.risk.book_types import Book, BookError
from lendscope.risk.books import parse_positions

HEAD = (
    "position_id,account,owner,platform,protocol,collateral_asset,collateral_amount,"
    "debt_asset,debt_amount,liquidation_threshold,bonus,collateral_price_usd,debt_price_usd\n"
)
# a: 10 ETH at LT 0.825 and 20k USDC at LT 0.78 against 9k USDC and 2 ETH; b: one pair;
# c: debt only; d: collateral only.
ROWS = """\
A:a:0,a,0xa,A,aave_v3,USDC,20000,USDC,9000,0.78,0.045,1,1
A:a:1,a,0xa,A,aave_v3,ETH,10,ETH,2,0.825,0.05,2000,2000
A:b:0,b,0xb,A,aave_v3,ETH,1,USDC,1000,0.825,0.05,2000,1
A:c:0,c,0xc,A,aave_v3,,0,USDC,50,,,,1
A:d:0,d,0xd,A,aave_v3,ETH,3,,0,0.825,0.05,2000,
"""


def account_hf(coll: list[tuple[float, float]], debt: float) -> float:
    return sum(c * lt for c, lt in coll) / debt


def test_pairs_keep_totals_and_the_account_health():
    p = parse_positions("pos.csv", HEAD + ROWS).positions
    owners = np.array(p.owner)
    a = owners == "0xa"
    assert a.sum() == 4  # 2 collateral x 2 debt legs
    assert math.isclose(np.array(p.coll_usd)[a].sum(), 40_000)
    assert math.isclose(np.array(p.debt_usd)[a].sum(), 13_000)
    hf = engine.Positions(Book(positions=p)).hf0
    want = account_hf([(20_000, 0.78), (20_000, 0.825)], 13_000)
    assert np.allclose(hf[a], want)
    # Per-asset totals survive the pairing.
    ca, cu = np.array(p.coll_asset), np.array(p.coll_usd)
    assert math.isclose(cu[a & (ca == ASSETS.index("ETH"))].sum(), 20_000)
    # Two-sided accounts are untouched; debt-only keeps its debt; collateral-only is dropped.
    assert p.id.count("A:b:0") == 1
    c = owners == "0xc"
    assert c.sum() == 1 and np.array(p.coll_usd)[c][0] == 0 and np.array(p.debt_usd)[c][0] == 50
    assert "0xd" not in p.owner


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("X:0,x,0xx,A,aave_v3,,5,USDC,1,,,,1", "collateral_asset"),
        ("X:0,x,0xx,A,aave_v3,ETH,,USDC,1,0.8,,2000,1", "collateral_amount"),
        ("X:0,x,0xx,A,aave_v3,,0,,0,,,,", "collateral_asset"),
    ],
)
def test_bad_sides_name_row_and_field(row, field):
    with pytest.raises(BookError, match=rf"pos.csv: row 2: {field}:"):
        parse_positions("pos.csv", HEAD + row + "\n")


def test_accounts_of_one_owner_in_two_markets_stay_apart():
    rows = (
        "M:m1:0,m1:0xe,0xe,M,morpho_blue,ETH,1,USDC,1000,0.86,,2000,1\n"
        "M:m2:0,m2:0xe,0xe,M,morpho_blue,ETH,1,USDC,1500,0.86,,2000,1\n"
    )
    book = parse_positions("pos.csv", HEAD + rows)
    acct = engine.Positions(book).account
    assert acct[0] != acct[1]  # bad debt of one market is not netted against the other
    assert book.positions.accounts() == ["m1:0xe", "m2:0xe"]
    legacy = parse_positions("old.csv", HEAD.replace("account,", "") + (
        "A:0,0xf,A,aave_v3,ETH,1,USDC,100,0.8,0.05,2000,1\n"
        "A:1,0xf,A,aave_v3,ETH,1,USDC,100,0.8,0.05,2000,1\n"))  # fmt: skip
    assert len(set(engine.Positions(legacy).account)) == 1  # no column: the owner's account
    book.extend(legacy)
    assert book.positions.accounts() == ["m1:0xe", "m2:0xe", "0xf", "0xf"]

"""Book loaders: the examples load, synthetic books round-trip, bad inputs give clear errors."""

# ruff: noqa: E501 (the table of bad inputs reads best one case per line)

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lendscope.risk.book_types import BookError
from lendscope.risk.books import load_book, load_books
from lendscope.risk.scenarios import ScenarioError, load_scenario
from lendscope.risk.synth import synth_book, write_book

EX = Path(__file__).parents[2] / "src/lendscope/risk/examples"
CALIB = {
    "cefi": {"Tether": 14.6e9, "Nexo": 2e9, "unattributed": 6e9},
    "defi": {"Aave": 2e9, "unattributed": 39e9},
    "cdp": {"unattributed": 8.2e9},
}
TAPE_HEAD = (
    "loan_id,lender,counterparty,principal,asset,rate,maturity,collateral_asset,"
    "collateral_amount,initial_ltv,margin_call_ltv,liquidation_ltv,unsecured\n"
)
GOOD_LOAN = "L1,X,c1,100,USDC,0.1,2022-09-01,BTC,1,0.5,0.7,0.8,false\n"
POS_HEAD = (
    "position_id,owner,platform,protocol,collateral_asset,collateral_amount,debt_asset,"
    "debt_amount,collateral_price_usd\n"
)


def test_examples_load():
    b = load_books(sorted(EX.iterdir()))
    assert len(b.loans) == 8 and b.lenders() == ["ExampleLend"]
    assert len(b.positions) == 6 and set(b.positions.segment) == {"defi", "cdp"}
    assert b.loans.principal_usd[5] == 50 * 40000  # asset_price_usd applied
    f = b.funding["ExampleLend"]
    assert f.own_capital_usd == 2e6 and [d.tenor_days for d in f.deposits] == [0, 30, 90, 365]


def test_synthetic_book_matches_calibration_and_round_trips(tmp_path):
    b = synth_book(CALIB, 400, 3, dt.date(2022, 5, 1))
    assert sum(b.loans.principal_usd) == pytest.approx(22.6e9)
    defi = sum(
        d for d, s in zip(b.positions.debt_usd, b.positions.segment, strict=True) if s == "defi"
    )
    assert defi >= 41e9  # plus the CeFi lenders' own on-chain borrows
    assert synth_book(CALIB, 400, 3, dt.date(2022, 5, 1)) == b
    assert synth_book(CALIB, 400, 4, dt.date(2022, 5, 1)) != b
    back = load_books(write_book(b, tmp_path))
    assert back.loans.id == b.loans.id
    assert back.loans.principal_usd == pytest.approx(b.loans.principal_usd, rel=1e-9)
    coll = dict(zip(b.positions.id, b.positions.coll_usd, strict=True))
    assert back.positions.coll_usd == pytest.approx([coll[i] for i in back.positions.id], rel=1e-9)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


BAD = [
    ("tape.csv", TAPE_HEAD + GOOD_LOAN.replace("100,", "-100,"), "row 2: principal: must be > 0"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN.replace(",BTC,1,", ",BTC,-1,"), "row 2: collateral_amount: must be >= 0 (negative amount -1)"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN + GOOD_LOAN.replace("L1,", "L2,").replace("BTC", "DOGE"), "row 3: collateral_asset: unknown asset 'DOGE'"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN.replace("0.5,0.7,0.8", "0.7,0.6,0.8"), "row 2: margin_call_ltv: LTV ladder out of order"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN.replace("0.5,0.7,0.8", "0.5,0.9,0.8"), "row 2: liquidation_ltv: LTV ladder out of order"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN.replace("2022-09-01", "soon"), "row 2: maturity: not an ISO date"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN.replace("false", "maybe"), "row 2: unsecured: expected true or false"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN.replace("false", "true"), "row 2: collateral_amount: an unsecured loan has no collateral"),
    ("tape.csv", TAPE_HEAD.replace("rate,", "apr,") + GOOD_LOAN, "row 1: rate: missing column"),
    ("tape.csv", TAPE_HEAD + GOOD_LOAN + GOOD_LOAN, "row 3: loan_id: duplicate id 'L1'"),
    ("pos.csv", POS_HEAD + "P1,o,Aave,aave_v3,ETH,1,USDC,100,0\n", "row 2: collateral_price_usd: must be > 0, got 0"),
    ("pos.csv", POS_HEAD + "P1,o,Aave,aave_v3,ETH,1,USDC,100,-5\n", "row 2: collateral_price_usd: must be > 0, got -5"),
    ("pos.csv", POS_HEAD + "P1,o,Aave,euler,ETH,1,USDC,100,\n", "row 2: protocol: unknown protocol 'euler'"),
    ("pos.csv", POS_HEAD + "P1,o,Aave,aave_v3,ETH,abc,USDC,100,\n", "row 2: collateral_amount: not a number: 'abc'"),
    ("fund.yaml", "lender: X\nown_capital_usd: -1\nliquid_assets_usd: 5\n", "fund.yaml: own_capital_usd: must be >= 0 (negative amount -1"),
    ("fund.yaml", "lender: X\nown_capital_usd: 1\nliquid_assets_usd: 5\ndeposits: [{tenor_days: 0, amount_usd: x}]\n", "deposits[0].amount_usd: not a number"),
    ("fund.csv", "lender,item,tenor_days,amount_usd\nX,bonds,0,5\n", "row 2: item: unknown item 'bonds'"),
    ("x.csv", "a,b\n1,2\n", "row 1: <header>: not a book file"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "msg"), BAD)
def test_bad_books_name_file_row_and_field(tmp_path, name, text, msg):
    p = _write(tmp_path, name, text)
    with pytest.raises(BookError) as e:
        load_book(p)
    assert str(e.value).startswith(str(p)) and msg in str(e.value)


def test_loans_need_funding(tmp_path):
    p = _write(tmp_path, "tape.csv", TAPE_HEAD + GOOD_LOAN)
    with pytest.raises(BookError, match="lender 'X': loans but no funding file"):
        load_books([p])


@pytest.mark.parametrize(
    ("shock", "what"),
    [("ETH: -1.5", "gives a price <= 0"), ("DOGE: -0.5", "unknown asset 'DOGE'")],
)
def test_bad_scenarios(tmp_path, shock, what):
    p = _write(tmp_path, "s.yaml", f"name: s\ndays: 3\nshocks:\n  {shock}\n")
    with pytest.raises(ScenarioError, match=what) as e:
        load_scenario(p)
    assert str(p) in str(e.value)

"""Credit events and links: named defaults, lender-to-lender loans, lines, recalls, events."""

from __future__ import annotations

import pytest

from lendscope.risk.behaviour import Depositors
from lendscope.risk.book_types import BookError
from lendscope.risk.books import check_book, parse_book
from lendscope.risk.engine import EngineParams, run_stress
from lendscope.risk.engine_cefi import CefiParams
from lendscope.risk.scenarios import scenario_from_dict

HEAD = ("loan_id,lender,counterparty,principal,asset,rate,maturity,collateral_asset,"
        "collateral_amount,initial_ltv,margin_call_ltv,liquidation_ltv,unsecured,notice_days,"
        "collateral_price_usd,asset_price_usd\n")  # fmt: skip
FLAT = scenario_from_dict({"name": "flat", "days": 30, "start": "2022-06-01",
                           "shocks": {"BTC": 0.0}})  # fmt: skip


def fund(name: str, capital: float, liquid: float, deposits: float, runoff=None) -> str:
    dep = f", runoff: {runoff}" if runoff else ""
    return (f"lender: {name}\nown_capital_usd: {capital}\nliquid_assets_usd: {liquid}\n"
            f"deposits:\n  - {{tenor_days: 0, amount_usd: {deposits}{dep}}}\n")  # fmt: skip


def book(*parts):
    b = parse_book(*parts[0])
    for p in parts[1:]:
        b.extend(parse_book(*p))
    check_book(b)
    return b


def test_named_default_on_its_date_and_shared_exposure():
    tape = HEAD + ("1,A,fund-x,100,USDC,0,open,,0,,,,true,,,1\n"
                   "2,B,fund-x,50,USDC,0,open,,0,,,,true,,,1\n")  # fmt: skip
    credit = "counterparties:\n  - {name: fund-x, default_date: 2022-06-10, recovery: 0.2}\n"
    b = book(("t.csv", tape), ("a.yaml", fund("A", 1000, 1000, 0)),
             ("b.yaml", fund("B", 1000, 1000, 0)), ("c.yaml", credit))  # fmt: skip
    run = run_stress(b, FLAT)
    c = run.cefi
    assert list(c.loss) == pytest.approx([80.0, 40.0])  # both lenders, LGD 1 - 0.2
    assert c.counts["defaults"] == 2


def test_lender_to_lender_loan_defaults_when_the_borrowing_lender_fails():
    # B borrows from A (a loan whose counterparty is lender B); B cannot pay its depositors.
    tape = HEAD + "1,A,B,100,USDC,0,open,,0,,,,true,,,1\n"
    news = "events:\n  - {date: 2022-06-01, kind: news, intensity: 1.0}\n"
    b = book(("t.csv", tape), ("a.yaml", fund("A", 1000, 1000, 0)),
             ("b.yaml", fund("B", 10, 5, 1000, 0.5)), ("n.yaml", news))  # fmt: skip
    prm = EngineParams(cefi=CefiParams(resolution_days=0))
    run = run_stress(b, FLAT, 0, prm)
    c = run.cefi
    i, j = c.lenders.index("A"), c.lenders.index("B")
    assert c.failed_day[j] >= 0 and c.failed_day[i] < 0
    assert c.loss[i] == pytest.approx(100 * 0.6)  # unnamed recovery: 1 - unsecured_lgd


def test_credit_line_drawn_then_gone_when_its_provider_fails():
    news = ("events:\n  - {date: 2022-06-01, kind: news, intensity: 1.0}\n"
            "credit_lines:\n  - {provider: X, borrower: L, limit_usd: 1000, start: 2022-06-01}\n"
            "counterparties:\n  - {name: X, default_date: 2022-06-05}\n")  # fmt: skip
    b = book(("l.yaml", fund("L", 1000, 10, 1000, 0.1)), ("c.yaml", news))
    lasting = CefiParams(resolution_days=0, depositors=Depositors(news_half_life=1e12))
    run = run_stress(b, FLAT, 0, EngineParams(cefi=lasting))
    c = run.cefi
    # 10%/day of 1000 leaves daily; the line covers each shortfall until X defaults on day 4
    # (5 June), after which nothing is drawn and the lender cannot pay.
    assert c.drawn[0] == pytest.approx(90 + 90 + 81, rel=1e-9)
    assert c.frozen_day[0] == 4


def test_recall_of_open_term_loans_restores_liquidity():
    tape = HEAD + "1,L,m,500,USDC,0,open,BTC,1,0.5,0.7,0.8,false,2,1000,1\n"
    news = "events:\n  - {date: 2022-06-01, kind: news, intensity: 1.0}\n"
    b = book(("t.csv", tape), ("l.yaml", fund("L", 100, 60, 1000, 0.02)), ("n.yaml", news))
    run = run_stress(b, FLAT)
    c = run.cefi
    assert c.counts["recalls"] == 1 and not c.open[0]  # called on a low buffer, repaid in 2 days
    assert c.frozen_day[0] < 0


def test_capital_event_and_calm_market():
    ev = "events:\n  - {date: 2022-06-03, kind: capital, lenders: [L], usd: 250}\n"
    b = book(("l.yaml", fund("L", 100, 100, 1000)), ("e.yaml", ev))
    run = run_stress(b, FLAT)
    assert run.cefi.capital()[0] == pytest.approx(350)
    assert run.cefi.withdrawn[0] == 0  # no stress, no run


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        (
            "counterparties:\n  - {name: X, default_date: 5 June}\n",
            "c.yaml: counterparties[0]: default_date: not an ISO date",
        ),
        (
            "counterparties:\n  - {name: X, recovery: 2}\n",
            "c.yaml: counterparties[0]: recovery: must be in [0, 1]",
        ),
        (
            "events:\n  - {date: 2022-06-01, kind: rumour}\n",
            "c.yaml: events[0]: kind: must be one of news, capital, liquidity",
        ),
        (
            "credit_lines:\n  - {provider: X, borrower: L, start: 2022-06-01}\n",
            "c.yaml: credit_lines[0]: limit_usd: missing field",
        ),
        ("counterparties: {X: 1}\n", "c.yaml: counterparties: expected a list"),
    ],
)
def test_credit_file_errors_name_file_item_and_field(text, msg):
    with pytest.raises(BookError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        parse_book("c.yaml", text)


def test_links_must_name_known_lenders():
    cl = "credit_lines:\n  - {provider: X, borrower: Nobody, limit_usd: 1, start: 2022-06-01}\n"
    with pytest.raises(BookError, match="credit_lines\\[0\\]: borrower: unknown lender 'Nobody'"):
        book(("l.yaml", fund("L", 1, 1, 1)), ("c.yaml", cl))

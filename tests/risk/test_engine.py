"""The stress engine against hand-computed books, the closed-form oracles and contagion."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from lendscope.core.assets import ASSETS
from lendscope.risk.behaviour import Borrowers, Depositors
from lendscope.risk.books import parse_book, parse_funding_yaml
from lendscope.risk.engine import (
    EngineParams,
    Positions,
    repay_to_restore_hf,
    toxic_ltv,
)
from lendscope.risk.engine_cefi import CefiParams
from lendscope.risk.montecarlo import first_passage_probability
from lendscope.risk.results import stress_summary, to_json
from lendscope.risk.scenarios import scenario_from_dict
from lendscope.risk.synth import synth_book
from lendscope.risk.var import run_var

# Protocol rules alone: no fee, no borrower behaviour, no default pools (hand-computed cases).
NO_FEE = EngineParams(
    aave_protocol_fee=0.0,
    borrowers=Borrowers(daily_share=0.0, max_share=0.0, releverage=0.0),
    default_liquidity=False,
)
POS = (
    "position_id,owner,platform,protocol,collateral_asset,collateral_amount,debt_asset,"
    "debt_amount,liquidation_threshold,bonus,collateral_price_usd\n"
)


def shock(days: int = 1, **moves: float):
    return scenario_from_dict({"name": "t", "days": days, "shocks": moves or {"USDC": 0.0}})


def book_of(*parts):
    b = parse_book(*parts[0])
    for p in parts[1:]:
        b.extend(parse_book(*p) if isinstance(p, tuple) else p)
    return b


def test_known_book_known_shock_hand_computed():
    pos = POS + (
        "A,a,Aave,aave_v3,ETH,100,USDC,70000,0.8,0.05,1000\n"  # HF 0.57: 100% close factor
        "B,b,Aave,aave_v3,ETH,100,USDC,38000,0.8,0.05,1000\n"  # HF 1.05: untouched
        "C,c,Aave,aave_v3,ETH,100,USDC,41000,0.8,0.05,1000\n"  # HF 0.976: 50% close factor
    )  # amounts in $k: above Aave v3.3's $2,000 full-close-factor threshold
    vaults = (
        "vault_id,owner,platform,collateral_asset,collateral_amount,debt_usd,liquidation_ratio,"
        "penalty,collateral_price_usd\nV,v,Maker,ETH,200,80000,1.5,0.13,1000\n"
    )
    b = book_of(("p.csv", pos), ("v.csv", vaults))
    s = stress_summary(b, shock(ETH=-0.5), 0, NO_FEE)
    # A: seize all 100 ETH at 0.5 → repaid 100·0.5/1.05, the rest is bad debt (v3.3 deficit).
    rep_a = 100e3 * 0.5 / 1.05
    # C: repay 41/2; HF afterwards (100 - 20.5·1.05/0.5)·0.5·0.8/20.5 = 1.11, so no second round.
    # V: tab 80·1.13 = 90.4 < 200·0.5·0.95 → auction covers the debt: 80 liquidated, no bad debt.
    seg = s["by_segment"]
    assert seg["defi"]["liquidated_usd"] == pytest.approx(rep_a + 20.5e3, abs=0.01)
    assert seg["defi"]["bad_debt_usd"] == pytest.approx(70e3 - rep_a, abs=0.01)
    assert seg["cdp"]["liquidated_usd"] == pytest.approx(80e3, abs=0.01)
    assert seg["cdp"]["bad_debt_usd"] == 0
    assert s["bad_debt_usd"] == pytest.approx(70e3 - rep_a, abs=0.01)
    assert s["counts"]["defi_cdp_liquidations"] == 3
    assert s["by_asset"]["ETH"]["sold_usd_at_start_prices"] == pytest.approx(
        1e3 * (100 + 20.5 * 1.05 / 0.5 + 90.4 / 0.475), abs=0.01
    )


def test_price_impact_feeds_back_into_the_cascade():
    pos = POS + "".join(
        f"P{i},o{i},Aave,aave_v3,ETH,100,USDC,{60 + i},0.8,0.05,1\n" for i in range(10)
    )
    b = book_of(("p.csv", pos))
    calm = stress_summary(b, shock(ETH=-0.22), 0, NO_FEE)
    sc = scenario_from_dict(
        {"name": "t", "days": 1, "shocks": {"ETH": -0.22},
         "liquidity": {"ETH": {"model": "cpmm", "depth_usd": 2000}}}
    )  # fmt: skip
    hot = stress_summary(b, sc, 0, NO_FEE)
    assert calm["liquidated_usd"] < hot["liquidated_usd"]  # sales push others under
    assert hot["by_asset"]["ETH"]["min_price_multiplier"] < 0.78


def test_oracle_repay_that_restores_hf_one():
    r = repay_to_restore_hf(90, 80, 0.825, 0.05)
    assert r == pytest.approx(42.99, abs=0.01)
    assert (90 - r * 1.05) * 0.825 / (80 - r) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("debt", "lt", "rises"), [(96, 0.95, True), (94, 0.93, False)])
def test_oracle_toxic_liquidation_threshold(debt, lt, rises):
    assert toxic_ltv(0.05) == pytest.approx(0.95238, abs=1e-5)
    row = f"P,o,Aave,aave_v3,ETH,100,USDC,{debt * 1000},{lt},0.05,1000\n"  # over $2,000
    b = book_of(("p.csv", POS + row))
    pos = Positions(b)
    pos.liquidate(np.ones(len(ASSETS)), NO_FEE)  # one 50% close-factor liquidation
    assert pos.d[0] == debt * 1000 / 2
    assert bool(pos.d[0] / pos.c[0] > debt / 100) is rises  # LTV rises iff LTV > 1/(1+b)


def test_barrier_hit_probability_vs_monte_carlo_liquidations():
    # One ETH/USDC position liquidated when the price ratio falls 3%: P(liquidated within a day)
    # is the GBM first-passage probability (hourly monitoring biases the estimate a little low).
    b = book_of(("p.csv", POS + "P,o,Aave,aave_v3,ETH,100,USDC,77.6,0.8,0.05,1\n"))
    v = run_var(b, 8192, "1d", seed=7, calibrate=False, behaviour=False)  # closed form: fixed sigma
    sigma = math.hypot(0.70, 0.02)
    p = first_passage_probability(-(sigma**2) / 2, sigma, 1 / 365, 0.97)
    est = v["mean_liquidated_usd"] / 77.6
    assert 0.8 * p < est < p + 0.02
    assert v["var95_usd"] == 0  # 3% below the threshold still leaves collateral > debt


def test_cefi_run_on_short_deposits_fails_on_expected_day():
    fund = parse_funding_yaml(
        "f.yaml",
        {"lender": "L", "own_capital_usd": 1000, "liquid_assets_usd": 100,
         "deposits": [{"tenor_days": 0, "amount_usd": 1000, "runoff": 0.05},
                      {"tenor_days": 30, "amount_usd": 1000, "runoff": 0.05}]},
    )  # fmt: skip
    news = parse_book("c.yaml", "events:\n  - {date: 2000-01-01, kind: news, intensity: 1.0}\n")
    fund.extend(news)
    # A lasting news item (signal 1 every day) runs deposits off at their 5%/day; the lender
    # fails the day it cannot pay (no freeze grace).
    prm = EngineParams(cefi=CefiParams(depositors=Depositors(news_half_life=1e12),
                                       resolution_days=0))  # fmt: skip
    s = stress_summary(fund, shock(days=5), 0, prm)
    # Day 1 pays 50 (left 50), day 2 47.5 (left 2.5), day 3 45.125 > 2.5: cannot pay.
    assert s["failed_lenders"] == [
        {"lender": "L", "day": 3, "date": "2000-01-04", "reason": "illiquid",
         "frozen_date": "2000-01-04"}
    ]  # fmt: skip
    calm = stress_summary(fund.__class__(funding=fund.funding), shock(days=5), 0, prm)
    assert calm["failed_lenders"] == [] and calm["cefi"]["lenders"][0]["withdrawn_usd"] == 0
    (lender,) = s["cefi"]["lenders"]
    assert lender["days_to_illiquid"] == 3 and lender["days_to_insolvent"] is None
    assert lender["withdrawn_usd"] == pytest.approx(50 + 47.5 + 45.125, abs=0.01)  # then frozen


def test_cefi_margin_ladder_and_credit_loss():
    tape = (
        "loan_id,lender,counterparty,principal,asset,rate,maturity,collateral_asset,"
        "collateral_amount,initial_ltv,margin_call_ltv,liquidation_ltv,unsecured,"
        "collateral_price_usd\n"
        "L1,L,c1,50,USDC,0,open,BTC,100,0.5,0.7,0.8,false,1\n"  # BTC -50%: LTV 1.0 → liquidated
        "L2,L,c2,40,USDC,0,open,ETH,100,0.4,0.7,0.8,false,1\n"
    )
    fund = {"lender": "L", "own_capital_usd": 100, "liquid_assets_usd": 100}
    b = book_of(("t.csv", tape), parse_funding_yaml("f.yaml", fund))
    s = stress_summary(b, shock(BTC=-0.5, ETH=-0.3), 0)
    # L1: sale of 100 BTC at 0.5·0.98 = 49 repays 49, loss 1. L2: LTV 40/70 = 0.57, healthy.
    assert s["by_segment"]["cefi"]["bad_debt_usd"] == pytest.approx(1.0, abs=1e-6)
    assert s["by_segment"]["cefi"]["liquidated_usd"] == pytest.approx(49.0, abs=1e-6)
    assert s["counts"]["liquidations"] == 1 and s["counts"]["margin_calls"] == 0


def test_contagion_cefi_lender_liquidated_on_chain():
    pos = POS + "P,L,Aave,aave_v3,stETH,100,USDC,70,0.8,0.05,1\n"
    fund = {"lender": "L", "own_capital_usd": 10, "liquid_assets_usd": 1000}
    b = book_of(("p.csv", pos), parse_funding_yaml("f.yaml", fund))
    s = stress_summary(b, shock(stETH=-0.5), 0, NO_FEE)
    (lender,) = s["cefi"]["lenders"]
    assert lender["onchain_liquidated_usd"] == pytest.approx(100 * 0.5 / 1.05, abs=0.01)
    assert lender["onchain_losses_usd"] == pytest.approx(30, abs=0.01)  # its equity in the loan
    # Insolvent from day 1 but still able to pay: it keeps operating (no named default made the
    # loss public, no withdrawals it cannot meet), as Celsius did for months.
    assert lender["days_to_insolvent"] == 1 and s["failed_lenders"] == []


def test_same_seed_identical_json_and_seed_matters():
    calib = {"cefi": {"A": 5e9, "B": 2e9}, "defi": {"Aave": 10e9}, "cdp": {"Sky": 5e9}}
    sc = scenario_from_dict({"name": "t", "days": 20, "shocks": {"BTC": -0.6, "ETH": -0.7}})
    runs = [
        to_json(stress_summary(synth_book(calib, 300, seed, dt.date(2000, 1, 1)), sc, seed))
        for seed in (5, 5, 6)
    ]
    assert runs[0] == runs[1] != runs[2]

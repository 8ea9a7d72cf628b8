"""Backtests: the engine on a cited book of a past market, scored against what happened.

``run_backtest("2022")`` runs the bundled 2022Q1 book (:mod:`.case`) through the ``2022``
scenario (real daily closes May 2022 - January 2023, named credit events) with the engine's
default, calibrated parameters — nothing is set per lender — and puts the prediction beside
the outcome: which lenders failed and when, and the on-chain liquidations published for the
windows where a figure exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from lendscope.risk.backtest.case import Case, build_book, load_case
from lendscope.risk.engine import EngineParams, StressRun, run_stress
from lendscope.risk.scenarios import load_builtin

#: A failure predicted within this many days of the actual date counts as on time (the issue).
DATE_TOLERANCE_DAYS = 45
#: Predicted on-chain liquidations within this factor of the published figure count as a match.
ONCHAIN_FACTOR = 3.0
BACKTEST_SEED = 2022


def run_backtest(
    name: str = "2022", seed: int = BACKTEST_SEED, params: EngineParams | None = None
) -> dict[str, Any]:
    """Predicted vs actual for every lender and published on-chain figure, with a score."""
    case = load_case(name)
    sc = load_builtin(case.scenario)
    book = build_book(case, sc.dates[0], seed)
    run = run_stress(book, sc, seed, params)
    lenders = [_lender(run, case, x) for x in run.cefi.lenders]
    onchain = _onchain(run, case)
    ok = sum(x["correct"] for x in lenders)
    matched = sum(o["within_factor"] for o in onchain["observed"])
    return {
        "case": name,
        "scenario": sc.name,
        "start": sc.dates[0].isoformat(),
        "end": sc.dates[-1].isoformat(),
        "seed": seed,
        "book_source": str(case.path.name),
        "lenders": lenders,
        "onchain": onchain,
        "score": {
            "lenders_correct": ok,
            "lenders": len(lenders),
            "onchain_within_factor": matched,
            "onchain_observed": len(onchain["observed"]),
            "date_tolerance_days": DATE_TOLERANCE_DAYS,
            "onchain_factor": ONCHAIN_FACTOR,
            "summary": f"{ok}/{len(lenders)} lenders right (fate, and date within "
            f"{DATE_TOLERANCE_DAYS} days); {matched}/{len(onchain['observed'])} on-chain figures "
            f"within {ONCHAIN_FACTOR:g}x",
        },
    }


def _lender(run: StressRun, case: Case, name: str) -> dict[str, Any]:
    c, dates = run.cefi, run.scenario.dates
    i = c.lenders.index(name)
    act = case.actual[name]
    fd, zd = int(c.failed_day[i]), int(c.frozen_day[i])
    predicted = fd >= 0
    p_date = dates[fd] if predicted else None
    err = (p_date - act.failed_date).days if predicted and act.failed_date else None
    on_time = err is not None and abs(err) <= DATE_TOLERANCE_DAYS
    correct = (predicted == act.failed) and (not act.failed or on_time)
    return {
        "lender": name,
        "actual_failed": act.failed,
        "actual_date": act.failed_date.isoformat() if act.failed_date else None,
        "actual_frozen": act.frozen.isoformat() if act.frozen else None,
        "predicted_failed": predicted,
        "predicted_date": p_date.isoformat() if p_date else None,
        "predicted_frozen": dates[zd].isoformat() if zd >= 0 else None,
        "days_off": err,
        "correct": bool(correct),
        "reason": _reason(run, i, act.failed, predicted, err),
        "withdrawn_usd": round(float(c.withdrawn[i]), 2),
        "credit_losses_usd": round(float(c.loss[i]), 2),
        "capital_end_usd": round(float(c.capital()[i]), 2),
    }


def _reason(run: StressRun, i: int, actual: bool, predicted: bool, err: int | None) -> str:
    """Why the model says what it says, in words (the mechanism, and a miss explained)."""
    c, dates = run.cefi, run.scenario.dates
    parts = []
    if c.frozen_day[i] >= 0:
        d = dates[int(c.frozen_day[i])]
        why = ("could not pay withdrawals" if c.freeze_cause[i] == 1 else
               f"halted, insolvent {c.p.resolution_days} days after a named default with no new "
               "capital")  # fmt: skip
        parts.append(f"{why} on {d} (withdrawn ${c.withdrawn[i] / 1e9:.2f}B, "
                     f"liquid ${c.liquid0[i] / 1e9:.2f}B at the start)")  # fmt: skip
    if c.insolvent_day[i] >= 0:
        d = dates[int(c.insolvent_day[i])]
        parts.append(f"capital exhausted on {d} (credit losses ${c.loss[i] / 1e9:.2f}B)")
        if c.capital()[i] > 0 and c.support[i] > 0:
            w, dep = c.withdrawn[i] / 1e9, c.deposits0[i] / 1e9
            parts.append(f"restored by ${c.support[i] / 1e9:.2f}B of new capital; stayed liquid "
                         f"(withdrawn ${w:.2f}B of ${dep:.2f}B)")  # fmt: skip
    if not parts:
        parts.append(f"stayed liquid and solvent (withdrawn ${c.withdrawn[i] / 1e9:.2f}B of "
                     f"${c.deposits0[i] / 1e9:.2f}B; losses ${c.loss[i] / 1e9:.2f}B)")  # fmt: skip
    if actual and predicted and err is not None and abs(err) > DATE_TOLERANCE_DAYS:
        parts.append(f"MISS: {abs(err)} days {'early' if err < 0 else 'late'}")
    elif actual != predicted:
        parts.append("MISS: predicted " + ("failure" if predicted else "survival"))
    return "; ".join(parts)


def _onchain(run: StressRun, case: Case) -> dict[str, Any]:
    dates = run.scenario.dates
    by_platform = {}
    for (seg, platform), acc in sorted(run.by_platform.items()):
        if seg != "cefi":
            by_platform[platform] = round(acc["liquidated_usd"], 2)
    daily = run.platform_daily
    observed = []
    for o in case.observed:
        lo, hi = (dt.date.fromisoformat(str(x)) for x in o["window"])
        idx = [k - 1 for k, d in enumerate(dates) if k > 0 and lo <= d <= hi]
        model = float(np.sum(daily.get(o["protocol"], np.zeros(len(dates) - 1))[idx]))
        ratio = model / o["usd"] if o["usd"] else None
        observed.append({
            "protocol": o["protocol"], "window": [lo.isoformat(), hi.isoformat()],
            "published_usd": float(o["usd"]), "measure": o["measure"], "source": o["source"],
            "model_usd": round(model, 2), "ratio": round(ratio, 4) if ratio else None,
            "within_factor": bool(ratio and 1 / ONCHAIN_FACTOR <= ratio <= ONCHAIN_FACTOR),
        })  # fmt: skip
    return {
        "liquidated_usd": round(sum(by_platform.values()), 2),
        "by_protocol": by_platform,
        "debt_usd": round(float(sum(run.book.positions.debt_usd)), 2),
        "voluntary_repaid_usd": round(run.repaid_usd, 2),
        "observed": observed,
    }

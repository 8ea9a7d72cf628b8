"""Stress results as data: the JSON summary, and the 2022 replay the report words.

The JSON is deterministic: same book, scenario and seed → identical bytes (floats rounded to
cents, keys in a fixed order).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from lendscope.core.assets import ASSETS
from lendscope.risk.book_types import SEGMENTS, Book
from lendscope.risk.engine import EngineParams, StressRun, run_stress
from lendscope.risk.scenarios import Scenario, load_builtin
from lendscope.risk.synth import calibration, synth_book

#: The report's "What would 2022 do to today's market?": small fixed book, fixed seed (fast).
REPORT_POSITIONS, REPORT_SEED = 600, 2022


def _r(x: float) -> float:
    return round(float(x), 2)


def summary(run: StressRun) -> dict[str, Any]:
    """The stress JSON.

    Totals, ``by_segment`` (cefi, defi, cdp), platforms, assets, lenders and the timeline.
    """
    sc, cefi = run.scenario, run.cefi
    dates = [d.isoformat() for d in sc.dates]
    liq_total = {s: float(run.liquidated[s].sum()) for s in SEGMENTS}
    bad_end = {s: float(run.bad_debt[s][-1]) if len(run.bad_debt[s]) else 0.0 for s in SEGMENTS}
    bad_peak = {s: float(run.bad_debt[s].max()) if len(run.bad_debt[s]) else 0.0 for s in SEGMENTS}
    p = run.book.positions
    size = {s: 0.0 for s in SEGMENTS}
    for seg, d in zip(p.segment, p.debt_usd, strict=True):
        size[seg] += d
    size["cefi"] = float(sum(run.book.loans.principal_usd))
    failed = []
    for i, name in enumerate(cefi.lenders):
        day, frozen = int(cefi.failed_day[i]), int(cefi.frozen_day[i])
        if day >= 0:
            solvent = not 0 <= cefi.insolvent_day[i] <= day
            why = "illiquid" if solvent else "insolvent"
            fz = dates[frozen] if frozen >= 0 else None
            failed.append(
                {"lender": name, "day": day, "date": dates[day], "reason": why, "frozen_date": fz}
            )
    failed.sort(key=lambda f: (f["day"], f["lender"]))
    lenders = []
    for i, exp in enumerate(run.exposures):
        lenders.append(
            {
                **{k: _r(v) if isinstance(v, float) else v for k, v in exp.items()},
                "own_capital_usd": _r(cefi.capital0[i]),
                "capital_end_usd": _r(cefi.capital()[i]),
                "liquid_assets_usd": _r(cefi.liquid0[i]),
                "liquid_assets_end_usd": _r(cefi.liquid[i]),
                "deposits_usd": _r(cefi.deposits0[i]),
                "withdrawn_usd": _r(cefi.withdrawn[i]),
                "credit_losses_usd": _r(cefi.loss[i]),
                "onchain_losses_usd": _r(cefi.onchain_loss[i]),
                "onchain_liquidated_usd": _r(run.onchain_liquidated.get(exp["lender"], 0.0)),
                "days_to_illiquid": _day(cefi.illiquid_day[i]),
                "days_to_insolvent": _day(cefi.insolvent_day[i]),
            }
        )
    used = sorted({a for a, v in run.by_asset.items()} | {"BTC", "ETH"} | set(sc.assets),
                  key=ASSETS.index)  # fmt: skip
    return {
        "scenario": sc.name,
        "seed": run.seed,
        "start": dates[0],
        "end": dates[-1],
        "days": sc.steps,
        "book": {
            "sources": run.book.sources,
            # A synthetic book's CeFi balance sheets are made up to the market's size; say so.
            "synthetic": any(x.startswith("synthetic(") for x in run.book.sources),
            "positions": sum(s == "defi" for s in p.segment),
            "vaults": sum(s == "cdp" for s in p.segment),
            "loans": len(run.book.loans),
            "lenders": len(cefi.lenders),
            "debt_usd": _r(sum(size.values())),
        },
        "bad_debt_usd": _r(sum(bad_end.values())),
        "peak_bad_debt_usd": _r(np.sum([run.bad_debt[s] for s in SEGMENTS], axis=0).max(initial=0)),
        "liquidated_usd": _r(sum(liq_total.values())),
        "failed_lenders": failed,
        "prices": {
            a: {
                k: round(float(v * run.usd_start[ASSETS.index(a)]), 6)
                for k, v in (
                    ("start", run.prices[0, ASSETS.index(a)]),
                    ("min", run.prices[:, ASSETS.index(a)].min()),
                    ("end", run.prices[-1, ASSETS.index(a)]),
                )
            }
            for a in used
        },
        "impact": {
            "market": run.market,
            "basis": "excess over history" if sc.history_market_debt_usd else "all forced sales",
            "excess_share": round(run.excess_share, 6),
            "history_market_debt_usd": sc.history_market_debt_usd,
        },
        "voluntary_repaid_usd": _r(run.repaid_usd),
        "by_segment": {
            s: {
                "debt_usd": _r(size[s]),
                "liquidated_usd": _r(liq_total[s]),
                "bad_debt_usd": _r(bad_end[s]),
                "peak_bad_debt_usd": _r(bad_peak[s]),
                "worst_day_liquidated_usd": _r(run.liquidated[s].max(initial=0)),
            }
            for s in SEGMENTS
        },
        "by_platform": [
            {"segment": s, "platform": pl, **{k: _r(v) for k, v in acc.items()}}
            for (s, pl), acc in sorted(run.by_platform.items())
        ],
        "by_asset": {
            a: {
                **{k: _r(v) for k, v in run.by_asset.get(a, {}).items()},
                "sold_usd_at_start_prices": _r(run.sold_usd[ASSETS.index(a)]),
                "min_price_multiplier": round(float(run.prices[:, ASSETS.index(a)].min()), 6),
                "scenario_min_multiplier": round(float(run.scenario.path(a).min()), 6),
            }
            for a in used
        },
        "cefi": {
            "lenders": lenders,
            "unsecured_usd": _r(sum(x["unsecured_usd"] for x in run.exposures)),
            "unsecured_losses_usd": _r(cefi.unsecured_losses_usd),
            "forced_sales_usd": _r(cefi.forced_sales_usd),
        },
        "counts": dict(run.counts),
        "timeline": {
            "dates": dates[1:],
            "liquidated_usd": {s: [_r(x) for x in run.liquidated[s]] for s in SEGMENTS},
            "bad_debt_usd": {s: [_r(x) for x in run.bad_debt[s]] for s in SEGMENTS},
            "price_multiplier": {
                a: [round(float(x), 6) for x in run.prices[1:, ASSETS.index(a)]] for a in used
            },
        },
    }


def _day(d: int) -> int | None:
    return int(d) if d >= 0 else None


def to_json(obj: dict) -> str:
    """Canonical JSON text (stable key order from construction, 2-space indent)."""
    return json.dumps(obj, indent=2, allow_nan=False)


def stress_summary(
    book: Book, scenario: Scenario, seed: int = 0, params: EngineParams | None = None
) -> dict:
    """Run the engine and return the JSON summary."""
    return summary(run_stress(book, scenario, seed, params))


def stress_2022(metrics: Any) -> dict[str, Any]:
    """The 2022 replay on a synthetic book sized like the latest quarter of ``metrics``.

    ``metrics`` is any object with ``latest_period()`` and ``for_period()`` (MarketMetrics);
    returns data only, the report words it. 2022's prices meet today's market: today's pools
    (e.g. stETH redeemable since 2023), not the 2022 pools the backtest uses.
    """
    from lendscope.risk.backtest import shipped_score

    period = metrics.latest_period()
    sc = load_builtin("2022")
    book = synth_book(calibration(metrics, period), REPORT_POSITIONS, REPORT_SEED, sc.dates[0])
    return {
        "period": period,
        "positions": REPORT_POSITIONS,
        "seed": REPORT_SEED,
        "summary": stress_summary(book, sc, REPORT_SEED, EngineParams(market="today")),
        "backtest": shipped_score(),
    }

"""Stress results: the JSON summary, a text table, charts, and the report's 2022 section.

The JSON is deterministic: same book, scenario and seed → identical bytes (floats rounded to
cents, keys in a fixed order).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lendscope.risk.book_types import SEGMENTS, Book
from lendscope.risk.engine import EngineParams, StressRun, run_stress
from lendscope.risk.scenarios import ASSETS, Scenario, load_builtin

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
        day = int(cefi.failed_day[i])
        if day >= 0:
            why = "illiquid" if cefi.illiquid_day[i] == day else "insolvent"
            failed.append({"lender": name, "day": day, "date": dates[day], "reason": why})
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
    used = sorted({a for a, v in run.by_asset.items()} | {"BTC", "ETH"}, key=ASSETS.index)
    return {
        "scenario": sc.name,
        "seed": run.seed,
        "start": dates[0],
        "end": dates[-1],
        "days": sc.steps,
        "book": {
            "sources": run.book.sources,
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


def table(s: dict) -> str:
    """A plain-text summary of a stress result."""

    def usd(x: float) -> str:
        return f"${x / 1e9:,.2f}B" if abs(x) >= 1e8 else f"${x / 1e6:,.1f}M"

    lines = [
        f"Scenario {s['scenario']} ({s['start']} .. {s['end']}, {s['days']} days), "
        f"seed {s['seed']}",
        f"Book: {s['book']['positions']} positions, {s['book']['vaults']} vaults, "
        f"{s['book']['loans']} loans, {s['book']['lenders']} lenders, "
        f"{usd(s['book']['debt_usd'])} debt",
        f"{'segment':8} {'debt':>12} {'liquidated':>12} {'bad debt':>12}",
    ]
    for seg, v in s["by_segment"].items():
        lines.append(
            f"{seg:8} {usd(v['debt_usd']):>12} {usd(v['liquidated_usd']):>12} "
            f"{usd(v['bad_debt_usd']):>12}"
        )
    lines.append(
        f"{'total':8} {usd(s['book']['debt_usd']):>12} {usd(s['liquidated_usd']):>12} "
        f"{usd(s['bad_debt_usd']):>12}"
    )
    for f in s["failed_lenders"]:
        lines.append(f"FAILED {f['lender']} on day {f['day']} ({f['date']}): {f['reason']}")
    if not s["failed_lenders"]:
        lines.append("No lender fails.")
    return "\n".join(lines)


def charts(s: dict, out: Path) -> list[Path]:
    """Write liquidations, bad debt and prices over time as SVG (Altair + vl-convert)."""
    import altair as alt
    import vl_convert as vlc

    tl = s["timeline"]
    written = []
    specs = {
        "liquidations": ("liquidated_usd", "Liquidated per day (USD)", "segment"),
        "bad_debt": ("bad_debt_usd", "Bad debt, end of day (USD)", "segment"),
        "prices": ("price_multiplier", "Price multiplier incl. liquidation impact", "asset"),
    }
    for name, (key, title, colour) in specs.items():
        rows = [
            {"date": d, colour: k, "value": v}
            for k, series in tl[key].items()
            for d, v in zip(tl["dates"], series, strict=True)
        ]
        chart = (
            alt.Chart(alt.Data(values=rows), title=f"{s['scenario']}: {title}")
            .mark_line()
            .encode(x="date:T", y=alt.Y("value:Q", title=None), color=f"{colour}:N")
            .properties(width=640, height=260)
        )
        path = out / f"{name}.svg"
        path.write_text(vlc.vegalite_to_svg(chart.to_dict()))
        written.append(path)
    return written


def write_outputs(s: dict, out: Path) -> list[Path]:
    """``stress.json`` and the charts under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "stress.json").write_text(to_json(s) + "\n")
    return [out / "stress.json", *charts(s, out)]


def stress_summary(
    book: Book, scenario: Scenario, seed: int = 0, params: EngineParams | None = None
) -> dict:
    """Run the engine and return the JSON summary."""
    return summary(run_stress(book, scenario, seed, params))


def what_2022_would_do(metrics: Any) -> dict[str, Any]:
    """The report section: the 2022 replay on a synthetic book sized like the latest quarter.

    Returns the numbers and ready sentences; the report template only prints them.
    """
    from lendscope.report.findings import quarter, usd
    from lendscope.risk.synth import calibration, synth_book

    period = metrics.latest_period()
    sc = load_builtin("2022")
    book = synth_book(calibration(metrics, period), REPORT_POSITIONS, REPORT_SEED, sc.dates[0])
    s = stress_summary(book, sc, REPORT_SEED)
    seg = s["by_segment"]
    debt = s["book"]["debt_usd"]
    names = {"cefi": "CeFi", "defi": "DeFi", "cdp": "CDP stablecoins"}
    sentences = [
        f"Replaying May to December 2022 on a synthetic book sized like {quarter(period)} "
        f"({usd(debt)} of loans; {REPORT_POSITIONS} positions, seed {REPORT_SEED}) liquidates "
        f"{usd(s['liquidated_usd'])} and leaves {usd(s['bad_debt_usd'])} of bad debt "
        f"({s['bad_debt_usd'] / debt:.1%} of loans)."
        if debt
        else "No loans to stress.",
    ]
    for k in SEGMENTS:
        v = seg[k]
        if v["debt_usd"]:
            sentences.append(
                f"{names[k]}: {usd(v['liquidated_usd'])} liquidated, {usd(v['bad_debt_usd'])} "
                f"bad debt on {usd(v['debt_usd'])} of loans."
            )
    f = s["failed_lenders"]
    sentences.append(
        f"{len(f)} of {s['book']['lenders']} CeFi lenders fail"
        + (
            ": " + ", ".join(f"{x['lender']} ({x['reason']}, {x['date']})" for x in f) + "."
            if f
            else "."
        )
    )
    return {"period": period, "summary": s, "sentences": sentences}

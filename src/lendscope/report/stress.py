"""Stress results in words and pictures: the CLI table, the charts and the report's 2022 section.

The risk engine returns data (:mod:`lendscope.risk.results`); everything a reader sees of it is
written here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lendscope.core.fmt import quarter, usd
from lendscope.risk.book_types import SEGMENTS
from lendscope.risk.results import stress_2022, to_json

SEGMENT_NAMES = {"cefi": "CeFi", "defi": "DeFi", "cdp": "CDP stablecoins"}


def table(s: dict) -> str:
    """A plain-text summary of a stress result."""

    def money(x: float) -> str:
        return usd(x, digits=2, m_digits=1, billions_from=1e8)

    lines = [
        f"Scenario {s['scenario']} ({s['start']} .. {s['end']}, {s['days']} days), "
        f"seed {s['seed']}",
        f"Book: {s['book']['positions']} positions, {s['book']['vaults']} vaults, "
        f"{s['book']['loans']} loans, {s['book']['lenders']} lenders, "
        f"{money(s['book']['debt_usd'])} debt",
        f"{'segment':8} {'debt':>12} {'liquidated':>12} {'bad debt':>12}",
    ]
    for seg, v in s["by_segment"].items():
        lines.append(
            f"{seg:8} {money(v['debt_usd']):>12} {money(v['liquidated_usd']):>12} "
            f"{money(v['bad_debt_usd']):>12}"
        )
    lines.append(
        f"{'total':8} {money(s['book']['debt_usd']):>12} {money(s['liquidated_usd']):>12} "
        f"{money(s['bad_debt_usd']):>12}"
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


def what_2022_would_do(metrics: Any) -> dict[str, Any]:
    """The report section: the 2022 replay on a synthetic book sized like the latest quarter.

    Returns the numbers and ready sentences; the report template only prints them.
    """
    r = stress_2022(metrics)
    period, s = r["period"], r["summary"]
    seg = s["by_segment"]
    debt = s["book"]["debt_usd"]
    bt = r["backtest"]["score"]
    sentences = [
        f"Replaying May 2022 to January 2023 on real daily closes, today's liquidity pools and a "
        f"synthetic book sized like {quarter(period)} "
        f"({usd(debt)} of loans; {r['positions']} positions, seed {r['seed']}) liquidates "
        f"{usd(s['liquidated_usd'])} and leaves {usd(s['bad_debt_usd'])} of bad debt "
        f"({s['bad_debt_usd'] / debt:.1%} of loans)."
        if debt
        else "No loans to stress.",
    ]
    for k in SEGMENTS:
        v = seg[k]
        if v["debt_usd"]:
            sentences.append(
                f"{SEGMENT_NAMES[k]}: {usd(v['liquidated_usd'])} liquidated, "
                f"{usd(v['bad_debt_usd'])} bad debt on {usd(v['debt_usd'])} of loans."
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
    sentences.append(
        "The lenders above are synthetic balance sheets sized to the market, not disclosures. "
        f"The same calibrated engine, run on the cited book of 2022Q1 (lendscope backtest 2022), "
        f"gets {bt['lenders_correct']} of {bt['lenders']} lenders right (failed within "
        f"{bt['date_tolerance_days']} days of filing, or survived) and "
        f"{bt['onchain_within_factor']} of {bt['onchain_observed']} published on-chain "
        f"liquidation figures within {bt['onchain_factor']:g}x."
    )
    return {"period": period, "summary": s, "sentences": sentences, "backtest": r["backtest"]}

"""Key findings as sentences built from the metrics: every number comes from a metric."""

from __future__ import annotations

from lendscope.core.fmt import pct, quarter, usd
from lendscope.metrics.summary import MarketMetrics

SERIES_NAME = {
    "total": "total",
    "total_ex_cdp": "total excluding CDP",
    "cefi": "CeFi",
    "defi": "DeFi apps",
    "cdp": "CDP stablecoin",
}


def _rel(drawdown: float) -> str:
    """``0.43`` -> "43% below", ``-0.18`` -> "18% above"."""
    return f"{pct(drawdown)} below" if drawdown >= 0 else f"{pct(-drawdown)} above"


def _names(rows: list[dict]) -> str:
    names = []
    for r in rows:
        names += [n.strip() for n in r["platform"].split("+")]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def findings(m: MarketMetrics, period: str) -> list[str]:
    """Sentences for the key-findings section, most important first."""
    d = m.for_period(period)
    s = d["series"]
    out: list[str] = []
    tot = s["total"]
    basis = (
        "the sum of its segments"
        if d["total_basis"] == "segments"
        else "a cited aggregate; the segments are not all public"
    )
    if d["total_usd"] is not None:
        parts = (
            f" (CeFi lenders {usd(d['cefi_usd'])}, DeFi apps {usd(d['defi_usd'])}, "
            f"crypto-backed CDP stablecoins {usd(d['cdp_usd'])})"
            if d["total_basis"] == "segments"
            else ""
        )
        out.append(
            f"At the end of {quarter(period)}, crypto-collateralised lending stood at "
            f"{usd(d['total_usd'])}{parts}; the total is {basis}."
        )
    if tot["peak"] and tot["value_usd"] is not None:
        rel = _rel(tot["drawdown_from_peak"])
        line = (
            f"That is {rel} the {quarter(tot['peak']['period'])} peak of {usd(tot['peak']['usd'])}"
        )
        if tot["trough"] and tot["rebound_from_trough"] is not None:
            line += (
                f" and {pct(tot['rebound_from_trough'])} above the "
                f"{quarter(tot['trough']['period'])} trough of {usd(tot['trough']['usd'])}, "
                f"after a fall of {pct(tot['deepest_fall'])}"
            )
        if tot["ath"] and tot["ath"]["period"] == period:
            line += "; it is a new all-time high"
        out.append(line + ".")
    if tot["qoq_change"] is not None:
        out.append(
            f"The total changed {pct(tot['qoq_change'], signed=True)} from the previous "
            "quarter"
            + (
                f" and {pct(tot['yoy_change'], signed=True)} from a year earlier."
                if tot["yoy_change"] is not None
                else "."
            )
        )
    ex = s["total_ex_cdp"]
    if ex["value_usd"] is not None and ex["trough"]:
        out.append(
            f"Excluding CDP stablecoins the market is {usd(ex['value_usd'])}, "
            f"{pct(ex['rebound_from_trough'])} above its {quarter(ex['trough']['period'])} "
            f"low of {usd(ex['trough']['usd'])} and {_rel(ex['drawdown_from_peak'])} "
            f"its {quarter(ex['peak']['period'])} peak of {usd(ex['peak']['usd'])}."
        )
    defi = s["defi"]
    if defi["value_usd"] is not None and defi["trough"]:
        rel = _rel(defi["drawdown_from_peak"])
        out.append(
            f"DeFi lending apps hold {usd(defi['value_usd'])} of loans, up "
            f"{pct(defi['rebound_from_trough'])} from their "
            f"{quarter(defi['trough']['period'])} low of {usd(defi['trough']['usd'])} "
            f"and {rel} their "
            f"{quarter(defi['peak']['period'])} high of {usd(defi['peak']['usd'])}."
        )
    if d["defi_share_ex_cdp"] is not None:
        line = f"DeFi apps make up {pct(d['defi_share_ex_cdp'])} of the market excluding CDP"
        peak_p = ex["peak"]["period"] if ex["peak"] else None
        then = m.for_period(peak_p)["defi_share_ex_cdp"] if peak_p else None
        if then is not None and peak_p != period:
            line += f", against {pct(then)} at the {quarter(peak_p)} peak"
        out.append(
            line
            + (
                f"; on-chain lending (DeFi apps and CDP stablecoins) is "
                f"{pct(d['onchain_share'])} of the total."
                if d["onchain_share"] is not None
                else "."
            )
        )
    cefi = s["cefi"]
    if d["cefi_top3"]:
        top = d["cefi_top3"]
        line = (
            f"The three largest CeFi lenders ({_names(top)}) hold {pct(d['cefi_top3_share'])} "
            f"of CeFi loans"
        )
        if top[0]["members"] == 1:
            line += f"; {top[0]['platform']} alone holds {pct(top[0]['share'])}"
        if cefi["ath"] and cefi["ath"]["period"] != period:
            then = m.for_period(cefi["ath"]["period"])
            if then["cefi_top3"]:
                line += (
                    f". At the CeFi peak in {quarter(cefi['ath']['period'])} the top three "
                    f"({_names(then['cefi_top3'])}) held {pct(then['cefi_top3_share'])} of "
                    f"{usd(then['cefi_usd'])}"
                )
        out.append(line + ".")
    if cefi["value_usd"] is not None and cefi["trough"]:
        out.append(
            f"CeFi loan books total {usd(cefi['value_usd'])}: "
            f"{_rel(cefi['drawdown_from_peak'])} the {quarter(cefi['peak']['period'])} "
            f"peak of {usd(cefi['peak']['usd'])}"
            f" and {pct(cefi['rebound_from_trough'])} above the "
            f"{quarter(cefi['trough']['period'])} low of {usd(cefi['trough']['usd'])}."
        )
    if d["overlap_usd"]:
        out.append(
            f"Known double counting of {usd(d['overlap_usd'])} (CeFi lenders' own on-chain "
            f"borrowing) brings the adjusted total to {usd(d['total_adjusted_usd'])}."
        )
    big = _biggest_revision(m)
    if big:
        out.append(
            f"Researchers revise history: the {quarter(big['period'])} "
            f"{SERIES_NAME[big['segment']]} figure went from {usd(big['prev_usd'])} "
            f"({big['prev_published']}) to {usd(big['value_usd'])} ({big['published']}); "
            f"{len(m.revisions)} revision(s) are known at this vintage."
        )
    return out


def _biggest_revision(m: MarketMetrics) -> dict | None:
    revs = [r for r in m.revisions if r["value_usd"] is not None and r["prev_usd"] is not None]
    return max(revs, key=lambda r: (abs(r["value_usd"] - r["prev_usd"]), r["period"]), default=None)

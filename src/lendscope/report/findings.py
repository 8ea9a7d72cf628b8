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


REVISION_KEYS = ("period", "segment", "prev_usd", "prev_published", "value_usd", "published")


def _peak(ss: dict) -> str:
    """The peak a drawdown is measured from, named: the all-time high, or the pre-fall peak."""
    name = "peak" if ss["ath"] and ss["ath"]["period"] == ss["peak"]["period"] else "pre-fall peak"
    return f"{quarter(ss['peak']['period'])} {name}"


def findings(m: MarketMetrics, period: str) -> list[str]:
    """Sentences for the key-findings section, most important first."""
    return [f["text"] for f in finding_items(m, period)]


def _series_inputs(ss: dict) -> dict:
    keys = ("value_usd", "ath", "peak", "trough", "deepest_fall", "drawdown_from_ath",
            "drawdown_from_peak", "rebound_from_trough", "qoq_change", "yoy_change")  # fmt: skip
    return {k: ss.get(k) for k in keys}


def finding_items(m: MarketMetrics, period: str) -> list[dict]:
    """The key findings as ``{"text", "inputs"}``: each sentence and the metrics it states."""
    d = m.for_period(period, detail=True)
    s = d["series"]
    items: list[dict] = []

    def add(text: str, **inputs: object) -> None:
        items.append({"text": text, "inputs": inputs})

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
        add(
            f"At the end of {quarter(period)}, crypto-collateralised lending stood at "
            f"{usd(d['total_usd'])}{parts}; the total is {basis}.",
            **{k: d[k] for k in ("total_usd", "total_basis", "cefi_usd", "defi_usd", "cdp_usd")},
        )
    if tot["peak"] and tot["value_usd"] is not None:
        rel = _rel(tot["drawdown_from_peak"])
        if tot["peak"]["period"] == period:
            line = f"That is the highest total so far ({quarter(period)})"
        else:
            line = f"That is {rel} the {_peak(tot)} of {usd(tot['peak']['usd'])}"
        if tot["trough"] and tot["rebound_from_trough"] is not None:
            line += (
                f" and {pct(tot['rebound_from_trough'])} above the "
                f"{quarter(tot['trough']['period'])} trough of {usd(tot['trough']['usd'])}, "
                f"after a fall of {pct(tot['deepest_fall'])}"
            )
        if tot["ath"] and tot["ath"]["period"] == period and tot["peak"]["period"] != period:
            line += "; it is a new all-time high"
        elif tot["ath"] and tot["ath"]["period"] != tot["peak"]["period"]:
            line += (
                f"; it is {pct(tot['drawdown_from_ath'])} below its "
                f"{quarter(tot['ath']['period'])} all-time high of {usd(tot['ath']['usd'])}"
            )
        add(line + ".", total=_series_inputs(tot))
    if tot["qoq_change"] is not None:
        add(
            f"The total changed {pct(tot['qoq_change'], signed=True)} from the previous "
            "quarter"
            + (
                f" and {pct(tot['yoy_change'], signed=True)} from a year earlier."
                if tot["yoy_change"] is not None
                else "."
            ),
            qoq_change=tot["qoq_change"],
            yoy_change=tot["yoy_change"],
        )
    ex = s["total_ex_cdp"]
    if ex["value_usd"] is not None and ex["trough"]:
        add(
            f"Excluding CDP stablecoins the market is {usd(ex['value_usd'])}, "
            f"{pct(ex['rebound_from_trough'])} above its {quarter(ex['trough']['period'])} "
            f"low of {usd(ex['trough']['usd'])} and {_rel(ex['drawdown_from_peak'])} "
            f"its {_peak(ex)} of {usd(ex['peak']['usd'])}.",
            total_ex_cdp=_series_inputs(ex),
        )
    defi = s["defi"]
    if defi["value_usd"] is not None and defi["trough"]:
        rel = _rel(defi["drawdown_from_peak"])
        high = _peak(defi).replace("peak", "high")
        add(
            f"DeFi lending apps hold {usd(defi['value_usd'])} of loans, up "
            f"{pct(defi['rebound_from_trough'])} from their "
            f"{quarter(defi['trough']['period'])} low of {usd(defi['trough']['usd'])} "
            f"and {rel} their {high} of {usd(defi['peak']['usd'])}.",
            defi=_series_inputs(defi),
        )
    if d["defi_share_ex_cdp"] is not None:
        line = f"DeFi apps make up {pct(d['defi_share_ex_cdp'])} of the market excluding CDP"
        peak_p = ex["peak"]["period"] if ex["peak"] else None
        then = m.for_period(peak_p)["defi_share_ex_cdp"] if peak_p else None
        if then is not None and peak_p != period:
            line += f", against {pct(then)} at the {quarter(peak_p)} peak"
        add(
            line
            + (
                f"; on-chain lending (DeFi apps and CDP stablecoins) is "
                f"{pct(d['onchain_share'])} of the total."
                if d["onchain_share"] is not None
                else "."
            ),
            defi_share_ex_cdp=d["defi_share_ex_cdp"],
            onchain_share=d["onchain_share"],
            defi_share_ex_cdp_at_peak={"period": peak_p, "value": then},
        )
    cefi = s["cefi"]
    if d["cefi_top3"]:
        top = d["cefi_top3"]
        line = _top3_line(d)
        if top[0]["members"] == 1:
            line += f"; {top[0]['platform']} alone holds {pct(top[0]['share'])}"
        if cefi["ath"] and cefi["ath"]["period"] != period:
            then = m.for_period(cefi["ath"]["period"], detail=True)
            if then["cefi_top3"]:
                line += (
                    f". At the CeFi peak in {quarter(cefi['ath']['period'])} the top three "
                    f"({_names(then['cefi_top3'])}) held {pct(then['cefi_top3_share'])} of "
                    f"{usd(then['cefi_usd'])}"
                )
                if then["cefi_top3_coverage"] == "lower_bound":
                    line += f" (at least: {pct(then['cefi_attributed_share'])} named)"
        keys = ("cefi_top3", "cefi_top3_share", "cefi_top3_coverage", "cefi_top3_max",
                "cefi_attributed_share")  # fmt: skip
        add(line + ".", **{k: d[k] for k in keys})
    if cefi["value_usd"] is not None and cefi["trough"]:
        add(
            f"CeFi loan books total {usd(cefi['value_usd'])}: "
            f"{_rel(cefi['drawdown_from_peak'])} the {_peak(cefi)} "
            f"of {usd(cefi['peak']['usd'])}"
            f" and {pct(cefi['rebound_from_trough'])} above the "
            f"{quarter(cefi['trough']['period'])} low of {usd(cefi['trough']['usd'])}.",
            cefi=_series_inputs(cefi),
        )
    if d["overlap_usd"]:
        add(
            f"Known double counting of {usd(d['overlap_usd'])} (CeFi lenders' own on-chain "
            f"borrowing) brings the adjusted total to {usd(d['total_adjusted_usd'])}.",
            overlap_usd=d["overlap_usd"],
            total_adjusted_usd=d["total_adjusted_usd"],
        )
    big = _biggest_revision(m)
    if big:
        add(
            f"Researchers revise history: the {quarter(big['period'])} "
            f"{SERIES_NAME[big['segment']]} figure went from {usd(big['prev_usd'])} "
            f"({big['prev_published']}) to {usd(big['value_usd'])} ({big['published']}); "
            f"{len(m.revisions)} revision(s) are known at this vintage.",
            revision={k: big[k] for k in REVISION_KEYS},
            revisions=len(m.revisions),
        )
    return items


def _top3_line(d: dict) -> str:
    """The CeFi top-3 share, as a lower bound where the named lenders cover little of CeFi."""
    top = d["cefi_top3"]
    if d["cefi_top3_coverage"] != "lower_bound":
        return (
            f"The three largest CeFi lenders ({_names(top)}) hold {pct(d['cefi_top3_share'])} "
            f"of CeFi loans"
        )
    return (
        f"The largest named CeFi lenders ({_names(top)}) hold {pct(d['cefi_top3_share'])} of "
        f"CeFi loans, a lower bound for the top three: named lenders hold "
        f"{pct(d['cefi_attributed_share'])} of CeFi, so the top three may hold up to "
        f"{pct(d['cefi_top3_max'])}"
    )


def _biggest_revision(m: MarketMetrics) -> dict | None:
    revs = [r for r in m.revisions if r["value_usd"] is not None and r["prev_usd"] is not None]
    return max(revs, key=lambda r: (abs(r["value_usd"] - r["prev_usd"]), r["period"]), default=None)

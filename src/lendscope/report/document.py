"""``report.json``: every number the HTML and PDF report show, for a reader or a test.

The JSON is built from the same functions the template prints (findings, reconciliation,
drawdowns, the stress section), so the two cannot disagree; keys are sorted and dates ISO
strings, so the same metrics give the same bytes.
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

from lendscope.dataset.schema import SERIES
from lendscope.metrics.summary import MarketMetrics
from lendscope.report.findings import SERIES_NAME, finding_items
from lendscope.report.reconcile import reconciliation

Rec = dict[str, Any]

#: Columns of the quarterly metrics table (one row per quarter).
QUARTERLY_KEYS = (
    "period",
    "total_usd",
    "total_basis",
    "cefi_usd",
    "defi_usd",
    "cdp_usd",
    "total_ex_cdp_usd",
    "defi_share_ex_cdp",
    "onchain_share",
    "cefi_top3_share",
    "cefi_top3_coverage",
    "cefi_top3_max",
    "cefi_attributed_share",
    "cefi_hhi",
    "cefi_hhi_max",
)
#: Keys of a reconciliation row in the JSON.
RECON_KEYS = (
    "period",
    "scope",
    "metric",
    "reported",
    "vintage",
    "computed",
    "latest",
    "latest_vintage",
    "status",
    "restated_as",
    "diff",
    "source_id",
    "note",
)


#: Keys of a drawdown row (a series summary's).
DRAWDOWN_KEYS = ("value_usd", "ath", "drawdown_from_ath", "peak", "drawdown_from_peak",
                 "trough", "deepest_fall", "rebound_from_trough")  # fmt: skip


def series_table(m: MarketMetrics, period: str) -> list[Rec]:
    """Per series known in ``period``: its value and drawdowns, named apart.

    The drawdown from the all-time high (0 at a new high), and the one from the pre-fall peak
    (the high before its deepest fall, negative once above it), that fall and the rebound.
    """
    rows = []
    for s in SERIES:
        ss = m.series_summary(s, period, detail=True)
        if ss["value_usd"] is not None:
            rows.append({"series": s, "name": SERIES_NAME[s]} | {k: ss[k] for k in DRAWDOWN_KEYS})
    return rows


def _stress(stress2022: Rec | None) -> Rec | None:
    if stress2022 is None:
        return None
    summary = {k: v for k, v in stress2022["summary"].items() if k != "timeline"}
    return {
        "period": stress2022["period"],
        "sentences": stress2022["sentences"],
        "summary": summary,
        "backtest_score": stress2022["backtest"]["score"],
        "synthetic": True,
    }


def report_data(
    m: MarketMetrics,
    period: str,
    as_of: date,
    stress2022: Rec | None,
    *,
    version: str,
    extra: Rec | None = None,
) -> Rec:
    """Every number of the report as plain data (``extra``: further sections, as given)."""
    quarters = []
    for p in m.periods():
        d = m.for_period(p, detail=True)
        quarters.append({k: d[k] for k in QUARTERLY_KEYS})
    return {
        "report": {"period": period, "vintage": m.vintage, "as_of": as_of, "lendscope": version},
        "metrics": m.for_period(period, detail=True),
        "quarterly": quarters,
        "drawdowns": series_table(m, period),
        "findings": finding_items(m, period),
        "reconciliation": [{k: r[k] for k in RECON_KEYS} for r in reconciliation(m)],
        "revisions": m.revisions,
        "overlaps": m.overlaps,
        "stress": _stress(stress2022),
        "sources": [
            {k: s[k] for k in ("id", "title", "publisher", "url", "published", "kind", "figures")}
            for s in m.sources
        ],
        **(extra or {}),
    }


def _plain(v: Any) -> Any:
    """``v`` as JSON data: dates as ISO strings, NaN and infinities as null."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def report_json(
    m: MarketMetrics,
    period: str,
    as_of: date,
    stress2022: Rec | None,
    *,
    version: str,
    extra: Rec | None = None,
) -> str:
    """:func:`report_data` as deterministic JSON text."""
    data = _plain(report_data(m, period, as_of, stress2022, version=version, extra=extra))
    return json.dumps(data, indent=1, sort_keys=True, allow_nan=False, default=str) + "\n"

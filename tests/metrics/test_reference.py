"""The bundled data reproduces the reference report (vintage 2025-04-14) and carries later ones.

Published figures are rounded (to $0.1B, or whole percent), so each derived ratio is checked
against the interval the rounded inputs allow, not to the last digit.
"""

from __future__ import annotations

from datetime import date

import pytest

from lendscope.report.build import reconciliation
from tests.helpers import bundled_metrics

APRIL = date(2025, 4, 14)


def ratio_bounds(a: float, b: float, half: float = 0.05e9) -> tuple[float, float]:
    """Bounds of a / b when both were rounded to the nearest ``2 * half``."""
    return (a - half) / (b + half), (a + half) / (b - half)


@pytest.fixture(scope="module")
def april(backend):
    return bundled_metrics(APRIL, backend)


@pytest.fixture(scope="module")
def latest(backend):
    return bundled_metrics(None, backend)


def test_april_2025_headline_figures(april):
    d = april.for_period("2024Q4")
    assert d["vintage"] == "2025-04-14"
    assert (d["total_usd"], d["cefi_usd"], d["defi_usd"], d["cdp_usd"]) == (
        36.5e9,
        11.2e9,
        19.1e9,
        6.2e9,
    )
    s = d["series"]
    assert s["total"]["peak"] == {"period": "2021Q4", "usd": 64.4e9}
    assert s["total"]["trough"] == {"period": "2023Q3", "usd": 14.2e9}
    assert s["total_ex_cdp"]["peak"] == {"period": "2021Q4", "usd": 48.4e9}
    assert s["total_ex_cdp"]["trough"] == {"period": "2022Q4", "usd": 9.6e9}
    assert s["cefi"]["peak"] == {"period": "2022Q1", "usd": 34.8e9}
    assert s["cefi"]["trough"] == {"period": "2023Q1", "usd": 6.4e9}
    assert s["defi"]["trough"] == {"period": "2022Q4", "usd": 1.8e9}
    assert s["defi"]["ath"] == {"period": "2024Q4", "usd": 19.1e9}
    # The 2023Q3 total is known only as a cited aggregate.
    q = april.for_period("2023Q3")
    assert (q["total_usd"], q["total_basis"], q["cefi_usd"]) == (14.2e9, "cited", None)


# (period, series, key, reported value, bounds from rounded inputs or a +-0.005 tolerance)
REPORTED = [
    ("2024Q4", "total", "drawdown_from_peak", 0.43, None),  # -43% from the peak
    ("2024Q4", "total", "rebound_from_trough", 1.57, None),  # +157% from the Q3 2023 low
    ("2023Q3", "total", "deepest_fall", 0.78, None),  # -78% peak to trough
    ("2022Q4", "total_ex_cdp", "deepest_fall", 0.80, None),  # -80%
    ("2024Q4", "total_ex_cdp", "rebound_from_trough", 2.14, ratio_bounds(30.3e9, 9.6e9)),
    ("2024Q4", "cefi", "drawdown_from_peak", 0.68, None),
    ("2024Q4", "cefi", "rebound_from_trough", 0.73, ratio_bounds(11.2e9, 6.4e9)),
    ("2023Q1", "cefi", "deepest_fall", 0.82, None),
    ("2024Q4", "defi", "rebound_from_trough", 9.59, ratio_bounds(19.1e9, 1.8e9)),
    ("2024Q4", "defi", "drawdown_from_peak", -0.18, None),  # 18% above the 2021 high
]


@pytest.mark.parametrize(("period", "series", "key", "reported", "bounds"), REPORTED)
def test_april_2025_derived_figures(april, period, series, key, reported, bounds):
    got = april.for_period(period)["series"][series][key]
    if bounds is None:
        assert got == pytest.approx(reported, abs=0.005 + 1e-9)
    else:
        lo, hi = bounds[0] - 1, bounds[1] - 1  # rebound = ratio - 1
        assert lo <= got <= hi and lo <= reported <= hi, (got, reported, bounds)


def test_april_2025_shares(april):
    d = april.for_period("2024Q4")
    assert d["defi_share_ex_cdp"] == pytest.approx(0.63, abs=0.005)
    assert d["onchain_share"] == pytest.approx(0.69, abs=0.005)
    assert [p["platform"] for p in d["cefi_top3"]] == ["Tether", "Galaxy+Ledn"]
    lo, hi = ratio_bounds(9.9e9, 11.2e9)
    assert lo <= d["cefi_top3_share"] <= hi and lo <= 0.886 <= hi
    assert d["cefi_top3"][0]["share"] == pytest.approx(0.73, abs=0.005)
    peak = april.for_period("2022Q1")
    assert peak["cefi_top3_share"] == pytest.approx(0.76, abs=0.005)
    assert [p["platform"] for p in peak["cefi_top3"]] == ["Genesis", "BlockFi+Celsius"]
    assert april.for_period("2021Q4")["defi_share_ex_cdp"] == pytest.approx(0.34, abs=0.006)


def test_reconciliation_covers_every_cited_ratio(april):
    rows = reconciliation(april)
    assert len(rows) >= 15
    for r in rows:
        assert r["computed"] is not None, r
        assert abs(r["diff"]) < 0.025, r  # rounding of published inputs only


def test_latest_vintage_carries_later_quarters_and_revisions(latest, backend):
    assert latest.vintage >= date(2025, 11, 19)
    assert {"2025Q1", "2025Q2", "2025Q3"} <= set(latest.periods())
    q3 = latest.for_period("2025Q3")
    assert q3["total_usd"] == pytest.approx(73.59e9, rel=0.001)
    t = q3["series"]["total"]
    assert t["ath"]["period"] == "2025Q3"
    assert t["peak"] == {"period": "2021Q4", "usd": 69.37e9}  # revised from 64.4
    assert t["drawdown_from_peak"] == pytest.approx(-0.0609, abs=0.001)  # 6.09% above
    assert t["qoq_change"] == pytest.approx(0.385, abs=0.002)
    assert q3["series"]["total_ex_cdp"]["peak"]["usd"] == 53.44e9
    # The Q2 2025 update moved the CeFi low to Q4 2023 and withdrew the Q1 2023 figure.
    assert q3["series"]["cefi"]["trough"] == {"period": "2023Q4", "usd": 7.18e9}
    assert latest.for_period("2023Q1")["cefi_usd"] is None
    assert latest.for_period("2024Q4")["total_usd"] == pytest.approx(41.08e9)
    revised = {(r["period"], r["segment"]) for r in latest.revisions}
    assert {("2021Q4", "total"), ("2024Q4", "cefi"), ("2023Q1", "cefi")} <= revised
    v2 = bundled_metrics(date(2025, 6, 4), backend)
    assert v2.for_period("2025Q1")["series"]["total"]["qoq_change"] == pytest.approx(
        -0.0488, abs=0.0005
    )

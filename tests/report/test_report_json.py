"""report.json and the reconciliation at each figure's own vintage; honest coverage."""

from __future__ import annotations

import json
from datetime import date

import pytest

from lendscope.metrics.summary import top_coverage
from lendscope.report.build import build_report, render_html
from lendscope.report.charts import platform_label
from lendscope.report.document import report_data, report_json, series_table
from lendscope.report.findings import findings
from lendscope.report.reconcile import reconciliation
from tests.helpers import bundled_metrics

APRIL = date(2025, 4, 14)
#: Galaxy's Q3 2025 restatement of the 2024Q4 DeFi share disagrees with its own figures
#: (tests/dataset/test_cited.py): the one row that does not reconcile at its vintage.
RESTATED = ("2024Q4", "total", "defi_share_ex_cdp", 0.6199)


@pytest.fixture(scope="module")
def latest():
    return bundled_metrics(None)


@pytest.fixture(scope="module")
def recon(latest):
    return {
        (r["period"], r["scope"], r["metric"], r["reported"]): r for r in reconciliation(latest)
    }


def test_each_ratio_is_computed_at_its_own_vintage(recon):
    defi = recon[("2024Q4", "defi", "rebound_from_trough", 9.59)]
    assert defi["vintage"] == "2025-04-14"
    assert defi["computed"] == pytest.approx(9.61, abs=0.005)  # was 11.47 (the report's vintage)
    assert defi["latest"] == pytest.approx(11.47, abs=0.005)
    assert defi["status"] == "revised"
    total = recon[("2024Q4", "total", "rebound_from_trough", 1.57)]
    assert (round(total["computed"], 3), round(total["latest"], 3)) == (1.570, 1.893)
    top3 = recon[("2024Q4", "cefi", "top3_share", 0.886)]
    assert (round(top3["computed"], 3), round(top3["latest"], 3)) == (0.884, 0.800)
    qoq = recon[("2025Q1", "total", "qoq_change", -0.0488)]
    assert qoq["vintage"] == "2025-06-04"
    assert (round(qoq["computed"], 4), round(qoq["latest"], 4)) == (-0.0489, 0.0224)
    later = recon[("2025Q3", "total", "qoq_change", 0.385)]
    assert later["status"] == "unchanged" and later["latest"] == later["computed"]


def test_withdrawn_and_restated_ratios_stay_listed(recon):
    # The Q2 2025 update withdrew the Q1 2023 CeFi figure the cited decline rests on.
    fall = recon[("2023Q1", "cefi", "peak_to_trough_decline", 0.82)]
    assert fall["status"] == "withdrawn" and fall["latest"] is None
    assert fall["computed"] == pytest.approx(0.816, abs=0.001)
    old = recon[("2024Q4", "total", "defi_share_ex_cdp", 0.63)]
    assert old["restated_as"] == {
        "value": 0.6199,
        "vintage": "2025-11-19",
        "source_id": "galaxy-2025-11-leverage-q3",
    }
    assert old["computed"] == pytest.approx(0.63, abs=0.005)


@pytest.mark.parametrize("vintage", [APRIL, date(2025, 6, 4), date(2025, 8, 26), None], ids=str)
def test_every_ratio_reconciles_at_its_vintage(vintage):
    rows = reconciliation(bundled_metrics(vintage))
    assert len(rows) >= 17
    for r in rows:
        assert r["computed"] is not None, r
        if (r["period"], r["scope"], r["metric"], r["reported"]) != RESTATED:
            assert abs(r["diff"]) < 0.025, r  # rounding of the published inputs only


def test_report_json_has_every_section(latest):
    d = json.loads(report_json(latest, "2025Q3", latest.vintage, None, version="test"))
    assert set(d) >= {"report", "metrics", "quarterly", "drawdowns", "findings",
                      "reconciliation", "revisions", "stress", "sources"}  # fmt: skip
    assert d["report"] == {"period": "2025Q3", "vintage": latest.vintage.isoformat(),
                           "as_of": latest.vintage.isoformat(), "lendscope": "test"}  # fmt: skip
    assert d["metrics"]["total_usd"] == pytest.approx(73.58e9)
    keys = {"period", "scope", "metric", "reported", "vintage", "computed", "latest", "source_id"}
    assert all(keys <= set(r) for r in d["reconciliation"])
    rebound = next(
        r
        for r in d["reconciliation"]
        if (r["scope"], r["metric"]) == ("defi", "rebound_from_trough")
    )
    assert rebound["computed"] == pytest.approx(9.61, abs=0.005)
    assert [f["text"] for f in d["findings"]] == findings(latest, "2025Q3")
    assert all("inputs" in f for f in d["findings"])
    assert any(r["value_usd"] is None for r in d["revisions"])  # a withdrawal
    assert [q["period"] for q in d["quarterly"]] == latest.periods()


def test_report_json_is_deterministic(latest):
    a = report_json(latest, "2025Q3", latest.vintage, None, version="t")
    assert a == report_json(latest, "2025Q3", latest.vintage, None, version="t")


def test_top3_is_a_bound_where_few_lenders_are_named(latest):
    q4_21 = latest.for_period("2021Q4", detail=True)
    assert q4_21["cefi_top3_exact"]  # no group straddles third place ...
    assert q4_21["cefi_top3_coverage"] == "lower_bound"  # ... but only Tether is named
    assert q4_21["cefi_attributed_share"] == pytest.approx(0.115, abs=0.001)
    assert q4_21["cefi_top3_max"] == 1.0
    assert latest.for_period("2022Q1", detail=True)["cefi_top3_coverage"] == "exact"
    assert bundled_metrics(APRIL).for_period("2024Q4", detail=True)["cefi_top3_coverage"] == "exact"
    f = " ".join(findings(latest, "2021Q4"))
    assert "a lower bound for the top three: named lenders hold 11% of CeFi" in f


def test_top_coverage_rules():
    def row(share, members=1, named=True):
        return {"share": share, "members": members, "named": named}

    full = [row(0.5), row(0.3), row(0.15), row(0.05, named=False)]
    assert top_coverage(full, full[:3], 0.95, True) == {"coverage": "exact", "max": 0.95}
    hidden = [row(0.5), row(0.2), row(0.1), row(0.2, named=False)]
    got = top_coverage(hidden, hidden[:3], 0.8, True)
    assert got["coverage"] == "lower_bound" and got["max"] == pytest.approx(0.9)
    one = [row(0.1), row(0.9, named=False)]
    assert top_coverage(one, one[:1], 0.1, True) == {"coverage": "lower_bound", "max": 1.0}
    group = [row(0.6), row(0.38, members=3), row(0.02, named=False)]
    assert top_coverage(group, group[:2], 0.853, False)["coverage"] == "split"


def test_chain_only_rows_carry_their_chain(latest):
    aave = next(
        p
        for p in latest.for_period("2025Q3", detail=True)["platforms"]["defi"]
        if p["platform"] == "Aave"
    )
    assert aave["chain"] == "plasma"
    assert platform_label(aave) == "Aave (plasma only)"
    assert platform_label({"platform": "Tether", "chain": ""}) == "Tether"


def test_drawdowns_from_the_high_and_the_pre_fall_peak(latest):
    rows = {r["series"]: r for r in series_table(latest, "2025Q3")}
    total, defi = rows["total"], rows["defi"]
    assert total["drawdown_from_ath"] == 0 and total["ath"]["period"] == "2025Q3"
    assert total["drawdown_from_peak"] == pytest.approx(-0.0607, abs=0.001)
    assert total["peak"]["period"] == "2021Q4"
    assert defi["drawdown_from_ath"] == 0 and defi["drawdown_from_peak"] == pytest.approx(
        -1.305, abs=0.001
    )
    assert rows["cefi"]["drawdown_from_ath"] == pytest.approx(rows["cefi"]["drawdown_from_peak"])
    assert "6.1% above the Q4 2021 pre-fall peak of $69.4B" in " ".join(findings(latest, "2025Q3"))


def test_html_shows_vintages_withdrawals_and_bounds(latest):
    stress = {"period": "2025Q3", "sentences": []}
    html = render_html(latest, "2025Q3", latest.vintage, [], stress2022=stress)
    recon = html.split("<h2>Reported vs computed</h2>")[1].split("<h2>")[0]
    assert "<td>961%</td><td>1147% (revised)</td>" in recon
    assert "withdrawn" in recon and "restated 62% (2025-11-19)" in recon
    assert "<td>≥ 11%</td>" in html  # Q4 2021 CeFi top 3, a lower bound
    assert "pre-fall peak" in html and "all-time high" in html


@pytest.mark.slow
def test_report_writes_json(tmp_path):
    m = bundled_metrics(None)
    paths = build_report(m, tmp_path, pdf=False)
    assert tmp_path / "report.json" in paths
    d = json.loads((tmp_path / "report.json").read_text())
    row = next(
        r
        for r in d["reconciliation"]
        if (r["scope"], r["metric"]) == ("defi", "rebound_from_trough")
    )
    assert row["vintage"] == "2025-04-14" and row["computed"] == pytest.approx(9.61, abs=0.005)
    assert d["stress"]["synthetic"] and d["stress"]["sentences"]
    assert d["onchain_split"]["periods"] is not None
    assert report_data(m, m.latest_period(), m.vintage, None, version="x")["stress"] is None


def test_the_documented_metrics_object_is_unchanged(latest):
    # The API and `lendscope metrics` serve for_period() as documented; the report's extras
    # come with detail=True only.
    plain, full = latest.for_period("2025Q3"), latest.for_period("2025Q3", detail=True)
    assert set(full) - set(plain) == {"cefi_top3_coverage", "cefi_top3_max"}
    assert "chain" not in plain["platforms"]["defi"][0] and "chain" in full["platforms"]["defi"][0]
    assert "drawdown_from_ath" not in plain["series"]["total"]
    assert full["series"]["total"]["drawdown_from_ath"] == 0

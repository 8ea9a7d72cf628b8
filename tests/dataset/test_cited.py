"""Cited ratios: the validator's plain-Python definitions are the report's, and the cross-check.

The dataset layer cannot import the metrics layer, so ``dataset/market.py`` restates what a cited
ratio needs. These tests hold the restatement equal to the report's "reported vs computed" values
(the Ibis metrics) at every vintage of the bundled data.
"""

from __future__ import annotations

from datetime import date

import pytest

from lendscope.dataset import bundled_files
from lendscope.dataset.cited import check_cited, computed, stated
from lendscope.dataset.market import Est, Market, half_unit
from lendscope.dataset.validate import by_table
from lendscope.report.build import reconciliation
from tests.helpers import bundled_metrics

ROWS = by_table(bundled_files())
FIRST_CITED = min(r["published"] for r in ROWS["cited_metrics"])
#: Every vintage at which the report reconciles cited ratios.
VINTAGES = sorted({r["published"] for r in ROWS["observations"] if r["published"] >= FIRST_CITED})


@pytest.mark.parametrize("vintage", VINTAGES, ids=str)
def test_same_values_as_the_report_reconciliation(vintage: date) -> None:
    # Each ratio is computed at its own vintage, and ``latest`` at the report's.
    recon = reconciliation(bundled_metrics(vintage))
    assert recon, "no cited ratio at this vintage"
    for r in recon:
        for key, at in (("computed", date.fromisoformat(r["vintage"])), ("latest", vintage)):
            got = computed(Market(ROWS["observations"], at), r["scope"], r["metric"], r["period"])
            if r[key] is None:
                assert got is None, (key, r)
            else:
                assert got is not None, (key, r)
                assert got[0].v == pytest.approx(r[key], abs=1e-9), (key, r)


def test_bundled_cited_ratios_agree_with_their_vintage() -> None:
    """Treated as a user's file, the bundled ratios pass, but for one known restatement."""
    path = "lendscope/data/cited_metrics.csv"
    problems = check_cited(ROWS["cited_metrics"], ROWS["observations"], ROWS["vc_funding"], {path})
    # Galaxy's Q3 2025 report restates the 2024Q4 DeFi share as 61.99%, which its own restated
    # CeFi and DeFi figures (22.45 / (12.37 + 22.45)) make 64.5%: kept as cited, for the report.
    assert [(p.row, p.field) for p in problems] == [(17, "value")]
    assert "0.6447 = defi $22.45B / total ex-CDP $34.82B" in problems[0].message


def test_precision_of_written_figures() -> None:
    assert half_unit(36.5e9) == 0.05e9
    assert half_unit(0.9325e9) == 0.00005e9
    assert half_unit(20e9) == 0.5e9  # a round figure: two significant digits assumed
    assert stated(0.886) == 0.0005
    assert stated(0.5) == 0.005  # "0.50" reads back as 0.5: at least a whole percent


def test_estimates_carry_the_rounding_of_their_inputs() -> None:
    share = Est(19.1e9, 0.05e9).over(Est(30.3e9, 0.1e9))
    assert share is not None
    assert share.v == pytest.approx(0.6304, abs=1e-4)
    assert share.e == pytest.approx((0.05 + share.v * 0.1) / 30.3, rel=1e-9)
    assert Est(1.0).over(Est(0.0)) is None

"""Every metric against values computed by hand on a small market, on every backend."""

from __future__ import annotations

from datetime import date

import pytest

from lendscope.dataset.schema import TABLES
from lendscope.dataset.store import connect_tables, to_arrow
from lendscope.metrics.queries import metric_queries
from lendscope.metrics.summary import MarketMetrics
from tests.helpers import metrics_of

A, B = date(2020, 1, 10), date(2020, 6, 1)
OBS = [
    # period, segment, platform, chain, value, method, published
    ("2019Q1", "cefi", "", "", 100, "reported", A),
    ("2019Q1", "cefi", "X", "", 60, "reported", A),
    ("2019Q1", "cefi", "Y+Z", "", 30, "derived", A),
    ("2019Q1", "cefi", "unattributed", "", 10, "derived", A),
    ("2019Q1", "defi", "", "", 50, "reported", A),
    ("2019Q1", "cdp", "", "", 50, "reported", A),
    ("2019Q2", "cefi", "X", "", 20, "reported", A),
    ("2019Q2", "cefi", "V", "", 10, "reported", A),
    ("2019Q2", "cefi", "C+D+E", "", 9, "reported", A),
    ("2019Q2", "cefi", "unattributed", "", 1, "derived", A),  # closes CeFi at 40
    ("2019Q2", "defi", "", "", 20, "reported", A),
    ("2019Q2", "cdp", "", "", 20, "reported", A),
    ("2019Q3", "total", "", "", 60, "reported", A),
    ("2019Q4", "cefi", "", "", 80, "reported", A),
    ("2019Q4", "cefi", "X", "", 50, "reported", A),
    ("2019Q4", "cefi", "W", "", 20, "reported", A),
    ("2019Q4", "cefi", "unattributed", "", 10, "derived", A),
    ("2019Q4", "defi", "", "", 110, "reported", A),
    ("2019Q4", "defi", "App", "arbitrum", 70, "reported", A),
    ("2019Q4", "defi", "unattributed", "", 40, "derived", A),
    ("2019Q4", "cdp", "", "", 30, "reported", A),
    # vintage B revises 2019Q1 CeFi up and withdraws the 2019Q3 total
    ("2019Q1", "cefi", "", "", 130, "reported", B),
    ("2019Q1", "cefi", "unattributed", "", 40, "derived", B),
    ("2019Q3", "total", "", "", None, "withdrawn", B),
]


def tables() -> dict:
    metric = {"cdp": "supply_usd"}
    obs = [
        dict(
            period=p,
            segment=s,
            platform=pl,
            chain=c,
            metric=metric.get(s, "outstanding_loans_usd"),
            value_usd=None if v is None else float(v),
            source_id="s1",
            method=m,
            published=pub,
            note="",
            _origin="test",
            _row=i,
        )
        for i, (p, s, pl, c, v, m, pub) in enumerate(OBS, start=2)
    ]
    src = [
        dict(
            id="s1",
            title="t",
            publisher="p",
            url="https://x",
            published=A,
            kind="report",
            note="",
            _origin="test",
            _row=2,
        )
    ]
    ov = [
        dict(
            period="2019Q4",
            lender="X",
            via_platform="App",
            amount_usd=5.0,
            source_id="s1",
            published=A,
            note="",
            _origin="test",
            _row=2,
        )
    ]
    vc = [
        dict(
            period="2019Q2",
            deals=3,
            amount_usd=1e6,
            share_of_crypto_vc=0.02,
            source_id="s1",
            method="reported",
            published=A,
            note="",
            _origin="test",
            _row=2,
        )
    ]
    rows = {"observations": obs, "sources": src, "overlaps": ov, "vc_funding": vc}
    return {n: to_arrow(t, rows.get(n, [])) for n, t in TABLES.items()}


@pytest.fixture(scope="module")
def ms(backend):
    t = tables()
    return {"A": metrics_of(t, backend, A), "B": metrics_of(t, backend, B)}


def approx(v):
    return pytest.approx(v, rel=1e-12, abs=1e-12)


def test_segments_and_totals(ms):
    d = ms["A"].for_period("2019Q4")
    assert (d["cefi_usd"], d["defi_usd"], d["cdp_usd"]) == (80, 110, 30)
    assert (d["total_usd"], d["total_basis"]) == (220, "segments")
    assert (d["total_ex_cdp_usd"], d["total_ex_cdp_basis"]) == (190, "segments")
    assert d["defi_share_ex_cdp"] == approx(110 / 190)
    assert d["onchain_share"] == approx(140 / 220)
    q3 = ms["A"].for_period("2019Q3")
    assert (q3["total_usd"], q3["total_basis"], q3["cefi_usd"]) == (60, "cited", None)
    # CeFi 2019Q2 has no cited total: its rows are closed by `unattributed`.
    assert ms["A"].for_period("2019Q2")["cefi_usd"] == 40


def test_cycles(ms):
    s = ms["A"].for_period("2019Q4")["series"]
    t = s["total"]
    assert t["ath"] == {"period": "2019Q4", "usd": 220}
    assert t["peak"] == {"period": "2019Q1", "usd": 200}
    assert t["trough"] == {"period": "2019Q3", "usd": 60}
    assert t["deepest_fall"] == approx(0.7)
    assert t["drawdown_from_peak"] == approx(1 - 220 / 200)  # negative: above the old peak
    assert t["rebound_from_trough"] == approx(220 / 60 - 1)
    assert t["qoq_change"] == approx(220 / 60 - 1)
    ex = s["total_ex_cdp"]
    assert (ex["peak"]["period"], ex["trough"]["period"]) == ("2019Q1", "2019Q2")
    assert ex["drawdown_from_peak"] == approx(1 - 190 / 150)
    assert ex["rebound_from_trough"] == approx(190 / 60 - 1)
    assert ex["qoq_change"] is None  # 2019Q3 unknown
    c = s["cefi"]
    assert c["drawdown_from_peak"] == approx(0.2)
    assert c["rebound_from_trough"] == approx(1.0)
    # Before any fall: the peak is the ATH and there is no trough.
    q1 = ms["A"].for_period("2019Q1")["series"]["total"]
    assert q1["peak"] == q1["ath"] == {"period": "2019Q1", "usd": 200}
    assert q1["trough"] is None and q1["rebound_from_trough"] is None
    assert q1["drawdown_from_peak"] == 0
    # A quarter without a value keeps the history but has no drawdown.
    q3 = ms["A"].for_period("2019Q3")["series"]["cefi"]
    assert q3["value_usd"] is None and q3["drawdown_from_peak"] is None
    assert q3["trough"] == {"period": "2019Q2", "usd": 40}
    assert ms["A"].growth("total", "2019Q2", "2019Q4") == approx(220 / 80 - 1)


def test_concentration(ms):
    d = ms["A"].for_period("2019Q1")
    assert d["cefi_top3_share"] == approx(0.9) and d["cefi_top3_exact"] is True
    assert [p["platform"] for p in d["cefi_top3"]] == ["X", "Y+Z"]
    assert d["cefi_hhi"] == approx(0.6**2 + 0.3**2 / 2)
    assert d["cefi_hhi_max"] == approx(0.6**2 + 0.3**2 + 0.1**2)
    assert d["cefi_attributed_share"] == approx(0.9)
    d2 = ms["A"].for_period("2019Q2")  # the 3-member group straddles third place
    assert d2["cefi_top3_share"] == approx((20 + 10 + 9 / 3) / 40)
    assert d2["cefi_top3_exact"] is False
    assert d2["cefi_hhi"] == approx(0.5**2 + 0.25**2 + 3 * (0.225 / 3) ** 2)
    d4 = ms["A"].for_period("2019Q4")
    assert d4["cefi_top3_share"] == approx(70 / 80)
    assert d4["cefi_hhi"] == approx((50 / 80) ** 2 + (20 / 80) ** 2)
    assert d4["cefi_hhi_max"] == approx((50 / 80) ** 2 + (20 / 80) ** 2 + (10 / 80) ** 2)
    assert [p["platform"] for p in d4["platforms"]["defi"]] == ["App", "unattributed"]
    assert ms["A"].chains("2019Q4") == [{"chain": "arbitrum", "usd": 70}]


def test_overlaps_and_vc(ms):
    d = ms["A"].for_period("2019Q4")
    assert (d["overlap_usd"], d["total_adjusted_usd"]) == (5, 215)
    assert [(v["period"], v["deals"]) for v in ms["A"].vc] == [("2019Q2", 3)]


def test_vintages(ms):
    b = ms["B"]
    d1 = b.for_period("2019Q1")
    assert (d1["cefi_usd"], d1["total_usd"]) == (130, 230)
    assert "2019Q3" not in b.periods()  # withdrawn at B
    t = b.for_period("2019Q4")["series"]["total"]
    assert t["ath"] == {"period": "2019Q1", "usd": 230}
    assert t["trough"] == {"period": "2019Q2", "usd": 80}
    assert t["drawdown_from_peak"] == approx(1 - 220 / 230)
    assert t["rebound_from_trough"] == approx(220 / 80 - 1)
    revised = {(r["period"], r["segment"]) for r in b.revisions}
    assert revised == {("2019Q1", "cefi"), ("2019Q3", "total")}
    # The earlier vintage is unchanged by the later rows.
    assert ms["A"].for_period("2019Q1")["cefi_usd"] == 100


@pytest.mark.parametrize("vintage", [A, B])
def test_compiled_queries_equal_the_ibis_expressions(backend, vintage):
    con = connect_tables(tables(), backend)
    compiled = MarketMetrics.compute(con, vintage)
    assert compiled == MarketMetrics.compute(con, vintage, compiled=False)


def test_queries_are_compiled_once_with_the_vintage_bound(backend):
    queries = metric_queries(connect_tables(tables(), backend))
    assert metric_queries(connect_tables(tables(), backend)) is queries  # same table schemas
    assert {q.backend for q in queries.values()} == {backend}
    assert all(q.params == {"vintage"} for k, q in queries.items() if k != "sources")

"""The one check of query parameters the CLI and the API share (``metrics/params.py``)."""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources

import pytest

from lendscope.dataset.store import connect
from lendscope.metrics import precompiled
from lendscope.metrics.params import (
    ParamError,
    check_period,
    check_platform,
    check_query,
    check_since,
    check_vintage,
    default_period,
    find_platform,
    nearest,
    parse_date,
    parse_period,
    spans,
)
from lendscope.metrics.summary import MarketMetrics
from tests.helpers import NO_DB

TODAY = date(2026, 3, 1)
FIRST = date(2022, 5, 31)


def metrics(totals: dict[str, float | None]) -> MarketMetrics:
    """Metrics with only quarterly sizes: what the checks read (periods, latest total)."""
    quarterly = [{"period": p, "total_usd": v} for p, v in totals.items()]
    return MarketMetrics(date(2026, 1, 31), quarterly, *([] for _ in range(7)))


M = metrics({"2023Q4": 1e9, "2024Q1": 2e9, "2024Q3": 3e9, "2024Q4": None})


def refused(param: str, needle: str, fn, *args):
    with pytest.raises(ParamError) as info:
        fn(*args)
    e = info.value
    assert e.param == param and needle in e.message, e.message
    assert str(e) == f"{param}: {e.message}"
    return e


# -- form --------------------------------------------------------------------------------------


def test_parse_period_and_date():
    assert parse_period("2024Q4") == "2024Q4"
    for bad in ("2024-Q4", "2024Q5", "24Q4", "2024q4", ""):
        e = refused("period", "is not a quarter YYYYQn", parse_period, bad)
        assert e.value == bad
    refused("since", "'x' is not a quarter", parse_period, "x", "since")
    assert parse_date("2025-04-14") == date(2025, 4, 14)
    refused("vintage", "'April' is not a date YYYY-MM-DD", parse_date, "April")
    refused("vintage", "not a date", parse_date, "2025-02-30")


# -- vintage -----------------------------------------------------------------------------------


def test_vintage_in_range_and_default_pass():
    check_vintage(None, FIRST, TODAY)
    check_vintage(FIRST, FIRST, TODAY)
    check_vintage(TODAY, FIRST, TODAY)  # today itself is not the future
    check_vintage(date(1999, 1, 1), None, TODAY)  # no figures: no lower bound to hold


def test_vintage_in_the_future_is_refused():
    refused(
        "vintage",
        "2026-03-02 is in the future (today is 2026-03-01)",
        check_vintage,
        date(2026, 3, 2),
        FIRST,
        TODAY,
    )
    # the clock's today by default
    refused("vintage", "in the future", check_vintage, date(9999, 12, 31), FIRST)


def test_vintage_before_the_first_publication_is_refused():
    e = refused(
        "vintage",
        "before the first figure was published; earliest is 2022-05-31",
        check_vintage,
        date(2022, 5, 30),
        FIRST,
        TODAY,
    )
    assert e.value == date(2022, 5, 30)


def test_first_published_is_the_earliest_observation_on_both_paths():
    with (resources.files("lendscope") / "data" / "observations.csv").open() as f:
        first = min(date.fromisoformat(r["published"]) for r in csv.DictReader(f))
    fast = precompiled.compute(NO_DB, date(2025, 4, 14))
    assert fast is not None and fast.first_published == first
    assert MarketMetrics.compute(connect(NO_DB), date(2025, 4, 14)).first_published == first


# -- period and since --------------------------------------------------------------------------


def test_default_period_is_the_latest_known_total():
    assert check_period(M, None) == default_period(M) == "2024Q3"
    # no total known yet: the latest quarter with any figure
    assert default_period(metrics({"2024Q1": None, "2024Q2": None})) == "2024Q2"
    refused("vintage", "no quarter has data at vintage 2026-01-31", default_period, metrics({}))
    refused("vintage", "no quarter has data", check_period, metrics({}), "2024Q1")


def test_period_without_data_names_the_nearest_and_every_quarter():
    assert check_period(M, "2024Q1") == "2024Q1"
    e = refused(
        "period",
        "2019Q1 has no data at vintage 2026-01-31 (nearest: 2023Q4; "
        "quarters with data: 2023Q4-2024Q1, 2024Q3-2024Q4)",
        check_period,
        M,
        "2019Q1",
    )
    assert e.value == "2019Q1"
    refused("period", "(nearest: 2024Q1, 2024Q3;", check_period, M, "2024Q2")  # midway: both
    refused("period", "(nearest: 2024Q4;", check_period, M, "2031Q1")
    refused("period", "not a quarter", check_period, M, "2024-Q4")
    assert nearest(["2023Q4", "2024Q4"], "2024Q2") == ["2023Q4", "2024Q4"]
    assert spans(["2024Q1", "2023Q4", "2024Q3", "2025Q2", "2024Q4"]) == (
        "2023Q4-2024Q1, 2024Q3-2024Q4, 2025Q2"
    )
    assert spans([f"{y}Q{q}" for y in range(2012, 2026) for q in (1, 2, 3, 4)]) == "2012Q1-2025Q4"


def test_since_must_have_data_and_come_before_the_period():
    assert check_since(M, None, "2024Q3") is None
    assert check_since(M, "2023Q4", "2024Q3") == "2023Q4"
    refused("since", "2024Q3 is not before the period 2023Q4", check_since, M, "2024Q3", "2023Q4")
    refused("since", "2024Q1 is not before the period 2024Q1", check_since, M, "2024Q1", "2024Q1")
    refused("since", "2022Q1 has no data", check_since, M, "2022Q1", "2024Q3")
    refused("since", "not a quarter", check_since, M, "22Q1", "2024Q3")


def test_check_query_resolves_the_default_period_first():
    assert check_query(M, None, "2024Q1") == ("2024Q3", "2024Q1")
    assert check_query(M, "2024Q4") == ("2024Q4", None)
    # since is checked against the resolved default, so it cannot run backwards either
    refused("since", "2024Q4 is not before the period 2024Q3", check_query, M, None, "2024Q4")
    # the period is checked before since
    refused("period", "2019Q1 has no data", check_query, M, "2019Q1", "2030Q1")


def test_checks_on_the_bundled_metrics():
    m = precompiled.compute(NO_DB, None)
    assert check_query(m, None, "2022Q4") == (m.latest_period(), "2022Q4")
    refused("since", "not before", check_query, m, "2021Q4", "2025Q3")


# -- platform ----------------------------------------------------------------------------------


def test_platform_lookup_is_case_insensitive_and_canonical():
    known = ["Tether", "Galaxy+Ledn", "Aave", "unattributed"]
    assert find_platform(known, "Tether") == "Tether"
    assert find_platform(known, "tether") == find_platform(known, "TETHER") == "Tether"
    assert find_platform(known, "galaxy+LEDN") == "Galaxy+Ledn"
    assert find_platform(known, "Tethe") is None
    assert find_platform([], "Tether") is None
    # an exact spelling wins over a case variant; otherwise the first in sorted order
    assert find_platform(["ACME", "Acme"], "Acme") == "Acme"
    assert find_platform(["Acme", "ACME"], "acme") == "ACME"
    assert check_platform(known, "aave", date(2025, 4, 14)) == "Aave"
    refused(
        "platform",
        "no platform named 'nope' at vintage 2025-04-14",
        check_platform,
        known,
        "nope",
        date(2025, 4, 14),
    )

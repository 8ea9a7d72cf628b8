"""Cited and on-chain overlaps: per lender and quarter the larger stands, never their sum."""

from __future__ import annotations

from datetime import date

import pytest

from lendscope.dataset.schema import TABLES
from lendscope.dataset.store import to_arrow
from tests.helpers import metrics_of
from tests.metrics.test_small import A, tables

C = date(2020, 2, 1)  # a later vintage than A


def ov(lender: str, via: str, usd: float, method: str | None, published: date = A) -> dict:
    return dict(
        period="2019Q4", lender=lender, via_platform=via, amount_usd=float(usd), source_id="s1",
        published=published, note="", method=method, _origin="test", _row=2,
    )  # fmt: skip


def adjusted(backend: str, rows: list[dict], vintage: date = C) -> tuple[float, float]:
    t = tables()
    t["overlaps"] = to_arrow(TABLES["overlaps"], rows)
    d = metrics_of(t, backend, vintage).for_period("2019Q4")
    return d["overlap_usd"], d["total_adjusted_usd"]  # total is 220


@pytest.mark.parametrize(
    "rows, expect",
    [
        # cited only (an empty or missing method is a cited figure)
        ([ov("X", "DeFi (unspecified)", 5, None), ov("W", "Maker", 2, "")], 7),
        # measured only
        ([ov("X", "Aave", 3, "onchain"), ov("X", "Morpho", 1, "onchain")], 4),
        # both for one lender: the larger stands (cited 5 > measured 4) ...
        ([ov("X", "DeFi (unspecified)", 5, "reported"), ov("X", "Aave", 4, "onchain")], 5),
        # ... (measured 6 > cited 5), also when both name the same platform
        ([ov("X", "Aave", 5, "reported"), ov("X", "Aave", 6, "onchain")], 6),
        # other lenders add up
        (
            [
                ov("X", "Aave", 5, "reported"),
                ov("X", "Aave", 6, "onchain"),
                ov("W", "Aave", 2, "onchain"),
            ],
            8,
        ),
    ],
)
def test_larger_of_cited_and_measured_per_lender(backend, rows, expect):
    assert adjusted(backend, rows) == (expect, 220 - expect)


def test_vintages_apply_within_each_kind(backend):
    rows = [
        ov("X", "Aave", 6, "onchain", A),
        ov("X", "Aave", 2, "onchain", C),  # a later read supersedes the earlier one
        ov("X", "Aave", 3, "reported", A),
        ov("X", "Aave", 0, "withdrawn", C),  # the cited figure is withdrawn at C
    ]
    assert adjusted(backend, rows, A) == (6, 214)
    assert adjusted(backend, rows, C) == (2, 218)

"""The outlier decision: which figure is off when relations fail, from all the evidence at once."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path

from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.dataset import TableFile, bundled_files, check_files, validate
from lendscope.dataset.schema import TABLES
from lendscope.dataset.store import load_tables
from lendscope.dataset.units import Figure, Pair, Sum, decades, decide
from tests.dataset.catalogue import cited, cited_csv
from tests.dataset.catalogue_units import GARBLED_SEGMENTS, segments

runner = CliRunner()


def fig(value: float, user: bool = True, name: str = "") -> Figure:
    """A figure on a row of its own, in the user's file unless ``user`` is False."""
    row = {"_file": "u.csv" if user else "bundled.csv", "_row": name, "v": value}
    return Figure(row, "v", user)


def sum_of(parts: list[Figure], whole: Figure, exact: bool = True) -> Sum:
    return Sum(parts, [whole], exact, "sum", blame=[*parts, whole])


def test_decades() -> None:
    assert [decades(r) for r in (10, 0.1, 100, 1e-3, 11.3, 8.1)] == [1, -1, 2, -3, 1, 1]
    assert [decades(r) for r in (1, 3, 20, 1e4, 0, -10)] == [0, 0, 0, 0, 0, 0]


def test_garbled_components_are_blamed_not_the_correct_total() -> None:
    """Each component disagrees with its other vintage; the total agrees with its own."""
    total, parts = fig(36.5), [fig(112), fig(191), fig(62)]
    refs = [fig(11.2, user=False), fig(19.1, user=False), fig(6.2, user=False)]
    old_total = fig(36.5, user=False)
    rels = [
        sum_of(parts, total),
        Pair(total, old_total, same=True),
        *(Pair(p, r, same=True) for p, r in zip(parts, refs, strict=True)),
    ]
    d = decide(rels)
    assert d.scale == dict.fromkeys(parts, -1)
    assert d.unresolved == []


def test_internal_sum_alone_blames_the_one_component_that_fixes_it() -> None:
    total, cefi, defi, cdp = fig(36.5), fig(11.2), fig(191), fig(6.2)
    d = decide([sum_of([cefi, defi, cdp], total)])
    assert d.scale == {defi: -1}


def test_total_against_all_its_components_alone_is_ambiguous() -> None:
    """Rescaling the total or every component fits equally: neither is blamed."""
    total, parts = fig(36.5), [fig(112), fig(191), fig(62)]
    rel = sum_of(parts, total)
    d = decide([rel])
    assert d.scale == {}
    assert d.unresolved == [rel] and d.ambiguous == {rel}


def test_two_user_figures_alone_are_ambiguous() -> None:
    a, b = fig(1e9), fig(10e9)
    d = decide([Pair(a, b, same=False, distance=1)])
    assert d.scale == {} and len(d.ambiguous) == 1


def test_the_majority_of_neighbours_decides() -> None:
    """One user figure between a bundled neighbour and a user one that disagree with it."""
    odd, left, right = fig(67e9), fig(6.7e9, user=False), fig(4.7e9)
    d = decide([Pair(odd, left, same=False), Pair(odd, right, same=False)])
    assert d.scale == {odd: -1}


def test_mixed_evidence_leaves_the_figure_alone() -> None:
    """Agrees with one bundled neighbour, disagrees with another: nothing to fix it to."""
    f = fig(5e9)
    d = decide([Pair(f, fig(5.2e9, user=False), False), Pair(f, fig(0.5e9, user=False), False)])
    assert d.scale == {} and len(d.unresolved) == 1 and not d.ambiguous


def test_thousands_for_millions_and_tenths() -> None:
    small, big = fig(502e3), fig(0.67e9)
    d = decide([Pair(small, fig(502e6, user=False), True), Pair(big, fig(6.7e9, user=False), True)])
    assert d.scale == {small: 3, big: 1}


def test_a_small_extra_part_is_no_unit_error() -> None:
    """0.5 on a closed 11.2 fits once divided by 10, but fits as well when removed."""
    extra = fig(0.5e9)
    rel = sum_of([fig(11.2e9, user=False), extra], fig(11.2e9, user=False))
    d = decide([rel])
    assert d.scale == {} and d.unresolved == [rel]


def test_a_series_typed_in_the_wrong_unit_moves_together() -> None:
    """Only the first quarter touches bundled data; the rest follow it as one series."""
    series = [fig(v) for v in (47e9, 52e9, 55e9, 60e9)]
    ref = fig(4.8e9, user=False)
    inner = [Pair(a, b, False, 1) for a, b in pairwise(series)]
    d = decide([Pair(series[0], ref, False, 1), *inner], groups=[series])
    assert d.scale == dict.fromkeys(series, -1)


# --- through the validator -------------------------------------------------------------------


def problems_of(tmp_path: Path, name: str, content: str) -> list:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return check_files([path])[1]


def test_file_with_correct_total_and_garbled_components(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, "obs.csv", GARBLED_SEGMENTS)
    hinted = {p.row for p in probs if "did you mean" in p.message}
    assert hinted == {3, 4, 5}  # cefi, defi, cdp
    assert [p for p in probs if p.row == 2] == []  # the total: neither blamed nor hinted


def test_new_quarter_with_correct_total_and_garbled_components(tmp_path: Path) -> None:
    content = segments("2025Q4", "2026-02-15", "80e9", "260e9", "450e9", "90e9")
    probs = problems_of(tmp_path, "obs.csv", content)
    assert {p.row for p in probs} == {3, 4, 5}
    assert all("did you mean" in p.message for p in probs)


def test_undecidable_file_suggests_no_fix(tmp_path: Path) -> None:
    content = segments("2019Q4", "2020-02-15", "36.5e9", "112e9", "191e9", "62e9")
    probs = problems_of(tmp_path, "obs.csv", content)
    assert len(probs) == 1 and "did you mean" not in probs[0].message


def test_conflict_and_unit_error_both_reported(tmp_path: Path) -> None:
    content = (
        "period,segment,platform,chain,metric,value_usd,source_id,method,published,note\n"
        "2024Q4,cefi,Tether,,outstanding_loans_usd,82e9,defiant-2025-04-lending-down-43,"
        "reported,2025-04-14,\n"
    )
    msgs = sorted(p.message.split(":")[0] for p in problems_of(tmp_path, "obs.csv", content))
    assert msgs == [
        "conflicts with lendscope/data/observations.csv row 28 (same period, segment, "
        "platform, chain, metric, published)",
        "probable unit error",
    ]


def test_context_figures_are_checked_too() -> None:
    """Context rows are not user-addable from files, but the checks cover every money column."""
    row = {
        "_file": "ctx.csv",
        "_row": 2,
        "date": "2025-03-31",
        "segment": "defi",
        "platform": "Aave V3",
        "chain": "ethereum",
        "metric": "deposits_usd",
        "value_usd": 236e9,
        "source_id": "galaxy-2025-04-state-of-crypto-lending",
        "note": "",
    }
    probs = validate(
        [*bundled_files(), TableFile("ctx.csv", TABLES["context"], [row])], {"ctx.csv"}
    )
    assert [(p.file, p.row, p.field) for p in probs] == [("ctx.csv", 2, "value_usd")]
    assert "10x the same figure $23.6B for 2025-03-31" in probs[0].message
    assert "did you mean $23.6B?" in probs[0].message


def test_cited_metrics_file_is_recognised_and_added(tmp_path: Path) -> None:
    path = tmp_path / "cm.csv"
    path.write_text(cited_csv(cited(), cited(scope="cefi:Tether", metric="share", value="0.73")))
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    db = tmp_path / "x.duckdb"
    result = runner.invoke(app, ["build", "--add", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    added = load_tables(db)["cited_metrics"].to_pylist()
    assert {(r["scope"], r["published"]) for r in added if r["origin"] != "bundled"} == {
        ("total", date(2025, 5, 1)),
        ("cefi:Tether", date(2025, 5, 1)),
    }

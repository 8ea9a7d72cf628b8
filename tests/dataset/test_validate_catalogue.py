"""A catalogue of bad user files: each is rejected by `validate` and by `build --add`.

Every case names the file, the row and the field the problem is reported at, and substrings of the
message. A case marked xfail documents a validator bug (a crash instead of a clean error, or a bad
input that passes); it must keep failing until the bug is fixed (strict).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.dataset import bundled_files, validate
from lendscope.dataset.store import load_tables
from tests.dataset.catalogue import FILE_CASES, GALAXY, obs, obs_csv
from tests.dataset.catalogue_rules import RULE_CASES
from tests.dataset.catalogue_units import CITED_CASES, UNIT_CASES

# Plain tuples start with their id; pytest.param entries (the xfails) are used as they are.
CASES = FILE_CASES + RULE_CASES + UNIT_CASES + CITED_CASES
PARAMS = [pytest.param(*c[1:], id=c[0]) if isinstance(c[0], str) else c for c in CASES]

runner = CliRunner()


def write(tmp_path: Path, name: str, content: str | bytes | None) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    return path


def location(path: Path, field: str | None, row: int | None) -> str:
    """The start of a problem line as `Problem.__str__` writes it."""
    where = str(path) + (f": row {row}" if row else "")
    return where + (f", field '{field}'" if field else "") + ": "


def assert_reported(
    output: str, path: Path, subs: list[str], field: str | None, row: int | None
) -> None:
    where = location(path, field, row)
    lines = [ln.strip() for ln in output.splitlines()]
    hits = [ln for ln in lines if ln.startswith(where)]
    assert hits, f"no problem at {where!r} in:\n{output}"
    assert any(all(s in ln for s in subs) for ln in hits), (
        f"no problem at {where!r} mentions {subs!r} in:\n{output}"
    )


def assert_clean_failure(result) -> None:
    """Exit 1 through typer.Exit, not through an exception escaping the command."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)


def test_catalogue_is_large_and_ids_unique() -> None:
    ids = [p.id for p in PARAMS]
    assert len(ids) >= 24
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("name", "content", "subs", "field", "row"), PARAMS)
def test_validate_rejects(tmp_path: Path, name, content, subs, field, row) -> None:
    path = write(tmp_path, name, content)
    result = runner.invoke(app, ["validate", str(path)])
    assert_clean_failure(result)
    assert_reported(result.output, path, subs, field, row)
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("name", "content", "subs", "field", "row"), PARAMS)
def test_build_rejects_and_writes_nothing(tmp_path: Path, name, content, subs, field, row) -> None:
    path = write(tmp_path, name, content)
    db = tmp_path / "x.duckdb"
    result = runner.invoke(app, ["build", "--add", str(path), "--db", str(db)])
    assert_clean_failure(result)
    assert_reported(result.output, path, subs, field, row)
    assert not db.exists()
    assert not list(tmp_path.glob(".x.duckdb.*")), "temporary database left behind"


def test_unit_error_blames_only_the_user_file(tmp_path: Path) -> None:
    """The user's cited total is wrong; no problem should be pinned on the bundled rows."""
    path = write(
        tmp_path,
        "obs.csv",
        obs_csv(obs(period="2024Q4", platform="", value_usd="112e9", published="2025-05-01")),
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert_clean_failure(result)
    assert_reported(result.output, path, ["probable unit error", "$11.2B"], "value_usd", 2)
    assert [ln for ln in result.output.splitlines() if ln.startswith("lendscope/data/")] == []


# --- valid input ---------------------------------------------------------------------------

GOOD_YAML = f"""\
sources:
  - id: acme-2026-02-q4
    title: Acme Lending Q4 2025 report
    publisher: Acme
    url: https://acme.example/q4-2025
    published: 2026-02-15
    kind: report
observations:
  - period: 2025Q4
    segment: cefi
    metric: outstanding_loans_usd
    value_usd: 25.0e9
    source_id: acme-2026-02-q4
    method: reported
    published: 2026-02-15
    note: Tether 17.0 + Acme 2.0 + others 6.0
  - period: 2025Q4
    segment: cefi
    platform: Acme Lending
    metric: outstanding_loans_usd
    value_usd: 2.0e9
    source_id: acme-2026-02-q4
    method: reported
    published: 2026-02-15
  - period: 2025Q4
    segment: cefi
    platform: unattributed
    metric: outstanding_loans_usd
    value_usd: 6.0e9
    source_id: {GALAXY}
    method: derived
    published: 2026-02-15
"""


def counts(db: Path) -> dict[str, int]:
    return {name: t.num_rows for name, t in load_tables(db).items()}


def test_bundled_data_has_no_problems() -> None:
    assert validate(bundled_files(), set()) == []


def test_valid_user_file_passes(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD_YAML)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok: 4 row(s) in 1 file(s)" in result.output


def test_build_add_twice_adds_rows_once(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD_YAML)
    db = tmp_path / "x.duckdb"
    bundled = counts(tmp_path / "absent.duckdb")
    first = runner.invoke(app, ["build", "--add", str(path), "--db", str(db)])
    assert first.exit_code == 0, first.output
    once = counts(db)
    assert once == {
        **bundled,
        "sources": bundled["sources"] + 1,
        "observations": bundled["observations"] + 3,
    }
    second = runner.invoke(app, ["build", "--add", str(path), "--db", str(db)])
    assert second.exit_code == 0, second.output
    assert "(0 new)" in second.output
    assert counts(db) == once


def test_bad_add_leaves_existing_db_unchanged(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD_YAML)
    db = tmp_path / "x.duckdb"
    assert runner.invoke(app, ["build", "--add", str(good), "--db", str(db)]).exit_code == 0
    before_bytes, before_counts = db.read_bytes(), counts(db)
    bad = write(
        tmp_path,
        "bad.csv",
        obs_csv(obs(period="2024Q4", platform="", value_usd="112e9", published="2025-05-01")),
    )
    result = runner.invoke(app, ["build", "--add", str(bad), "--db", str(db)])
    assert_clean_failure(result)
    assert "probable unit error" in result.output
    assert db.read_bytes() == before_bytes
    assert counts(db) == before_counts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "good.yaml", "x.duckdb"]

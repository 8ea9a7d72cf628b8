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

GALAXY = "galaxy-2025-04-state-of-crypto-lending"
DEFIANT = "defiant-2025-04-lending-down-43"
OBS = "period,segment,platform,chain,metric,value_usd,source_id,method,published,note\n"
VC = "period,deals,amount_usd,share_of_crypto_vc,source_id,method,published,note\n"
OVL = "period,lender,via_platform,amount_usd,source_id,published,note\n"
SRC = "id,title,publisher,url,published,kind,note\n"


def obs(**kw: str) -> str:
    """One observations CSV row: a valid new CeFi lender for 2025Q4 unless overridden."""
    r = {
        "period": "2025Q4",
        "segment": "cefi",
        "platform": "Acme Lending",
        "chain": "",
        "metric": "outstanding_loans_usd",
        "value_usd": "1.0e9",
        "source_id": GALAXY,
        "method": "reported",
        "published": "2026-02-15",
        "note": "",
    }
    r.update(kw)
    return ",".join(r.values()) + "\n"


def obs_csv(*rows: str) -> str:
    return OBS + "".join(rows)


def vc(**kw: str) -> str:
    r = {
        "period": "2025Q1",
        "deals": "3",
        "amount_usd": "0.05e9",
        "share_of_crypto_vc": "0.01",
        "source_id": GALAXY,
        "method": "reported",
        "published": "2025-04-30",
        "note": "",
    }
    r.update(kw)
    return VC + ",".join(r.values()) + "\n"


def ovl(**kw: str) -> str:
    r = {
        "period": "2024Q4",
        "lender": "Acme Lending",
        "via_platform": "Aave",
        "amount_usd": "1.0e6",
        "source_id": GALAXY,
        "published": "2025-04-30",
        "note": "",
    }
    r.update(kw)
    return OVL + ",".join(r.values()) + "\n"


def src(**kw: str) -> str:
    r = {
        "id": "acme-2026-02-q4",
        "title": "Acme Lending Q4 2025 report",
        "publisher": "Acme",
        "url": "https://acme.example/q4-2025",
        "published": "2026-02-15",
        "kind": "report",
        "note": "",
    }
    r.update(kw)
    return SRC + ",".join(r.values()) + "\n"


def yaml_obs(**kw: str) -> str:
    r = {
        "period": "2025Q4",
        "segment": "cefi",
        "platform": "Acme Lending",
        "metric": "outstanding_loans_usd",
        "value_usd": "1.0e9",
        "source_id": GALAXY,
        "method": "reported",
        "published": "2026-02-15",
    }
    r.update(kw)
    return "observations:\n" + "".join(
        f"{'  - ' if i == 0 else '    '}{k}: {v}\n" for i, (k, v) in enumerate(r.items())
    )


def bug(reason: str):
    return pytest.mark.xfail(strict=True, reason=f"validator bug: {reason}")


# (id, file name, content (str, bytes, or None = do not create), substrings, field, row)
# field/row None: the problem is about the whole file (or a whole row), so the message names
# no field (no row).
CASES = [
    # --- file level ------------------------------------------------------------------------
    (
        "columns_unknown",
        "loans.csv",
        "period,segment,amount\n2024Q4,cefi,1e9\n",
        ["columns match no table", "unknown column(s) amount"],
        None,
        1,
    ),
    (
        "columns_missing",
        "obs.csv",
        "period,segment,platform,chain,metric,value_usd,method,published\n"
        "2025Q4,cefi,Acme,,outstanding_loans_usd,1e9,reported,2026-02-15\n",
        ["columns match no table (closest: observations)", "missing column(s) source_id"],
        None,
        1,
    ),
    ("empty_csv", "empty.csv", "", ["file is empty: expected a header row"], None, None),
    (
        "non_utf8",
        "latin1.csv",
        OBS.encode() + "2025Q4,cefi,Café,,x\n".encode("latin-1"),
        ["not UTF-8 text"],
        None,
        None,
    ),
    (
        "invalid_yaml",
        "bad.yaml",
        "observations:\n  - period: 2025Q4\n    note: a: b\n",
        ["not valid YAML", "mapping values are not allowed here"],
        None,
        3,
    ),
    (
        "yaml_unknown_table",
        "loans.yaml",
        "loans:\n  - period: 2025Q4\n",
        ["unknown table 'loans'", "sources, observations, overlaps, vc_funding"],
        None,
        None,
    ),
    (
        "yaml_not_user_table",
        "ctx.yaml",
        "context:\n  - date: 2025-01-01\n",
        ["unknown table 'context'"],
        None,
        None,
    ),
    (
        "yaml_not_a_list",
        "scalar.yaml",
        "observations: 5\n",
        ["expected a list of rows (mappings)"],
        None,
        None,
    ),
    (
        "unsupported_extension",
        "obs.txt",
        obs_csv(obs()),
        ["unsupported file type '.txt'", "use .csv or .yaml"],
        None,
        None,
    ),
    ("missing_file", "nowhere.csv", None, ["file not found"], None, None),
    (
        "too_many_cells",
        "wide.csv",
        obs_csv(obs(note="a,b")),
        ["has 11 cells, the header has 10"],
        None,
        2,
    ),
    # --- cell types ------------------------------------------------------------------------
    (
        "not_a_number",
        "obs.csv",
        obs_csv(obs(value_usd="lots")),
        ["'lots' is not a number"],
        "value_usd",
        2,
    ),
    (
        "thousands_separators",
        "obs.csv",
        obs_csv(obs(value_usd='"11,200,000,000"')),
        ["'11,200,000,000' is not a plain number", "no separators"],
        "value_usd",
        2,
    ),
    (
        "infinite_number",
        "obs.csv",
        obs_csv(obs(value_usd="inf")),
        ["'inf' is not a finite number"],
        "value_usd",
        2,
    ),
    (
        "period_dash",
        "obs.csv",
        obs_csv(obs(period="2024-Q4")),
        ["'2024-Q4' is not a quarter YYYYQn"],
        "period",
        2,
    ),
    (
        "period_q5",
        "obs.csv",
        obs_csv(obs(period="2024Q5")),
        ["'2024Q5' is not a quarter YYYYQn"],
        "period",
        2,
    ),
    (
        "bad_published_date",
        "obs.csv",
        obs_csv(obs(published="2025-13-01")),
        ["'2025-13-01' is not a date YYYY-MM-DD"],
        "published",
        2,
    ),
    (
        "empty_required",
        "obs.csv",
        obs_csv(obs(source_id="")),
        ["is empty; a value is required"],
        "source_id",
        2,
    ),
    (
        "unknown_segment",
        "obs.csv",
        obs_csv(obs(segment="lending")),
        ["unknown value 'lending'", "cefi, defi, cdp"],
        "segment",
        2,
    ),
    (
        "unknown_metric",
        "obs.csv",
        obs_csv(obs(metric="loans_usd")),
        ["unknown value 'loans_usd'", "outstanding_loans_usd, supply_usd"],
        "metric",
        2,
    ),
    (
        "unknown_method",
        "obs.csv",
        obs_csv(obs(method="guess")),
        ["unknown value 'guess'", "withdrawn"],
        "method",
        2,
    ),
    (
        "yaml_unknown_method",
        "obs.yaml",
        yaml_obs(method="guess"),
        ["unknown value 'guess'"],
        "method",
        1,
    ),
    # --- row rules -------------------------------------------------------------------------
    (
        "period_before_2012",
        "obs.csv",
        obs_csv(obs(period="2011Q4", published="2012-01-15")),
        ["2011Q4 is before 2012Q1"],
        "period",
        2,
    ),
    (
        "published_before_quarter_end",
        "obs.csv",
        obs_csv(obs(published="2025-12-15")),
        ["2025-12-15 is before the end of 2025Q4", "method=estimate"],
        "published",
        2,
    ),
    (
        "negative_value",
        "obs.csv",
        obs_csv(obs(value_usd="-1e9")),
        ["is negative", "non-negative"],
        "value_usd",
        2,
    ),
    (
        "metric_not_fitting_segment",
        "obs.csv",
        obs_csv(obs(segment="cdp", platform="AcmeUSD", chain="ethereum")),
        ["'outstanding_loans_usd' does not fit segment 'cdp'", "use 'supply_usd'"],
        "metric",
        2,
    ),
    (
        "unknown_source",
        "obs.csv",
        obs_csv(obs(source_id="no-such-report")),
        ["unknown source 'no-such-report'", "add it to sources first"],
        "source_id",
        2,
    ),
    (
        "cefi_with_chain",
        "obs.csv",
        obs_csv(obs(chain="ethereum")),
        ["must be empty for CeFi lenders"],
        "chain",
        2,
    ),
    (
        "total_with_platform",
        "obs.csv",
        obs_csv(obs(period="2019Q4", segment="total", published="2020-01-15")),
        ["must be empty", "'total' row is a market-wide aggregate"],
        "platform",
        2,
    ),
    (
        "total_ex_cdp_with_chain",
        "obs.csv",
        obs_csv(
            obs(
                period="2019Q4",
                segment="total_ex_cdp",
                platform="",
                chain="ethereum",
                published="2020-01-15",
            )
        ),
        ["must be empty", "'total_ex_cdp' row is a market-wide aggregate"],
        "chain",
        2,
    ),
    (
        "withdrawn_with_value",
        "obs.csv",
        obs_csv(obs(method="withdrawn")),
        ["must be empty when method is 'withdrawn'"],
        "value_usd",
        2,
    ),
    (
        "value_missing",
        "obs.csv",
        obs_csv(obs(value_usd="")),
        ["is empty; a value is required (or method 'withdrawn')"],
        "value_usd",
        2,
    ),
    (
        "duplicate_in_file",
        "obs.csv",
        obs_csv(obs(), obs()),
        ["duplicates", "row 2 (same period, segment, platform, chain, metric, published)"],
        None,
        3,
    ),
    (
        "conflicts_with_bundled",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q4",
                platform="Tether",
                value_usd="8.3e9",
                source_id=DEFIANT,
                published="2025-04-14",
            )
        ),
        ["conflicts with lendscope/data/observations.csv row 28", "same period, segment"],
        None,
        2,
    ),
    # --- sums against cited totals, unit errors --------------------------------------------
    (
        "components_exceed_cited_total",
        "obs.csv",
        obs_csv(obs(period="2024Q4", value_usd="0.5e9", published="2025-04-14")),
        [
            "cefi platforms sum to $11.7B",
            "more than the cited cefi total $11.2B",
            "as published by 2025-04-14",
        ],
        "value_usd",
        2,
    ),
    (
        "unattributed_not_closing_total",
        "obs.csv",
        obs_csv(
            obs(period="2019Q4", platform="", value_usd="10e9", published="2020-01-15"),
            obs(period="2019Q4", value_usd="2e9", published="2020-01-15"),
            obs(period="2019Q4", platform="unattributed", value_usd="3e9", published="2020-01-15"),
        ),
        ["platforms incl. 'unattributed' sum to $5B", "not the cited cefi total $10B"],
        "value_usd",
        3,
    ),
    (
        "segments_exceed_cited_total",
        "obs.csv",
        obs_csv(
            obs(
                period="2023Q3",
                segment="defi",
                platform="",
                value_usd="15e9",
                published="2025-04-20",
            )
        ),
        ["defi = $15B exceeds the cited total $14.2B"],
        "value_usd",
        2,
    ),
    (
        "unit_error_cefi_total",
        "obs.csv",
        obs_csv(obs(period="2024Q4", platform="", value_usd="112e9", published="2025-05-01")),
        ["probable unit error", "did you mean $11.2B?"],
        "value_usd",
        2,
    ),
    (
        "unit_error_same_quarter",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q3",
                platform="Tether",
                value_usd="67e9",
                source_id="dinarian-2025-01-tether-q4",
                published="2025-01-31",
            )
        ),
        ["probable unit error", "10x the same figure $6.7B for 2024Q3", "did you mean $6.7B?"],
        "value_usd",
        2,
    ),
    (
        "unit_error_neighbour_quarter",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q2",
                platform="Tether",
                value_usd="67e9",
                source_id="financefocus-2024-10-tether-q3",
                published="2024-10-31",
            )
        ),
        ["probable unit error", "its neighbour $6.7B for 2024Q3", "did you mean $6.7B?"],
        "value_usd",
        2,
    ),
    # --- other tables ----------------------------------------------------------------------
    (
        "vc_share_above_one",
        "vc.csv",
        vc(share_of_crypto_vc="1.5"),
        ["1.5 is not a fraction in [0, 1]"],
        "share_of_crypto_vc",
        2,
    ),
    ("vc_deals_not_integer", "vc.csv", vc(deals="2.5"), ["'2.5' is not an integer"], "deals", 2),
    ("vc_deals_negative", "vc.csv", vc(deals="-2"), ["is negative"], "deals", 2),
    (
        "vc_no_figures",
        "vc.csv",
        vc(deals="", amount_usd="", share_of_crypto_vc=""),
        ["has none of deals, amount_usd, share_of_crypto_vc"],
        None,
        2,
    ),
    (
        "overlap_negative_amount",
        "ovl.csv",
        ovl(amount_usd="-1e6"),
        ["is negative (-1e+06)"],
        "amount_usd",
        2,
    ),
    (
        "overlap_published_early",
        "ovl.csv",
        ovl(published="2024-12-01"),
        ["is before the end of 2024Q4"],
        "published",
        2,
    ),
    (
        "source_non_http_url",
        "src.csv",
        src(url="ftp://acme.example/q4.pdf"),
        ["'ftp://acme.example/q4.pdf' is not an http(s) URL"],
        "url",
        2,
    ),
    (
        "source_unknown_kind",
        "src.csv",
        src(kind="blog"),
        ["unknown value 'blog'", "attestation"],
        "kind",
        2,
    ),
    (
        "source_id_conflicts_with_bundled",
        "src.csv",
        src(id=GALAXY),
        ["conflicts with lendscope/data/sources.csv row 2 (same id)"],
        "id",
        2,
    ),
    # --- once validator bugs, now fixed ---------------------------------------------------
    pytest.param(
        "obs.yaml",
        yaml_obs() + "    1: x\n",
        ["unknown column(s)"],
        None,
        None,
        id="yaml_non_string_key",
    ),
    pytest.param(
        "obs.csv",
        obs_csv(obs(note="x" * 200_000)),
        [],
        None,
        2,
        id="csv_huge_cell",
    ),
    pytest.param(
        "vc.csv",
        vc(deals="1e30"),
        ["1e30"],
        "deals",
        2,
        id="vc_deals_beyond_int64",
    ),
    pytest.param(
        "obs.csv",
        obs_csv(obs(period="2099Q1", method="estimate", published="2025-06-01")),
        ["2099Q1"],
        "period",
        2,
        id="far_future_period",
    ),
]
# Plain tuples start with their id; pytest.param entries (the xfails) are used as they are.
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

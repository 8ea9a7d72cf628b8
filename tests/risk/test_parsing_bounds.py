"""Hostile 1 MiB files as books, funding files and scenarios: a clean BookError or
ScenarioError naming the file, in bounded CPU (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.risk.book_types import BookError
from lendscope.risk.books import load_book, parse_book
from lendscope.risk.scenarios import ScenarioError, load_scenario
from tests.core.bombs import BOMBS, CPU_BOUND_S, MIB, YAML_BOMBS, timed

EXAMPLES = Path(__file__).parents[2] / "src/lendscope/risk/examples"
runner = CliRunner()


def refused(exc: type[Exception], fn) -> tuple[str, float]:
    """The message ``fn()`` raises ``exc`` with, and the CPU seconds it took."""
    err, seconds = timed(fn)
    assert isinstance(err, exc), repr(err)[:300]
    return str(err), seconds


@pytest.mark.parametrize(("suffix", "data"), [pytest.param(s, d, id=b) for b, s, d in BOMBS])
def test_book_and_funding_loader_refuse_cleanly(tmp_path: Path, suffix, data) -> None:
    path = tmp_path / f"book{suffix}"
    path.write_bytes(data)
    msg, seconds = refused(BookError, lambda: load_book(path))
    assert msg.startswith(f"{path}: "), msg[:300]
    assert seconds <= CPU_BOUND_S, f"{seconds:.2f} s of CPU"


def test_book_size_cap_is_a_parameter(tmp_path: Path) -> None:
    head, row = (EXAMPLES / "loan_tape.csv").read_text().splitlines()[:2]
    rows = [row.replace(row.split(",")[0], f"X{i}", 1) for i in range(MIB // len(row) + 1)]
    path = tmp_path / "tape.csv"
    path.write_text("\n".join([head, *rows]) + "\n")
    # The command line's cap on books is far above 1 MiB (books are machine-written).
    assert len(load_book(path).loans) == len(rows)
    with pytest.raises(BookError, match=r"over the 1 MiB limit for an input file"):
        load_book(path, MIB)


YAML = [pytest.param(d, id=b) for b, s, d in BOMBS if s == ".yaml"]


@pytest.mark.parametrize("data", YAML)
def test_scenario_loader_refuses_cleanly(tmp_path: Path, data) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(data)
    msg, seconds = refused(ScenarioError, lambda: load_scenario(path))
    assert msg.startswith(f"{path}: "), msg[:300]
    assert seconds <= CPU_BOUND_S, f"{seconds:.2f} s of CPU"


@pytest.mark.parametrize("bomb", ["brackets_80k", "billion_laughs"])
def test_stress_command_prints_one_error_line(tmp_path: Path, bomb) -> None:
    scenario, funding = tmp_path / "s.yaml", tmp_path / "f.yaml"
    scenario.write_text(YAML_BOMBS[bomb])
    funding.write_text(YAML_BOMBS[bomb])
    for args in (
        ["stress", "--scenario", str(scenario), "--synthetic", "--positions", "10"],
        ["stress", "--scenario", "2022", "--book", str(EXAMPLES / "loan_tape.csv"),
         "--book", str(funding)],
    ):  # fmt: skip
        res = runner.invoke(app, args)
        assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
        assert res.output.startswith("error: ") and "Traceback" not in res.output


def test_funding_yaml_refuses_aliases_as_validate_does() -> None:
    text = "lender: X\nown_capital_usd: &c 1\nliquid_assets_usd: *c\n"
    with pytest.raises(BookError, match=r"^f\.yaml: row 2: YAML anchors and aliases"):
        parse_book("f.yaml", text)


def test_scenario_days_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\ndays: 100000000\nshocks: {ETH: -0.4}\n")
    with pytest.raises(ScenarioError, match=r": days: at most 3660"):
        load_scenario(path)
    path.write_text("name: x\ndays: 3\nstart: 9999-12-30\nshocks: {ETH: -0.4}\n")
    with pytest.raises(ScenarioError, match=r": start: .* past the year 9999"):
        load_scenario(path)
    path.write_text("name: x\ndates: {start: 2000-01-01, end: 2090-01-01}\npaths: {}\n")
    with pytest.raises(ScenarioError, match=r": dates.end: .* at most 3660"):
        load_scenario(path)

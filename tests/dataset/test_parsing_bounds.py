"""Hostile 1 MiB files through ``lendscope validate`` and the dataset loader: a clean problem
naming the file, exit 1, no traceback, in bounded CPU (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.dataset import read_file
from tests.core.bombs import BOMBS, CPU_BOUND_S, timed

runner = CliRunner()
PARAMS = [pytest.param(suffix, data, id=bomb) for bomb, suffix, data in BOMBS]


@pytest.mark.parametrize(("suffix", "data"), PARAMS)
def test_validate_refuses_cleanly_in_bounded_time(tmp_path: Path, suffix, data) -> None:
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(data)
    res, seconds = timed(lambda: runner.invoke(app, ["validate", str(path)]))
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output[-2000:]
    assert "Traceback" not in res.output
    first = res.output.splitlines()[0]
    assert first.startswith(f"{path}: "), first[:300]
    assert seconds <= CPU_BOUND_S, f"{seconds:.2f} s of CPU"


@pytest.mark.parametrize(("suffix", "data"), PARAMS)
def test_read_file_reports_problems_naming_the_file(tmp_path: Path, suffix, data) -> None:
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(data)
    (_files, problems), seconds = timed(lambda: read_file(path))
    assert problems and all(p.file == str(path) for p in problems)
    assert len(problems) <= 1001  # at most 1,000 and the line saying it stopped
    assert seconds <= CPU_BOUND_S, f"{seconds:.2f} s of CPU"


def test_a_refused_file_is_one_problem_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("observations:\n  - " + "[" * 40 + "]" * 40 + "\n")
    files, problems = read_file(path)
    assert files == [] and [(p.row, p.field) for p in problems] == [(2, "")]
    assert problems[0].message == "YAML nested deeper than 32 levels"

"""Counting and measuring for the hostile catalogue."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.core.bombs import CPU_BOUND_S  # issue 10: <= 1 s of CPU for a 1 MiB file

#: The API answers on the test client's own thread, so its bound is on wall time.
WALL_BOUND_S = 3.0
STATS: dict[str, Any] = {"inputs": 0, "runs": 0, "5xx": 0, "rows_written": 0,
                         "worst_cpu_s": 0.0, "worst_case": "", "worst_wall_s": 0.0}  # fmt: skip
_SEEN: set[str] = set()


def measured(case_id: str, fn: Callable[[], Any], *, wall: bool = False) -> Any:
    """Run ``fn``, count it and record its CPU time (or wall time for requests)."""
    if case_id not in _SEEN:
        _SEEN.add(case_id)
        STATS["inputs"] += 1
    STATS["runs"] += 1
    clock = time.perf_counter if wall else time.thread_time
    t = clock()
    out = fn()
    spent = clock() - t
    if wall:
        STATS["worst_wall_s"] = max(STATS["worst_wall_s"], spent)
        assert spent <= WALL_BOUND_S, f"{case_id}: {spent:.2f} s"
        return out
    if spent > STATS["worst_cpu_s"]:
        STATS["worst_cpu_s"], STATS["worst_case"] = spent, case_id
    assert spent <= CPU_BOUND_S, f"{case_id}: {spent:.2f} s of CPU"
    return out


def server_error(case_id: str, status: int) -> None:
    """Count a 5xx and fail."""
    if status >= 500:
        STATS["5xx"] += 1
        raise AssertionError(f"{case_id}: answered {status}")


def written(rows: int) -> None:
    """Count rows a refused input left behind."""
    STATS["rows_written"] += rows
    assert rows == 0, f"{rows} rows written"


def upload_leftovers() -> list[Path]:
    """Temporary upload directories the app left behind."""
    return sorted(Path(tempfile.gettempdir()).glob("lendscope-upload-*"))

"""Counting and measuring for the hostile catalogue."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Worst CPU seconds one hostile input may cost (issue 10: <= 1 s for a 1 MiB file).
CPU_BOUND_S = 1.0
STATS: dict[str, Any] = {"inputs": 0, "runs": 0, "5xx": 0, "rows_written": 0,
                         "worst_cpu_s": 0.0, "worst_case": ""}  # fmt: skip
_SEEN: set[str] = set()


def measured(case_id: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``, count it and record its CPU time (all threads of this process)."""
    if case_id not in _SEEN:
        _SEEN.add(case_id)
        STATS["inputs"] += 1
    STATS["runs"] += 1
    t = time.process_time()
    out = fn()
    cpu = time.process_time() - t
    if cpu > STATS["worst_cpu_s"]:
        STATS["worst_cpu_s"], STATS["worst_case"] = cpu, case_id
    assert cpu <= CPU_BOUND_S, f"{case_id}: {cpu:.2f} s of CPU"
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

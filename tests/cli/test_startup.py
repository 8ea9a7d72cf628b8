"""Cold start: each command loads only the heavy libraries it needs (checked in a new process).

Timings belong to ``benchmarks/bench_startup.py``; what a command imports is deterministic, so it
is tested here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numba", "pyspark", "weasyprint", "vl_convert", "fastapi", "uvicorn", "altair", "scipy",
         "dask", "ibis", "pandas", "pyarrow", "duckdb", "numpy", "httpx", "jinja2")  # fmt: skip
PROBE = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: print(json.dumps(sorted(m for m in heavy if m in sys.modules)),
                              file=sys.stderr))
from lendscope.cli import app
app({args!r})
"""


def loaded(args: list[str], tmp_path) -> set[str]:
    code = PROBE.format(heavy=HEAVY, args=args)
    env = {"LENDSCOPE_DB": str(tmp_path / "absent.duckdb"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--help"], set()),
        (["metrics", "--period", "2024Q4"], {"duckdb"}),
        (["validate", "{data}/sources.csv"], set()),
        (["rates", "aave-v3", "--utilization", "0.5"], {"numpy"}),
        (
            ["stress", "--scenario", "2022", "--synthetic", "--positions", "100"],
            {"duckdb", "numpy"},
        ),
        (
            ["report", "--no-pdf", "--out", "out"],
            {"duckdb", "numpy", "altair", "vl_convert", "jinja2"},
        ),
    ],
    ids=["help", "metrics", "validate", "rates", "stress", "report"],
)
def test_command_loads_only_what_it_needs(args, allowed, tmp_path):
    from importlib import resources

    data = str(resources.files("lendscope") / "data")
    got = loaded([a.format(data=data) for a in args], tmp_path)
    assert got <= allowed, f"{args[0]} loads {sorted(got - allowed)}"

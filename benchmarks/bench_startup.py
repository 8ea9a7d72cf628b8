"""Cold start of the CLI: each command in a fresh process, against a plain reference.

The reference is ``python -c "import duckdb, pandas"`` in the same interpreter and run: the
floor of any data command. Targets (issue 9): ``metrics`` cold <= 2x the reference,
``report --no-pdf`` cold <= 6x. Each command runs once to warm the OS file cache, then the
median of ``--repeat`` runs is taken. Bytecode must be compiled for a fair figure
(``make report``/``make test`` do it; ``PYTHONDONTWRITEBYTECODE`` otherwise keeps every run
compiling from source): the script says which it found.

    python benchmarks/bench_startup.py [--repeat 5] [--db PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).with_name("lendscope")
TARGETS = {"metrics": 2.0, "metrics --db": 2.0, "report --no-pdf": 6.0}


def run(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def median_time(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    run(cmd, env)  # warm the file cache
    return statistics.median(run(cmd, env) for _ in range(repeat))


def bytecode_compiled() -> bool:
    spec = importlib.util.find_spec("ibis")
    assert spec and spec.origin
    return any((Path(spec.origin).parent / "__pycache__").glob("*.pyc"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--db", type=Path, help="a built database (default: build one in a temp dir)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lendscope-bench-"))
    env = {**os.environ, "LENDSCOPE_DB": str(tmp / "absent.duckdb"), "CI": "1"}
    db = args.db or tmp / "built.duckdb"
    if not args.db:
        subprocess.run([str(BIN), "build", "--db", str(db)], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    ref = median_time([sys.executable, "-c", "import duckdb, pandas"], env, args.repeat)
    cmds = {
        "metrics": [str(BIN), "metrics", "--period", "2024Q4"],
        "metrics --db": [str(BIN), "metrics", "--period", "2024Q4", "--db", str(db)],
        "report --no-pdf": [str(BIN), "report", "--no-pdf", "--out", str(tmp / "out")],
    }
    print(f"bytecode compiled: {bytecode_compiled()}; median of {args.repeat} cold runs")
    print(f"{'command':18} {'seconds':>8} {'x ref':>6} {'target':>7}")
    print(f"{'import duckdb,pandas':18} {ref:8.3f} {1.0:6.2f} {'':>7}")
    for name, cmd in cmds.items():
        t = median_time(cmd, env, args.repeat)
        ratio = t / ref
        ok = "ok" if ratio <= TARGETS[name] else "MISSED"
        print(f"{name:18} {t:8.3f} {ratio:6.2f} {'<=' + str(TARGETS[name]):>7} {ok}")


if __name__ == "__main__":
    main()

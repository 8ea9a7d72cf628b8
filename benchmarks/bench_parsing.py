"""CPU time of every hostile file (``tests/core/bombs.py``) through each entry point.

For each file it prints the CPU seconds of the shared loader alone (``core.files``), of the
dataset loader (``read_file``), of ``lendscope validate`` (in process), of the book or funding
loader and of the scenario loader, and the worst of them as a ratio to the plain reference
run in the same process: ``yaml.load(..., CSafeLoader)`` or ``csv.reader`` of a benign 1 MiB
file. Issue 10's bound is 1 s of CPU for any 1 MiB hostile file.

Usage: ``.venv/bin/python benchmarks/bench_parsing.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the hostile files live in tests/

from tests.core.bombs import BOMBS, CPU_BOUND_S, MIB, OBS_HEAD

from lendscope.cli import app
from lendscope.core import files
from lendscope.dataset import read_file
from lendscope.risk.books import load_book
from lendscope.risk.scenarios import load_scenario

ROW = "2025Q4,cefi,Acme {i},,outstanding_loans_usd,{i}.5e6,src-{i},reported,2026-02-15,a note\n"


def benign() -> dict[str, str]:
    """1 MiB of disclosure rows as CSV and as YAML (what the references read)."""
    keys = OBS_HEAD.strip().split(",")
    out = {"csv": OBS_HEAD, "yaml": "observations:\n"}
    for i in range(MIB):
        cells = ROW.format(i=i).rstrip("\n").split(",")
        pairs = ", ".join(f"{k}: '{v}'" for k, v in zip(keys, cells, strict=True))
        more = {"csv": ",".join(cells) + "\n", "yaml": "  - {" + pairs + "}\n"}
        if any(len(out[k]) + len(more[k]) > MIB for k in out):
            return out
        for k in out:
            out[k] += more[k]
    return out


def cpu(fn: Callable[[], Any], repeat: int) -> float:
    """The least CPU seconds of ``repeat`` runs of ``fn`` (errors are the expected outcome)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        with contextlib.suppress(files.InputError, ValueError):
            fn()
        best = min(best, time.process_time() - t)
    return best


def main(repeat: int = 3) -> dict[str, dict[str, float]]:
    """Time every bomb through every entry point; print the table and return it."""
    runner = CliRunner()
    ref_text = benign()
    ref = {
        ".yaml": cpu(lambda: yaml.load(ref_text["yaml"], Loader=yaml.CSafeLoader), repeat),
        ".csv": cpu(lambda: list(csv.reader(io.StringIO(ref_text["csv"]))), repeat),
    }
    ours = {
        ".yaml": cpu(lambda: files.load_yaml(ref_text["yaml"], "ref.yaml"), repeat),
        ".csv": cpu(lambda: files.read_csv_rows(ref_text["csv"], "ref.csv"), repeat),
    }
    print(f"reference, benign 1 MiB: yaml.load(CSafeLoader) {ref['.yaml']:.3f} s, "
          f"core.files.load_yaml {ours['.yaml']:.3f} s ({ours['.yaml'] / ref['.yaml']:.2f}x); "
          f"csv.reader {ref['.csv']:.3f} s, core.files.read_csv_rows {ours['.csv']:.3f} s "
          f"({ours['.csv'] / ref['.csv']:.2f}x)")  # fmt: skip
    cols = ("loader", "read_file", "validate", "book", "scenario")
    print(f"\n{'hostile file':22} {'bytes':>9} " + " ".join(f"{c:>9}" for c in cols)
          + f" {'worst/ref':>9}")  # fmt: skip
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for bomb, suffix, data in BOMBS:
            path = Path(tmp) / f"bomb{suffix}"
            path.write_bytes(data)

            def loader(path: Path = path, suffix: str = suffix) -> Any:
                text = files.read_text(path)
                if suffix == ".yaml":
                    return files.load_yaml(text, path.name)
                return files.read_csv_rows(text, path.name)

            t = {
                "loader": cpu(loader, repeat),
                "read_file": cpu(lambda path=path: read_file(path), repeat),
                "validate": cpu(lambda path=path: runner.invoke(app, ["validate", str(path)]), 1),
                "book": cpu(lambda path=path: load_book(path), repeat),
            }
            if suffix == ".yaml":
                t["scenario"] = cpu(lambda path=path: load_scenario(path), repeat)
            out[bomb] = t
            worst = max(t.values())
            flag = "" if worst <= CPU_BOUND_S else "  OVER THE BOUND"
            print(f"{bomb:22} {len(data):>9,} "
                  + " ".join(f"{t[c]:>9.3f}" if c in t else f"{'-':>9}" for c in cols)
                  + f" {worst / ref[suffix]:>8.2f}x{flag}")  # fmt: skip
    worst_bomb = max(out, key=lambda b: max(out[b].values()))
    print(f"\nworst: {worst_bomb}, {max(out[worst_bomb].values()):.3f} s of CPU "
          f"(bound {CPU_BOUND_S:.1f} s)")  # fmt: skip
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (least is kept)")
    main(parser.parse_args().repeat)

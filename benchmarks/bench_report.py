"""Time the whole report build, cold (fresh process) and warm (in process), with a breakdown.

The plain reference is WeasyPrint rendering a one-page HTML file in the same run: the floor
cost of any PDF. Target: warm build <= 3 s on 2 cores.

    python benchmarks/bench_report.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLD = """
import time, tempfile
t0 = time.perf_counter()
from lendscope.dataset.store import connect
from lendscope.metrics.summary import MarketMetrics
from lendscope.report.build import build_report
m = MarketMetrics.compute(connect())
build_report(m, tempfile.mkdtemp())
print(time.perf_counter() - t0)
"""


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t = time.perf_counter()
    cold_inner = float(subprocess.check_output([sys.executable, "-c", COLD], text=True))
    cold = time.perf_counter() - t

    from weasyprint import HTML

    from lendscope.dataset.store import connect
    from lendscope.metrics.summary import MarketMetrics
    from lendscope.report.build import build_report
    from lendscope.report.charts import CHARTS, render_all

    out = Path(tempfile.mkdtemp())
    ref = min(
        timed(lambda: HTML(string="<h1>reference</h1><p>one page</p>").write_pdf())
        for _ in range(args.repeat)
    )
    parts: dict[str, list[float]] = {"metrics": [], "charts": [], "report": []}
    for _ in range(args.repeat):
        t = time.perf_counter()
        m = MarketMetrics.compute(connect())
        parts["metrics"].append(time.perf_counter() - t)
        p = m.latest_period()
        t = time.perf_counter()
        render_all([fn(m, p) for _, fn in CHARTS.values()])
        parts["charts"].append(time.perf_counter() - t)
        t = time.perf_counter()
        build_report(m, out)
        parts["report"].append(time.perf_counter() - t)
    warm = min(a + b for a, b in zip(parts["metrics"], parts["report"], strict=True))
    print(
        f"cold (new process, imports included): {cold:.2f} s (in-process part {cold_inner:.2f} s)"
    )
    print(f"warm metrics:                          {min(parts['metrics']):.2f} s")
    print(f"warm charts (7, SVG+PNG):              {min(parts['charts']):.2f} s")
    print(f"warm report (charts+HTML+PDF):         {min(parts['report']):.2f} s")
    print(f"warm total:                            {warm:.2f} s (target <= 3 s)")
    print(f"reference one-page WeasyPrint PDF:     {ref:.3f} s")
    print(f"ratio warm/reference={warm / ref:.1f} ratio cold/warm={cold / warm:.1f}")


if __name__ == "__main__":
    main()

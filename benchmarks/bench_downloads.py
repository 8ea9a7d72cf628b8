"""First ``/downloads/report.pdf`` on a cold cache against the same request after ``build``.

Builds the downloads into a fresh cache folder (as ``lendscope build`` does), then times one
request on an app whose cache is empty and one on an app over the built cache, and prints both
and their ratio.

    python benchmarks/bench_downloads.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from lendscope.app import create_app
from lendscope.app.downloads import cache_for, prebuild

NO_DB = Path("/nonexistent/lendscope.duckdb")


def first_request(root: Path, name: str) -> float:
    app = create_app(NO_DB, token="", warm=False)
    cache_for(app.state.data, root)
    with TestClient(app) as c:
        t0 = time.perf_counter()
        r = c.get(f"/downloads/{name}")
        elapsed = time.perf_counter() - t0
        r.raise_for_status()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as cold, tempfile.TemporaryDirectory() as warm:
        t0 = time.perf_counter()
        prebuild(NO_DB, Path(warm))
        build_s = time.perf_counter() - t0
        for name in ("report.pdf", "observations.csv"):
            c, w = first_request(Path(cold), name), first_request(Path(warm), name)
            print(
                f"{name:20} cold {c * 1000:8.1f} ms   after build {w * 1000:7.1f} ms   "
                f"ratio {c / w:6.1f}x"
            )
        print(f"prebuild (all kinds): {build_s:.1f} s")


if __name__ == "__main__":
    main()

"""Latency and throughput of the API and pages on loopback, against a plain FastAPI reference.

Starts ``lendscope.app`` and a minimal FastAPI "hello" app, each in its own uvicorn
subprocess on 127.0.0.1, warms them up, then sends a bounded number of sequential keep-alive
requests per endpoint and prints p50/p95 latency, requests per second and the ratio of each
endpoint's p50 to the reference's.

    python benchmarks/bench_api.py [--n 2000]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

import httpx

APP = """
import sys, uvicorn
from pathlib import Path
from lendscope.app import create_app
uvicorn.run(create_app(Path("/nonexistent/lendscope.duckdb")), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
REFERENCE = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()

@app.get("/hello")
def hello() -> dict:
    return {"hello": "world"}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
ENDPOINTS = [
    "/api/v1/metrics?period=2024Q4",
    "/api/v1/observations?segment=cefi&limit=100",
    "/api/v1/periods",
    "/",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(code: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def measure(client: httpx.Client, path: str, n: int) -> dict[str, float]:
    for _ in range(min(50, n)):
        client.get(path).raise_for_status()
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        client.get(path).raise_for_status()
        lat.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=100)
    return {"p50_ms": q[49] * 1e3, "p95_ms": q[94] * 1e3, "rps": n / wall}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="requests per endpoint")
    n = ap.parse_args().n
    procs = []
    try:
        ref_proc, ref_url = start(REFERENCE)
        procs.append(ref_proc)
        app_proc, app_url = start(APP)
        procs.append(app_proc)
        with httpx.Client(base_url=ref_url) as c:
            ref = measure(c, "/hello", n)
        print(f"{'endpoint':48} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'p50 ratio':>10}")
        print(
            f"{'reference GET /hello':48} {ref['p50_ms']:8.2f} {ref['p95_ms']:8.2f} "
            f"{ref['rps']:8.0f} {1.0:10.1f}"
        )
        with httpx.Client(base_url=app_url, timeout=60) as c:
            for path in ENDPOINTS:
                r = measure(c, path, n)
                print(
                    f"{'GET ' + path:48} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
                    f"{r['rps']:8.0f} {r['p50_ms'] / ref['p50_ms']:10.1f}"
                )
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()

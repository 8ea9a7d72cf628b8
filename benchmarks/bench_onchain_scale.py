"""The positions reader at scale: 1k, 10k (and 50k) borrowers on the scale devnet.

    python benchmarks/bench_onchain_scale.py [--sizes 1000,10000] [--full] [--sample 3000]

For each size it builds ``lendscope devnet --borrowers N`` (real Aave v3.6 + Morpho Blue on
anvil; build seconds are printed), then runs ``read_positions`` for the Aave and the Morpho
deployment as the ``positions`` command does (``RpcClient`` with a 1 MB request budget,
``Caller`` with a fresh ``CallCache``, ``Reader``), cold and then again from the cache.
The plain reference is the same eth_calls sent one per HTTP request: all of them up to
``--sample`` calls, otherwise a random sample, extrapolated per call; the reader's other
requests (logs, block pin) are counted as they are. Printed: requests, bytes sent, seconds per
borrower and the ratios (reference / reader). ``--full`` adds 50,000 borrowers (a few minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import tempfile
import time
from pathlib import Path

from lendscope.chain import CallCache, Caller, RpcClient
from lendscope.onchain.abi import Reader
from lendscope.onchain.devnet_scale import start_scale_devnet
from lendscope.onchain.positions import read_positions

CHAIN_ID = 31337


class RecordingCaller(Caller):
    """A Caller that remembers the distinct calls it was asked for and their requests."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.asked: list[tuple[str, bytes]] = []
        self.call_requests = self.call_bytes = 0
        self.call_seconds = 0.0

    def call_many(self, block, calls, allow_failure=True):
        self.asked += list(dict.fromkeys((to, bytes(d)) for to, d in calls))
        s = self.client.stats
        r0, b0, t0 = s.http_requests, s.request_bytes, time.perf_counter()
        out = super().call_many(block, calls, allow_failure)
        self.call_requests += s.http_requests - r0
        self.call_bytes += s.request_bytes - b0
        self.call_seconds += time.perf_counter() - t0
        return out


def read(url: str, dep, block: int, cache: CallCache) -> dict:
    """One ``read_positions`` run as the ``positions`` command makes it."""
    with RpcClient(url, chain_id=CHAIN_ID, max_request_bytes=1_000_000) as c:
        caller = RecordingCaller(c, cache, confirmations=64)
        t = time.perf_counter()
        caller.pin(block)
        rows = read_positions(Reader(caller), dep, block)
        sec = time.perf_counter() - t
        st = c.stats
        return {
            "rows": len(rows),
            "owners": len({r["owner"] for r in rows}),
            "requests": st.http_requests,
            "bytes": st.request_bytes,
            "largest_request": st.largest_request,
            "seconds": sec,
            "eth_calls": len(caller.asked),
            "cache_hits": st.cache_hits,
            "_caller": caller,
        }


def one_per_request(url: str, block: int, calls: list[tuple[str, bytes]], sample: int) -> dict:
    """Seconds and bytes per eth_call sent alone (all calls, or a sample of ``sample``)."""
    pick = calls if len(calls) <= sample else random.Random(0).sample(calls, sample)
    with RpcClient(url, chain_id=CHAIN_ID) as c:
        t = time.perf_counter()
        for to, data in pick:
            with contextlib.suppress(Exception):  # a revert costs its round trip all the same
                c.request("eth_call", [{"to": to, "data": "0x" + data.hex()}, hex(block)])
        sec = time.perf_counter() - t
        return {
            "sent": len(pick),
            "seconds_per_call": sec / max(1, len(pick)),
            "bytes_per_call": c.stats.request_bytes / max(1, len(pick)),
        }


def bench_size(n: int, seed: int, sample: int) -> dict:
    """Build the devnet with ``n`` borrowers and time the reader against the reference."""
    net = start_scale_devnet(n, seed)
    out: dict = {"borrowers": n, "build_seconds": net.seconds, "build_txs": net.transactions}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cache = CallCache(Path(tmp) / "calls.sqlite")
            for dep in net.registry.deployments:
                cold = read(net.url, dep, net.block, cache)
                warm = read(net.url, dep, net.block, cache)
                caller = cold.pop("_caller")
                warm.pop("_caller")
                ref = one_per_request(net.url, net.block, caller.asked, sample)
                other_req = cold["requests"] - caller.call_requests
                ref_req = other_req + cold["eth_calls"]
                ref_bytes = (
                    cold["bytes"] - caller.call_bytes + ref["bytes_per_call"] * len(caller.asked)
                )
                ref_sec = (
                    cold["seconds"]
                    - caller.call_seconds
                    + ref["seconds_per_call"] * len(caller.asked)
                )
                who = cold["owners"] or 1
                out[dep.id] = {
                    "reader": {**cold, "seconds_per_borrower": cold["seconds"] / who},
                    "reader_cached": {k: warm[k] for k in ("requests", "bytes", "seconds")},
                    "one_call_per_request": {
                        **ref,
                        "requests": ref_req,
                        "bytes": int(ref_bytes),
                        "seconds": ref_sec,
                        "seconds_per_borrower": ref_sec / who,
                        "extrapolated": ref["sent"] < len(caller.asked),
                    },
                    "request_ratio": ref_req / cold["requests"],
                    "bytes_ratio": ref_bytes / cold["bytes"],
                    "time_ratio": ref_sec / cold["seconds"],
                }
            cache.close()
    finally:
        net.stop()
    return out


def summary(res: dict) -> list[str]:
    """One readable line per deployment."""
    b = res["build_seconds"]
    lines = [
        f"N={res['borrowers']}: build {b['total']:.1f}s (seed txs {b['seed']:.1f}s, "
        f"mine/finish {b['finish']:.1f}s, deploy {b['deploy']:.1f}s, mix {b['mix']:.1f}s)"
    ]
    for dep, r in res.items():
        if not isinstance(r, dict) or "reader" not in r:
            continue
        a, p = r["reader"], r["one_call_per_request"]
        lines.append(
            f"  {dep}: {a['owners']} borrowers, {a['eth_calls']} eth_calls; reader "
            f"{a['requests']} requests, {a['bytes'] / 1e6:.1f} MB, {a['seconds']:.2f}s "
            f"({a['seconds_per_borrower'] * 1e3:.3f} ms/borrower); one per request "
            f"{p['requests']} requests, {p['bytes'] / 1e6:.1f} MB, {p['seconds']:.1f}s"
            f"{' (extrapolated)' if p['extrapolated'] else ''}; ratio requests="
            f"{r['request_ratio']:.0f}x bytes={r['bytes_ratio']:.2f}x time={r['time_ratio']:.1f}x; "
            f"cached rerun {r['reader_cached']['seconds']:.2f}s"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated borrower counts")
    ap.add_argument("--full", action="store_true", help="also 50,000 borrowers")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=3000, help="reference calls actually sent")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.full and 50_000 not in sizes:
        sizes.append(50_000)
    results = []
    for n in sizes:
        res = bench_size(n, args.seed, args.sample)
        results.append(res)
        print("\n".join(summary(res)), flush=True)
    text = json.dumps(results, indent=2, default=str)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

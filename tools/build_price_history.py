"""Regenerate ``src/lendscope/risk/history/`` from pinned public GitHub data snapshots.

Requires the upstream repositories to be present as bare git mirrors under
``$LENDSCOPE_MIRRORS`` (default ``/work/.mirror``), one directory per repository named
``owner+name/repo`` (the layout the session ``fetch`` tool produces).  Every upstream file
is read with ``git show <commit>:<path>`` and its sha256 is checked against the value
pinned below before any number is used, so the output is deterministic.

Outputs: ``daily.csv``, ``lows.csv``, ``second_copies.csv`` (the second copies' closes in the
scenarios' stress windows, for the cross-check tests), ``provenance.yaml`` and ``SHA256SUMS``.
Only data values are read from the mirrors; no upstream code is used.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "lendscope" / "risk" / "history"
MIRRORS = Path(os.environ.get("LENDSCOPE_MIRRORS", "/work/.mirror"))
START = dt.date(2020, 1, 1)
END = dt.date(2025, 12, 31)
RETRIEVED = "2026-12-04"
YAHOO = "Yahoo Finance daily bar (crypto: UTC calendar day, close = last price before 24:00 UTC)"
YAHOO_EQ = "Yahoo Finance daily bar (US equity session close, 16:00 America/New_York)"

Series = dict[dt.date, float]


@dataclass(frozen=True)
class Source:
    """One pinned upstream file (or, for ``cg_zt``, a family of daily files)."""

    sid: str
    dataset: str
    repo: str
    commit: str
    path: str
    sha256: str
    convention: str
    columns: dict[str, str] = field(default_factory=dict)
    license: str = "not stated"


KP = ("KaushalParkar/dataset", "48055ace4d7252492725e683434696259688b002")
SRC: dict[str, Source] = {}


def _add(s: Source) -> None:
    SRC[s.sid] = s


for _sid, _file, _sha, _ser in [
    (
        "yf_kp_btc",
        "BTC-USD.csv",
        "0736fde6bd811da216e8cc639427c8c92d031ba5139c86d2960d13234b11a8b2",
        "BTC",
    ),
    (
        "yf_kp_eth",
        "ETH-USD.csv",
        "fb53f86e98b4d2bf25576af2715cd29e1651a8dfc46a8ca233fdc1536c9ced68",
        "ETH",
    ),
    (
        "yf_kp_steth",
        "STETH-USD.csv",
        "9983ca8276124513502b75770a930597b068d9089dc7ddc08c2bcb45a42539cf",
        "stETH",
    ),
    (
        "yf_kp_wbtc",
        "WBTC-USD.csv",
        "553f0dc61f356343963a867c29bd483b928c532d0c3602de5f03a7c3dcd335ca",
        "WBTC",
    ),
    (
        "yf_kp_usdc",
        "USDC-USD.csv",
        "883b6338b464dfb2fde7d716843f5dca8e49975591339dfae25daafce6429dde",
        "USDC",
    ),
    (
        "yf_kp_usdt",
        "USDT-USD.csv",
        "646cca06a78889d7d142a5c04583af1f24a9208a8287d31860d8eacf91c80ed9",
        "USDT",
    ),
    (
        "yf_kp_sol",
        "SOL-USD.csv",
        "9dbd8caa6ce076d0d8dfd46a366a469df9fea4074f27bbc2d9f94e97d12b9837",
        "SOL",
    ),
]:
    _add(
        Source(
            _sid,
            "Yahoo Finance crypto export (KaushalParkar/dataset)",
            KP[0],
            KP[1],
            _file,
            _sha,
            YAHOO,
            {_ser: "close"},
        )
    )

_MS = ("xlrsp/MA-Stablecoins", "e21f3c3fd4fb2e8014f6f5c12828c07a18c2b679")
for _sid, _file, _sha, _ser in [
    (
        "yf_ms_dai",
        "yahoo_data/DAI-USD.csv",
        "d9fdc6bd5607e9a1a19179ba72186cc28cce317be337f3149e0cb2f2ecf9e87a",
        "DAI",
    ),
    (
        "yf_ms_ust",
        "yahoo_data/USTC-USD.csv",
        "37cbad15849a580f9593e9b4761bab3035813d466baf4a42b3c5a3c802d5c974",
        "UST",
    ),
    (
        "yf_ms_usdc",
        "yahoo_data/USDC-USD.csv",
        "a407a5b3c4cc83fc550fcf81aa3865d1224fa11e8ad01f4389af1cdb18e7e115",
        "USDC",
    ),
    (
        "yf_ms_usdt",
        "yahoo_data/USDT-USD.csv",
        "77d9ffe7427a3a81bb18a6111e4498e93bc2fdd414fd4bcc9bfc691e323f6edf",
        "USDT",
    ),
]:
    _add(
        Source(
            _sid,
            "Yahoo Finance stablecoin export (xlrsp/MA-Stablecoins)",
            _MS[0],
            _MS[1],
            _file,
            _sha,
            YAHOO,
            {_ser: "Close"},
        )
    )

_add(
    Source(
        "yf_fq_dai",
        "Yahoo Finance export (finanzascuantitativasfc/2024-1-data)",
        "finanzascuantitativasfc/2024-1-data",
        "918b29015f5be57cb909db32cbc74b8b4cf627a1",
        "DAI-USD.csv",
        "3649fcfc9d37e93a77de7ef93386f5f49617404d0c21102e3f7231521ba0bfbc",
        YAHOO,
        {"DAI": "Close"},
    )
)
_add(
    Source(
        "yf_rn_luna",
        "Yahoo Finance LUNA1-USD export (Roman-Nowak)",
        "Roman-Nowak/interactive-data-visualization-webapp",
        "fc9806e1e997e6c2d3e1f9a9319dfa7dddab6c56",
        "data/LUNA1-USD.csv",
        "e2cf9d293f0b03a2bc584323e54a893d6d80e04aad0a21feee8491c2244c4fcf",
        YAHOO,
        {"LUNA": "Close"},
    )
)
_BP = ("benjaminpo/crypto-price", "a9d3c86b6285bc1cc0a9c59c5b7ec53efec09fb1")
_add(
    Source(
        "yf_bp_luna",
        "Yahoo Finance export (benjaminpo/crypto-price)",
        _BP[0],
        _BP[1],
        "data/crypto/1d/LUNA1-USD-1d.csv",
        "eed02c2a0d698fb2cb23a3d3715208b851c98c136585ecb6fe7c00c53844cdbe",
        YAHOO,
        {"LUNA": "Close"},
    )
)
_add(
    Source(
        "yf_bp_cel",
        "Yahoo Finance export (benjaminpo/crypto-price)",
        _BP[0],
        _BP[1],
        "data/crypto/1d/CEL-USD-1d.csv",
        "e62792d3cf3d9bdfa1b6229961d922b4731f1499d7aa5e0a040b4d178cd76cdc",
        YAHOO,
        {"CEL": "Close"},
    )
)
_add(
    Source(
        "yf_ji_cel",
        "Yahoo Finance export (JoachimIsaac/crypto-predictions-project)",
        "JoachimIsaac/crypto-predictions-project",
        "14e2693441cedc8fe10094c26f55032cfa714de5",
        "CEL-USD.csv",
        "0d801815d430953f92c9b8480570fe6e8cd2335056a99ca8e34e285260b95799",
        YAHOO,
        {"CEL": "Close"},
    )
)
_add(
    Source(
        "yf_hh_ftt",
        "Yahoo Finance export (HarrisHanif/HarrisHanif.github.io)",
        "HarrisHanif/HarrisHanif.github.io",
        "5b815b6500587beb775434cd441342d1a234351f",
        "FTT-USD.csv",
        "dd8d6628564e702271cfe84c263c7897d86f12cbafceadac809720070b87a26e",
        YAHOO,
        {"FTT": "Close"},
    )
)
_SA = ("s-ananth/invest-at-lows", "830f6112477db0a911dc78c23fe2add35c0a14ff")
_add(
    Source(
        "yf_sa_gbtc",
        "Yahoo Finance export (s-ananth/invest-at-lows)",
        _SA[0],
        _SA[1],
        "data/GBTC.csv",
        "4423eb4bb002696717b410b2c2cdc2c96dee083a7f11e60fed78cdb561118ca7",
        YAHOO_EQ,
        {"GBTC": "Close (unadjusted)"},
    )
)
_add(
    Source(
        "yf_sa_btc",
        "Yahoo Finance export (s-ananth/invest-at-lows)",
        _SA[0],
        _SA[1],
        "data/BTC-USD.csv",
        "afd769ebcff5dbb86ddb4748786b5b604706bc72c66d66cc2897c817196d935c",
        YAHOO,
        {"BTC": "Close"},
    )
)
_add(
    Source(
        "yf_sa_eth",
        "Yahoo Finance export (s-ananth/invest-at-lows)",
        _SA[0],
        _SA[1],
        "data/ETH-USD.csv",
        "2ab5f4f79bc194fb889e12a0b0a6ca2b027a84f8aab527bde5adc11f9cea3208",
        YAHOO,
        {"ETH": "Close"},
    )
)
_add(
    Source(
        "yf_ds_gbtc",
        "Yahoo Finance adjusted close export (dsturdy/Factor_Attribution)",
        "dsturdy/Factor_Attribution",
        "712ab00cb7d01c788507bc417162a4269e29bf69",
        "data/GBTC.csv",
        "f0cd692b91a8922632e09a80426dffb8ad896bca71eb610c853c6865bb7fbb6e",
        YAHOO_EQ + "; adjusted for the 2024-07-31 BTC Mini Trust spin-off",
        {"GBTC": "Close (adjusted)"},
    )
)
_add(
    Source(
        "yf_bd_gbtc",
        "Yahoo Finance export (benda931/pairs_trading_system)",
        "benda931/pairs_trading_system",
        "6b3425029a953b5df945c0ef9060749590de9333",
        "data/GBTC.csv",
        "fe0c82d05518fbecc55b337d43effaaea282d7e51fc1a454cadc9cddbf110033",
        YAHOO_EQ,
        {"GBTC": "close"},
    )
)
_FC = ("federicocrespo10/crypto-top-coins", "82b578f7b82d3654d9a05cedc51721c010353d06")
for _sid, _file, _sha, _ser in [
    (
        "yf_fc_btc",
        "BTC-USD.csv",
        "8fb555cbd005a3257759a6a6d7037d1c853d37b7452262406db5437657a99e6b",
        "BTC",
    ),
    (
        "yf_fc_eth",
        "ETH-USD.csv",
        "943332e9d26caefa0dc077868a4d6936a593a1c0f1e85d4110cfa1fd631c094a",
        "ETH",
    ),
    (
        "yf_fc_luna",
        "LUNA1-USD.csv",
        "281b53307050290b3df6e17335b46201fc3585b9e34c81d70a99efa51c58ca94",
        "LUNA",
    ),
    (
        "yf_fc_sol",
        "SOL1-USD.csv",
        "b742593fa4d7b8d9361fe94c4b37961609198f5d0386397050e214052f8ce6f7",
        "SOL",
    ),
]:
    _add(
        Source(
            _sid,
            "Yahoo Finance export (federicocrespo10/crypto-top-coins)",
            _FC[0],
            _FC[1],
            _file,
            _sha,
            YAHOO,
            {_ser: "Close"},
        )
    )

# Second copies for 2021-01-01..2023-08-29 (same commit as yf_fq_dai): cover the 2022 and the
# March 2023 stress windows, where the xlrsp/MA-Stablecoins copies end 2022-11-12.
_FQ = ("finanzascuantitativasfc/2024-1-data", "918b29015f5be57cb909db32cbc74b8b4cf627a1")
for _sid, _file, _sha, _ser in [
    (
        "yf_fq_btc",
        "BTC-USD.csv",
        "69519e10c6ad99b20aa3a0b03181c2fcb1a532f25908d86d6e06b1d629b47c7e",
        "BTC",
    ),
    (
        "yf_fq_eth",
        "ETH-USD.csv",
        "b6d23bf62a3e3d16829c23d114b161881cbd30efbfb1a1da17fc2bea0e41a637",
        "ETH",
    ),
    (
        "yf_fq_sol",
        "SOL-USD.csv",
        "957860e062ae7853cc4786dce0dd769894dc45bba1d424ad0155e21230b821e6",
        "SOL",
    ),
    (
        "yf_fq_usdc",
        "USDC-USD.csv",
        "7cde8c63b97a9261dc32a9cfa4e73dfba4dba2f91f71ed786ba0b8cbc7dec176",
        "USDC",
    ),
    (
        "yf_fq_usdt",
        "USDT-USD.csv",
        "31e87ce128ae6b200ee1f73cccee3991dfe99bb9d524007c0480642c9e4a4df0",
        "USDT",
    ),
]:
    _add(
        Source(
            _sid,
            "Yahoo Finance export (finanzascuantitativasfc/2024-1-data)",
            _FQ[0],
            _FQ[1],
            _file,
            _sha,
            YAHOO,
            {_ser: "Close"},
        )
    )
# Unadjusted GBTC closes 2024-01-11..2025-04-04 (second copy for the August 2024 window).
_add(
    Source(
        "yf_sl_gbtc",
        "Yahoo Finance export (Spooky-Labs/Course-1)",
        "Spooky-Labs/Course-1",
        "65f5e49d2fb29d451b324035e4c80aa741a33307",
        "data/GBTC.csv",
        "d207b0ecb5240fc76dbe5d3fc5a75628b234f5a2e8c6b15352d4aa3ecb6eeb3c",
        YAHOO_EQ,
        {"GBTC": "Close"},
    )
)

# CoinGecko top-100 snapshots, one file per day (data/YYYY/MM/prices_YYYY-MM-DD.csv).
# ``sha256`` pins the manifest: sha256 over "path sha256(file)\n" lines in date order.
ZT_NAMES = {
    "Bitcoin": "BTC",
    "Ethereum": "ETH",
    "Tether": "USDT",
    "USDC": "USDC",
    "Solana": "SOL",
    "Lido Staked Ether": "stETH",
    "Wrapped Bitcoin": "WBTC",
    "Dai": "DAI",
}
ZT_FIRST, ZT_LAST = dt.date(2025, 10, 20), END
_add(
    Source(
        "cg_zt",
        "CoinGecko top-100 daily snapshot (zeketests/crypto-daily-prices)",
        "zeketests/crypto-daily-prices",
        "40abcc4d9e8aeea10fbada3c0b80f7f3e6d44fa0",
        "data/2025/{10,11,12}/prices_YYYY-MM-DD.csv (2025-10-20 .. 2025-12-31)",
        "ZT_MANIFEST",
        "CoinGecko spot price snapshot taken by a GitHub Action at ~12:00 UTC",
        {v: f"price (row name == {k!r})" for k, v in ZT_NAMES.items()},
    )
)

# GBTC per-share BTC entitlement: fee accrues daily at 2.0 %/yr (Grayscale sponsor fee).
GBTC_FEE = 0.02
GBTC_ANCHOR_DATE = dt.date(2022, 12, 13)
GBTC_ANCHOR_DISCOUNT = 0.4889  # Invezz via bitcoininsider.org, see provenance anchors
GBTC_SPINOFF_EX = dt.date(2024, 7, 30)  # T+1: ex-date = record date

# The stress windows the scenarios use; second_copies.csv holds the second copies' closes there.
STRESS_WINDOWS = [
    (dt.date(2020, 3, 1), dt.date(2020, 3, 31)),
    (dt.date(2022, 4, 15), dt.date(2023, 2, 15)),
    (dt.date(2023, 3, 1), dt.date(2023, 3, 31)),
    (dt.date(2024, 7, 25), dt.date(2024, 8, 15)),
]


class ChecksumError(RuntimeError):
    """An upstream file does not match its pinned sha256."""


def git_bytes(repo: str, commit: str, path: str) -> bytes:
    """Return the bytes of ``path`` at ``commit`` in the local mirror of ``repo``."""
    gitdir = MIRRORS / repo.replace("/", "+") / "repo"
    res = subprocess.run(
        ["git", "--git-dir", str(gitdir), "show", f"{commit}:{path}"],
        capture_output=True,
        check=True,
    )
    return res.stdout


def sha(data: bytes) -> str:
    """Hex sha256."""
    return hashlib.sha256(data).hexdigest()


def verified(s: Source) -> bytes:
    """Read a pinned file and check its checksum."""
    data = git_bytes(s.repo, s.commit, s.path)
    if sha(data) != s.sha256:
        raise ChecksumError(f"{s.sid}: {s.path} sha256 {sha(data)} != {s.sha256}")
    return data


def parse_yahoo(data: bytes, col: str = "close", low: bool = False) -> Series:
    """Parse a Yahoo-style CSV (any date/close column casing); skip null rows."""
    rows = csv.DictReader(io.StringIO(data.decode()))
    out: Series = {}
    for r in rows:
        keys = {k.lower().strip(): v for k, v in r.items() if k is not None}
        raw = keys.get("low" if low else col.lower())
        if raw in (None, "", "null"):
            continue
        out[dt.date.fromisoformat(keys["date"][:10])] = float(raw)
    return out


ZT_MANIFEST = "1e5eceb5abe2f1c8550b8d0739dce1d151f199f191ae2f324654b118f22ea149"


def load_zt(check: bool = True) -> tuple[dict[str, Series], list[tuple[str, str]], str]:
    """Read the CoinGecko daily snapshots, verifying the pinned manifest hash."""
    s = SRC["cg_zt"]
    files: list[tuple[str, str]] = []
    out: dict[str, Series] = {v: {} for v in ZT_NAMES.values()}
    d = ZT_FIRST
    while d <= ZT_LAST:
        path = f"data/{d:%Y}/{d:%m}/prices_{d.isoformat()}.csv"
        data = git_bytes(s.repo, s.commit, path)
        files.append((path, sha(data)))
        seen: set[str] = set()
        for r in csv.DictReader(io.StringIO(data.decode())):
            ser = ZT_NAMES.get(r["name"])
            if ser and ser not in seen:
                out[ser][d] = float(r["price"])
                seen.add(ser)
        d += dt.timedelta(days=1)
    manifest = sha("".join(f"{p} {h}\n" for p, h in files).encode())
    if check and manifest != ZT_MANIFEST:
        raise ChecksumError(f"cg_zt manifest {manifest} != {ZT_MANIFEST}")
    return out, files, manifest


def clip(s: Series, lo: dt.date = START, hi: dt.date = END) -> Series:
    """Restrict to [lo, hi]."""
    return {d: v for d, v in s.items() if lo <= d <= hi}


def days(lo: dt.date, hi: dt.date) -> Iterable[dt.date]:
    """Inclusive calendar-day range."""
    d = lo
    while d <= hi:
        yield d
        d += dt.timedelta(days=1)


def rel_diff(a: Series, b: Series, f: Callable[[float], float] = lambda x: x) -> dict[str, object]:
    """Max / median |a/b - 1| over common dates."""
    common = sorted(set(a) & set(b))
    diffs = [abs(a[d] / f(b[d]) - 1.0) for d in common if b[d] != 0]
    if not diffs:
        return {"overlap_days": 0}
    worst = max(common, key=lambda d: abs(a[d] / f(b[d]) - 1.0))
    return {
        "overlap_days": len(common),
        "first": common[0].isoformat(),
        "last": common[-1].isoformat(),
        "max_rel_diff": float(f"{max(diffs):.4g}"),
        "max_at": worst.isoformat(),
        "median_rel_diff": float(f"{statistics.median(diffs):.4g}"),
    }


def fmt(v: float) -> str:
    """At most 8 significant digits."""
    return f"{v:.8g}"


def main() -> int:
    """Build every output file."""
    raw = {sid: verified(s) for sid, s in SRC.items() if sid != "cg_zt"}
    zt, zt_files, manifest = load_zt()
    cl = {sid: parse_yahoo(b) for sid, b in raw.items()}
    lows = {sid: parse_yahoo(b, low=True) for sid, b in raw.items()}

    daily: dict[str, dict[dt.date, tuple[float, str]]] = {}
    spans: dict[str, list[dict[str, str]]] = {}

    def put(series: str, sid: str, data: Series, lo: dt.date, hi: dt.date) -> None:
        part = clip(data, lo, hi)
        if not part:
            return
        tgt = daily.setdefault(series, {})
        for d, v in part.items():
            tgt.setdefault(d, (v, sid))
        spans.setdefault(series, []).append(
            {"source": sid, "from": min(part).isoformat(), "to": max(part).isoformat()}
        )

    kp_last = dt.date(2025, 11, 20)
    for ser, sid in [
        ("BTC", "yf_kp_btc"),
        ("ETH", "yf_kp_eth"),
        ("stETH", "yf_kp_steth"),
        ("WBTC", "yf_kp_wbtc"),
        ("USDC", "yf_kp_usdc"),
        ("USDT", "yf_kp_usdt"),
        ("SOL", "yf_kp_sol"),
    ]:
        put(ser, sid, cl[sid], START, kp_last)
        put(ser, "cg_zt", zt[ser], kp_last + dt.timedelta(days=1), END)
    put("DAI", "yf_ms_dai", cl["yf_ms_dai"], START, dt.date(2022, 11, 12))
    put("DAI", "yf_fq_dai", cl["yf_fq_dai"], dt.date(2022, 11, 13), dt.date(2023, 8, 29))
    put("UST", "yf_ms_ust", cl["yf_ms_ust"], START, END)
    put("LUNA", "yf_rn_luna", cl["yf_rn_luna"], START, END)
    put("FTT", "yf_hh_ftt", cl["yf_hh_ftt"], START, END)
    put("CEL", "yf_bp_cel", cl["yf_bp_cel"], START, END)

    # GBTC: unadjusted closes; after 2024-02-16 use dsturdy's adjusted series, undoing the
    # constant spin-off factor for dates before the 2024-07-31 ex-date.
    sa, ds = cl["yf_sa_gbtc"], cl["yf_ds_gbtc"]
    ov = [ds[d] / sa[d] for d in sorted(set(sa) & set(ds)) if d >= dt.date(2020, 1, 1)]
    factor = statistics.median(ov)
    ds_raw = {d: (v / factor if d < GBTC_SPINOFF_EX else v) for d, v in ds.items()}
    put("GBTC", "yf_sa_gbtc", sa, START, dt.date(2024, 2, 16))
    put("GBTC", "yf_ds_gbtc", ds_raw, dt.date(2024, 2, 17), END)

    # GBTC_nav_discount = 1 - GBTC / (BTC * btc_per_share(t)), BTC = Yahoo daily close of the
    # same calendar date; btc_per_share decays with the 2 %/yr fee and is calibrated so the
    # discount equals the cited 48.89 % on 2022-12-13.  Only up to the ETF uplisting
    # (2024-01-10); afterwards creations/redemptions keep it near zero.
    btc = {d: v for d, (v, _) in daily["BTC"].items()}
    gbtc = {d: v for d, (v, _) in daily["GBTC"].items()}
    bps0 = gbtc[GBTC_ANCHOR_DATE] / (btc[GBTC_ANCHOR_DATE] * (1 - GBTC_ANCHOR_DISCOUNT))

    def bps(d: dt.date) -> float:
        return bps0 * math.exp(-GBTC_FEE * (d - GBTC_ANCHOR_DATE).days / 365.25)

    disc = {
        d: 1 - g / (btc[d] * bps(d))
        for d, g in gbtc.items()
        if d in btc and d <= dt.date(2024, 1, 10)
    }
    daily["GBTC_nav_discount"] = {d: (v, "derived_gbtc_nav") for d, v in disc.items()}
    spans["GBTC_nav_discount"] = [
        {"source": "derived_gbtc_nav", "from": min(disc).isoformat(), "to": max(disc).isoformat()}
    ]

    # Gap check (calendar-daily series only).
    gaps: dict[str, list[str]] = {}
    for ser, m in daily.items():
        if ser.startswith("GBTC"):
            continue
        miss = [d.isoformat() for d in days(min(m), max(m)) if d not in m]
        if miss:
            gaps[ser] = miss
    if gaps:
        print("gaps:", {k: [*v[:5], f"... {len(v)}"] for k, v in gaps.items()}, file=sys.stderr)
        return 1

    OUT.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "series", "value", "source"])
    for ser in sorted(daily):
        for d in sorted(daily[ser]):
            v, sid = daily[ser][d]
            w.writerow([d.isoformat(), ser, fmt(v), sid])
    (OUT / "daily.csv").write_text(buf.getvalue())

    # Intraday lows: the "low" column of the same Yahoo daily bars (UTC day).
    low_rows = [
        ("2020-03-12", "BTC", "yf_kp_btc", "Black Thursday; Yahoo daily bar low"),
        ("2020-03-13", "BTC", "yf_kp_btc", "Black Thursday (cont.); Yahoo daily bar low"),
        ("2020-03-12", "ETH", "yf_kp_eth", "Black Thursday; Yahoo daily bar low"),
        ("2020-03-13", "ETH", "yf_kp_eth", "Black Thursday (cont.); Yahoo daily bar low"),
        ("2023-03-11", "USDC", "yf_kp_usdc", "SVB depeg; Yahoo daily bar low"),
        ("2022-05-09", "UST", "yf_ms_ust", "UST depeg; Yahoo daily bar low"),
        ("2022-05-11", "UST", "yf_ms_ust", "UST depeg; Yahoo daily bar low"),
        ("2022-05-12", "LUNA", "yf_rn_luna", "Terra collapse; Yahoo daily bar low"),
        ("2022-05-13", "LUNA", "yf_rn_luna", "Terra collapse; Yahoo daily bar low"),
        ("2024-08-05", "BTC", "yf_kp_btc", "yen carry unwind; Yahoo daily bar low"),
        ("2024-08-05", "ETH", "yf_kp_eth", "yen carry unwind; Yahoo daily bar low"),
        ("2022-06-18", "stETH", "yf_kp_steth", "stETH discount; Yahoo daily bar low (USD)"),
    ]
    lbuf = io.StringIO()
    lw = csv.writer(lbuf, lineterminator="\n")
    lw.writerow(["date", "series", "low", "source", "note"])
    for ds_, ser, sid, note in sorted(low_rows, key=lambda r: (r[1], r[0])):
        d = dt.date.fromisoformat(ds_)
        lw.writerow([ds_, ser, fmt(lows[sid][d]), sid, note])
    # stETH/ETH ratio low in June 2022 from daily closes (no intraday ratio in the sources).
    ratio = {
        d: daily["stETH"][d][0] / daily["ETH"][d][0]
        for d in days(dt.date(2022, 6, 1), dt.date(2022, 6, 30))
    }
    rmin = min(ratio, key=ratio.__getitem__)
    lw.writerow(
        [
            rmin.isoformat(),
            "stETH/ETH",
            fmt(ratio[rmin]),
            "yf_kp_steth+yf_kp_eth",
            "minimum of daily-close ratio in June 2022 (not intraday)",
        ]
    )
    (OUT / "lows.csv").write_text(lbuf.getvalue())

    # Cross-checks.
    def ser_of(series: str) -> Series:
        return {d: v for d, (v, _) in daily[series].items()}

    zt_kp = dt.date(2025, 11, 20)
    cross = {
        "BTC": [
            ("yf_sa_btc", rel_diff(ser_of("BTC"), clip(cl["yf_sa_btc"]))),
            ("yf_fc_btc", rel_diff(ser_of("BTC"), clip(cl["yf_fc_btc"]))),
            ("yf_fq_btc", rel_diff(ser_of("BTC"), clip(cl["yf_fq_btc"]))),
            ("cg_zt", rel_diff(clip(cl["yf_kp_btc"]), clip(zt["BTC"], hi=zt_kp))),
        ],
        "ETH": [
            ("yf_sa_eth", rel_diff(ser_of("ETH"), clip(cl["yf_sa_eth"]))),
            ("yf_fc_eth", rel_diff(ser_of("ETH"), clip(cl["yf_fc_eth"]))),
            ("yf_fq_eth", rel_diff(ser_of("ETH"), clip(cl["yf_fq_eth"]))),
            ("cg_zt", rel_diff(clip(cl["yf_kp_eth"]), clip(zt["ETH"], hi=zt_kp))),
        ],
        "USDC": [
            ("yf_ms_usdc", rel_diff(ser_of("USDC"), clip(cl["yf_ms_usdc"]))),
            ("yf_fq_usdc", rel_diff(ser_of("USDC"), clip(cl["yf_fq_usdc"]))),
            ("cg_zt", rel_diff(clip(cl["yf_kp_usdc"]), clip(zt["USDC"], hi=zt_kp))),
        ],
        "USDT": [
            ("yf_ms_usdt", rel_diff(ser_of("USDT"), clip(cl["yf_ms_usdt"]))),
            ("yf_fq_usdt", rel_diff(ser_of("USDT"), clip(cl["yf_fq_usdt"]))),
            ("cg_zt", rel_diff(clip(cl["yf_kp_usdt"]), clip(zt["USDT"], hi=zt_kp))),
        ],
        "stETH": [("cg_zt", rel_diff(clip(cl["yf_kp_steth"]), clip(zt["stETH"], hi=zt_kp)))],
        "WBTC": [("cg_zt", rel_diff(clip(cl["yf_kp_wbtc"]), clip(zt["WBTC"], hi=zt_kp)))],
        "SOL": [
            ("yf_fc_sol", rel_diff(ser_of("SOL"), clip(cl["yf_fc_sol"]))),
            ("yf_fq_sol", rel_diff(ser_of("SOL"), clip(cl["yf_fq_sol"]))),
            ("cg_zt", rel_diff(clip(cl["yf_kp_sol"]), clip(zt["SOL"], hi=zt_kp))),
        ],
        "DAI": [("yf_fq_dai", rel_diff(clip(cl["yf_ms_dai"]), clip(cl["yf_fq_dai"])))],
        "LUNA": [
            ("yf_bp_luna", rel_diff(ser_of("LUNA"), clip(cl["yf_bp_luna"]))),
            ("yf_fc_luna", rel_diff(ser_of("LUNA"), clip(cl["yf_fc_luna"]))),
        ],
        "CEL": [("yf_ji_cel", rel_diff(ser_of("CEL"), clip(cl["yf_ji_cel"])))],
        "GBTC": [
            (
                "yf_ds_gbtc (÷ spin-off factor)",
                rel_diff(clip(sa, hi=dt.date(2024, 2, 16)), clip(ds_raw)),
            ),
            ("yf_bd_gbtc", rel_diff(ser_of("GBTC"), clip(cl["yf_bd_gbtc"]))),
            ("yf_sl_gbtc", rel_diff(ser_of("GBTC"), clip(cl["yf_sl_gbtc"]))),
        ],
    }
    steth_ratio = {
        d: daily["stETH"][d][0] / daily["ETH"][d][0] for d in daily["stETH"] if d in daily["ETH"]
    }
    zt_ratio = {d: zt["stETH"][d] / zt["ETH"][d] for d in zt["stETH"] if d <= zt_kp}
    cross["stETH/ETH ratio"] = [("cg_zt", rel_diff(clip(steth_ratio, hi=zt_kp), zt_ratio))]

    # Second copies in the stress windows, for the cross-check tests (no mirrors needed there):
    # every second source of a series, on the days where daily.csv does not already use it.
    second: dict[str, list[tuple[str, Series]]] = {
        "BTC": [("yf_sa_btc", cl["yf_sa_btc"]), ("yf_fc_btc", cl["yf_fc_btc"])],
        "ETH": [("yf_sa_eth", cl["yf_sa_eth"]), ("yf_fc_eth", cl["yf_fc_eth"])],
        "USDC": [("yf_ms_usdc", cl["yf_ms_usdc"])],
        "USDT": [("yf_ms_usdt", cl["yf_ms_usdt"])],
        "SOL": [("yf_fc_sol", cl["yf_fc_sol"])],
        "DAI": [("yf_ms_dai", cl["yf_ms_dai"]), ("yf_fq_dai", cl["yf_fq_dai"])],
        "LUNA": [("yf_bp_luna", cl["yf_bp_luna"]), ("yf_fc_luna", cl["yf_fc_luna"])],
        "CEL": [("yf_ji_cel", cl["yf_ji_cel"])],
        "GBTC": [
            ("yf_ds_gbtc", ds_raw),
            ("yf_bd_gbtc", cl["yf_bd_gbtc"]),
            ("yf_sl_gbtc", cl["yf_sl_gbtc"]),
        ],
    }
    for ser in ("BTC", "ETH", "USDC", "USDT", "SOL"):
        second[ser].append((f"yf_fq_{ser.lower()}", cl[f"yf_fq_{ser.lower()}"]))
    for ser in ("BTC", "ETH", "USDC", "USDT", "SOL", "stETH", "WBTC", "DAI"):
        second.setdefault(ser, []).append(("cg_zt", zt[ser]))
    sbuf = io.StringIO()
    sw = csv.writer(sbuf, lineterminator="\n")
    sw.writerow(["date", "series", "value", "source"])
    for ser in sorted(second):
        for sid, data in second[ser]:
            for d in sorted(data):
                in_window = any(lo <= d <= hi for lo, hi in STRESS_WINDOWS)
                if in_window and d in daily[ser] and daily[ser][d][1] != sid:
                    sw.writerow([d.isoformat(), ser, fmt(data[d]), sid])
    (OUT / "second_copies.csv").write_text(sbuf.getvalue())

    def at(series: str, d: str) -> float:
        return float(fmt(daily[series][dt.date.fromisoformat(d)][0]))

    prov = build_provenance(zt_files, manifest, spans, cross, factor, bps0, bps, at, steth_ratio)
    (OUT / "provenance.yaml").write_text(
        yaml.safe_dump(prov, sort_keys=False, allow_unicode=True, width=100)
    )
    bundled = ("daily.csv", "lows.csv", "second_copies.csv")
    sums = "".join(f"{sha((OUT / n).read_bytes())}  {n}\n" for n in bundled)
    (OUT / "SHA256SUMS").write_text(sums)
    print(sums, end="")
    return 0


def build_provenance(
    zt_files: list[tuple[str, str]],
    manifest: str,
    spans: dict[str, list[dict[str, str]]],
    cross: dict[str, list[tuple[str, dict[str, object]]]],
    factor: float,
    bps0: float,
    bps: Callable[[dt.date], float],
    at: Callable[[str, str], float],
    steth_ratio: Series,
) -> dict[str, object]:
    """Assemble provenance.yaml content."""
    sources: dict[str, object] = {}
    for sid, s in SRC.items():
        entry: dict[str, object] = {
            "dataset": s.dataset,
            "repo": s.repo,
            "commit": s.commit,
            "path": s.path,
            "file_sha256": manifest if sid == "cg_zt" else s.sha256,
            "retrieved": RETRIEVED,
            "url": (
                f"https://github.com/{s.repo}/tree/{s.commit}/data"
                if sid == "cg_zt"
                else f"https://github.com/{s.repo}/blob/{s.commit}/{s.path}"
            ),
            "license": s.license,
            "close_convention": s.convention,
            "series": s.columns,
        }
        if sid == "cg_zt":
            entry["file_sha256_note"] = (
                "sha256 over the lines 'path sha256(file)\\n' of the "
                "per-day files listed in 'files', in date order"
            )
            entry["files"] = {p: h for p, h in zt_files}
        sources[sid] = entry
    sources["derived_gbtc_nav"] = {
        "dataset": "derived: GBTC discount to NAV",
        "method": (
            "discount = 1 - GBTC_close / (BTC_close * btc_per_share(t)); GBTC_close = "
            "daily.csv GBTC (US close, 16:00 ET), BTC_close = daily.csv BTC (Yahoo "
            "UTC-day close of the same date, i.e. ~8 h after the GBTC close); "
            "btc_per_share(t) = B0 * exp(-0.02 * (t - 2022-12-13)/365.25) (2.0 %/yr "
            "sponsor fee). No Grayscale-published BTC-per-share figure was found in "
            "the stored corpora, so B0 is CALIBRATED so the 2022-12-13 value equals "
            "the cited 48.89 %; that anchor therefore is not an independent check."
        ),
        "btc_per_share_B0": float(f"{bps0:.6g}"),
        "btc_per_share_2021-01-01": float(f"{bps(dt.date(2021, 1, 1)):.6g}"),
        "btc_per_share_2024-01-10": float(f"{bps(dt.date(2024, 1, 10)):.6g}"),
        "range": "2020-01-02 .. 2024-01-10 (US trading days); ends at the ETF uplisting",
        "inputs": ["yf_sa_gbtc", "yf_kp_btc"],
    }
    cx: dict[str, object] = {}
    for ser, lst in cross.items():
        cx[ser] = [{"second_source": sid, **st} for sid, st in lst]
    gbtc_note = (
        f"yf_ds_gbtc is Yahoo's adjusted close; before the 2024-07-31 spin-off ex-date "
        f"it is divided by the median ratio adjusted/unadjusted = {factor:.6f} "
        f"(from the overlap with yf_sa_gbtc)"
    )
    r0618 = steth_ratio[dt.date(2022, 6, 18)]
    june = {
        d: v for d, v in steth_ratio.items() if dt.date(2022, 6, 1) <= d <= dt.date(2022, 6, 30)
    }
    jmin = min(june, key=june.__getitem__)
    return {
        "description": (
            "Daily USD closes 2020-01-01..2025-12-31 for lendscope risk scenarios; "
            "facts only, regenerated by tools/build_price_history.py"
        ),
        "retrieved": RETRIEVED,
        "sources": sources,
        "series_spans": spans,
        "notes": {
            "GBTC": gbtc_note,
            "BTC/ETH/USDC/USDT/SOL/stETH/WBTC after 2025-11-20": (
                "cg_zt CoinGecko ~12:00 UTC snapshots, not UTC closes"
            ),
            "DAI": "ends 2023-08-29: no stored daily source found for 2023-08-30..2025-10-19",
            "UST": "Yahoo USTC-USD (TerraUSD classic) 2020-11-25..source end",
            "LUNA": "Yahoo LUNA1-USD (Terra classic) up to 2022-05-21 (source end)",
            "FTT": "only 2021-12-22..2022-12-22 available",
            "CEL": "only up to 2022-02-14 available (before the June 2022 Celsius freeze)",
            "second_copies.csv": (
                "closes of each series' second sources (cross_checks) on the days of the "
                "stress windows 2020-03-01..2020-03-31, 2022-04-15..2023-02-15, "
                "2023-03-01..2023-03-31 and 2024-07-25..2024-08-15 that daily.csv has from "
                "another source; yf_ds_gbtc there is divided by the spin-off factor like "
                "daily.csv's GBTC (so it is not independent of yf_sa_gbtc in level, only "
                "in day-to-day moves)"
            ),
        },
        "cross_checks": cx,
        "anchors": [
            {
                "name": "stETH/ETH discount June 2022",
                "date": "2022-06-18",
                "cited_value": 0.9375,
                "cited_text": "6.25% discount (stETH/ETH about 0.9375)",
                "source": (
                    "Galaxy Research, 'The State of Crypto Lending', 2025-04-14, "
                    "https://www.galaxy.com/insights/research/the-state-of-crypto-lending"
                ),
                "data_value": float(f"{r0618:.6g}"),
                "data_min_june_2022": {
                    "date": jmin.isoformat(),
                    "value": float(f"{june[jmin]:.6g}"),
                },
                "tolerance": 0.02,
            },
            {
                "name": "GBTC discount to NAV",
                "date": "2022-12-13",
                "cited_value": 0.489,
                "source": (
                    "Galaxy Research, 'The State of Crypto Lending', 2025-04-14; also "
                    "Invezz via https://bitcoininsider.org/article/200622/grayscale-bitcoin-"
                    "gbtc-discount-nav-narrows-3855 ('-48.89% on 13 December 2022')"
                ),
                "data_value": at("GBTC_nav_discount", "2022-12-13"),
                "note": "data value is calibrated to this anchor (see derived_gbtc_nav)",
                "tolerance": 0.01,
            },
            {"name": "BTC close", "date": "2022-05-31", "data_value": at("BTC", "2022-05-31")},
            {"name": "ETH close", "date": "2020-03-12", "data_value": at("ETH", "2020-03-12")},
            {"name": "LUNA close", "date": "2022-05-13", "data_value": at("LUNA", "2022-05-13")},
        ],
    }


if __name__ == "__main__":
    sys.exit(main())

"""A seeded synthetic market book calibrated to the dataset's latest quarter.

Segment and platform sizes (USD of loans outstanding) come from
``MarketMetrics.for_period(latest)``; everything below that level is an *assumption*, chosen to
look like public books (risk.md §1.6, §4.2): collateral mixes, health-factor and LTV spreads,
margin ladders, tenors and the funding of CeFi lenders. Same calibration and seed → same book.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from lendscope.core.assets import ASSETS
from lendscope.risk.book_types import DEFAULT_PRICES, SEGMENTS, Book, Deposit, Funding

#: DeFi (collateral, debt, weight, aave LT, aave bonus, morpho LLTV): Aave v3 table, risk.md §1.6.
DEFI_MIX = [
    ("wstETH", "ETH", 0.20, 0.95, 0.01, 0.945),  # e-mode / LST loops: tight, low bonus
    ("ETH", "USDC", 0.25, 0.86, 0.052, 0.86),
    ("WBTC", "USDC", 0.15, 0.82, 0.052, 0.86),
    ("wstETH", "USDC", 0.15, 0.83, 0.072, 0.86),
    ("ETH", "USDT", 0.10, 0.86, 0.052, 0.86),
    ("USDC", "ETH", 0.05, 0.885, 0.048, 0.86),
    ("alt", "USDC", 0.05, 0.61, 0.083, 0.77),
    ("SOL", "USDC", 0.05, 0.70, 0.075, 0.77),
]
#: CDP (collateral, weight, liquidation ratio) — Maker/Sky-like ilks, penalty 13%.
CDP_MIX = [("ETH", 0.40, 1.45), ("wstETH", 0.30, 1.50), ("WBTC", 0.20, 1.45), ("alt", 0.10, 1.75)]
#: CeFi collateral mix (asset or None for unsecured, weight).
CEFI_MIX = [("BTC", 0.60), ("ETH", 0.20), ("SOL", 0.04), ("alt", 0.03),
            ("miner_collateral", 0.03), (None, 0.10)]  # fmt: skip
PROTOCOL_OF = {"aave": "aave_v3", "spark": "aave_v3", "morpho": "morpho_blue",
               "compound": "compound_v3"}  # fmt: skip
#: Funding of a synthetic CeFi lender per USD of loans: deposits by tenor, capital, liquidity.
FUNDING = {"deposits": [(0, 0.54), (30, 0.22), (90, 0.22), (365, 0.10)], "capital": 0.12,
           "liquid": 0.20}  # fmt: skip
ONCHAIN_SHARE = 0.05  # CeFi lenders (all but the largest) borrow this share of their book on-chain


#: The dataset's `unattributed` remainder is many unnamed platforms, not one: name it so.
OTHER = {"cefi": "other lenders", "defi": "other apps", "cdp": "other CDP stablecoins"}


def calibration(metrics: Any, period: str | None = None) -> dict[str, dict[str, float]]:
    """``{segment: {platform: usd}}`` of a quarter (default: the latest) from MarketMetrics."""
    period = period or metrics.latest_period()
    d = metrics.for_period(period)
    out: dict[str, dict[str, float]] = {}
    for seg in SEGMENTS:
        rows = [r for r in d["platforms"].get(seg, []) if r.get("usd")]
        if rows:
            out[seg] = {OTHER[seg] if not r["named"] else r["platform"]: float(r["usd"])
                        for r in rows}  # fmt: skip
        elif d.get(f"{seg}_usd"):
            out[seg] = {OTHER[seg]: float(d[f"{seg}_usd"])}
    return out


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer split of ``total`` by ``weights`` (largest remainders), at least 1 each."""
    w = np.asarray(weights, float) / np.sum(weights)
    n = np.maximum(1, np.floor(w * total).astype(int))
    for i in np.argsort(-(w * total - np.floor(w * total)), kind="stable"):
        if n.sum() >= total:
            break
        n[i] += 1
    return n


def _sizes(rng: np.random.Generator, n: int, total: float) -> np.ndarray:
    """Heavy-tailed (lognormal, sigma 1.5) sizes summing to ``total``."""
    x = rng.lognormal(0.0, 1.5, n)
    return x / x.sum() * total


def synth_book(
    calib: dict[str, dict[str, float]],
    n_positions: int,
    seed: int,
    start: dt.date,
    defi_mix: list | None = None,
) -> Book:
    """About ``n_positions`` positions, vaults and loans sized to ``calib``.

    Loan maturities count from ``start`` (the scenario's first day); ``defi_mix`` replaces
    :data:`DEFI_MIX` (e.g. the 2022 market's collateral and parameters).
    """
    if n_positions < 10:
        raise ValueError("a synthetic book needs at least 10 positions")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5E7]))
    book = Book(sources=[f"synthetic(n={n_positions}, seed={seed})"])
    segs = [s for s in SEGMENTS if calib.get(s)]
    seg_n = _split(n_positions, np.array([sum(calib[s].values()) for s in segs]))
    for seg, n_seg in zip(segs, seg_n, strict=True):
        plats = sorted(calib[seg].items())
        for (name, usd), n in zip(
            plats, _split(int(n_seg), np.array([u for _, u in plats])), strict=True
        ):
            sizes = _sizes(rng, int(n), usd)
            if seg == "defi":
                _defi(book, rng, name, sizes, start, table=defi_mix or DEFI_MIX)
            else:
                {"cdp": _cdp, "cefi": _cefi}[seg](book, rng, name, sizes, start)
    lenders = sorted(book.funding, key=lambda x: (-book.funding[x].own_capital_usd, x))
    defi_plat = max(sorted(calib.get("defi", {"Aave": 1.0}).items()), key=lambda kv: kv[1])[0]
    for name in lenders[1:]:  # contagion channel: CeFi lenders that borrowed on-chain
        loans = book.funding[name].own_capital_usd / FUNDING["capital"]
        _defi(book, rng, defi_plat, np.array([loans * ONCHAIN_SHARE]), start, owner=name, mix=3)
    return book


def _pick(rng: np.random.Generator, weights: list[float], n: int) -> np.ndarray:
    w = np.array(weights, float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def _defi(book, rng, platform, sizes, start, owner=None, mix=None, table=DEFI_MIX) -> None:
    p, n = book.positions, len(sizes)
    kinds = _pick(rng, [m[2] for m in table], n) if mix is None else np.full(n, mix)
    proto = PROTOCOL_OF.get(platform.lower())
    protos = rng.choice(["aave_v3", "morpho_blue", "compound_v3"], n, p=[0.5, 0.3, 0.2])
    hf = 1.03 + rng.lognormal(np.log(0.45), 0.7, n)  # most HF in 1.2-2, a tail near 1
    for i in range(n):
        ca, da, _, lt, bonus, lltv = table[kinds[i]]
        pr = proto or str(protos[i])
        if pr == "morpho_blue":
            lt, bonus = lltv, 0.0
        elif pr == "compound_v3":
            lt, bonus = min(lt, 0.90), max(bonus, 0.05)
        h = 1.01 + (hf[i] - 1.03) * 0.25 if da == "ETH" and ca == "wstETH" else hf[i]
        p.id.append(f"{platform[:12].lower()}-{len(p.id):06d}")
        p.owner.append(owner or f"0x{rng.integers(2**40):010x}")
        p.platform.append(platform)
        p.protocol.append(pr)
        p.segment.append("defi")
        p.coll_asset.append(ASSETS.index(ca))
        p.debt_asset.append(ASSETS.index(da))
        p.debt_usd.append(float(sizes[i]))
        p.coll_usd.append(float(sizes[i] * h / lt))
        p.lt.append(lt)
        p.bonus.append(bonus)


def _cdp(book, rng, platform, sizes, start) -> None:
    p, n = book.positions, len(sizes)
    kinds = _pick(rng, [m[1] for m in CDP_MIX], n)
    cr_over = rng.lognormal(np.log(0.6), 0.6, n)  # CR / LR - 1: vaults run well above the ratio
    for i in range(n):
        ca, _, lr = CDP_MIX[kinds[i]]
        p.id.append(f"vault-{len(p.id):06d}")
        p.owner.append(f"0x{rng.integers(2**40):010x}")
        p.platform.append(platform)
        p.protocol.append("maker")
        p.segment.append("cdp")
        p.coll_asset.append(ASSETS.index(ca))
        p.debt_asset.append(ASSETS.index("DAI"))
        p.debt_usd.append(float(sizes[i]))
        p.coll_usd.append(float(sizes[i] * lr * (1 + cr_over[i])))
        p.lt.append(1 / lr)
        p.bonus.append(0.13)


def _cefi(book, rng, lender, sizes, start) -> None:
    ln, n = book.loans, len(sizes)
    kinds = _pick(rng, [m[1] for m in CEFI_MIX], n)
    ini = rng.uniform(0.35, 0.65, n)
    cpty = np.minimum(rng.zipf(1.6, n), 400)  # a few counterparties carry much of the book
    for i in range(n):
        asset = CEFI_MIX[kinds[i]][0]
        unsecured = asset is None
        ln.id.append(f"{lender[:12].lower()}-{len(ln.id):06d}")
        ln.lender.append(lender)
        ln.counterparty.append(f"{lender[:12].lower()}-cpty-{cpty[i]:03d}")
        ln.principal_usd.append(float(sizes[i]))
        ln.asset.append(ASSETS.index("USDT" if rng.random() < 0.6 else "USDC"))
        ln.rate.append(float(np.round(rng.uniform(0.07, 0.14), 4)))
        tenor = int(rng.choice([0, 30, 90, 180, 365]))
        ln.maturity.append(None if tenor == 0 else start + dt.timedelta(days=tenor))
        ln.coll_asset.append(ASSETS.index(asset or "USDC"))
        ln.coll_usd.append(0.0 if unsecured else float(sizes[i] / ini[i]))
        ladder = (1.0, 1.0, 1.0) if unsecured else (ini[i], ini[i] + 0.15, min(ini[i] + 0.25, 0.95))
        ln.initial_ltv.append(float(ladder[0]))
        ln.margin_call_ltv.append(float(ladder[1]))
        ln.liquidation_ltv.append(float(ladder[2]))
        ln.unsecured.append(unsecured)
        ln.notice_days.append(3 if tenor == 0 else None)  # open-term loans are callable
    total = float(sizes.sum())
    deps = tuple(Deposit(t, total * w) for t, w in FUNDING["deposits"])
    book.funding[lender] = Funding(
        lender, total * FUNDING["capital"], total * FUNDING["liquid"], deps
    )


# --------------------------------------------------------------------------- files
def write_book(book: Book, out: Path) -> list[Path]:
    """Write ``book`` as the documented files (token amounts at :data:`DEFAULT_PRICES`)."""
    out.mkdir(parents=True, exist_ok=True)
    p, ln, paths = book.positions, book.loans, []

    def units(usd: float, a: int) -> str:
        return f"{usd / DEFAULT_PRICES[ASSETS[a]]:.10g}"

    def write(name: str, header: list[str], rows: list[list[Any]]) -> None:
        if rows:
            with open(out / name, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                w.writerows(rows)
            paths.append(out / name)

    idx = range(len(p.id))
    write(
        "defi_positions.csv",
        ["position_id", "owner", "platform", "protocol", "collateral_asset", "collateral_amount",
         "debt_asset", "debt_amount", "liquidation_threshold", "bonus"],
        [[p.id[i], p.owner[i], p.platform[i], p.protocol[i], ASSETS[p.coll_asset[i]],
          units(p.coll_usd[i], p.coll_asset[i]), ASSETS[p.debt_asset[i]],
          units(p.debt_usd[i], p.debt_asset[i]), f"{p.lt[i]:.6g}", f"{p.bonus[i]:.6g}"]
         for i in idx if p.segment[i] == "defi"],
    )  # fmt: skip
    write(
        "cdp_vaults.csv",
        ["vault_id", "owner", "platform", "collateral_asset", "collateral_amount", "debt_usd",
         "liquidation_ratio", "penalty"],
        [[p.id[i], p.owner[i], p.platform[i], ASSETS[p.coll_asset[i]],
          units(p.coll_usd[i], p.coll_asset[i]), f"{p.debt_usd[i]:.10g}", f"{1 / p.lt[i]:.6g}",
          f"{p.bonus[i]:.6g}"] for i in idx if p.segment[i] == "cdp"],
    )  # fmt: skip
    write(
        "cefi_loans.csv",
        ["loan_id", "lender", "counterparty", "principal", "asset", "rate", "maturity",
         "collateral_asset", "collateral_amount", "initial_ltv", "margin_call_ltv",
         "liquidation_ltv", "unsecured", "notice_days"],
        [[ln.id[j], ln.lender[j], ln.counterparty[j], units(ln.principal_usd[j], ln.asset[j]),
          ASSETS[ln.asset[j]], ln.rate[j], ln.maturity[j].isoformat() if ln.maturity[j] else "open",
          "" if ln.unsecured[j] else ASSETS[ln.coll_asset[j]],
          0 if ln.unsecured[j] else units(ln.coll_usd[j], ln.coll_asset[j]),
          f"{ln.initial_ltv[j]:.6g}", f"{ln.margin_call_ltv[j]:.6g}",
          f"{ln.liquidation_ltv[j]:.6g}", str(ln.unsecured[j]).lower(),
          "" if ln.notice_days[j] is None else ln.notice_days[j]] for j in range(len(ln))],
    )  # fmt: skip
    if book.funding:
        docs = [
            {"lender": f.lender, "own_capital_usd": f.own_capital_usd,
             "liquid_assets_usd": f.liquid_assets_usd,
             "deposits": [{"tenor_days": d.tenor_days, "amount_usd": d.amount_usd}
                          for d in f.deposits]}
            for f in book.funding.values()
        ]  # fmt: skip
        (out / "cefi_funding.yaml").write_text(yaml.safe_dump(docs, sort_keys=False))
        paths.append(out / "cefi_funding.yaml")
    return paths

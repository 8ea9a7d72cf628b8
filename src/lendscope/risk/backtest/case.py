"""A bundled backtest case: a cited book of the market at a date, turned into an engine Book.

``book_<name>.yaml`` gives, per lender, its loan book, unsecured share, deposits, capital and
liquidity (each with ``method``: reported, derived or estimated, and a source), the named
exposures (3AC, Alameda, FTX), its on-chain positions, and what actually happened; plus the
counterparties' default dates, credit lines, dated events, the on-chain market's size and the
published on-chain liquidations to compare against. Loans not named are split over unnamed
counterparties (seeded) so no single draw decides a lender's fate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from lendscope.core import files
from lendscope.core.assets import ASSETS
from lendscope.risk.book_credit import parse_credit_yaml
from lendscope.risk.book_types import Book, BookError, Deposit, Funding, Loans, Positions
from lendscope.risk.synth import synth_book

HERE = Path(__file__).parent
#: Unnamed counterparties per lender (sizes lognormal, seeded).
UNNAMED = 24
#: DeFi mix of 2022 (collateral, debt, weight, LT, bonus): Aave v2 / Compound v2 parameters.
DEFI_2022 = [
    ("ETH", "USDC", 0.35, 0.825, 0.05, 0.825),
    ("WBTC", "USDC", 0.20, 0.75, 0.065, 0.75),
    ("stETH", "ETH", 0.10, 0.75, 0.075, 0.75),
    ("ETH", "DAI", 0.15, 0.825, 0.05, 0.825),
    ("USDC", "ETH", 0.10, 0.875, 0.045, 0.875),
    ("alt", "USDC", 0.10, 0.65, 0.08, 0.65),
]


@dataclasses.dataclass(frozen=True)
class Actual:
    """What happened to a lender."""

    failed: bool
    frozen: dt.date | None
    failed_date: dt.date | None
    source: str


@dataclasses.dataclass
class Case:
    """A parsed case file."""

    name: str
    scenario: str
    as_of: dt.date
    data: dict
    actual: dict[str, Actual]
    observed: list[dict]
    path: Path


def _value(x: Any) -> Any:
    """A cited figure ``{value, method, source, ...}`` or a bare value."""
    return x["value"] if isinstance(x, dict) and "value" in x else x


def _date(x: Any) -> dt.date | None:
    return x if isinstance(x, dt.date) or x is None else dt.date.fromisoformat(str(x))


def load_case(name: str = "2022") -> Case:
    """Read ``book_<name>.yaml`` through the bounded loader."""
    path = HERE / f"book_{name}.yaml"
    if not path.is_file():
        raise BookError(f"{name}: no bundled backtest case (have {', '.join(case_names())})")
    data = files.load_yaml(files.read_text(path, str(path)), str(path))
    actual = {
        k: Actual(bool(v["actual"]["failed"]), _date(v["actual"].get("frozen")),
                  _date(v["actual"].get("failed_date")), v["actual"]["source"])
        for k, v in data["lenders"].items()
    }  # fmt: skip
    return Case(data["name"], data["scenario"], _date(data["as_of"]), data, actual,
                list(data.get("observed_liquidations") or []), path)  # fmt: skip


def case_names() -> list[str]:
    """Names of the bundled cases."""
    return sorted(p.stem.removeprefix("book_") for p in HERE.glob("book_*.yaml"))


def build_book(case: Case, start: dt.date, seed: int = 0) -> Book:
    """The engine book of ``case``: CeFi loans and funding, on-chain positions, credit links."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xBAC7]))
    src = str(case.path)
    book = Book(sources=[src])
    for lender, spec in case.data["lenders"].items():
        _lender(book, rng, lender, spec, start)
    keys = ("counterparties", "credit_lines", "events")
    links = {k: case.data[k] for k in keys if k in case.data}
    book.extend(parse_credit_yaml(src, links))
    book.sources = [src]
    on = case.data["onchain"]
    split = _value(on["defi_split"])
    defi = {name: _value(on["defi_usd"]) * w for name, w in split.items()}
    calib = {"defi": defi, "cdp": {"Maker": _value(on["cdp_usd"])}}
    chain = synth_book(calib, int(on.get("positions", 4000)), seed, start, defi_mix=DEFI_2022)
    book.positions = chain.positions
    for lender, spec in case.data["lenders"].items():
        for j, p in enumerate(spec.get("onchain") or []):
            _onchain(book.positions, lender, j, p)
    return book


def _lender(book: Book, rng: np.random.Generator, name: str, s: dict, start: dt.date) -> None:
    total, unsec_share = float(_value(s["loans_usd"])), float(_value(s["unsecured_share"]))
    ladder = [float(x) for x in s["ladder"]]
    loan_assets = _value(s["loan_assets"])
    mix = _value(s["collateral_mix"])
    notice = s.get("notice_days")
    term = s.get("term_days")  # fixed-term loans, originated evenly: they mature evenly
    ln = book.loans
    named_unsec = 0.0
    for k, e in enumerate(s.get("exposures") or []):
        usd, coll = float(e["usd"]), min(float(e.get("collateral_usd", 0.0)), float(e["usd"]))
        cp, nd = e["counterparty"], e.get("notice_days", notice)
        # A partly secured exposure: the collateral covers a secured part (margined like the
        # lender's book); the claim beyond it is unsecured and is lost if the name defaults.
        if coll > 0:
            ini = ladder[0]
            ca = e.get("collateral_asset", "BTC")
            _loan(ln, f"{name}-{cp}-{k}s", name, cp, coll, "USDC", ca, coll / ini,
                  (ladder[0], ladder[1], ladder[2]), False, nd)  # fmt: skip
        if usd > coll:
            named_unsec += usd - coll
            _loan(ln, f"{name}-{cp}-{k}u", name, cp, usd - coll, "USDC", "USDC", 0.0,
                  (1.0, 1.0, 1.0), True, nd)  # fmt: skip
    rest = total - sum(float(e["usd"]) for e in s.get("exposures") or [])
    if rest < 0:
        raise BookError(f"{name}: named exposures exceed the loan book")
    sizes = rng.lognormal(0.0, 1.0, UNNAMED)
    sizes = sizes / sizes.sum() * rest
    unsec_left = max(0.0, unsec_share * total - named_unsec)
    assets, weights = zip(*sorted(loan_assets.items()), strict=True)
    colls, cw = zip(*sorted(mix.items()), strict=True)
    for k, usd in enumerate(sizes):
        unsecured = unsec_left > 0
        unsec_left -= usd if unsecured else 0.0
        asset = str(assets[rng.choice(len(assets), p=np.array(weights) / sum(weights))])
        ca = str(colls[rng.choice(len(colls), p=np.array(cw) / sum(cw))])
        ini = ladder[0] * rng.uniform(0.8, 1.0)
        _loan(ln, f"{name}-inst-{k:02d}", name, f"{name}-cpty-{k:02d}", float(usd), asset,
              "USDC" if unsecured else ca, 0.0 if unsecured else float(usd / ini),
              (1.0, 1.0, 1.0) if unsecured else (ini, ladder[1], ladder[2]), unsecured,
              notice)  # fmt: skip
        if term:
            ln.maturity[-1] = start + dt.timedelta(days=int(rng.integers(1, int(term) + 1)))
    deposits = float(_value(s["deposits_usd"]))
    tenor = int(s.get("deposit_tenor_days", 0))
    book.funding[name] = Funding(
        name,
        float(_value(s["own_capital_usd"])),
        float(_value(s["liquid_assets_usd"])),
        (Deposit(tenor, deposits),),
    )


def _loan(ln: Loans, id_: str, lender: str, cpty: str, usd: float, asset: str, ca: str,
          coll: float, ladder: tuple[float, float, float], unsecured: bool,
          notice: int | None) -> None:  # fmt: skip
    ln.id.append(id_)
    ln.lender.append(lender)
    ln.counterparty.append(cpty)
    ln.principal_usd.append(usd)
    ln.asset.append(ASSETS.index(asset))
    ln.rate.append(0.08)
    ln.maturity.append(None)
    ln.coll_asset.append(ASSETS.index(ca))
    ln.coll_usd.append(coll)
    ln.initial_ltv.append(ladder[0])
    ln.margin_call_ltv.append(ladder[1])
    ln.liquidation_ltv.append(ladder[2])
    ln.unsecured.append(unsecured)
    ln.notice_days.append(None if notice is None else int(notice))


def _onchain(p: Positions, lender: str, j: int, s: dict) -> None:
    maker = s["protocol"] == "maker"
    p.id.append(f"{lender.lower()}-onchain-{j}")
    p.owner.append(lender)
    names = {"maker": "Maker", "aave_v3": "Aave", "compound_v3": "Compound"}
    p.platform.append(names[s["protocol"]])
    p.protocol.append(s["protocol"])
    p.segment.append("cdp" if maker else "defi")
    p.coll_asset.append(ASSETS.index(s["collateral_asset"]))
    p.coll_usd.append(float(s["collateral_usd"]))
    p.debt_asset.append(ASSETS.index("DAI" if maker else "USDC"))
    p.debt_usd.append(float(s["debt_usd"]))
    p.lt.append(1.0 / float(s["liquidation_ratio"]) if maker else float(s["lt"]))
    p.bonus.append(0.13 if maker else 0.05)

"""Lending books for the risk engine: DeFi positions, CDP vaults, CeFi loan tapes and funding.

Four file kinds, recognised by their header (CSV) or shape (YAML); see ``docs/books.md``:

* DeFi positions CSV (``position_id`` column): one collateral and one debt asset per row.
* CDP vaults CSV (``vault_id``): collateral against stablecoin debt, liquidation ratio, penalty.
* CeFi loan tape CSV (``loan_id``): principal, asset, rate, maturity, collateral, LTV ladder,
  unsecured flag.
* Lender funding, CSV (``item`` column) or YAML: deposits by withdrawal tenor, own capital,
  liquid assets.

Amounts are token units; ``*_price_usd`` columns (default: :data:`DEFAULT_PRICES`) turn them into
USD at the scenario's start, which is all the engine needs: scenarios are price multipliers.
Every error names the file, the row (the CSV line number, header = line 1) and the field.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from lendscope.risk.scenarios import ASSETS

#: Start prices used when a row gives none (USD per unit; order-of-magnitude, mid-2025).
DEFAULT_PRICES: dict[str, float] = {
    "BTC": 110_000.0, "ETH": 4_000.0, "stETH": 4_000.0, "wstETH": 4_800.0, "WBTC": 110_000.0,
    "USDC": 1.0, "USDT": 1.0, "DAI": 1.0, "UST": 1.0, "LUNA": 1.0, "GBTC": 85.0, "SOL": 200.0,
    "miner_collateral": 1.0, "alt": 1.0,
}  # fmt: skip
#: Liquidation rules the engine implements, by protocol name in the DeFi positions file.
PROTOCOLS = ("aave_v3", "morpho_blue", "compound_v3")
#: Default (liquidation threshold, bonus) per protocol when a row leaves them empty.
PROTOCOL_DEFAULTS = {
    "aave_v3": (0.83, 0.05),
    "morpho_blue": (0.86, 0.0),
    "compound_v3": (0.85, 0.05),
}
SEGMENTS = ("cefi", "defi", "cdp")
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


class BookError(ValueError):
    """A book file is invalid; the message names the file, row and field."""


@dataclasses.dataclass
class Positions:
    """DeFi positions and CDP vaults as columns (USD values at the start price)."""

    id: list[str] = dataclasses.field(default_factory=list)
    owner: list[str] = dataclasses.field(default_factory=list)
    platform: list[str] = dataclasses.field(default_factory=list)
    protocol: list[str] = dataclasses.field(default_factory=list)  # aave_v3 … or "maker"
    segment: list[str] = dataclasses.field(default_factory=list)  # "defi" or "cdp"
    coll_asset: list[int] = dataclasses.field(default_factory=list)
    coll_usd: list[float] = dataclasses.field(default_factory=list)
    debt_asset: list[int] = dataclasses.field(default_factory=list)
    debt_usd: list[float] = dataclasses.field(default_factory=list)
    lt: list[float] = dataclasses.field(default_factory=list)  # CDP: 1 / liquidation ratio
    bonus: list[float] = dataclasses.field(default_factory=list)  # CDP: penalty (chop - 1)

    def __len__(self) -> int:
        return len(self.id)


@dataclasses.dataclass
class Loans:
    """A CeFi loan tape as columns (USD values at the start price)."""

    id: list[str] = dataclasses.field(default_factory=list)
    lender: list[str] = dataclasses.field(default_factory=list)
    counterparty: list[str] = dataclasses.field(default_factory=list)
    principal_usd: list[float] = dataclasses.field(default_factory=list)
    asset: list[int] = dataclasses.field(default_factory=list)
    rate: list[float] = dataclasses.field(default_factory=list)
    maturity: list[dt.date | None] = dataclasses.field(default_factory=list)  # None = open term
    coll_asset: list[int] = dataclasses.field(default_factory=list)
    coll_usd: list[float] = dataclasses.field(default_factory=list)
    initial_ltv: list[float] = dataclasses.field(default_factory=list)
    margin_call_ltv: list[float] = dataclasses.field(default_factory=list)
    liquidation_ltv: list[float] = dataclasses.field(default_factory=list)
    unsecured: list[bool] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.id)


@dataclasses.dataclass(frozen=True)
class Deposit:
    """A funding bucket: withdrawable after ``tenor_days`` (0 = on demand) at ``runoff``/day."""

    tenor_days: int
    amount_usd: float
    runoff: float | None = None  # None: the engine's default daily run-off


@dataclasses.dataclass(frozen=True)
class Funding:
    """A CeFi lender's liabilities and buffers."""

    lender: str
    own_capital_usd: float
    liquid_assets_usd: float
    deposits: tuple[Deposit, ...] = ()


@dataclasses.dataclass
class Book:
    """Everything the engine stresses: positions, vaults, loans and lenders' funding."""

    positions: Positions = dataclasses.field(default_factory=Positions)
    loans: Loans = dataclasses.field(default_factory=Loans)
    funding: dict[str, Funding] = dataclasses.field(default_factory=dict)
    sources: list[str] = dataclasses.field(default_factory=list)

    def extend(self, other: Book) -> None:
        """Append ``other`` (ids must stay unique)."""
        for tab, o in ((self.positions, other.positions), (self.loans, other.loans)):
            dup = set(tab.id) & set(o.id)
            if dup:
                raise BookError(f"{', '.join(other.sources)}: duplicate id {sorted(dup)[0]!r}")
            for f in dataclasses.fields(tab):
                getattr(tab, f.name).extend(getattr(o, f.name))
        for name, f in other.funding.items():
            if name in self.funding:
                raise BookError(f"{', '.join(other.sources)}: lender {name!r}: funding given twice")
            self.funding[name] = f
        self.sources += other.sources

    def lenders(self) -> list[str]:
        """CeFi lenders with loans or funding, sorted."""
        return sorted(set(self.loans.lender) | set(self.funding))


# --------------------------------------------------------------------------- row validation
class _Row:
    """One CSV row with typed, validated access; errors name file, row and field."""

    def __init__(self, src: str, line: int, data: Mapping[str, str | None]) -> None:
        self.src, self.line, self.data = src, line, data

    def fail(self, field: str, msg: str) -> Any:
        raise BookError(f"{self.src}: row {self.line}: {field}: {msg}")

    def text(self, field: str, default: str | None = None) -> str:
        v = (self.data.get(field) or "").strip()
        if not v:
            if default is not None:
                return default
            self.fail(field, "missing value")
        return v

    def num(self, field: str, default: float | None = None, *, positive: bool = False) -> float:
        raw = (self.data.get(field) or "").strip()
        if not raw:
            if default is not None:
                return default
            self.fail(field, "missing value")
        try:
            x = float(raw)
        except ValueError:
            return self.fail(field, f"not a number: {raw!r}")
        if not math.isfinite(x):
            self.fail(field, f"must be finite, got {raw!r}")
        if positive and not x > 0:
            self.fail(field, f"must be > 0, got {raw}")
        if x < 0:
            self.fail(field, f"must be >= 0 (negative amount {raw})")
        return x

    def frac(self, field: str, default: float | None = None) -> float:
        x = self.num(field, default)
        if not 0 < x <= 1:
            self.fail(field, f"must be in (0, 1], got {x}")
        return x

    def asset(self, field: str) -> int:
        a = self.text(field)
        if a not in ASSETS:
            self.fail(field, f"unknown asset {a!r} (known: {', '.join(ASSETS)})")
        return ASSETS.index(a)

    def price(self, field: str, asset: int) -> float:
        return self.num(field, DEFAULT_PRICES[ASSETS[asset]], positive=True)

    def flag(self, field: str) -> bool:
        v = (self.data.get(field) or "").strip().lower()
        if v not in TRUE | FALSE:
            self.fail(field, f"expected true or false, got {v!r}")
        return v in TRUE

    def date(self, field: str) -> dt.date | None:
        v = (self.data.get(field) or "").strip()
        if v.lower() in ("", "open"):
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            return self.fail(field, f"not an ISO date YYYY-MM-DD (or 'open'): {v!r}")


def _rows(src: str, text: str, required: Iterable[str]) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = cols
    missing = [c for c in required if c not in cols]
    if missing:
        raise BookError(f"{src}: row 1: {missing[0]}: missing column")
    rows = [_Row(src, reader.line_num, r) for r in reader]
    if not rows:
        raise BookError(f"{src}: row 2: <none>: the file has no data rows")
    return rows


def _ids(rows: list[_Row], field: str) -> list[str]:
    seen: set[str] = set()
    out = []
    for r in rows:
        i = r.text(field)
        if i in seen:
            r.fail(field, f"duplicate id {i!r}")
        seen.add(i)
        out.append(i)
    return out


# --------------------------------------------------------------------------- parsers
POSITION_COLS = ("position_id", "platform", "protocol", "collateral_asset", "collateral_amount",
                 "debt_asset", "debt_amount")  # fmt: skip
VAULT_COLS = ("vault_id", "platform", "collateral_asset", "collateral_amount", "debt_usd")
LOAN_COLS = ("loan_id", "counterparty", "principal", "asset", "rate", "maturity",
             "collateral_asset", "collateral_amount", "initial_ltv", "margin_call_ltv",
             "liquidation_ltv", "unsecured")  # fmt: skip
FUNDING_ITEMS = ("deposit", "own_capital", "liquid_assets")


def parse_positions(src: str, text: str) -> Book:
    """A DeFi positions CSV."""
    book, p = Book(sources=[src]), Positions()
    rows = _rows(src, text, POSITION_COLS)
    p.id = _ids(rows, "position_id")
    for r in rows:
        proto = r.text("protocol")
        if proto not in PROTOCOLS:
            r.fail("protocol", f"unknown protocol {proto!r} (known: {', '.join(PROTOCOLS)})")
        ca, da = r.asset("collateral_asset"), r.asset("debt_asset")
        lt0, b0 = PROTOCOL_DEFAULTS[proto]
        p.owner.append(r.text("owner", default=r.text("position_id")))
        p.platform.append(r.text("platform"))
        p.protocol.append(proto)
        p.segment.append("defi")
        p.coll_asset.append(ca)
        p.coll_usd.append(r.num("collateral_amount") * r.price("collateral_price_usd", ca))
        p.debt_asset.append(da)
        p.debt_usd.append(r.num("debt_amount") * r.price("debt_price_usd", da))
        p.lt.append(r.frac("liquidation_threshold", lt0))
        bonus = r.num("bonus", b0)
        if bonus >= 1:
            r.fail("bonus", f"must be a fraction below 1 (0.05 = +5%), got {bonus}")
        p.bonus.append(bonus)
    book.positions = p
    return book


def parse_vaults(src: str, text: str) -> Book:
    """A CDP vaults CSV (Maker-style: liquidation ratio, penalty, Dutch auction)."""
    book, p = Book(sources=[src]), Positions()
    rows = _rows(src, text, VAULT_COLS)
    p.id = _ids(rows, "vault_id")
    for r in rows:
        ca = r.asset("collateral_asset")
        lr = r.num("liquidation_ratio", 1.5)
        if not lr >= 1:
            r.fail("liquidation_ratio", f"must be >= 1 (1.5 = 150%), got {lr}")
        pen = r.num("penalty", 0.13)
        if pen >= 1:
            r.fail("penalty", f"must be a fraction below 1, got {pen}")
        p.owner.append(r.text("owner", default=r.text("vault_id")))
        p.platform.append(r.text("platform"))
        p.protocol.append("maker")
        p.segment.append("cdp")
        p.coll_asset.append(ca)
        p.coll_usd.append(r.num("collateral_amount") * r.price("collateral_price_usd", ca))
        p.debt_asset.append(ASSETS.index("DAI"))
        p.debt_usd.append(r.num("debt_usd"))
        p.lt.append(1.0 / lr)
        p.bonus.append(pen)
    book.positions = p
    return book


def parse_loans(src: str, text: str, lender: str | None = None) -> Book:
    """A CeFi loan tape CSV; ``lender`` defaults to the file's stem when no column gives it."""
    book, ln = Book(sources=[src]), Loans()
    rows = _rows(src, text, LOAN_COLS)
    ln.id = _ids(rows, "loan_id")
    default_lender = lender or Path(src).stem
    for r in rows:
        a = r.asset("asset")
        unsecured = r.flag("unsecured")
        amount = r.num("collateral_amount", 0.0 if unsecured else None)
        ca = ASSETS.index("USDC") if unsecured and not r.data.get("collateral_asset") else None
        ca = ca if ca is not None else r.asset("collateral_asset")
        if unsecured and amount > 0:
            r.fail(
                "collateral_amount", "an unsecured loan has no collateral (give 0 or leave empty)"
            )
        if not unsecured and amount <= 0:
            r.fail("collateral_amount", "a secured loan needs collateral > 0 (or unsecured=true)")
        ladder = [r.frac(f, 1.0 if unsecured else None) for f in LOAN_COLS[8:11]]
        if not unsecured and not ladder[0] < ladder[1] < ladder[2]:
            r.fail(
                "margin_call_ltv" if ladder[0] >= ladder[1] else "liquidation_ltv",
                "LTV ladder out of order: need initial_ltv < margin_call_ltv < liquidation_ltv "
                f"<= 1, got {ladder[0]} / {ladder[1]} / {ladder[2]}",
            )
        ln.lender.append(r.text("lender", default=default_lender))
        ln.counterparty.append(r.text("counterparty"))
        ln.principal_usd.append(r.num("principal", positive=True) * r.price("asset_price_usd", a))
        ln.asset.append(a)
        rate = r.num("rate")
        if rate > 5:
            r.fail("rate", f"annual rate as a fraction (0.12 = 12%), got {rate}")
        ln.rate.append(rate)
        ln.maturity.append(r.date("maturity"))
        ln.coll_asset.append(ca)
        ln.coll_usd.append(amount * (r.price("collateral_price_usd", ca) if amount else 1.0))
        ln.initial_ltv.append(ladder[0])
        ln.margin_call_ltv.append(ladder[1])
        ln.liquidation_ltv.append(ladder[2])
        ln.unsecured.append(unsecured)
    book.loans = ln
    return book


def parse_funding_csv(src: str, text: str) -> Book:
    """Funding CSV: ``lender,item,tenor_days,amount_usd,runoff``.

    ``item`` is deposit, own_capital or liquid_assets.
    """
    parts: dict[str, dict[str, Any]] = {}
    for r in _rows(src, text, ("lender", "item", "amount_usd")):
        name, item = r.text("lender"), r.text("item")
        if item not in FUNDING_ITEMS:
            r.fail("item", f"unknown item {item!r} (known: {', '.join(FUNDING_ITEMS)})")
        f = parts.setdefault(name, {"deposits": []})
        amount = r.num("amount_usd")
        if item == "deposit":
            tenor = r.num("tenor_days", 0.0)
            if tenor != int(tenor):
                r.fail("tenor_days", f"must be a whole number of days, got {tenor}")
            runoff = r.frac("runoff") if (r.data.get("runoff") or "").strip() else None
            f["deposits"].append(Deposit(int(tenor), amount, runoff))
        else:
            if item in f:
                r.fail("item", f"{item} given twice for lender {name!r}")
            f[item] = amount
    return _funding_book(src, parts)


def parse_funding_yaml(src: str, data: Any) -> Book:
    """Funding YAML, one mapping or a list of them.

    ``{lender, own_capital_usd, liquid_assets_usd, deposits: [{tenor_days, amount_usd, runoff}]}``.
    """
    items = data if isinstance(data, list) else [data]
    parts: dict[str, dict[str, Any]] = {}
    for i, d in enumerate(items):
        where = f"{src}: item {i}" if isinstance(data, list) else src

        def fail(field: str, msg: str, where: str = where) -> Any:
            raise BookError(f"{where}: {field}: {msg}")

        if not isinstance(d, Mapping):
            fail("<root>", "expected a mapping with lender, own_capital_usd, liquid_assets_usd")
        name = d.get("lender") or fail("lender", "missing field")
        f: dict[str, Any] = {"deposits": []}
        for key in ("own_capital_usd", "liquid_assets_usd"):
            f[key.removesuffix("_usd")] = _yaml_num(d, key, fail)
        deps = d.get("deposits") or []
        if not isinstance(deps, list):
            fail("deposits", "expected a list of {tenor_days, amount_usd, runoff}")
        for j, dep in enumerate(deps):
            if not isinstance(dep, Mapping):
                fail(f"deposits[{j}]", "expected a mapping")
            tenor = _yaml_num(dep, "tenor_days", fail, f"deposits[{j}].", 0.0)
            runoff = dep.get("runoff")
            if runoff is not None:
                runoff = _yaml_num(dep, "runoff", fail, f"deposits[{j}].")
                if not 0 < runoff <= 1:
                    fail(f"deposits[{j}].runoff", f"must be in (0, 1] per day, got {runoff}")
            amount = _yaml_num(dep, "amount_usd", fail, f"deposits[{j}].")
            f["deposits"].append(Deposit(int(tenor), amount, runoff))
        parts[str(name)] = f
    return _funding_book(src, parts)


def _yaml_num(d: Mapping, key: str, fail: Any, prefix: str = "", default: float | None = None):
    if d.get(key) is None:
        if default is not None:
            return default
        fail(prefix + key, "missing field")
    x = d[key]
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        fail(prefix + key, f"not a number: {x!r}")
    if x < 0:
        fail(prefix + key, f"must be >= 0 (negative amount {x})")
    return float(x)


def _funding_book(src: str, parts: dict[str, dict[str, Any]]) -> Book:
    book = Book(sources=[src])
    for name, f in parts.items():
        for item in ("own_capital", "liquid_assets"):
            if item not in f:
                raise BookError(f"{src}: lender {name!r}: {item}: missing")
        book.funding[name] = Funding(
            name, f["own_capital"], f["liquid_assets"], tuple(f["deposits"])
        )
    return book


# --------------------------------------------------------------------------- entry points
def parse_book(src: str, text: str) -> Book:
    """Parse one book file's text; the kind comes from the name's suffix and CSV header."""
    if src.lower().endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BookError(f"{src}: not valid YAML: {exc}") from exc
        return parse_funding_yaml(src, data)
    header = next(csv.reader(io.StringIO(text)), [])
    cols = {c.strip() for c in header}
    for key, fn in (
        ("position_id", parse_positions),
        ("vault_id", parse_vaults),
        ("loan_id", parse_loans),
        ("item", parse_funding_csv),
    ):
        if key in cols:
            return fn(src, text)
    raise BookError(
        f"{src}: row 1: <header>: not a book file (need a position_id, vault_id, loan_id or "
        "item column)"
    )


def load_book(path: str | Path) -> Book:
    """Load and validate one book file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BookError(f"{path}: cannot read: {exc}") from exc
    return parse_book(str(path), text)


def load_books(paths: Iterable[str | Path]) -> Book:
    """Load several book files into one :class:`Book` (lenders link loans to funding)."""
    book = Book()
    for p in paths:
        book.extend(load_book(p))
    check_book(book)
    return book


def check_book(book: Book) -> None:
    """Cross-file checks: every lender with loans has funding."""
    missing = sorted(set(book.loans.lender) - set(book.funding))
    if missing:
        raise BookError(
            f"{', '.join(book.sources)}: lender {missing[0]!r}: loans but no funding file "
            "(deposits by tenor, own capital, liquid assets)"
        )

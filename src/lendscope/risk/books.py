"""Lending books for the risk engine: DeFi positions, CDP vaults, CeFi loan tapes and funding.

Four file kinds, recognised by their header (CSV) or shape (YAML); see ``docs/books.md``:

* DeFi positions CSV (``position_id`` column): one collateral and one debt asset per row.
* CDP vaults CSV (``vault_id``): collateral against stablecoin debt, liquidation ratio, penalty.
* CeFi loan tape CSV (``loan_id``): principal, asset, rate, maturity, collateral, LTV ladder,
  unsecured flag.
* Lender funding, CSV (``item`` column) or YAML: deposits by withdrawal tenor, own capital,
  liquid assets.
* Credit links, YAML (:mod:`.book_credit`): named counterparties and default dates, credit lines,
  dated news and capital events.

Amounts are token units; ``*_price_usd`` columns (default: :data:`DEFAULT_PRICES`) turn them into
USD at the scenario's start, which is all the engine needs: scenarios are price multipliers.
Every error names the file, the row (the CSV line number, header = line 1) and the field.
Files are read by :mod:`lendscope.core.files` (bounded size, YAML depth, no anchors or aliases).
The data model lives in :mod:`.book_types` and the row validation in :mod:`.book_rows`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lendscope.core import files
from lendscope.core.assets import ASSETS
from lendscope.risk import book_accounts, book_credit
from lendscope.risk.book_rows import Row, read_rows, unique_ids
from lendscope.risk.book_types import (
    PROTOCOL_DEFAULTS,
    PROTOCOLS,
    Book,
    BookError,
    Deposit,
    Funding,
    Loans,
    Positions,
)

# --------------------------------------------------------------------------- parsers
POSITION_COLS = ("position_id", "platform", "protocol", "collateral_asset", "collateral_amount",
                 "debt_asset", "debt_amount")  # fmt: skip
VAULT_COLS = ("vault_id", "platform", "collateral_asset", "collateral_amount", "debt_usd")
LOAN_COLS = ("loan_id", "counterparty", "principal", "asset", "rate", "maturity",
             "collateral_asset", "collateral_amount", "initial_ltv", "margin_call_ltv",
             "liquidation_ltv", "unsecured")  # fmt: skip
FUNDING_ITEMS = ("deposit", "own_capital", "liquid_assets")
#: Largest book file the command line reads. Books are machine-written (``book synth`` up to a
#: million positions, ``positions`` for a whole protocol), so far above the 1 MiB of a
#: disclosure file or an upload; the app reads uploads with its own 1 MiB cap.
MAX_BOOK_BYTES = 128 * 1024 * 1024


def parse_positions(src: str, text: str) -> Book:
    """A DeFi positions CSV (two-sided rows, or an account partition: see ``book_accounts``)."""
    book, p = Book(sources=[src]), Positions()
    rows = read_rows(src, text, POSITION_COLS)
    ids = unique_ids(rows, "position_id")
    legs = []
    for pid, r in zip(ids, rows, strict=True):
        proto = r.text("protocol")
        if proto not in PROTOCOLS:
            r.fail("protocol", f"unknown protocol {proto!r} (known: {', '.join(PROTOCOLS)})")
        ca, cu = _side(r, "collateral")
        da, du = _side(r, "debt")
        if ca is None and da is None:
            r.fail("collateral_asset", "a row needs a collateral or a debt asset")
        lt0, b0 = PROTOCOL_DEFAULTS[proto]
        bonus = r.num("bonus", b0)
        if bonus >= 1:
            r.fail("bonus", f"must be a fraction below 1 (0.05 = +5%), got {bonus}")
        owner = r.text("owner", default=pid)
        legs.append(
            book_accounts.Leg(
                pid, owner, r.text("platform"), proto, r.text("account", default=owner),
                ca, cu, da, du, r.frac("liquidation_threshold", lt0) if ca is not None else lt0,
                bonus, bool((r.data.get("account") or "").strip()),
            )
        )  # fmt: skip
    for leg in book_accounts.pair(legs):
        p.id.append(leg.id)
        p.owner.append(leg.owner)
        p.account.append(leg.account)
        p.platform.append(leg.platform)
        p.protocol.append(leg.protocol)
        p.segment.append("defi")
        p.coll_asset.append(leg.coll_asset)
        p.coll_usd.append(leg.coll_usd)
        p.debt_asset.append(leg.debt_asset)
        p.debt_usd.append(leg.debt_usd)
        p.lt.append(leg.lt)
        p.bonus.append(leg.bonus)
    book.positions = p
    return book


def _side(r: Row, side: str) -> tuple[int | None, float]:
    """(asset, USD at the start price) of one side; an empty asset needs amount 0."""
    if not (r.data.get(f"{side}_asset") or "").strip():
        if amount := r.num(f"{side}_amount", 0.0):
            r.fail(f"{side}_asset", f"missing value (the row has {side}_amount {amount:g})")
        return None, 0.0
    a = r.asset(f"{side}_asset")
    return a, r.num(f"{side}_amount") * r.price(f"{side}_price_usd", a)


def parse_vaults(src: str, text: str) -> Book:
    """A CDP vaults CSV (Maker-style: liquidation ratio, penalty, Dutch auction)."""
    book, p = Book(sources=[src]), Positions()
    rows = read_rows(src, text, VAULT_COLS)
    p.id = unique_ids(rows, "vault_id")
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
    rows = read_rows(src, text, LOAN_COLS)
    ln.id = unique_ids(rows, "loan_id")
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
        notice = r.num("notice_days", -1.0)
        if notice != int(notice) or notice < -1:
            r.fail("notice_days", f"whole days of notice (empty: not callable), got {notice}")
        ln.notice_days.append(None if notice < 0 else int(notice))
    book.loans = ln
    return book


def parse_funding_csv(src: str, text: str) -> Book:
    """Funding CSV: ``lender,item,tenor_days,amount_usd,runoff``.

    ``item`` is deposit, own_capital or liquid_assets.
    """
    parts: dict[str, dict[str, Any]] = {}
    for r in read_rows(src, text, ("lender", "item", "amount_usd")):
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
    try:
        if src.lower().endswith((".yaml", ".yml")):
            data = files.load_yaml(text, src)
            if isinstance(data, Mapping) and set(data) & set(book_credit.KEYS):
                return book_credit.parse_credit_yaml(src, data)
            return parse_funding_yaml(src, data)
        cols = set(files.read_csv_header(text, src))
    except files.InputError as e:
        raise BookError(str(e)) from None
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


def load_book(path: str | Path, max_bytes: int = MAX_BOOK_BYTES) -> Book:
    """Load and validate one book file (at most ``max_bytes``)."""
    try:
        text = files.read_text(path, str(path), max_bytes)
    except files.InputError as e:
        raise BookError(str(e)) from None
    return parse_book(str(path), text)


def load_books(paths: Iterable[str | Path]) -> Book:
    """Load several book files into one :class:`Book` (lenders link loans to funding)."""
    book = Book()
    for p in paths:
        book.extend(load_book(p))
    check_book(book)
    return book


def check_book(book: Book) -> None:
    """Cross-file checks: every lender with loans has funding; links name known lenders."""
    where = ", ".join(book.sources)
    missing = sorted(set(book.loans.lender) - set(book.funding))
    if missing:
        raise BookError(
            f"{where}: lender {missing[0]!r}: loans but no funding file "
            "(deposits by tenor, own capital, liquid assets)"
        )
    lenders = set(book.lenders())
    for i, cl in enumerate(book.credit_lines):
        if cl.borrower not in lenders:
            raise BookError(f"{where}: credit_lines[{i}]: borrower: unknown lender {cl.borrower!r}")
    for i, ev in enumerate(book.events):
        for name in ev.lenders:
            if name not in lenders:
                raise BookError(f"{where}: events[{i}]: lenders: unknown lender {name!r}")

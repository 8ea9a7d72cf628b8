"""Book data model for the risk engine: positions, loans, funding, and the defaults they use.

Column-oriented tables (one list per field, USD values at the start price) that the parsers of
:mod:`lendscope.risk.books` fill and the engine stresses; see ``docs/books.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

#: Start prices used when a row gives none (USD per unit; order-of-magnitude, mid-2025).
DEFAULT_PRICES: dict[str, float] = {
    "BTC": 110_000.0, "ETH": 4_000.0, "stETH": 4_000.0, "wstETH": 4_800.0, "WBTC": 110_000.0,
    "USDC": 1.0, "USDT": 1.0, "DAI": 1.0, "UST": 1.0, "LUNA": 1.0, "GBTC": 85.0, "SOL": 200.0,
    "miner_collateral": 1.0, "alt": 1.0, "FTT": 2.0, "CEL": 0.5,
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
    #: The account health and bad debt are computed over (``positions`` CSVs: e.g. a Morpho
    #: market and user); empty, or shorter than ``id``: the owner's.
    account: list[str] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.id)

    def accounts(self) -> list[str]:
        """Each row's account: its ``account`` where given, else its owner."""
        given = self.account + [""] * (len(self.id) - len(self.account))
        return [a or o for a, o in zip(given, self.owner, strict=True)]


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
    #: Open-term loans the lender can recall: days of notice (None = not callable).
    notice_days: list[int | None] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.id)


@dataclasses.dataclass(frozen=True)
class Counterparty:
    """A named borrower: when it defaults (a date, or never) and what its creditors recover."""

    name: str
    default_date: dt.date | None = None
    recovery: float = 0.0  # share of an unsecured claim recovered
    source: str = ""


@dataclasses.dataclass(frozen=True)
class CreditLine:
    """A committed line ``provider`` gives ``borrower`` (a lender); gone if the provider fails."""

    provider: str
    borrower: str
    limit_usd: float
    start: dt.date
    source: str = ""


@dataclasses.dataclass(frozen=True)
class BookEvent:
    """A dated event at ``lenders`` (all if empty).

    ``news`` raises run-off by ``intensity`` (extra share of deposits withdrawn per day,
    decaying); ``capital`` adds ``usd`` of illiquid capital (e.g. a parent's promissory note);
    ``liquidity`` adds ``usd`` of cash.
    """

    day: dt.date
    kind: str  # news | capital | liquidity
    lenders: tuple[str, ...] = ()
    intensity: float = 0.0
    usd: float = 0.0
    label: str = ""
    source: str = ""


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
    counterparties: dict[str, Counterparty] = dataclasses.field(default_factory=dict)
    credit_lines: list[CreditLine] = dataclasses.field(default_factory=list)
    events: list[BookEvent] = dataclasses.field(default_factory=list)

    def extend(self, other: Book) -> None:
        """Append ``other`` (ids must stay unique)."""
        self.positions.account = self.positions.accounts()  # aligned before appending
        other.positions.account = other.positions.accounts()
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
        for name, c in other.counterparties.items():
            if name in self.counterparties:
                raise BookError(f"{', '.join(other.sources)}: counterparty {name!r} given twice")
            self.counterparties[name] = c
        self.credit_lines += other.credit_lines
        self.events += other.events
        self.sources += other.sources

    def lenders(self) -> list[str]:
        """CeFi lenders with loans or funding, sorted."""
        return sorted(set(self.loans.lender) | set(self.funding))

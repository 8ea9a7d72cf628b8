"""Protocol-family adapters: each module reads one deployment's markets at one block.

An adapter module exposes ``VERSION`` (bumped when its output changes) and
``snapshot(reader, deployment, block) -> Snapshot``, doing at most two rounds of batched view
calls so a snapshot costs at most two HTTP round trips. Forks are registry entries, not code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from fractions import Fraction
from types import ModuleType

from lendscope.onchain.registry import Deployment

FAMILIES = (
    "aave_v3",
    "aave_v2",
    "morpho_blue",
    "compound_v3",
    "compound_v2",
    "maker",
    "liquity",
    "crvusd",
    "gho",
    "euler_v2",
    "fluid",
    "silo",
    "kamino",
    "marginfi",
    "save",
)
#: Price of a stablecoin valued at its peg (no protocol oracle prices the coin itself).
PEG = "peg:1 USD"


@dataclass(frozen=True)
class MarketRow:
    """Debt of one reserve, market, ilk or facilitator at a block, with how it was read."""

    market: str  # reserve asset, Morpho market id, ilk name, controller or facilitator
    asset: str  # debt token address
    symbol: str
    decimals: int
    debt_raw: int  # token units x 10**decimals, exact
    price_raw: int | None  # USD per whole token x price_unit; None: no price
    price_unit: int
    contract: str
    call: str
    price_source: str
    counted: bool = True  # False: shown but left out of the deployment total (note says why)
    note: str = ""

    @property
    def amount(self) -> float:
        """Debt in whole tokens."""
        return float(Fraction(self.debt_raw, 10**self.decimals))

    @property
    def value_usd(self) -> float | None:
        """Debt in USD at the price read, or ``None`` without a price."""
        if self.price_raw is None:
            return None
        return float(Fraction(self.debt_raw * self.price_raw, 10**self.decimals * self.price_unit))


@dataclass
class Snapshot:
    """Every market of one deployment at one block."""

    deployment: Deployment
    block: int
    adapter_version: str
    contract: str  # the deployment's main contract (pool, Morpho, Vat, ...)
    call: str  # how debt and price were read, for the aggregate row
    price_source: str
    rows: list[MarketRow] = field(default_factory=list)

    @property
    def value_usd(self) -> float:
        """Σ USD over counted rows that have a price."""
        return float(
            sum(
                (Fraction(r.value_usd) for r in self.rows if r.counted and r.value_usd is not None),
                Fraction(0),
            )
        )

    def note(self) -> str:
        """One-line summary: markets counted and what was left out, and why."""
        counted = [r for r in self.rows if r.counted and r.price_raw is not None]
        left = [r for r in self.rows if not (r.counted and r.price_raw is not None)]
        why = "; ".join(
            f"{r.symbol or r.market}: {r.note or 'no USD price'}" for r in left if r.debt_raw
        )
        return f"{len(counted)} markets at block {self.block}" + (
            f"; left out {why}" if why else ""
        )


def adapter(family: str) -> ModuleType:
    """The adapter module of a family."""
    if family not in FAMILIES:
        raise KeyError(f"no adapter for family {family!r}; known: {', '.join(FAMILIES)}")
    return importlib.import_module(f"lendscope.onchain.protocols.{family}")


def symbol_of(raw: tuple | None) -> str:
    """Decoded ``symbol()`` as text ('' when the call failed)."""
    if not raw:
        return ""
    v = raw[0]
    if isinstance(v, bytes):  # MKR-style bytes32 symbols
        return v.rstrip(b"\0").decode(errors="replace")
    return str(v)

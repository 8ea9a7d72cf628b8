"""``lendscope positions``: every borrower's collateral and debt at a block, as a risk book.

Output is the DeFi positions CSV of ``docs/books.md``. Accounts come from each family's exact
account reader (:mod:`.aave_accounts`, :mod:`.morpho_accounts`), never from the protocol's
account-data view. Rows *partition* an account (column ``account``): each collateral asset and
each debt asset appears in exactly one row (row k pairs the k-th largest collateral with the
k-th largest debt; a side may be empty), so Σ collateral_amount x collateral_price_usd x
liquidation_threshold over Σ debt_amount x debt_price_usd gives the account's health factor.
The risk engine re-pairs such accounts itself (:mod:`lendscope.risk.book_accounts`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

from eth_utils import keccak

from lendscope.chain import get_logs
from lendscope.onchain import (
    aave_accounts,
    morpho_accounts,
    positions_cdp,
    positions_comet,
    positions_crvusd,
)
from lendscope.onchain.abi import Reader
from lendscope.onchain.registry import Deployment
from lendscope.onchain.rows import COLUMNS, Item, book_asset, partition, row_health, whole

AAVE_BORROW = (
    "0x" + keccak(text="Borrow(address,address,address,uint256,uint8,uint256,uint16)").hex()
)
#: Users whose accounts are read and written at a time (bounds memory at mainnet scale).
CHUNK_USERS = 5_000


def _logs(reader: Reader, dep: Deployment, address: str, topic: str, block: int) -> list[dict]:
    """Logs from ``start_block`` to ``block`` in adaptive ranges (``log_chunk`` to begin)."""
    start = int(dep.config.get("start_block", 0))
    chunk = int(dep.config.get("log_chunk", 0) or 0)
    return get_logs(reader.client, address, [topic], start, block, initial_range=chunk)


def aave_borrowers(reader: Reader, dep: Deployment, block: int) -> list[str]:
    """Every ``onBehalfOf`` of a ``Borrow`` event up to ``block``."""
    logs = _logs(reader, dep, dep.addr("pool"), AAVE_BORROW, block)
    return sorted({"0x" + lg["topics"][2][-40:].lower() for lg in logs})


def aave_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> Iterator[dict]:
    """Aave v3 accounts with debt: enabled collateral (e-mode aware) and debt per reserve.

    Users are read :data:`CHUNK_USERS` at a time, so memory stays bounded by the chunk.
    """
    users = aave_borrowers(reader, dep, block) if owners is None else owners
    known = aave_accounts.reserves(reader, dep, block)
    base = {"platform": dep.platform, "protocol": "aave_v3"}
    for k in range(0, len(users), CHUNK_USERS):
        accounts, unit = aave_accounts.read_accounts(
            reader, dep, block, users[k : k + CHUNK_USERS], known
        )
        for a in accounts:
            coll: list[Item] = []
            debt: list[Item] = []
            for r, leg, bonus in a.legs:
                usd = leg.price / unit
                if leg.collateral and leg.balance:
                    coll.append((r.symbol, whole(leg.balance, r.decimals), usd,
                                 leg.liquidation_threshold / 1e4, bonus / 1e4 - 1))  # fmt: skip
                if leg.borrowing and leg.debt:
                    debt.append((r.symbol, whole(leg.debt, r.decimals), usd, 0.0, 0.0))
            if debt:
                yield from partition(base, a.user, a.user, coll, debt)


def morpho_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[dict]:
    """Morpho Blue borrowers per market, priced so the rows give the market's own health.

    The collateral's USD price is the market oracle's price times the loan token's USD price.
    """
    base = {"platform": dep.platform, "protocol": "morpho_blue"}
    rows = []
    for a in morpho_accounts.read_accounts(reader, dep, block, owners):
        loan_usd = a.loan.usd or 1.0  # unpriced loan token: USD = loan units (health exact)
        coll_usd = (
            float(Fraction(a.price * 10**a.collateral.decimals, 10**36 * 10**a.loan.decimals))
            * loan_usd
        )
        rows += partition(
            base, f"{a.market_id}:{a.user}", a.user,
            [(a.collateral.symbol, whole(a.position.collateral, a.collateral.decimals),
              coll_usd, a.lltv / 1e18, 0.0)] if a.position.collateral else [],
            [(a.loan.symbol, whole(a.debt, a.loan.decimals), loan_usd, 0.0, 0.0)],
        )  # fmt: skip
    return rows


Reader_ = Callable[..., Iterable[dict]]
READERS: dict[str, Reader_] = {
    "aave_v3": aave_positions,
    "morpho_blue": morpho_positions,
    **positions_comet.READERS,
    **positions_cdp.READERS,
    **positions_crvusd.READERS,
}
#: Families whose rows are CDP vaults (``CDP_COLUMNS``), not DeFi positions.
CDP_FAMILIES = frozenset({*positions_cdp.READERS, *positions_crvusd.READERS})


def read_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[dict]:
    """Position rows of one deployment; ``owners``: only those accounts (no log discovery)."""
    return list(iter_positions(reader, dep, block, owners))


def iter_positions(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> Iterator[dict]:
    """Position rows of one deployment as they are read (see :func:`read_positions`)."""
    if dep.family not in READERS:
        raise ValueError(f"positions are read for {', '.join(READERS)} only, not {dep.family}")
    yield from READERS[dep.family](reader, dep, block, owners)


def write_positions(
    rows: Iterable[dict], out: Path, columns: tuple[str, ...] = COLUMNS
) -> tuple[Path, int]:
    """Stream rows to CSV, atomically (a temporary file renamed into place); rows written."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        n = 0
        for r in rows:
            w.writerow({k: (f"{v:.17g}" if isinstance(v, float) else v) for k, v in r.items()})
            n += 1
    tmp.replace(out)
    return out, n


__all__ = ["COLUMNS", "book_asset", "iter_positions", "partition", "read_positions", "row_health",
           "whole", "write_positions"]  # fmt: skip

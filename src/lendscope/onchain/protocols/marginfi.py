"""marginfi v2: debt = Σ over a group's banks of total liability shares x liability share value.

The group's ``Bank`` accounts are listed with ``getProgramAccounts`` (size, discriminator and
group filters) and decoded by :mod:`lendscope.onchain.solana.marginfi` (I80F48 fixed point,
exact). Price: ``Bank.cache.last_oracle_price``, the USD price the program last used (banks the
program never priced stay unpriced: oracle accounts are not read). Registry addresses:
``program`` (marginfi v2) and ``market`` (the ``MarginfiGroup``).
"""

from __future__ import annotations

from lendscope.chain.solana import Query
from lendscope.onchain.protocols import MarketRow, Snapshot
from lendscope.onchain.registry import Deployment
from lendscope.onchain.solana import marginfi
from lendscope.onchain.solana.layout import I80F48_ONE
from lendscope.onchain.solana.mints import symbol
from lendscope.onchain.solana.reader import SolanaReader

VERSION = "1"
CALL = "Bank.total_liability_shares x Bank.liability_share_value (I80F48, getProgramAccounts)"
PRICE = "Bank.cache.last_oracle_price (I80F48 USD, the price the program last used)"
STALE_PRICE_S = 86_400  # a cached price older than a day before the slot is noted


def queries(dep: Deployment) -> list[Query]:
    """The reads a snapshot needs: every bank of the group."""
    return [Query.program_accounts(dep.addr("program"), marginfi.filters(dep.addr("market")))]


def snapshot(reader: SolanaReader, dep: Deployment, block: int) -> Snapshot:
    """One row per bank at the reader's slot (``block``)."""
    (q,) = queries(dep)
    at = reader.pin.block_time if reader.pin else None
    rows = []
    for acct in sorted((a for a in reader.get(q).accounts if a), key=lambda a: a.pubkey):
        b = marginfi.decode(acct.data, f"marginfi bank {acct.pubkey}")
        notes = [] if b.state_name == "Operational" else [f"bank {b.state_name}"]
        age = None if at is None or b.price is None else at - b.last_oracle_price_timestamp
        if age is not None and age > STALE_PRICE_S:
            notes.append(f"cached price {age // 3600} h old")
        if b.price is None:
            notes.append("no cached oracle price")
        rows.append(
            MarketRow(
                market=acct.pubkey,
                asset=b.mint,
                symbol=symbol(b.mint),
                decimals=b.mint_decimals,
                debt_raw=b.debt_raw,
                price_raw=b.last_oracle_price if b.price is not None else None,
                price_unit=I80F48_ONE,
                contract=acct.pubkey,
                call=CALL,
                price_source=PRICE,
                note="; ".join(notes),
            )
        )
    return Snapshot(
        dep, block, VERSION, dep.addr("market"), f"sum over banks of {CALL}", PRICE, rows
    )

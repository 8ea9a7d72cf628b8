"""Kamino Lend: debt = Σ over a lending market's reserves of ``borrowed_amount_sf`` / 2^60.

The market's ``Reserve`` accounts are listed with ``getProgramAccounts`` (size, discriminator and
lending-market filters) and decoded by :mod:`lendscope.onchain.solana.kamino`. Price: each
reserve's ``liquidity.market_price_sf`` (USD per whole token x 2^60, as of its last refresh).
Registry addresses: ``program`` (klend) and ``market`` (the ``LendingMarket``).
"""

from __future__ import annotations

from lendscope.chain.solana import Query
from lendscope.onchain.protocols import MarketRow, Snapshot
from lendscope.onchain.registry import Deployment
from lendscope.onchain.solana import kamino
from lendscope.onchain.solana.reader import SolanaReader

VERSION = "1"
CALL = "Reserve.liquidity.borrowed_amount_sf / 2^60 (getProgramAccounts)"
PRICE = "Reserve.liquidity.market_price_sf / 2^60 (the reserve's last refreshed oracle price)"


def queries(dep: Deployment) -> list[Query]:
    """The reads a snapshot needs: every reserve of the lending market."""
    return [Query.program_accounts(dep.addr("program"), kamino.filters(dep.addr("market")))]


def snapshot(reader: SolanaReader, dep: Deployment, block: int) -> Snapshot:
    """One row per reserve at the reader's slot (``block``)."""
    (q,) = queries(dep)
    rows = []
    for acct in sorted((a for a in reader.get(q).accounts if a), key=lambda a: a.pubkey):
        r = kamino.decode(acct.data, f"Kamino reserve {acct.pubkey}")
        notes = [f"reserve status {r.status_name}"] if r.status else []
        if r.last_update_stale:
            notes.append(f"stale since slot {r.last_update_slot}")
        rows.append(
            MarketRow(
                market=acct.pubkey,
                asset=r.liquidity_mint,
                symbol=r.symbol,
                decimals=r.mint_decimals,
                debt_raw=r.debt_raw,
                price_raw=r.market_price_sf or None,
                price_unit=kamino.SF_ONE,
                contract=acct.pubkey,
                call=CALL,
                price_source=PRICE,
                note="; ".join(notes),
            )
        )
    return Snapshot(
        dep, block, VERSION, dep.addr("market"), f"sum over reserves of {CALL}", PRICE, rows
    )

"""Save (formerly Solend): debt = Σ over a pool's reserves of ``borrowed_amount_wads`` / 10^18.

The lending market's ``Reserve`` accounts are listed with ``getProgramAccounts`` (size and
lending-market filters) and decoded by :mod:`lendscope.onchain.solana.save`. Price: each
reserve's ``liquidity.market_price`` (quote currency per whole token x 10^18; USD for the main
pool). Registry addresses: ``program`` (Solend/Save) and ``market`` (the ``LendingMarket``).
"""

from __future__ import annotations

from lendscope.chain.solana import Query
from lendscope.onchain.protocols import MarketRow, Snapshot
from lendscope.onchain.registry import Deployment
from lendscope.onchain.solana import save
from lendscope.onchain.solana.mints import symbol
from lendscope.onchain.solana.reader import SolanaReader

VERSION = "1"
CALL = "Reserve.liquidity.borrowed_amount_wads / 10^18 (getProgramAccounts)"
PRICE = "Reserve.liquidity.market_price / 10^18 (the reserve's last refreshed oracle price)"


def queries(dep: Deployment) -> list[Query]:
    """The reads a snapshot needs: every reserve of the lending market."""
    return [Query.program_accounts(dep.addr("program"), save.filters(dep.addr("market")))]


def snapshot(reader: SolanaReader, dep: Deployment, block: int) -> Snapshot:
    """One row per reserve at the reader's slot (``block``)."""
    (q,) = queries(dep)
    rows = []
    for acct in sorted((a for a in reader.get(q).accounts if a), key=lambda a: a.pubkey):
        r = save.decode(acct.data, f"Save reserve {acct.pubkey}")
        if r.version != save.RESERVE_VERSION:
            raise ValueError(f"Save reserve {acct.pubkey}: layout version {r.version}, expected 1")
        rows.append(
            MarketRow(
                market=acct.pubkey,
                asset=r.liquidity_mint,
                symbol=symbol(r.liquidity_mint),
                decimals=r.liquidity_mint_decimals,
                debt_raw=r.debt_raw,
                price_raw=r.market_price or None,
                price_unit=save.WAD,
                contract=acct.pubkey,
                call=CALL,
                price_source=PRICE,
                note=f"stale since slot {r.last_update_slot}" if r.last_update_stale else "",
            )
        )
    return Snapshot(
        dep, block, VERSION, dep.addr("market"), f"sum over reserves of {CALL}", PRICE, rows
    )

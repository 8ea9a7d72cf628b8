"""Kamino Lend (klend) ``Reserve`` accounts: one per asset of a lending market.

Offsets: the ``Reserve`` layout of npm ``@kamino-finance/klend-sdk`` 8.0.2 (code generated from
the klend IDL: ``dist/@codegen/klend/accounts/Reserve.js`` and ``types/ReserveLiquidity.js``,
``ReserveCollateral.js``, ``ReserveConfig.js``, ``TokenInfo.js``), counted from the account's first
byte, the 8-byte Anchor discriminator included; the account is 8624 bytes. ``_sf`` amounts are
"scaled fractions" (value x 2^60). Debt: ``liquidity.borrowed_amount_sf`` in token base units,
accrued to ``last_update_slot`` (each refresh accrues it). Price: ``liquidity.market_price_sf``,
USD per whole token as of the last refresh (Kamino's Scope/Pyth/Switchboard price).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lendscope.chain.solana import data_size, memcmp
from lendscope.onchain.solana.layout import Field, build, text

DISCRIMINATOR = bytes([43, 242, 204, 202, 26, 247, 59, 127])  # sha256("account:Reserve")[:8]
SIZE = 8624
SF_ONE = 2**60
LENDING_MARKET_OFFSET = 32
STATUSES = ("Active", "Obsolete", "Hidden")  # ReserveStatus, the order of the IDL's variants

LAYOUT = (
    Field("version", 8, "u64"),
    Field("last_update_slot", 16, "u64"),
    Field("last_update_stale", 24, "u8"),
    Field("lending_market", LENDING_MARKET_OFFSET, "pubkey"),
    Field("farm_collateral", 64, "pubkey"),
    Field("farm_debt", 96, "pubkey"),
    Field("liquidity_mint", 128, "pubkey"),
    Field("liquidity_supply_vault", 160, "pubkey"),
    Field("liquidity_fee_vault", 192, "pubkey"),
    Field("total_available_amount", 224, "u64"),
    Field("borrowed_amount_sf", 232, "u128"),
    Field("market_price_sf", 248, "u128"),
    Field("market_price_last_updated_ts", 264, "u64"),
    Field("mint_decimals", 272, "u64"),
    Field("accumulated_protocol_fees_sf", 344, "u128"),
    Field("accumulated_referrer_fees_sf", 360, "u128"),
    Field("pending_referrer_fees_sf", 376, "u128"),
    Field("token_program", 408, "pubkey"),
    Field("collateral_mint", 2560, "pubkey"),
    Field("collateral_mint_total_supply", 2592, "u64"),
    Field("status", 4856, "u8"),
    Field("borrow_factor_pct", 5008, "u64"),
    Field("deposit_limit", 5016, "u64"),
    Field("borrow_limit", 5024, "u64"),
    Field("token_name", 5032, "bytes", 32),
)


@dataclass(frozen=True)
class Reserve:
    """The fields lendscope reads from a klend ``Reserve`` (names as in the IDL, snake_case)."""

    version: int
    last_update_slot: int
    last_update_stale: int
    lending_market: str
    farm_collateral: str
    farm_debt: str
    liquidity_mint: str
    liquidity_supply_vault: str
    liquidity_fee_vault: str
    total_available_amount: int
    borrowed_amount_sf: int
    market_price_sf: int
    market_price_last_updated_ts: int
    mint_decimals: int
    accumulated_protocol_fees_sf: int
    accumulated_referrer_fees_sf: int
    pending_referrer_fees_sf: int
    token_program: str
    collateral_mint: str
    collateral_mint_total_supply: int
    status: int
    borrow_factor_pct: int
    deposit_limit: int
    borrow_limit: int
    token_name: bytes

    @property
    def borrowed(self) -> Fraction:
        """Borrowed amount in token base units, exact."""
        return Fraction(self.borrowed_amount_sf, SF_ONE)

    @property
    def debt_raw(self) -> int:
        """Borrowed amount in whole base units (the fraction of a unit dropped)."""
        return self.borrowed_amount_sf // SF_ONE

    @property
    def symbol(self) -> str:
        """``config.token_info.name``: the reserve's token name as the market admin set it."""
        return text(self.token_name)

    @property
    def status_name(self) -> str:
        """``Active``, ``Obsolete`` or ``Hidden``."""
        return STATUSES[self.status] if self.status < len(STATUSES) else str(self.status)


def decode(data: bytes, what: str = "Kamino Reserve") -> Reserve:
    """A klend ``Reserve`` from its account data (size and discriminator checked)."""
    return build(Reserve, data, LAYOUT, size=SIZE, discriminator=DISCRIMINATOR, what=what)


def filters(lending_market: str) -> list[dict[str, Any]]:
    """``getProgramAccounts`` filters: the reserves of one lending market."""
    return [
        data_size(SIZE),
        memcmp(0, DISCRIMINATOR),
        memcmp(LENDING_MARKET_OFFSET, lending_market),
    ]

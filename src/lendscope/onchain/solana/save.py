"""Save (formerly Solend) ``Reserve`` accounts: one per asset of a lending market (pool).

Offsets: ``ReserveLayout`` of npm ``@solendprotocol/solend-sdk`` 0.14.27 (``state/reserve.js``,
``state/lastUpdate.js``, ``state/rateLimiter.js``), from the account's first byte; 619 bytes, no
discriminator (the first byte is the layout ``version``, 1). Amounts ending in ``_wads`` and
prices are WAD fixed point (x 10^18). Debt: ``liquidity.borrowed_amount_wads`` in token base
units, accrued to ``last_update_slot``. Price: ``liquidity.market_price``, in the lending
market's quote currency (USD for the main pool) per whole token, as of the last refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lendscope.chain.solana import data_size, memcmp
from lendscope.onchain.solana.layout import Field, build

SIZE = 619
WAD = 10**18
LENDING_MARKET_OFFSET = 10
RESERVE_VERSION = 1

LAYOUT = (
    Field("version", 0, "u8"),
    Field("last_update_slot", 1, "u64"),
    Field("last_update_stale", 9, "u8"),
    Field("lending_market", LENDING_MARKET_OFFSET, "pubkey"),
    Field("liquidity_mint", 42, "pubkey"),
    Field("liquidity_mint_decimals", 74, "u8"),
    Field("liquidity_supply", 75, "pubkey"),
    Field("pyth_oracle", 107, "pubkey"),
    Field("switchboard_oracle", 139, "pubkey"),
    Field("available_amount", 171, "u64"),
    Field("borrowed_amount_wads", 179, "u128"),
    Field("cumulative_borrow_rate_wads", 195, "u128"),
    Field("market_price", 211, "u128"),
    Field("collateral_mint", 227, "pubkey"),
    Field("collateral_mint_total_supply", 259, "u64"),
    Field("collateral_supply", 267, "pubkey"),
    Field("loan_to_value_ratio", 300, "u8"),
    Field("liquidation_threshold", 302, "u8"),
    Field("deposit_limit", 323, "u64"),
    Field("borrow_limit", 331, "u64"),
    Field("fee_receiver", 339, "pubkey"),
    Field("accumulated_protocol_fees_wads", 373, "u128"),
    Field("smoothed_market_price", 453, "u128"),
    Field("reserve_type", 469, "u8"),
    Field("scaled_price_offset_bps", 481, "i64"),
    Field("extra_oracle", 489, "pubkey"),
    Field("attributed_borrow_value", 538, "u128"),
)


@dataclass(frozen=True)
class Reserve:
    """The fields lendscope reads from a Save ``Reserve``."""

    version: int
    last_update_slot: int
    last_update_stale: int
    lending_market: str
    liquidity_mint: str
    liquidity_mint_decimals: int
    liquidity_supply: str
    pyth_oracle: str
    switchboard_oracle: str
    available_amount: int
    borrowed_amount_wads: int
    cumulative_borrow_rate_wads: int
    market_price: int
    collateral_mint: str
    collateral_mint_total_supply: int
    collateral_supply: str
    loan_to_value_ratio: int
    liquidation_threshold: int
    deposit_limit: int
    borrow_limit: int
    fee_receiver: str
    accumulated_protocol_fees_wads: int
    smoothed_market_price: int
    reserve_type: int
    scaled_price_offset_bps: int
    extra_oracle: str
    attributed_borrow_value: int

    @property
    def borrowed(self) -> Fraction:
        """Borrowed amount in token base units, exact."""
        return Fraction(self.borrowed_amount_wads, WAD)

    @property
    def debt_raw(self) -> int:
        """Borrowed amount in whole base units (the fraction of a unit dropped)."""
        return self.borrowed_amount_wads // WAD


def decode(data: bytes, what: str = "Save Reserve") -> Reserve:
    """A Save ``Reserve`` from its account data (size checked)."""
    return build(Reserve, data, LAYOUT, size=SIZE, what=what)


def filters(lending_market: str) -> list[dict[str, Any]]:
    """``getProgramAccounts`` filters: the reserves of one lending market."""
    return [data_size(SIZE), memcmp(LENDING_MARKET_OFFSET, lending_market)]

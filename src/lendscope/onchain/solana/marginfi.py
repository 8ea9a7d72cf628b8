"""marginfi v2 ``Bank`` accounts: one per asset of a marginfi group.

Offsets: the ``Bank`` type of the marginfi IDL 0.1.7 shipped in npm
``@mrgnlabs/marginfi-client-v2`` 6.4.2 (``dist/idl/marginfi_0.1.7.json``, the IDL the SDK decodes
with). ``Bank`` is a zero-copy ``repr(C)`` account (its padding fields are explicit in the IDL),
8-byte Anchor discriminator included, 1864 bytes; enums are one byte (variant index). Share
values and totals are I80F48 fixed point (an i128 with 48 fractional bits). Debt: total liability
shares x liability share value, in token base units, accrued to ``last_update``. Price:
``cache.last_oracle_price``, the USD price the program last used for the bank (an I80F48 as of
``cache.last_oracle_price_timestamp``; 0 where the program never stored one).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lendscope.chain.solana import data_size, memcmp
from lendscope.onchain.solana.layout import I80F48_ONE, Field, build, i80f48

DISCRIMINATOR = bytes([142, 49, 166, 242, 50, 66, 97, 188])  # sha256("account:Bank")[:8] (the IDL)
SIZE = 1864
GROUP_OFFSET = 41
OPERATIONAL_STATES = ("Paused", "Operational", "ReduceOnly", "KilledByBankruptcy")
ORACLE_SETUPS = (
    "None",
    "PythLegacy",
    "SwitchboardV2",
    "PythPushOracle",
    "SwitchboardPull",
    "StakedWithPythPush",
    "KaminoPythPush",
    "KaminoSwitchboardPull",
    "Fixed",
    "DriftPythPull",
    "DriftSwitchboardPull",
    "SolendPythPull",
    "SolendSwitchboardPull",
)
RISK_TIERS = ("Collateral", "Isolated")

LAYOUT = (
    Field("mint", 8, "pubkey"),
    Field("mint_decimals", 40, "u8"),
    Field("group", GROUP_OFFSET, "pubkey"),
    Field("asset_share_value", 80, "i128"),
    Field("liability_share_value", 96, "i128"),
    Field("liquidity_vault", 112, "pubkey"),
    Field("insurance_vault", 146, "pubkey"),
    Field("collected_insurance_fees_outstanding", 184, "i128"),
    Field("fee_vault", 200, "pubkey"),
    Field("collected_group_fees_outstanding", 240, "i128"),
    Field("total_liability_shares", 256, "i128"),
    Field("total_asset_shares", 272, "i128"),
    Field("last_update", 288, "i64"),
    Field("deposit_limit", 360, "u64"),
    Field("operational_state", 608, "u8"),
    Field("oracle_setup", 609, "u8"),
    Field("oracle_keys", 610, "pubkeys", 5),
    Field("borrow_limit", 776, "u64"),
    Field("risk_tier", 784, "u8"),
    Field("asset_tag", 785, "u8"),
    Field("flags", 840, "u64"),
    Field("collected_program_fees_outstanding", 904, "i128"),
    Field("last_oracle_price", 1408, "i128"),
    Field("last_oracle_price_timestamp", 1424, "i64"),
    Field("lending_position_count", 1536, "i32"),
    Field("borrowing_position_count", 1540, "i32"),
)


@dataclass(frozen=True)
class Bank:
    """The fields lendscope reads from a marginfi ``Bank``; I80F48 fields as their i128 bits."""

    mint: str
    mint_decimals: int
    group: str
    asset_share_value: int
    liability_share_value: int
    liquidity_vault: str
    insurance_vault: str
    collected_insurance_fees_outstanding: int
    fee_vault: str
    collected_group_fees_outstanding: int
    total_liability_shares: int
    total_asset_shares: int
    last_update: int
    deposit_limit: int
    operational_state: int
    oracle_setup: int
    oracle_keys: tuple[str, ...]
    borrow_limit: int
    risk_tier: int
    asset_tag: int
    flags: int
    collected_program_fees_outstanding: int
    last_oracle_price: int
    last_oracle_price_timestamp: int
    lending_position_count: int
    borrowing_position_count: int

    @property
    def liabilities(self) -> Fraction:
        """Total liabilities in token base units, exact (shares x share value)."""
        return i80f48(self.total_liability_shares) * i80f48(self.liability_share_value)

    @property
    def assets(self) -> Fraction:
        """Total deposits in token base units, exact."""
        return i80f48(self.total_asset_shares) * i80f48(self.asset_share_value)

    @property
    def debt_raw(self) -> int:
        """Liabilities in whole base units (the fraction of a unit dropped)."""
        return (self.total_liability_shares * self.liability_share_value) // I80F48_ONE**2

    @property
    def price(self) -> Fraction | None:
        """USD per whole token the program last used, or ``None`` where it stored none."""
        return i80f48(self.last_oracle_price) if self.last_oracle_price > 0 else None

    @property
    def state_name(self) -> str:
        """``Paused``, ``Operational``, ``ReduceOnly`` or ``KilledByBankruptcy``."""
        s = self.operational_state
        return OPERATIONAL_STATES[s] if s < len(OPERATIONAL_STATES) else str(s)


def decode(data: bytes, what: str = "marginfi Bank") -> Bank:
    """A marginfi ``Bank`` from its account data (size and discriminator checked)."""
    return build(Bank, data, LAYOUT, size=SIZE, discriminator=DISCRIMINATOR, what=what)


def filters(group: str) -> list[dict[str, Any]]:
    """``getProgramAccounts`` filters: the banks of one marginfi group."""
    return [data_size(SIZE), memcmp(0, DISCRIMINATOR), memcmp(GROUP_OFFSET, group)]

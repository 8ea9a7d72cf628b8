"""The protocols' own npm SDKs as encoders, through evm/solana_sdk.js (node).

Field paths map each lendscope field to the SDK's name for it; the SDK encodes the values a test
chooses, and reads them back with its own decoder, so both sides come from the SDK.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from typing import Any

import pytest

from lendscope.chain.solana import b58encode
from lendscope.core.settings import evm_dir
from lendscope.onchain.solana import kamino, marginfi, save
from lendscope.onchain.solana.layout import Field

HELPER = evm_dir() / "solana_sdk.js"
SDK_PACKAGES = (
    "@kamino-finance/klend-sdk",
    "@mrgnlabs/marginfi-client-v2",
    "@solendprotocol/solend-sdk",
)

KAMINO_PATHS = {
    "version": "version",
    "last_update_slot": "lastUpdate.slot",
    "last_update_stale": "lastUpdate.stale",
    "lending_market": "lendingMarket",
    "farm_collateral": "farmCollateral",
    "farm_debt": "farmDebt",
    "liquidity_mint": "liquidity.mintPubkey",
    "liquidity_supply_vault": "liquidity.supplyVault",
    "liquidity_fee_vault": "liquidity.feeVault",
    "total_available_amount": "liquidity.totalAvailableAmount",
    "borrowed_amount_sf": "liquidity.borrowedAmountSf",
    "market_price_sf": "liquidity.marketPriceSf",
    "market_price_last_updated_ts": "liquidity.marketPriceLastUpdatedTs",
    "mint_decimals": "liquidity.mintDecimals",
    "accumulated_protocol_fees_sf": "liquidity.accumulatedProtocolFeesSf",
    "accumulated_referrer_fees_sf": "liquidity.accumulatedReferrerFeesSf",
    "pending_referrer_fees_sf": "liquidity.pendingReferrerFeesSf",
    "token_program": "liquidity.tokenProgram",
    "collateral_mint": "collateral.mintPubkey",
    "collateral_mint_total_supply": "collateral.mintTotalSupply",
    "status": "config.status",
    "borrow_factor_pct": "config.borrowFactorPct",
    "deposit_limit": "config.depositLimit",
    "borrow_limit": "config.borrowLimit",
    "token_name": "config.tokenInfo.name",
}
# marginfi: the SDK decodes with the camelCase IDL its anchor Program builds; I80F48 fields are
# {value: [u8; 16]} (little-endian two's complement); enums are {variantName: {}}.
MARGINFI_PATHS = {
    "mint": "mint",
    "mint_decimals": "mintDecimals",
    "group": "group",
    "asset_share_value": "assetShareValue.value",
    "liability_share_value": "liabilityShareValue.value",
    "liquidity_vault": "liquidityVault",
    "insurance_vault": "insuranceVault",
    "collected_insurance_fees_outstanding": "collectedInsuranceFeesOutstanding.value",
    "fee_vault": "feeVault",
    "collected_group_fees_outstanding": "collectedGroupFeesOutstanding.value",
    "total_liability_shares": "totalLiabilityShares.value",
    "total_asset_shares": "totalAssetShares.value",
    "last_update": "lastUpdate",
    "deposit_limit": "config.depositLimit",
    "operational_state": "config.operationalState",
    "oracle_setup": "config.oracleSetup",
    "oracle_keys": "config.oracleKeys",  # five keys: config.oracleKeys.0 ... .4
    "borrow_limit": "config.borrowLimit",
    "risk_tier": "config.riskTier",
    "asset_tag": "config.assetTag",
    "flags": "flags",
    "collected_program_fees_outstanding": "collectedProgramFeesOutstanding.value",
    "last_oracle_price": "cache.lastOraclePrice.value",
    "last_oracle_price_timestamp": "cache.lastOraclePriceTimestamp",
    "lending_position_count": "lendingPositionCount",
    "borrowing_position_count": "borrowingPositionCount",
}
MARGINFI_ENUMS = {
    "operational_state": marginfi.OPERATIONAL_STATES,
    "oracle_setup": marginfi.ORACLE_SETUPS,
    "risk_tier": marginfi.RISK_TIERS,
}
SAVE_PATHS = {
    "version": "version",
    "last_update_slot": "lastUpdate.slot",
    "last_update_stale": "lastUpdate.stale",
    "lending_market": "lendingMarket",
    "liquidity_mint": "liquidityMintPubkey",
    "liquidity_mint_decimals": "liquidityMintDecimals",
    "liquidity_supply": "liquiditySupplyPubkey",
    "pyth_oracle": "liquidityPythOracle",
    "switchboard_oracle": "liquiditySwitchboardOracle",
    "available_amount": "liquidityAvailableAmount",
    "borrowed_amount_wads": "liquidityBorrowedAmountWads",
    "cumulative_borrow_rate_wads": "liquidityCumulativeBorrowRateWads",
    "market_price": "liquidityMarketPrice",
    "collateral_mint": "collateralMintPubkey",
    "collateral_mint_total_supply": "collateralMintTotalSupply",
    "collateral_supply": "collateralSupplyPubkey",
    "loan_to_value_ratio": "loanToValueRatio",
    "liquidation_threshold": "liquidationThreshold",
    "deposit_limit": "depositLimit",
    "borrow_limit": "borrowLimit",
    "fee_receiver": "feeReceiver",
    "accumulated_protocol_fees_wads": "accumulatedProtocolFeesWads",
    "smoothed_market_price": "liquiditySmoothedMarketPrice",
    "reserve_type": "reserveType",
    "scaled_price_offset_bps": "scaledPriceOffsetBPS",
    "extra_oracle": "extraOracle",
    "attributed_borrow_value": "attributedBorrowValue",
}
PROTOCOLS = {
    "kamino": (kamino, KAMINO_PATHS, {}),
    "marginfi": (marginfi, MARGINFI_PATHS, MARGINFI_ENUMS),
    "save": (save, SAVE_PATHS, {}),
}
_BITS = {
    "u8": (8, False),
    "u16": (16, False),
    "u32": (32, False),
    "i32": (32, True),
    "u64": (64, False),
    "i64": (64, True),
    "u128": (128, False),
    "i128": (128, True),
}


def require_sdks() -> None:
    """Fail (not skip) where node or the SDKs are missing: `make test` installs them."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed (scripts/system-deps.sh test installs it)")
    missing = [p for p in SDK_PACKAGES if not (evm_dir() / "node_modules" / p).exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `npm ci` in evm/ (make test does)")


def camel(name: str) -> str:
    """An IDL variant name as anchor's camelCase IDL spells it."""
    return name[0].lower() + name[1:]


def sdk_value(f: Field, value: Any, enums: dict[str, tuple[str, ...]]) -> Any:
    """A lendscope value in the helper's text form (what the SDK prints for that field)."""
    if f.name in enums:
        return camel(enums[f.name][value])
    if f.kind == "i128" and f.name != "attributed_borrow_value":
        return (value % 2**128).to_bytes(16, "little").hex()  # I80F48 bytes
    if f.kind == "bytes":
        return value.hex()
    if f.kind in ("pubkey", "pubkeys"):
        return value
    return str(value)


def paths_of(protocol: str) -> list[tuple[Field, str]]:
    """(field, SDK path) pairs; a ``pubkeys`` field expands to one path per key."""
    mod, paths, _ = PROTOCOLS[protocol]
    return [(f, paths[f.name]) for f in mod.LAYOUT]


def encode_request(protocol: str, values: dict[str, Any]) -> dict[str, Any]:
    """The helper's ``{set, get}`` for one account with lendscope-named ``values``."""
    _, _, enums = PROTOCOLS[protocol]
    set_: dict[str, Any] = {}
    get: list[str] = []
    for f, path in paths_of(protocol):
        if f.kind == "pubkeys":
            for i, key in enumerate(values[f.name]):
                set_[f"{path}.{i}"] = key
                get.append(f"{path}.{i}")
            continue
        set_[path] = sdk_value(f, values[f.name], enums)
        get.append(path)
    return {"set": set_, "get": get}


def random_value(rng: random.Random, f: Field, enums: dict[str, tuple[str, ...]], edge: str = ""):
    """A random value for ``f`` (``edge``: ``min`` or ``max`` of its range)."""
    if f.name in enums:
        n = len(enums[f.name])
        return {"min": 0, "max": n - 1}.get(edge, rng.randrange(n))
    if f.kind in _BITS:
        bits, signed = _BITS[f.kind]
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        if edge:
            return lo if edge == "min" else hi
        return rng.choice([rng.randint(lo, hi), rng.randint(0, min(hi, 10 ** rng.randint(1, 30)))])
    if f.kind == "pubkey":
        return b58encode(bytes(32) if edge == "min" else rng.randbytes(32))
    if f.kind == "pubkeys":
        return tuple(b58encode(rng.randbytes(32)) for _ in range(f.count))
    if f.kind == "bytes":
        if edge:
            return bytes(f.count) if edge == "min" else b"\xff" * f.count
        name = rng.choice([b"USDC", b"SOL", b"JitoSOL", b"PYUSD", rng.randbytes(f.count)])
        return name.ljust(f.count, b"\0")[: f.count]
    raise AssertionError(f.kind)


def run_helper(request: dict[str, Any]) -> dict[str, Any]:
    """Send ``request`` to evm/solana_sdk.js and return its JSON answer."""
    require_sdks()
    proc = subprocess.run(
        ["node", str(HELPER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=evm_dir(),
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"solana_sdk.js failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)

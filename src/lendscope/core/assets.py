"""The assets the risk engine and the on-chain reader know, and what each is pegged to."""

from __future__ import annotations

#: The one list of assets; kernels index prices by position in this tuple.
ASSETS: tuple[str, ...] = (
    "BTC", "ETH", "stETH", "wstETH", "WBTC", "USDC", "USDT", "DAI",
    "UST", "LUNA", "GBTC", "SOL", "miner_collateral", "alt", "FTT", "CEL",
)  # fmt: skip
#: What a depeg is measured against (None = the US dollar).
PEGS: dict[str, str | None] = {
    "stETH": "ETH", "wstETH": "ETH", "WBTC": "BTC", "GBTC": "BTC",
    "USDC": None, "USDT": None, "DAI": None, "UST": None,
}  # fmt: skip

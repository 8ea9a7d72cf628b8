"""Symbols of a few SPL token mints, for rows whose account stores no name (marginfi, Save).

wSOL and USDC: npm ``@mrgnlabs/mrgn-common`` 2.0.7 ``dist/constants/token.consts.js``
(``WSOL_MINT``, ``USDC_MINT``); USDT: Tether's list of supported protocols
(https://tether.to/en/supported-protocols/). Other mints show their address only.
"""

from __future__ import annotations

KNOWN_MINTS: dict[str, str] = {
    "So11111111111111111111111111111111111111112": "SOL",  # wrapped SOL (the native mint)
    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v": "USDC",
    "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB": "USDT",
}


def symbol(mint: str) -> str:
    """The symbol of a known mint, else ``''``."""
    return KNOWN_MINTS.get(mint, "")

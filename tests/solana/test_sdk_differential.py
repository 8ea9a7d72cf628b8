"""Differential: accounts encoded by each protocol's own npm SDK, decoded by lendscope.

Solana programs cannot run here, so the proof is the protocols' published encoders: for Kamino
Lend (``@kamino-finance/klend-sdk`` ``Reserve.layout``), marginfi (``@mrgnlabs/marginfi-client-v2``
``MARGINFI_IDL`` through the SDK's anchor ``BorshCoder``) and Save (``@solendprotocol/solend-sdk``
``ReserveLayout``), random and edge values are encoded by the SDK (evm/solana_sdk.js), decoded
by :mod:`lendscope.onchain.solana`, and every field lendscope reads is compared exactly with the
value chosen and with the SDK's own decoding; amounts are compared with the SDK's own
conversions (Kamino ``Fraction``, marginfi ``Bank`` / ``wrappedI80F48toBigNumber``, Save
``parseReserve``). No chain state is involved here; the sync tests use these accounts behind a
fake JSON-RPC server, the RPC transport being the only stand-in.
"""

from __future__ import annotations

import base64
import random
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from itertools import pairwise

import pytest

from lendscope.onchain.solana import kamino, marginfi, save
from lendscope.onchain.solana.layout import LayoutError, i80f48
from tests.solana.sdk import (
    PROTOCOLS,
    encode_request,
    paths_of,
    random_value,
    run_helper,
    sdk_value,
)

N_RANDOM = 40
MODULES = {"kamino": kamino, "marginfi": marginfi, "save": save}


def _cases(protocol: str, seed: int) -> list[dict]:
    mod, _, enums = PROTOCOLS[protocol]
    rng = random.Random(seed)
    cases = [
        {f.name: random_value(rng, f, enums, edge) for f in mod.LAYOUT} for edge in ("min", "max")
    ]
    cases += [{f.name: random_value(rng, f, enums) for f in mod.LAYOUT} for _ in range(N_RANDOM)]
    return cases


@pytest.fixture(scope="module")
def encoded() -> dict[str, tuple[list[dict], list[dict]]]:
    cases = {p: _cases(p, seed) for seed, p in enumerate(PROTOCOLS)}
    answer = run_helper({p: [encode_request(p, v) for v in vs] for p, vs in cases.items()})
    return {p: (cases[p], answer[p]) for p in PROTOCOLS}


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_every_field_matches_the_sdk(encoded, protocol):
    mod, _, enums = PROTOCOLS[protocol]
    cases, outs = encoded[protocol]
    assert len(cases) == N_RANDOM + 2
    for values, out in zip(cases, outs, strict=True):
        data = base64.b64decode(out["data"])
        assert len(data) == mod.SIZE == int(out["derived"]["size"])
        got = mod.decode(data)
        for f, path in paths_of(protocol):
            mine = getattr(got, f.name)
            assert mine == values[f.name], (protocol, f.name)  # the value chosen, exactly
            if f.kind == "pubkeys":
                sdk = tuple(out["sdk"][f"{path}.{i}"] for i in range(f.count))
                assert mine == sdk, (protocol, f.name)
            else:  # what the SDK's own decoder reads at that field
                assert sdk_value(f, mine, enums) == out["sdk"][path], (protocol, f.name)


def _round(x: Fraction, digits: int) -> Decimal:
    ctx = Context(prec=digits, rounding=ROUND_HALF_UP)
    return ctx.divide(Decimal(x.numerator), Decimal(x.denominator))


def test_kamino_amounts_match_the_sdk_fraction(encoded):
    # klend-sdk's Fraction.toDecimal() divides the 2^60 scaled fraction at 40 significant digits.
    for values, out in zip(*encoded["kamino"], strict=True):
        r = kamino.decode(base64.b64decode(out["data"]))
        assert r.borrowed == Fraction(values["borrowed_amount_sf"], 2**60)
        assert Decimal(out["derived"]["borrowed_amount"]) == _round(r.borrowed, 40)
        price = Fraction(r.market_price_sf, kamino.SF_ONE)
        assert Decimal(out["derived"]["market_price"]) == _round(price, 40)
        assert r.debt_raw == int(r.borrowed)


def test_marginfi_amounts_match_the_sdk_bank(encoded):
    # The SDK's Bank model: BigNumber shares x share value (exact); the helper raises decimal.js
    # precision so wrappedI80F48toBigNumber is exact too. That function reads a negative I80F48
    # as its ones' complement (one ulp toward zero), so signed checks take non-negative values.
    checked = 0
    for values, out in zip(*encoded["marginfi"], strict=True):
        b = marginfi.decode(base64.b64decode(out["data"]))
        d = out["derived"]
        assert int(d["mint_decimals"]) == b.mint_decimals
        raw = (
            b.total_liability_shares,
            b.liability_share_value,
            b.total_asset_shares,
            b.asset_share_value,
            b.last_oracle_price,
        )
        if min(raw) < 0:
            continue
        checked += 1
        assert Fraction(d["total_liability_shares"]) == i80f48(values["total_liability_shares"])
        assert Fraction(d["liability_share_value"]) == i80f48(values["liability_share_value"])
        assert Fraction(d["total_liability_quantity"]) == b.liabilities
        assert Fraction(d["total_asset_quantity"]) == b.assets
        assert Fraction(d["last_oracle_price"]) == i80f48(b.last_oracle_price)
        assert b.debt_raw == int(b.liabilities)
    assert checked >= 5


def test_save_amounts_match_parse_reserve(encoded):
    for _values, out in zip(*encoded["save"], strict=True):
        r = save.decode(base64.b64decode(out["data"]))
        d = out["derived"]
        assert d["liquidity.mintPubkey"] == r.liquidity_mint
        assert int(d["liquidity.mintDecimals"]) == r.liquidity_mint_decimals
        assert int(d["liquidity.borrowedAmountWads"]) == r.borrowed_amount_wads
        assert int(d["liquidity.marketPrice"]) == r.market_price
        assert d["lendingMarket"] == r.lending_market
        assert r.debt_raw == r.borrowed_amount_wads // 10**18


def test_decoders_refuse_other_accounts(encoded):
    k = base64.b64decode(encoded["kamino"][1][0]["data"])
    m = base64.b64decode(encoded["marginfi"][1][0]["data"])
    with pytest.raises(LayoutError, match="discriminator"):
        kamino.decode(bytes(8) + k[8:])
    with pytest.raises(LayoutError, match="bytes, expected 1864"):
        marginfi.decode(k)
    with pytest.raises(LayoutError, match="bytes, expected 619"):
        save.decode(m)


def test_layouts_name_every_dataclass_field():
    for mod in MODULES.values():
        names = [f.name for f in mod.LAYOUT]
        assert len(names) == len(set(names))
        ends = sorted((f.offset, f.offset + f.size) for f in mod.LAYOUT)
        assert all(a[1] <= b[0] for a, b in pairwise(ends))  # no overlap
        assert ends[-1][1] <= mod.SIZE

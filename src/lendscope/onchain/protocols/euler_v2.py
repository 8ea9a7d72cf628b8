"""Euler v2 (Euler Vault Kit): every EVault a GenericFactory created, debt = ``totalBorrows()``.

Sources (euler-xyz/euler-vault-kit): vaults are ``GenericFactory.getProxyListSlice(0,
type(uint256).max)`` (src/GenericFactory/GenericFactory.sol: ``end == max`` means the whole
list); debt is ``EVault.totalBorrows()`` (src/EVault/modules/Borrowing.sol), which calls
``loadVault()`` (src/EVault/shared/Cache.sol) and so accrues interest to the block; amounts are in
the vault's ``asset()`` units, ``decimals()`` being the asset's.

Price: the registry's USD ``price_oracle`` (an AaveOracle-style ``getAssetPrice(asset)`` in
``BASE_CURRENCY_UNIT``), as for Morpho Blue: the factory is permissionless, so a vault's own
oracle is whatever its creator chose. Where that oracle is the only price, i.e. the vault's
``unitOfAccount()`` is USD (``address(840)``, 18 decimals: euler-xyz/euler-price-oracle
docs/whitepaper.md) and its ``oracle().getQuote(10**decimals, asset, USD)`` answers, the row
shows that price but is not counted unless ``count_vault_oracle = true``. Vaults whose unit of
account is not USD and whose asset the USD oracle cannot price are left unpriced.

Vaults with no debt are left out of the rows. Registry addresses: ``factory`` (eVaultFactory),
``price_oracle``. Three rounds of batched calls: vault list; per vault asset, totalBorrows,
decimals, unitOfAccount, oracle; per indebted vault symbol and prices.
"""

from __future__ import annotations

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import MarketRow, Snapshot, symbol_of
from lendscope.onchain.registry import Deployment

VERSION = "1"
#: ``address(840)``: Euler's USD unit of account (ISO 4217 code 840), 18 decimals.
USD = "0x0000000000000000000000000000000000000348"
USD_UNIT = 10**18
ALL = 2**256 - 1
PER_VAULT = (
    ("asset()", ("address",)),
    ("totalBorrows()", ("uint256",)),
    ("decimals()", ("uint8",)),
    ("unitOfAccount()", ("address",)),
    ("oracle()", ("address",)),
)


def vaults(reader: Reader, dep: Deployment, block: int) -> list[str]:
    """Every proxy the factory created up to ``block``, in creation order."""
    (got,) = reader.read(
        block,
        [Call(dep.addr("factory"), "getProxyListSlice(uint256,uint256)", (0, ALL), ("address[]",))],
    )
    if got is None:
        raise RuntimeError(f"{dep.id}: getProxyListSlice failed at block {block}")
    return [a.lower() for a in got[0]]


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Every indebted vault's ``totalBorrows()`` valued with the USD oracle's asset price."""
    oracle, orl = dep.addr("price_oracle"), dep.label("price_oracle")
    vs = vaults(reader, dep, block)
    r2 = reader.read(
        block,
        [Call(oracle, "BASE_CURRENCY_UNIT()", label=orl)]
        + [Call(v, sig, out=out, label="EVault") for v in vs for sig, out in PER_VAULT],
    )
    unit = int(r2[0][0]) if r2[0] else 10**8
    n = len(PER_VAULT)
    state = {}
    for i, v in enumerate(vs):
        got = r2[1 + n * i : 1 + n * (i + 1)]
        if any(x is None for x in got[:3]):
            state[v] = None  # not an EVault answering the views: shown, not counted
            continue
        asset, debt, dec, uoa, vo = (x[0] if x else None for x in got)
        if int(debt):
            state[v] = (asset.lower(), int(debt), int(dec), (uoa or "").lower(), (vo or "").lower())
    calls, where = [], {}
    for v, s in state.items():
        if s is None:
            continue
        asset, _, dec, uoa, vo = s
        where[v] = len(calls)
        calls += [
            Call(asset, "symbol()", out=("string",)),
            Call(oracle, "getAssetPrice(address)", (asset,), label=orl),
        ]
        if uoa == USD and int(vo, 16):
            calls.append(Call(vo, "getQuote(uint256,address,address)", (10**dec, asset, USD)))
    r3 = reader.read(block, calls)
    trust = bool(dep.config.get("count_vault_oracle", False))
    rows = []
    for v, s in state.items():
        if s is None:
            rows.append(_failed(v, orl))
            continue
        asset, debt, dec, uoa, vo = s
        k = where[v]
        sym, price = r3[k], r3[k + 1]
        quote = r3[k + 2] if uoa == USD and int(vo, 16) else None
        p = int(price[0]) if price and price[0] else None
        row = dict(price_raw=p, price_unit=unit, price_source=f"{orl}.getAssetPrice(asset)")
        counted, note = p is not None, ""
        if p is None and quote and quote[0]:
            row = dict(
                price_raw=int(quote[0]),
                price_unit=USD_UNIT,
                price_source="EVault.oracle().getQuote(1 asset, asset, USD)",
            )
            counted = trust
            note = "" if trust else "priced only by the vault's own oracle (creator-chosen)"
        elif p is None:
            note = "asset has no USD oracle price" + (
                "" if uoa == USD else f" (unit of account {uoa} is not USD)"
            )
        rows.append(
            MarketRow(
                market=v,
                asset=asset,
                symbol=symbol_of(sym),
                decimals=dec,
                debt_raw=debt,
                contract=v,
                call="EVault.totalBorrows()",
                counted=counted,
                note=note,
                **row,
            )
        )
    return Snapshot(
        dep,
        block,
        VERSION,
        dep.addr("factory"),
        "sum over GenericFactory vaults of EVault.totalBorrows() x USD price of asset()",
        f"{orl}.getAssetPrice(asset)",
        rows,
    )


def _failed(vault: str, orl: str) -> MarketRow:
    return MarketRow(
        market=vault,
        asset="",
        symbol="",
        decimals=18,
        debt_raw=0,
        price_raw=None,
        price_unit=1,
        contract=vault,
        call="EVault.totalBorrows()",
        price_source=f"{orl}.getAssetPrice(asset)",
        counted=False,
        note="EVault views (asset, totalBorrows, decimals) failed at this block",
    )

"""Morpho Blue borrowers at a block: positions, markets accrued to the block, oracle prices.

Health is ``Morpho._isHealthy`` (morpho-org/morpho-blue v1.0.0 ``src/Morpho.sol``): collateral
x ``IOracle.price()`` / 1e36 x LLTV against borrow shares converted up. ``Morpho.market(id)``
holds totals as of the market's last accrual, so the reader accrues them to the block's
timestamp with the IRM's ``borrowRateView(marketParams, market)`` and the exact port of
``_accrueInterest`` (:func:`lendscope.mechanics.morpho_blue.market.accrue_interest`), as
``liquidate`` does before its health check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lendscope.chain.blocks import block_timestamps
from lendscope.mechanics.morpho_blue.market import (
    Market,
    Position,
    accrue_interest,
    borrowed_assets,
    health_factor,
)
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import morpho_blue, symbol_of
from lendscope.onchain.registry import Deployment

MARKET = ("uint128",) * 6
PARAMS_T = "(address,address,address,address,uint256)"
MARKET_T = "(uint128,uint128,uint128,uint128,uint128,uint128)"
ZERO = "0x" + "00" * 20


@dataclass(frozen=True)
class Token:
    """A token's decimals, symbol and USD price (``price_oracle`` units; 0 = no price)."""

    decimals: int
    symbol: str
    usd: float


@dataclass(frozen=True)
class MorphoAccount:
    """One borrower in one market, with the market accrued to the block."""

    market_id: str
    user: str
    position: Position
    market: Market
    lltv: int
    price: int  # the market oracle's price(), scaled by 1e36 and the decimals gap
    loan: Token
    collateral: Token

    @property
    def debt(self) -> int:
        """Borrowed assets rounded up, as the health check converts them."""
        return borrowed_assets(self.position, self.market)

    @property
    def health_factor(self) -> int:
        """Wad health factor by the exact port (1e18 is the ``_isHealthy`` edge)."""
        return health_factor(self.position, self.market, self.lltv, self.price)


def read_accounts(
    reader: Reader, dep: Deployment, block: int, owners: list[str] | None = None
) -> list[MorphoAccount]:
    """Borrowers (from ``Borrow`` logs, or ``owners``) with debt or collateral at ``block``."""
    markets = morpho_blue.discover(reader, dep, block)
    if owners is None:
        who = morpho_blue.borrowers(reader, dep, block)
    else:
        who = {m: {o.lower() for o in owners} for m in markets}
    morpho, usd = dep.addr("morpho"), dep.addr("price_oracle")
    mids = list(markets)
    tokens = sorted({t for m in markets.values() for t in m[:2]})
    calls = [Call(usd, "BASE_CURRENCY_UNIT()", label=dep.label("price_oracle"))]
    for m in mids:
        oracle = markets[m][2]
        calls += [
            Call(morpho, "market(bytes32)", (bytes.fromhex(m[2:]),), MARKET, "Morpho"),
            Call(oracle, "price()", label=f"oracle of market {m[:10]}"),
        ]
    for t in tokens:
        calls += [
            Call(t, "decimals()", out=("uint8",)),
            Call(t, "symbol()", out=("string",)),
            Call(usd, "getAssetPrice(address)", (t,)),
        ]
    got = reader.read(block, calls)
    unit = int(got[0][0]) if got[0] else 10**8
    info: dict[str, Token] = {}
    k0 = 1 + 2 * len(mids)
    for i, t in enumerate(tokens):
        dec, sym, price = got[k0 + 3 * i : k0 + 3 * i + 3]
        if dec is None:
            raise RuntimeError(f"{dep.id}: {t}.decimals() failed at block {block}")
        info[t] = Token(int(dec[0]), symbol_of(sym), int(price[0]) / unit if price else 0.0)
    state: dict[str, tuple[Market, int]] = {}
    for i, m in enumerate(mids):
        mk, px = got[1 + 2 * i], got[2 + 2 * i]
        if mk is None:
            raise RuntimeError(f"{dep.id}: Morpho.market({m}) failed at block {block}")
        state[m] = (Market(*(int(x) for x in mk)), int(px[0]) if px else 0)
    _accrue(reader, dep, block, markets, state)
    pairs = [(m, u) for m in mids for u in sorted(who.get(m, ()))]
    got = reader.read(
        block,
        [
            Call(morpho, "position(bytes32,address)", (bytes.fromhex(m[2:]), u),
                 ("uint256", "uint128", "uint128"), "Morpho")
            for m, u in pairs
        ],
    )  # fmt: skip
    out = []
    for (m, u), pos in zip(pairs, got, strict=True):
        if pos is None:
            raise RuntimeError(f"{dep.id}: Morpho.position({m}, {u}) failed at block {block}")
        p = Position(int(pos[0]), int(pos[1]), int(pos[2]))
        if not p.borrow_shares:
            continue
        loan, coll, _o, _irm, lltv = markets[m]
        mk, price = state[m]
        out.append(MorphoAccount(m, u, p, mk, int(lltv), price, info[loan], info[coll]))
    return out


def _accrue(
    reader: Reader, dep: Deployment, block: int, markets: dict, state: dict[str, tuple]
) -> None:
    """Accrue every market with an IRM to the block's timestamp (in place)."""
    (now,) = block_timestamps(reader.client, [block]).values()
    todo = [m for m in markets if markets[m][3] != ZERO and state[m][0].last_update < now]
    calls = []
    for m in todo:
        mk = state[m][0]
        params = tuple(markets[m])
        totals = (mk.total_supply_assets, mk.total_supply_shares, mk.total_borrow_assets,
                  mk.total_borrow_shares, mk.last_update, mk.fee)  # fmt: skip
        calls.append(
            Call(markets[m][3], f"borrowRateView({PARAMS_T},{MARKET_T})", (params, totals),
                 ("uint256",), f"IRM of market {m[:10]}")
        )  # fmt: skip
    for m, rate in zip(todo, reader.read(block, calls) if calls else [], strict=True):
        if rate is None:
            raise RuntimeError(f"{dep.id}: IRM borrowRateView for {m} failed at block {block}")
        mk = replace(state[m][0])
        accrue_interest(mk, int(rate[0]), now)
        state[m] = (mk, state[m][1])

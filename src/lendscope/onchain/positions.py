"""``lendscope positions``: every borrower's collateral and debt at a block, as a risk book.

Output is the DeFi positions CSV of ``docs/books.md``. Borrowers come from ``Borrow`` logs.
A book row holds one collateral and one debt asset, so an account with several of either is
split pairwise in proportion to USD value: the rows of an account add up to its collateral and
its debt exactly (in token units), and each row keeps the account's leverage.
"""

from __future__ import annotations

import csv
from pathlib import Path

from eth_utils import keccak

from lendscope.chain import get_logs
from lendscope.core.assets import ASSETS
from lendscope.mechanics.morpho_blue import to_assets_up
from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import aave_v3, morpho_blue, symbol_of
from lendscope.onchain.registry import Deployment

COLUMNS = (
    "position_id", "owner", "platform", "protocol", "collateral_asset", "collateral_amount",
    "debt_asset", "debt_amount", "liquidation_threshold", "bonus", "collateral_price_usd",
    "debt_price_usd",
)  # fmt: skip
AAVE_BORROW = (
    "0x" + keccak(text="Borrow(address,address,address,uint256,uint8,uint256,uint16)").hex()
)
_ALIASES = {"WETH": "ETH", "ETH": "ETH", "WBTC": "WBTC", "cbBTC": "BTC", "tBTC": "BTC"}


def book_asset(symbol: str) -> str:
    """The risk engine's asset name for a token symbol (unknown tokens are ``alt``)."""
    return _ALIASES.get(symbol, symbol if symbol in ASSETS else "alt")


def _split(owner: str, coll: list[tuple], debt: list[tuple], base: dict) -> list[dict]:
    """Pairwise rows; coll/debt items are (asset, amount, price_usd, lt, bonus)."""
    cu = sum(a * p for _, a, p, *_ in coll) or 1.0
    du = sum(a * p for _, a, p, *_ in debt) or 1.0
    rows = []
    for ca, camt, cp, lt, bonus in coll:
        for da, damt, dp, *_ in debt:
            rows.append(
                {
                    **base,
                    "position_id": f"{base['platform']}:{owner}:{ca}:{da}",
                    "owner": owner,
                    "collateral_asset": book_asset(ca),
                    "collateral_amount": camt * (damt * dp / du),
                    "debt_asset": book_asset(da),
                    "debt_amount": damt * (camt * cp / cu),
                    "liquidation_threshold": lt,
                    "bonus": bonus,
                    "collateral_price_usd": cp,
                    "debt_price_usd": dp,
                }
            )
    return rows


def _logs(reader: Reader, dep: Deployment, address: str, topic: str, block: int) -> list[dict]:
    """Logs from ``start_block`` to ``block`` in adaptive ranges (``log_chunk`` to begin)."""
    start = int(dep.config.get("start_block", 0))
    chunk = int(dep.config.get("log_chunk", 0) or 0)
    return get_logs(reader.client, address, [topic], start, block, initial_range=chunk)


def aave_positions(reader: Reader, dep: Deployment, block: int) -> list[dict]:
    """Aave v3 accounts with debt: aToken collateral and variable debt per reserve."""
    logs = _logs(reader, dep, dep.addr("pool"), AAVE_BORROW, block)
    users = sorted({"0x" + lg["topics"][2][-40:] for lg in logs})
    snap = aave_v3.snapshot(reader, dep, block)
    res = {r.asset: r for r in snap.rows}
    conf = reader.read(
        block,
        [
            Call(
                dep.addr("data_provider"),
                "getReserveConfigurationData(address)",
                (a,),
                aave_v3.CONFIG_DATA,
            )
            for a in res
        ],
    )
    params = {
        a: (int(c[2]) / 1e4, int(c[3]) / 1e4 - 1) for a, c in zip(res, conf, strict=True) if c
    }
    rows = []
    for u, held in aave_v3.user_reserves(reader, dep, block, users).items():
        coll, debt = [], []
        for a, (supplied, owed) in held.items():
            r = res[a]
            price = (r.price_raw or 0) / r.price_unit
            scale = 10**r.decimals
            if supplied and params[a][0] > 0:
                coll.append((r.symbol, supplied / scale, price, *params[a]))
            if owed:
                debt.append((r.symbol, owed / scale, price, 0, 0))
        if debt and coll:
            rows += _split(u, coll, debt, {"platform": dep.platform, "protocol": "aave_v3"})
    return rows


def morpho_positions(reader: Reader, dep: Deployment, block: int) -> list[dict]:
    """Morpho Blue borrowers: collateral and borrowed assets (shares rounded up) per market."""
    markets = morpho_blue.discover(reader, dep, block)
    who = morpho_blue.borrowers(reader, dep, block)
    morpho, oracle = dep.addr("morpho"), dep.addr("price_oracle")
    tokens = sorted({t for m in markets.values() for t in m[:2]})
    pairs = [(m, u) for m in markets for u in sorted(who.get(m, ()))]
    calls = [Call(oracle, "BASE_CURRENCY_UNIT()")]
    calls += [
        Call(morpho, "market(bytes32)", (bytes.fromhex(m[2:]),), ("uint128",) * 6) for m in markets
    ]
    calls += [c for t in tokens for c in (
        Call(t, "decimals()", out=("uint8",)), Call(t, "symbol()", out=("string",)),
        Call(oracle, "getAssetPrice(address)", (t,)))]  # fmt: skip
    calls += [
        Call(
            morpho,
            "position(bytes32,address)",
            (bytes.fromhex(m[2:]), u),
            ("uint256", "uint128", "uint128"),
        )
        for m, u in pairs
    ]
    res = reader.read(block, calls)
    unit = res[0][0] if res[0] else 10**8
    mk = dict(zip(markets, res[1 : 1 + len(markets)], strict=True))
    k = 1 + len(markets)
    info = {}
    for i, t in enumerate(tokens):
        dec, sym, price = res[k + 3 * i : k + 3 * i + 3]
        info[t] = (int(dec[0]), symbol_of(sym), (price[0] if price else 0) / unit)
    rows = []
    for (m, u), pos in zip(pairs, res[k + 3 * len(tokens) :], strict=True):
        if not pos or not pos[1]:
            continue
        loan, coll, _o, _i, lltv = markets[m]
        debt = to_assets_up(int(pos[1]), int(mk[m][2]), int(mk[m][3]))
        (ld, ls, lp), (cd, cs, cp) = info[loan], info[coll]
        rows += _split(
            u,
            [(cs, int(pos[2]) / 10**cd, cp, lltv / 1e18, 0.0)],
            [(ls, debt / 10**ld, lp, 0, 0)],
            {"platform": dep.platform, "protocol": "morpho_blue"},
        )
        rows[-1]["position_id"] = f"{dep.platform}:{m[:10]}:{u}"
    return rows


READERS = {"aave_v3": aave_positions, "morpho_blue": morpho_positions}


def read_positions(reader: Reader, dep: Deployment, block: int) -> list[dict]:
    """Position rows of one deployment (families with a position reader only)."""
    if dep.family not in READERS:
        raise ValueError(f"positions are read for {', '.join(READERS)} only, not {dep.family}")
    return READERS[dep.family](reader, dep, block)


def write_positions(rows: list[dict], out: Path) -> Path:
    """Write the DeFi positions CSV."""
    with Path(out).open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.12g}" if isinstance(v, float) else v) for k, v in r.items()})
    return Path(out)

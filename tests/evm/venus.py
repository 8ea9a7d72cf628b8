"""Deploy a Venus core pool (a Compound v2 fork) from npm artifacts on a local node.

Bytecode: the hardhat artifacts shipped in ``@venusprotocol/venus-protocol`` 5.2.0 (pinned in
evm/package.json), as deployed on BNB Chain: a ``Unitroller`` proxy whose implementation is
the ``Diamond`` with ``MarketFacet``, ``PolicyFacet``, ``RewardFacet`` and ``SetterFacet`` cut
in (each facet's functions that the Diamond does not itself define, first facet wins for the
shared ``FacetBase`` getters), ``ComptrollerLens``, ``VBep20Immutable`` markets,
``WhitePaperInterestRateModel``. Test helpers from the same package: ``FaucetToken``
underlyings, ``SimplePriceOracle`` (USD x 1e36 per smallest unit, as Venus' ResilientOracle)
and ``AccessControlManagerMock`` (allows its owner every governed setter).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_utils import function_signature_to_4byte_selector

from tests.evm.harness import NODE_MODULES

ART = NODE_MODULES / "@venusprotocol" / "venus-protocol" / "artifacts" / "contracts"
FACETS = ("MarketFacet", "PolicyFacet", "RewardFacet", "SetterFacet")
WAD = 10**18
#: (symbol, decimals, USD price per whole token) of the two test markets.
ASSETS = (("USDC", 6, 1), ("ETH", 18, 2_000))


@cache
def artifacts() -> dict[str, dict]:
    """Contract name -> artifact (abi, bytecode) for every non-debug artifact in the package."""
    out: dict[str, dict] = {}
    for f in sorted(ART.rglob("*.json")):
        if not f.name.endswith(".dbg.json"):
            out.setdefault(f.stem, json.loads(f.read_text()))
    return out


def _sig(fn: dict) -> str:
    def t(i: dict) -> str:
        if i["type"].startswith("tuple"):
            return "(" + ",".join(t(c) for c in i["components"]) + ")" + i["type"][5:]
        return i["type"]

    return f"{fn['name']}({','.join(t(i) for i in fn['inputs'])})"


def facet_cuts(addresses: dict[str, str]) -> list[tuple[str, int, list[bytes]]]:
    """``IDiamondCut.FacetCut`` (facet, Add, selectors) per facet, Diamond's own left out."""
    art = artifacts()
    taken = {_sig(f) for f in art["Diamond"]["abi"] if f["type"] == "function"}
    cuts = []
    for name in FACETS:
        sigs = [_sig(f) for f in art[name]["abi"] if f["type"] == "function"]
        mine = [s for s in dict.fromkeys(sigs) if s not in taken]
        taken.update(mine)
        cuts.append((addresses[name], 0, [function_signature_to_4byte_selector(s) for s in mine]))
    return cuts


@dataclass
class Pool:
    """A deployed pool: contracts by name, markets and their underlyings."""

    w3: Any
    admin: str
    c: dict[str, Any] = field(default_factory=dict)
    vtokens: list[Any] = field(default_factory=list)
    tokens: list[Any] = field(default_factory=list)

    def ok(self, fn: Any, frm: str | None = None, value: int = 0) -> Any:
        """Send, wait, and require success."""
        h = fn.transact({"from": frm or self.admin, "gas": 12_000_000, "value": value})
        r = self.w3.eth.wait_for_transaction_receipt(h, poll_latency=0.002)
        assert r.status == 1, r
        return r

    def deploy(self, name: str, *args: Any) -> Any:
        """Deploy artifact ``name`` with constructor ``args``."""
        a = artifacts()[name]
        r = self.ok(self.w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"]).constructor(*args))
        return self.w3.eth.contract(address=r.contractAddress, abi=a["abi"])

    @property
    def comptroller(self) -> Any:
        """The Unitroller address with the Diamond's and every facet's ABI."""
        art = artifacts()
        abi, seen = [], set()
        for n in ("Diamond", *FACETS):
            for f in art[n]["abi"]:
                key = _sig(f) if f["type"] == "function" else json.dumps(f, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    abi.append(f)
        return self.w3.eth.contract(address=self.c["Unitroller"].address, abi=abi)


def deploy(w3: Any) -> Pool:
    """Unitroller + Diamond + facets, lens, oracle, ACM, rate model and two markets."""
    admin = w3.eth.accounts[0]
    p = Pool(w3, admin)
    p.c["Unitroller"] = p.deploy("Unitroller")
    p.c["Diamond"] = p.deploy("Diamond")
    for f in FACETS:
        p.c[f] = p.deploy(f)
    p.ok(p.c["Unitroller"].functions._setPendingImplementation(p.c["Diamond"].address))
    p.ok(p.c["Diamond"].functions._become(p.c["Unitroller"].address))
    comp = p.comptroller
    p.ok(comp.functions.diamondCut(facet_cuts({f: p.c[f].address for f in FACETS})))
    p.c["ACM"] = p.deploy("AccessControlManagerMock", admin)
    p.c["Lens"] = p.deploy("ComptrollerLens")
    p.c["Oracle"] = p.deploy("SimplePriceOracle")
    p.ok(comp.functions._setAccessControl(p.c["ACM"].address))
    p.ok(comp.functions._setPriceOracle(p.c["Oracle"].address))
    p.ok(comp.functions._setComptrollerLens(p.c["Lens"].address))
    p.ok(comp.functions._setCloseFactor(WAD // 2))
    p.ok(comp.functions._setLiquidationIncentive(11 * WAD // 10))
    # 2% base + 30% x utilization a year, over WhitePaperInterestRateModel.blocksPerYear.
    irm = p.deploy("WhitePaperInterestRateModel", 2 * WAD // 100, 30 * WAD // 100)
    for sym, dec, usd in ASSETS:
        tok = p.deploy("FaucetToken", 0, sym, dec, sym)
        v = p.deploy("VBep20Immutable", tok.address, comp.address, irm.address,
                     2 * 10 ** (dec + 8), f"Venus {sym}", f"v{sym}", 8, admin)  # fmt: skip
        p.ok(comp.functions._supportMarket(v.address))
        p.ok(p.c["Oracle"].functions.setUnderlyingPrice(v.address, usd * 10 ** (36 - dec)))
        p.ok(comp.functions._setCollateralFactor(v.address, 8 * WAD // 10))
        p.tokens.append(tok)
        p.vtokens.append(v)
    addrs = [v.address for v in p.vtokens]
    p.ok(comp.functions._setMarketSupplyCaps(addrs, [2**255] * len(addrs)))
    p.ok(comp.functions._setMarketBorrowCaps(addrs, [2**255] * len(addrs)))
    return p


def supply(p: Pool, i: int, user: str, amount: int) -> None:
    """``user`` supplies ``amount`` of market ``i``'s underlying and enters the market."""
    p.ok(p.tokens[i].functions.allocateTo(user, amount))
    p.ok(p.tokens[i].functions.approve(p.vtokens[i].address, 2**256 - 1), frm=user)
    p.ok(p.vtokens[i].functions.mint(amount), frm=user)
    p.ok(p.comptroller.functions.enterMarkets([p.vtokens[i].address]), frm=user)


def borrow(p: Pool, i: int, user: str, amount: int) -> None:
    """``user`` borrows ``amount`` from market ``i``."""
    p.ok(p.vtokens[i].functions.borrow(amount), frm=user)

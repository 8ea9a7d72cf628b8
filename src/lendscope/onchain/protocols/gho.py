"""GHO: per facilitator ``GhoToken.getFacilitatorBucket(f)`` = (capacity, level).

Facilitators come from ``getFacilitatorsList()``; the registry classifies them in
``facilitators`` (address -> kind). Only kinds in ``count_kinds`` are counted (default: the
Aave facilitator, crypto-collateralised GHO). GSMs (USDC/USDT-backed) and unclassified
facilitators are stored but not counted. GHO minted by the Aave facilitator is also the GHO
reserve's debt in Aave v3; the Aave v3 registry entry excludes that reserve, so it counts once.
"""

from __future__ import annotations

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import PEG, MarketRow, Snapshot
from lendscope.onchain.registry import Deployment

VERSION = "1"


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Round 1: facilitator list; round 2: each bucket."""
    gho = dep.addr("gho")
    (lst,) = reader.read(block, [Call(gho, "getFacilitatorsList()", out=("address[]",))])
    if lst is None:
        raise RuntimeError(f"{dep.id}: getFacilitatorsList() failed at block {block}")
    facs = [a.lower() for a in lst[0]]
    res = reader.read(
        block,
        [Call(gho, "getFacilitatorBucket(address)", (a,), ("uint256", "uint256")) for a in facs],
    )
    kinds = {k.lower(): v for k, v in dep.config.get("facilitators", {}).items()}
    count = set(dep.config.get("count_kinds", ["aave"]))
    rows = []
    for a, r in zip(facs, res, strict=True):
        kind = kinds.get(a, "unclassified")
        why = "" if kind in count else f"{kind} facilitator not counted"
        if kind == "gsm":
            why = "GSM: backed by USDC/USDT, not crypto collateral"
        rows.append(
            MarketRow(
                a, gho.lower(), "GHO", 18, int(r[1]) if r else 0, 1, 1, gho.lower(),
                "GhoToken.getFacilitatorBucket(f).level", PEG, counted=kind in count, note=why,
            )
        )  # fmt: skip
    return Snapshot(
        dep, block, VERSION, gho.lower(), "sum over counted facilitators of bucket level", PEG, rows
    )

"""Maker / Sky Vat: crypto-collateralised DAI+USDS = Σ ``Vat.ilks(ilk).Art x rate`` over ilks.

Ilks come from ``IlkRegistry.list()``. Excluded by name prefix (config ``exclude_prefixes``):
PSM (stablecoin-backed), RWA (real-world assets), DIRECT (D3M lending modules) and ALLOCATOR
(allocator vaults); they are stored as rows with ``counted = false``. ``Art x rate`` is in rad
(45 decimals); the coin is valued at its 1 USD peg.
"""

from __future__ import annotations

from lendscope.onchain.abi import Call, Reader
from lendscope.onchain.protocols import PEG, MarketRow, Snapshot
from lendscope.onchain.registry import Deployment

VERSION = "1"
DEFAULT_EXCLUDE = ("PSM-", "LITE-PSM-", "RWA", "DIRECT-", "ALLOCATOR-")


def ilk_name(raw: bytes) -> str:
    """bytes32 ilk as text (``ETH-A``)."""
    return raw.rstrip(b"\0").decode(errors="replace")


def snapshot(reader: Reader, dep: Deployment, block: int) -> Snapshot:
    """Round 1: the ilk list; round 2: ``Vat.ilks`` for each."""
    vat, reg = dep.addr("vat"), dep.addr("ilk_registry")
    (ilks,) = reader.read(block, [Call(reg, "list()", out=("bytes32[]",), label="IlkRegistry")])
    if ilks is None:
        raise RuntimeError(f"{dep.id}: IlkRegistry.list() failed at block {block}")
    names = list(ilks[0])
    res = reader.read(
        block, [Call(vat, "ilks(bytes32)", (n,), ("uint256",) * 5, "Vat") for n in names]
    )
    excl = tuple(dep.config.get("exclude_prefixes", DEFAULT_EXCLUDE))
    dai = dep.addr("dai").lower()
    rows = []
    for n, r in zip(names, res, strict=True):
        name = ilk_name(n)
        art, rate = (int(r[0]), int(r[1])) if r else (0, 0)
        hit = next((p for p in excl if name.startswith(p)), None)
        rows.append(
            MarketRow(
                market=name,
                asset=dai,
                symbol=name,
                decimals=45,  # rad
                debt_raw=art * rate,
                price_raw=1,
                price_unit=1,
                contract=vat.lower(),
                call="Vat.ilks(ilk): Art x rate",
                price_source=PEG,
                counted=hit is None,
                note=f"excluded: {hit}* ilks are not crypto collateral" if hit else "",
            )
        )
    return Snapshot(
        dep, block, VERSION, vat.lower(), "sum over crypto ilks of Vat.ilks(ilk).Art x rate",
        PEG, rows,
    )  # fmt: skip

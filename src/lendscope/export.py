"""Exports of the dataset and the quarterly metrics (Parquet, CSV, JSON), and source counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lendscope.dataset.schema import SERIES
from lendscope.dataset.store import load_tables
from lendscope.metrics.summary import MarketMetrics

FLAT_KEYS = (
    "period",
    "vintage",
    "total_usd",
    "total_basis",
    "cefi_usd",
    "defi_usd",
    "cdp_usd",
    "total_ex_cdp_usd",
    "total_ex_cdp_basis",
    "defi_share_ex_cdp",
    "onchain_share",
    "cefi_top3_share",
    "cefi_top3_exact",
    "cefi_hhi",
    "cefi_hhi_max",
    "cefi_attributed_share",
    "overlap_usd",
    "total_adjusted_usd",
)


def quarterly_metrics(m: MarketMetrics) -> pa.Table:
    """One row per quarter: the flat metrics plus each series' drawdown, rebound and changes."""
    rows = []
    for p in m.periods():
        d = m.for_period(p)
        row: dict[str, Any] = {k: d[k] for k in FLAT_KEYS}
        for s in SERIES:
            ss = d["series"][s]
            for k in ("drawdown_from_peak", "rebound_from_trough", "qoq_change", "yoy_change"):
                row[f"{s}_{k}"] = ss[k]
        rows.append(row)
    return pa.Table.from_pylist(rows)


def export_all(db: Path | None, m: MarketMetrics, out: Path, fmt: str) -> list[Path]:
    """Write every dataset table and ``metrics_quarterly`` to ``out`` in ``fmt``."""
    out.mkdir(parents=True, exist_ok=True)
    tables = dict(load_tables(db))
    tables["metrics_quarterly"] = quarterly_metrics(m)
    written = []
    for name, t in tables.items():
        path = out / f"{name}.{fmt}"
        tmp = path.with_name(path.name + ".tmp")
        if fmt == "parquet":
            pq.write_table(t, tmp, compression="zstd")
        elif fmt == "csv":
            pacsv.write_csv(t, tmp)
        else:
            tmp.write_text(json.dumps(t.to_pylist(), indent=1, default=str) + "\n")
        tmp.replace(path)
        written.append(path)
    return written


def source_counts(db: Path | None) -> list[dict[str, Any]]:
    """Every source with how many figures (rows of any table) cite it, ordered by id."""
    from lendscope.dataset.store import connect
    from lendscope.metrics.queries import source_usage

    return source_usage(connect(db)).order_by("id").to_pyarrow().to_pylist()

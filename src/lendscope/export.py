"""Exports of the dataset and the quarterly metrics (Parquet, CSV, JSON), and source counts.

CSV files are opened in spreadsheets, which run a text cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula: a user-added note such as ``=HYPERLINK(...)``
would become a live link. So every such text cell of a CSV export is
prefixed with a single quote, which spreadsheets show as text (OWASP's advice). Numbers stay
numbers, and Parquet and JSON keep the text as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lendscope.dataset.schema import SERIES
from lendscope.dataset.store import load_tables
from lendscope.metrics.summary import MarketMetrics

#: A text cell a spreadsheet would read as a formula: its first character (RE2 syntax).
FORMULA_START = r"^([=+\-@\t\r])"

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
    "cefi_top3_coverage",
    "cefi_top3_max",
    "cefi_hhi",
    "cefi_hhi_max",
    "cefi_attributed_share",
    "overlap_usd",
    "total_adjusted_usd",
)

#: Per-series columns (``<series>_<key>``): the drawdown from the all-time high and the one from
#: the pre-fall peak (the high before the deepest fall, negative once above it) are distinct.
SERIES_KEYS = (
    "drawdown_from_ath",
    "drawdown_from_peak",
    "rebound_from_trough",
    "qoq_change",
    "yoy_change",
)


def quarterly_metrics(m: MarketMetrics) -> pa.Table:
    """One row per quarter: the flat metrics plus each series' drawdowns, rebound and changes."""
    rows = []
    for p in m.periods():
        d = m.for_period(p, detail=True)
        row: dict[str, Any] = {k: d[k] for k in FLAT_KEYS}
        for s in SERIES:
            ss = d["series"][s]
            for k in SERIES_KEYS:
                row[f"{s}_{k}"] = ss[k]
        rows.append(row)
    return pa.Table.from_pylist(rows)


def neutralise_formulas(t: pa.Table) -> pa.Table:
    """``t`` with a ``'`` before every text cell that starts like a formula (CSV exports)."""
    for i, f in enumerate(t.schema):
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            col = pc.replace_substring_regex(t.column(i), FORMULA_START, r"'\1")
            t = t.set_column(i, f, col)
    return t


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
            pacsv.write_csv(neutralise_formulas(t), tmp)
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

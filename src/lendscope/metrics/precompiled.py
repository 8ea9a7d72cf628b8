"""Metrics on DuckDB from SQL compiled ahead of time: the CLI's cold path imports no Ibis.

Users call the CLI cold every time, and importing Ibis and compiling the metric expressions cost
several times more than running them. So the DuckDB SQL of every metric query (the queries of
:func:`lendscope.metrics.queries.metric_queries`, the vintage left as a query parameter) ships
with the package in ``precompiled_duckdb.json``, beside the table schemas it was compiled for.
The test suite fails when the file differs from what the expressions compile to now, and
``python -m lendscope.metrics.precompiled`` rewrites it. Tables whose schemas differ from the
file's (a database built by another version) take the Ibis path instead.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from lendscope.core import settings
from lendscope.dataset.load import bundled_files, merge
from lendscope.dataset.schema import TABLES
from lendscope.metrics.summary import MarketMetrics

SNAPSHOT = Path(__file__).with_name("precompiled_duckdb.json")
#: DuckDB column types of the stored tables (as the Arrow schema of the store creates them).
DUCKDB_TYPES = {"str": "VARCHAR", "float": "DOUBLE", "int": "BIGINT", "date": "DATE",
                "period": "VARCHAR"}  # fmt: skip
PROVENANCE = [("origin", "VARCHAR"), ("origin_row", "BIGINT")]


@cache
def snapshot() -> dict[str, Any]:
    """The shipped queries: ``{"tables": {name: [[col, type]]}, "queries": {key: {...}}}``."""
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def stored_columns(name: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a stored table, provenance columns included."""
    return [(c.name, DUCKDB_TYPES[c.type]) for c in TABLES[name].columns] + PROVENANCE


def bundled_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding the bundled data in the stored schema."""
    files = bundled_files()
    con = duckdb.connect()
    for name, rows in merge(files).items():
        cols = stored_columns(name)
        ddl = ", ".join(f'"{c}" {t}' for c, t in cols)
        con.execute(f'CREATE TABLE "{name}" ({ddl})')
        names = [c.name for c in TABLES[name].columns]
        values = [[r.get(c) for c in names] + [r["_origin"], r["_row"]] for r in rows]
        if values:
            rows_sql = ", ".join("(" + ", ".join(map(_literal, r)) + ")" for r in values)
            con.execute(f'INSERT INTO "{name}" VALUES {rows_sql}')
    return con


def _literal(v: Any) -> str:
    """A validated cell as a DuckDB literal.

    Binding Python values through DuckDB's client API imports pandas (a third of a cold start),
    so the cold path writes SQL only: cells are str, float, int, date or None, and quotes in
    strings are doubled.
    """
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, date):
        return f"DATE '{v.isoformat()}'"
    if isinstance(v, bool):
        raise TypeError(f"unexpected boolean cell {v!r}")
    if isinstance(v, int | float) and math.isfinite(v):
        return repr(v)
    raise TypeError(f"cannot write {v!r} as a literal")


def table_schemas(con: duckdb.DuckDBPyConnection) -> dict[str, list[list[str]]]:
    """``{table: [[column, type], ...]}`` of the dataset tables on ``con``, in column order."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall()
    out: dict[str, list[list[str]]] = {}
    for table, column, kind in rows:
        if table in TABLES:
            out.setdefault(table, []).append([column, kind])
    return out


def _convert(kind: str, v: Any) -> Any:
    """A DuckDB value as the query's Ibis type gives it (a DuckDB sum may be a DECIMAL)."""
    if v is None:
        return None
    if kind.startswith("float"):
        return float(v)
    if kind.startswith(("int", "uint")):
        return int(v)
    return v


def run(con: duckdb.DuckDBPyConnection, vintage: date) -> dict[str, list[dict[str, Any]]]:
    """Rows of every metric query at ``vintage`` (the ``MarketMetrics`` fields)."""
    out = {}
    for key, q in snapshot()["queries"].items():
        # PREPARE/EXECUTE binds the vintage in SQL (the client API's binding imports pandas).
        con.execute(f"PREPARE metric_{key} AS {q['sql']}")
        args = ", ".join(f"{p} := DATE '{vintage.isoformat()}'" for p in q["params"])
        rel = con.execute(f"EXECUTE metric_{key}({args})" if args else f"EXECUTE metric_{key}")
        types = [t for _, t in q["columns"]]
        names = [c for c, _ in q["columns"]]
        out[key] = [
            {n: _convert(t, v) for n, t, v in zip(names, types, row, strict=True)}
            for row in rel.fetchall()
        ]
    return out


def compute(db: Path | None, vintage: date | None = None) -> MarketMetrics | None:
    """MarketMetrics from ``db`` (or the bundled data when it does not exist), or None.

    None means the tables' schemas are not those the shipped queries were compiled for; the
    caller then computes through Ibis.
    """
    db = Path(db) if db else settings.db_path()
    con = duckdb.connect(str(db), read_only=True) if db.exists() else bundled_connection()
    try:
        if table_schemas(con) != snapshot()["tables"]:
            return None
        sql = "SELECT min(published), max(published) FROM observations"
        first, last = con.execute(sql).fetchone()
        vintage = vintage or last
        return MarketMetrics(
            vintage=vintage,
            first_published=first,
            recompute=lambda v: compute(db, v),
            **run(con, vintage),
        )
    finally:
        con.close()


def _canonical(sql: str) -> str:
    """SQL with ``EXCLUDE`` lists sorted: Ibis writes them in set order, which varies by process."""
    return re.sub(
        r"EXCLUDE \(([^()]*)\)",
        lambda m: "EXCLUDE (" + ", ".join(sorted(m.group(1).split(", "))) + ")",
        sql,
    )


def generate() -> dict[str, Any]:
    """Compile every metric query for DuckDB from the Ibis expressions (needs Ibis)."""
    from lendscope.dataset.store import connect
    from lendscope.metrics.queries import metric_queries

    con = connect(Path("/nonexistent/lendscope.duckdb"))  # the bundled data, in memory
    queries = {
        k: {
            "sql": _canonical(q.sql),
            "params": sorted(q.params),
            "columns": [[c, str(t).lstrip("!")] for c, t in q.schema.items()],
        }
        for k, q in metric_queries(con).items()
    }
    return {"tables": table_schemas(con.con), "queries": queries}


def write() -> Path:
    """Rewrite the shipped file from the current expressions."""
    SNAPSHOT.write_text(json.dumps(generate(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return SNAPSHOT


if __name__ == "__main__":
    print(write())

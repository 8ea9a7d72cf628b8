"""The DuckDB store: bundled data plus validated user files, written atomically through Ibis."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from platformdirs import user_data_path

from lendscope.dataset.load import DatasetError, Row, TableFile, bundled_files, read_file
from lendscope.dataset.schema import TABLES, Table
from lendscope.dataset.validate import validate

BUNDLED = "bundled"
_ARROW = {
    "str": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "date": pa.date32(),
    "period": pa.string(),
}


def default_db_path() -> Path:
    """``$LENDSCOPE_DB`` or ``lendscope.duckdb`` in the user data directory."""
    env = os.environ.get("LENDSCOPE_DB")
    return Path(env) if env else user_data_path("lendscope") / "lendscope.duckdb"


def arrow_schema(table: Table) -> pa.Schema:
    """Arrow schema of a stored table: its columns plus where each row came from."""
    cols = [pa.field(c.name, _ARROW[c.type]) for c in table.columns]
    return pa.schema([*cols, pa.field("origin", pa.string()), pa.field("origin_row", pa.int64())])


def to_arrow(table: Table, rows: list[Row]) -> pa.Table:
    """Rows (as read and validated) to an Arrow table in the stored schema."""
    data: dict[str, list[Any]] = {c.name: [r.get(c.name) for r in rows] for c in table.columns}
    data["origin"] = [r["_origin"] for r in rows]
    data["origin_row"] = [r["_row"] for r in rows]
    return pa.table(data, schema=arrow_schema(table))


@dataclass
class BuildResult:
    """What a build wrote: rows per table and rows new in this build."""

    db: Path
    rows: dict[str, int]
    added: dict[str, int] = field(default_factory=dict)


def _stored_user_rows(db: Path) -> list[TableFile]:
    if not db.exists():
        return []
    con = ibis.duckdb.connect(str(db), read_only=True)
    try:
        out = []
        for name, table in TABLES.items():
            if name not in con.list_tables():
                continue
            t = con.table(name)
            recs = t.filter(t.origin != BUNDLED).to_pyarrow().to_pylist()
            for r in recs:
                r["_file"] = f"{db}:{r['origin']}"
                r["_row"] = r.pop("origin_row")
                r["_origin"] = r.pop("origin")
            out.append(TableFile(str(db), table, recs))
        return out
    finally:
        con.disconnect()


def collect(add: list[str | Path], db: Path | None) -> tuple[list[TableFile], set[str]]:
    """Bundled + previously added + new files, validated together; raises DatasetError."""
    files = bundled_files()
    for f in files:
        for r in f.rows:
            r["_origin"] = BUNDLED
    if db is not None:
        files += _stored_user_rows(db)
    paths = list(dict.fromkeys(str(Path(p)) for p in add))
    problems = []
    for p in paths:
        new, probs = read_file(p)
        problems += probs
        for f in new:
            for r in f.rows:
                r["_origin"] = str(Path(p).resolve())
        files += new
    problems += validate(files, set(paths))
    if problems:
        raise DatasetError(problems)
    return files, set(paths)


def merge(files: list[TableFile]) -> dict[str, list[Row]]:
    """Rows per table with exact repeats (same file loaded twice, or bundled rows) dropped."""
    out: dict[str, list[Row]] = {name: [] for name in TABLES}
    seen: dict[str, set] = {name: set() for name in TABLES}
    for f in files:
        names = f.table.names
        for r in f.rows:
            k = tuple(r.get(c) for c in names)
            if k not in seen[f.table.name]:
                seen[f.table.name].add(k)
                out[f.table.name].append(r)
    return out


def build(add: list[str | Path] = (), db: Path | None = None) -> BuildResult:
    """Validate everything, then write the database in one atomic file replace."""
    db = Path(db) if db else default_db_path()
    before = _count(db)
    files, _ = collect(list(add), db)
    tables = merge(files)
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = ibis.duckdb.connect(str(tmp))
        for name, rows in tables.items():
            con.create_table(name, to_arrow(TABLES[name], rows), overwrite=True)
        con.disconnect()
        os.replace(tmp, db)  # readers see the old or the new database, never a mix
    finally:
        tmp.unlink(missing_ok=True)
    rows = {n: len(r) for n, r in tables.items()}
    return BuildResult(db, rows, {n: rows[n] - before.get(n, 0) for n in rows})


def _count(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    con = ibis.duckdb.connect(str(db), read_only=True)
    try:
        return {n: int(con.table(n).count().execute()) for n in TABLES if n in con.list_tables()}
    finally:
        con.disconnect()


def load_tables(db: Path | None = None) -> dict[str, pa.Table]:
    """Arrow tables from ``db`` if it exists, else from the bundled data (validated)."""
    db = Path(db) if db else default_db_path()
    if db.exists():
        con = ibis.duckdb.connect(str(db), read_only=True)
        try:
            return {n: con.table(n).to_pyarrow() for n in TABLES}
        finally:
            con.disconnect()
    files, _ = collect([], None)
    return {n: to_arrow(TABLES[n], rows) for n, rows in merge(files).items()}


def spark_session(app: str = "lendscope"):  # pragma: no cover - exercised by spark tests
    """A local single-core Spark session with settings that keep runs repeatable."""
    import tempfile

    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(os.environ.get("LENDSCOPE_SPARK_MASTER", "local[1]"))
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="lendscope-spark-"))
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )


def connect(db: Path | None = None, backend: str = "duckdb"):
    """An Ibis connection holding every dataset table, on ``duckdb`` or ``pyspark``."""
    return connect_tables(load_tables(db), backend)


def connect_tables(tables: dict[str, pa.Table], backend: str = "duckdb"):
    """An Ibis connection on ``backend`` holding the given Arrow tables."""
    if backend == "duckdb":
        con = ibis.duckdb.connect()
    elif backend == "pyspark":
        con = ibis.pyspark.connect(spark_session())
    else:
        raise ValueError(f"unknown backend {backend!r}; use duckdb or pyspark")
    for name, t in tables.items():
        if backend == "pyspark":
            con.create_view(name, ibis.memtable(t), overwrite=True)
        else:
            con.create_table(name, t, overwrite=True)
    return con


def as_of_default(tables: dict[str, pa.Table]) -> date:
    """The latest vintage in the data."""
    return max(tables["observations"].column("published").to_pylist())

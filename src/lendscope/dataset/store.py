"""The DuckDB store: bundled data plus validated user files, written atomically through Ibis."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa

from lendscope.core import settings
from lendscope.dataset.load import (
    BUNDLED,
    ONCHAIN,
    DatasetError,
    Row,
    TableFile,
    bundled_files,
    merge,
)
from lendscope.dataset.schema import TABLES, Table
from lendscope.dataset.validate import check_files

_ARROW = {
    "str": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "date": pa.date32(),
    "period": pa.string(),
}


def default_db_path() -> Path:
    """The database path from the settings: ``$LENDSCOPE_DB`` or the user data directory."""
    return settings.db_path()


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
            recs = t.filter(~t.origin.isin([BUNDLED, ONCHAIN])).to_pyarrow().to_pylist()
            for r in recs:
                r["_file"] = f"{db}:{r['origin']}"
                r["_row"] = r.pop("origin_row")
                r["_origin"] = r.pop("origin")
            out.append(TableFile(str(db), table, recs))
        return out
    finally:
        con.disconnect()


def collect(add: list[str | Path], db: Path | None) -> list[TableFile]:
    """Bundled + previously added + new files, validated together; raises DatasetError."""
    files = bundled_files()
    if db is not None:
        files += _stored_user_rows(db)
    new, problems = check_files(add, base=files)
    if problems:
        raise DatasetError(problems)
    for f in new:
        for r in f.rows:
            r["_origin"] = str(Path(f.path).resolve())
    return files + new


def build(add: list[str | Path] = (), db: Path | None = None) -> BuildResult:
    """Validate everything, then write the database in one atomic file replace."""
    db = Path(db) if db else default_db_path()
    before = _count(db)
    files = collect(list(add), db)
    tables = merge(files)
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = ibis.duckdb.connect(str(tmp))
        for name, rows in tables.items():
            con.create_table(name, to_arrow(TABLES[name], rows), overwrite=True)
        con.disconnect()
        _carry_onchain(db, tmp)  # on-chain rows and sync state survive a rebuild
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
    files = collect([], None)
    return {n: to_arrow(TABLES[n], rows) for n, rows in merge(files).items()}


def spark_session(app: str = "lendscope"):  # pragma: no cover - exercised by spark tests
    """The process's Spark session on ``settings.spark_master()``, with repeatable settings.

    In local mode, adaptive re-planning and whole-stage code generation are off: on a dataset
    this small they cost more than they save (the metrics run ~30% faster without them).
    """
    import tempfile

    from pyspark.sql import SparkSession

    master = settings.spark_master()
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="lendscope-spark-"))
        .config("spark.driver.memory", "1g")
    )
    if master.startswith("local"):
        builder = builder.config("spark.sql.adaptive.enabled", "false").config(
            "spark.sql.codegen.wholeStage", "false"
        )
    return builder.getOrCreate()


def connect(db: Path | None = None, backend: str = "duckdb"):
    """An Ibis connection holding every dataset table, on ``duckdb`` or ``pyspark``."""
    return connect_tables(load_tables(db), backend)


def connect_tables(tables: dict[str, pa.Table], backend: str = "duckdb"):
    """An Ibis connection on ``backend`` holding the given Arrow tables."""
    if backend == "duckdb":
        con = ibis.duckdb.connect()
        for name, t in tables.items():
            con.create_table(name, t, overwrite=True)
    elif backend == "pyspark":
        session = spark_session()
        con = ibis.pyspark.connect(session)
        for name, t in tables.items():
            # From Arrow, not pandas: an int column with nulls would pass through float64
            # and lose its values (Spark nulls a float given for a LongType field).
            session.createDataFrame(t).createOrReplaceTempView(name)
    else:
        raise ValueError(f"unknown backend {backend!r}; use duckdb or pyspark")
    return con


# -- on-chain rows (lendscope sync) ------------------------------------------------------------

#: Side tables of ``sync``: per-market detail, completed snapshots, and quarter-end blocks.
ONCHAIN_DDL = {
    "onchain_markets": (
        "chain_id BIGINT, block_number BIGINT, deployment VARCHAR, protocol VARCHAR, "
        "market VARCHAR, asset VARCHAR, symbol VARCHAR, decimals INTEGER, debt_raw VARCHAR, "
        "amount DOUBLE, price_raw VARCHAR, price_unit VARCHAR, value_usd DOUBLE, "
        "counted BOOLEAN, contract VARCHAR, call VARCHAR, price_source VARCHAR, "
        "adapter_version VARCHAR, note VARCHAR"
    ),
    "onchain_snapshots": (
        "chain_id BIGINT, block_number BIGINT, deployment VARCHAR, block_timestamp BIGINT, "
        "period VARCHAR, value_usd DOUBLE, markets INTEGER, adapter_version VARCHAR, "
        "written_at TIMESTAMP, PRIMARY KEY (chain_id, block_number, deployment)"
    ),
    "onchain_blocks": (
        "chain_id BIGINT, period VARCHAR, block_number BIGINT, block_timestamp BIGINT, "
        "PRIMARY KEY (chain_id, period)"
    ),
    # ``lendscope overlap``: one read of labelled addresses per (chain, block, deployment),
    # and the debt of each labelled address found (the overlap rows' detail).
    "onchain_overlap_reads": (
        "chain_id BIGINT, block_number BIGINT, block_hash VARCHAR, deployment VARCHAR, "
        "period VARCHAR, labels_digest VARCHAR, labelled INTEGER, accounts INTEGER, "
        "debt_usd DOUBLE, written_at TIMESTAMP, PRIMARY KEY (chain_id, block_number, deployment)"
    ),
    "onchain_overlap_accounts": (
        "chain_id BIGINT, block_number BIGINT, deployment VARCHAR, period VARCHAR, "
        "lender VARCHAR, owner VARCHAR, debt_usd DOUBLE, label_kind VARCHAR, label_source VARCHAR"
    ),
}


@dataclass
class OnchainSnapshot:
    """What one protocol snapshot writes: its source, observation and market rows."""

    chain_id: int
    block_number: int
    block_timestamp: int
    deployment: str
    period: str
    source: dict[str, Any]
    observation: dict[str, Any]
    markets: list[dict[str, Any]]
    adapter_version: str


def _ensure_onchain(con: duckdb.DuckDBPyConnection) -> None:
    for name, ddl in ONCHAIN_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({ddl})")
    for table in ("observations", "overlaps"):
        have = {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
        for f in arrow_schema(TABLES[table]):
            if f.name not in have:  # a database built before provenance columns existed
                sql = "BIGINT" if pa.types.is_integer(f.type) else "VARCHAR"
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{f.name}" {sql}')


def _carry_onchain(old: Path, new: Path) -> None:
    """Copy on-chain rows and sync state from ``old`` into the freshly built ``new``."""
    if not old.exists():
        return
    con = duckdb.connect(str(new))
    try:
        con.execute(f"ATTACH '{old}' AS old (READ_ONLY)")
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'old'"
        ).fetchall()}  # fmt: skip
        if "onchain_snapshots" not in tables:
            return
        _ensure_onchain(con)
        for name in ("sources", "observations", "overlaps"):
            con.execute(
                f'INSERT INTO "{name}" BY NAME SELECT * FROM old."{name}" '
                f"WHERE origin = '{ONCHAIN}'"
            )
        for name in ONCHAIN_DDL:
            if name in tables:  # side tables added later are absent from older databases
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM old.{name}")
    finally:
        con.close()


def _open_onchain(db: Path | None) -> duckdb.DuckDBPyConnection:
    db = Path(db) if db else default_db_path()
    if not db.exists():
        build([], db)  # the bundled data first, so metrics see on-chain rows beside them
    con = duckdb.connect(str(db))
    _ensure_onchain(con)
    return con


def upsert_onchain(db: Path | None, snap: OnchainSnapshot) -> None:
    """Write one snapshot in one transaction, replacing any earlier copy of it.

    Keyed by (chain_id, block_number, deployment): a rerun rewrites the same rows, never adds
    a second copy; an interrupted write leaves nothing behind (DuckDB rolls it back).
    """
    con = _open_onchain(db)
    key = (snap.chain_id, snap.block_number, snap.deployment)
    obs = {**snap.observation, "origin": ONCHAIN, "origin_row": snap.block_number}
    src = {**snap.source, "origin": ONCHAIN, "origin_row": snap.block_number}
    obs_t = pa.Table.from_pylist([obs], schema=arrow_schema(TABLES["observations"]))
    src_t = pa.Table.from_pylist([src], schema=arrow_schema(TABLES["sources"]))
    okey = [obs[c] for c in ("period", "segment", "platform", "chain", "metric", "published")]
    try:
        con.execute("BEGIN TRANSACTION")
        where = "chain_id = ? AND block_number = ? AND deployment = ?"
        con.execute(f"DELETE FROM onchain_markets WHERE {where}", key)
        con.execute(f"DELETE FROM onchain_snapshots WHERE {where}", key)
        con.execute("DELETE FROM sources WHERE id = ?", [src["id"]])
        con.execute(
            "DELETE FROM observations WHERE origin = ? AND (source_id = ? OR (period = ? AND "
            "segment = ? AND platform = ? AND chain = ? AND metric = ? AND published = ?))",
            [ONCHAIN, src["id"], *okey],
        )
        con.register("_src", src_t)
        con.register("_obs", obs_t)
        con.execute("INSERT INTO sources BY NAME SELECT * FROM _src")
        con.execute("INSERT INTO observations BY NAME SELECT * FROM _obs")
        if snap.markets:
            con.register("_mk", pa.Table.from_pylist(snap.markets))
            con.execute("INSERT INTO onchain_markets BY NAME SELECT * FROM _mk")
        con.execute(
            "INSERT INTO onchain_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
            [*key, snap.block_timestamp, snap.period, obs["value_usd"], len(snap.markets),
             snap.adapter_version],
        )  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def onchain_done(db: Path | None, chain_id: int, block: int) -> set[str]:
    """Deployments whose snapshot at ``block`` is already stored."""
    db = Path(db) if db else default_db_path()
    if not db.exists():
        return set()
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'onchain_snapshots'"
        ).fetchall():
            return set()
        rows = con.execute(
            "SELECT deployment FROM onchain_snapshots WHERE chain_id = ? AND block_number = ?",
            [chain_id, block],
        ).fetchall()
        return {r[0] for r in rows}
    finally:
        con.close()


def onchain_period_block(db: Path | None, chain_id: int, period: str) -> tuple[int, int] | None:
    """(block, timestamp) recorded as ``period``'s quarter-end block, if any."""
    db = Path(db) if db else default_db_path()
    if not db.exists():
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'onchain_blocks'"
        ).fetchall():
            return None
        row = con.execute(
            "SELECT block_number, block_timestamp FROM onchain_blocks "
            "WHERE chain_id = ? AND period = ?",
            [chain_id, period],
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else None
    finally:
        con.close()


def record_period_block(db: Path | None, chain_id: int, period: str, block: int, ts: int) -> None:
    """Remember ``period``'s quarter-end block so a rerun needs no block search."""
    con = _open_onchain(db)
    try:
        con.execute(
            "INSERT OR REPLACE INTO onchain_blocks VALUES (?, ?, ?, ?)",
            [chain_id, period, block, ts],
        )
    finally:
        con.close()


def onchain_summary(db: Path | None = None) -> list[dict[str, Any]]:
    """Stored snapshots: chain, block, deployment, period, value (for the report note)."""
    db = Path(db) if db else default_db_path()
    if not db.exists():
        return []
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'onchain_snapshots'"
        ).fetchall():
            return []
        cur = con.execute(
            "SELECT chain_id, block_number, deployment, period, value_usd, block_timestamp "
            "FROM onchain_snapshots ORDER BY period, chain_id, deployment, block_number"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


# -- on-chain overlaps (lendscope overlap) -----------------------------------------------------


@dataclass
class OnchainOverlap:
    """One read of labelled addresses on one deployment: its source, overlap and account rows."""

    chain_id: int
    block_number: int
    block_hash: str
    deployment: str
    period: str
    labels_digest: str
    labelled: int
    source: dict[str, Any]
    overlaps: list[dict[str, Any]]
    accounts: list[dict[str, Any]]


def upsert_onchain_overlap(db: Path | None, rec: OnchainOverlap) -> None:
    """Write one overlap read in one transaction, replacing any earlier copy of it.

    Keyed by (chain_id, block_number, deployment), and by the overlap key (period, lender,
    platform, published) of each row: a rerun, or a read at another block for the same
    quarter, replaces rows instead of adding a second copy. Lenders whose labelled addresses
    owe nothing get no overlap row (their accounts table shows what was read).
    """
    con = _open_onchain(db)
    key = (rec.chain_id, rec.block_number, rec.deployment)
    src = {**rec.source, "origin": ONCHAIN, "origin_row": rec.block_number}
    rows = [{**o, "origin": ONCHAIN, "origin_row": rec.block_number} for o in rec.overlaps]
    try:
        con.execute("BEGIN TRANSACTION")
        where = "chain_id = ? AND block_number = ? AND deployment = ?"
        con.execute(f"DELETE FROM onchain_overlap_accounts WHERE {where}", key)
        con.execute(f"DELETE FROM onchain_overlap_reads WHERE {where}", key)
        con.execute(
            'DELETE FROM "overlaps" WHERE origin = ? AND source_id = ?', [ONCHAIN, src["id"]]
        )
        for o in rows:
            con.execute(
                'DELETE FROM "overlaps" WHERE origin = ? AND period = ? AND lender = ? AND '
                "via_platform = ? AND published = ?",
                [ONCHAIN, o["period"], o["lender"], o["via_platform"], o["published"]],
            )
        con.execute("DELETE FROM sources WHERE id = ?", [src["id"]])
        con.register("_src", pa.Table.from_pylist([src], schema=arrow_schema(TABLES["sources"])))
        con.execute("INSERT INTO sources BY NAME SELECT * FROM _src")
        if rows:
            ov = pa.Table.from_pylist(rows, schema=arrow_schema(TABLES["overlaps"]))
            con.register("_ov", ov)
            con.execute('INSERT INTO "overlaps" BY NAME SELECT * FROM _ov')
        if rec.accounts:
            acc = [{"chain_id": key[0], "block_number": key[1], "deployment": key[2],
                    "period": rec.period, **a} for a in rec.accounts]  # fmt: skip
            con.register("_acc", pa.Table.from_pylist(acc))
            con.execute("INSERT INTO onchain_overlap_accounts BY NAME SELECT * FROM _acc")
        con.execute(
            "INSERT INTO onchain_overlap_reads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [*key[:2], rec.block_hash, key[2], rec.period, rec.labels_digest, rec.labelled,
             len(rec.accounts), sum(a["debt_usd"] for a in rec.accounts)],
        )  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def onchain_overlap_done(
    db: Path | None, chain_id: int, block: int, block_hash: str, labels_digest: str
) -> set[str]:
    """Deployments whose overlap read at ``block`` is stored at that hash and label set."""
    db = Path(db) if db else default_db_path()
    if not db.exists():
        return set()
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'onchain_overlap_reads'"
        ).fetchall():
            return set()
        rows = con.execute(
            "SELECT deployment FROM onchain_overlap_reads WHERE chain_id = ? AND "
            "block_number = ? AND block_hash = ? AND labels_digest = ?",
            [chain_id, block, block_hash.lower(), labels_digest],
        ).fetchall()
        return {r[0] for r in rows}
    finally:
        con.close()

"""The CLI's cold path: SQL shipped with the package, checked against the Ibis expressions.

The shipped file must be exactly what the expressions compile to now, and running it must give
the very MarketMetrics the Ibis path gives, on the bundled data and on a built database, at every
vintage the data knows.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pytest
from typer.testing import CliRunner

from lendscope.cli import app
from lendscope.dataset.store import build, connect
from lendscope.metrics import precompiled
from lendscope.metrics.summary import MarketMetrics
from tests.helpers import NO_DB


def vintages() -> list[date | None]:
    con = precompiled.bundled_connection()
    days = [d for (d,) in con.execute("SELECT DISTINCT published FROM observations").fetchall()]
    # each publication date, the day before it (the previous vintage) and the latest (None)
    return [*sorted({*days, *(d - timedelta(days=1) for d in days)}), None]


def test_shipped_sql_is_what_the_expressions_compile_to():
    assert precompiled.generate() == precompiled.snapshot(), (
        "stale precompiled_duckdb.json: run python -m lendscope.metrics.precompiled"
    )


def test_shipped_sql_gives_the_ibis_metrics_at_every_vintage():
    con = connect(NO_DB)
    checked = 0
    for v in vintages():
        fast = precompiled.compute(NO_DB, v)
        assert fast is not None
        assert fast == MarketMetrics.compute(con, v), v
        checked += 1
    assert checked > 20


def test_shipped_sql_on_a_built_database_with_user_rows(tmp_path):
    user = tmp_path / "acme.csv"
    user.write_text(
        "period,segment,platform,chain,metric,value_usd,source_id,method,published,note\n"
        "2025Q4,cefi,O'Brien Credit,,outstanding_loans_usd,1.5e8,"
        'galaxy-2025-04-state-of-crypto-lending,estimate,2026-02-15,"it\'s a test, quoted"\n',
        encoding="utf-8",
    )
    db = tmp_path / "l.duckdb"
    build([user], db)
    fast = precompiled.compute(db, None)
    assert fast is not None
    assert fast == MarketMetrics.compute(connect(db), None)


def test_other_table_schemas_take_the_ibis_path(tmp_path):
    db = tmp_path / "old.duckdb"
    build([], db)
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE context DROP COLUMN note")
    con.close()
    assert precompiled.compute(db, None) is None
    res = CliRunner().invoke(app, ["metrics", "--db", str(db), "--period", "2024Q4"])
    assert res.exit_code == 0, res.output
    ref = MarketMetrics.compute(connect(NO_DB)).for_period("2024Q4")
    assert json.loads(res.stdout)["total_usd"] == ref["total_usd"]


@pytest.mark.parametrize(
    ("value", "sql"),
    [
        (None, "NULL"),
        ("it's", "'it''s'"),
        (date(2025, 4, 14), "DATE '2025-04-14'"),
        (36.5e9, "36500000000.0"),
        (7, "7"),
    ],
)
def test_literals_round_trip(value, sql):
    assert precompiled._literal(value) == sql
    assert duckdb.connect().execute(f"SELECT {sql}").fetchone()[0] == value


def test_literal_refuses_what_it_cannot_write():
    for bad in (float("nan"), True, b"x"):
        with pytest.raises(TypeError):
            precompiled._literal(bad)

"""Exports: CSV cells a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import pyarrow as pa

from lendscope.export import neutralise_formulas


def test_every_formula_start_is_quoted_and_nothing_else_changes():
    cells = ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "ok", "a=b", "", None, "'=x"]
    t = pa.table(
        {
            "note": pa.array(cells, pa.string()),
            "big": pa.array(cells, pa.large_string()),
            "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, None, 0.0],
            "n": pa.array(range(-5, 6), pa.int64()),
        }
    )
    got = neutralise_formulas(t)
    want = ["'=1+2", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=x", "'\r=x", "ok", "a=b", "", None, "'=x"]
    assert got.column("note").to_pylist() == want
    assert got.column("big").to_pylist() == want
    assert got.schema == t.schema  # numbers stay numbers, of the same types
    assert got.column("value").equals(t.column("value")) and got.column("n").equals(t.column("n"))

"""Ibis expressions compiled once, their ``ibis.param`` values bound by the engine at each run.

Compiling the metric expressions costs ~10x running them, and between runs only the vintage
changes. So the vintage is an ``ibis.param`` (made by :func:`param`, which names it), and
:func:`compile_query` compiles an expression with every parameter left as a query parameter of
the engine (``$vintage`` on DuckDB, ``:vintage`` on Spark SQL); :meth:`Query.run` binds the values
(no SQL is edited) and converts the Arrow result to the expression's schema, as Ibis' own
``to_pyarrow`` does. DuckDB and PySpark take this same path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import ibis
import ibis.expr.datashape as ds
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.schema as sch
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.base import SQLGlotCompiler
from ibis.common.patterns import replace
from ibis.expr.rewrites import p as pattern
from ibis.formats.pyarrow import PyArrowData

#: Query-parameter names of the parameters made by :func:`param` (others keep Ibis' name).
_NAMES: dict[ops.ScalarParameter, str] = {}


def param(dtype: str, name: str) -> ir.Scalar:
    """An ``ibis.param`` that compiled queries call ``name`` (``$name``, ``:name``)."""
    expr = ibis.param(dtype)
    _NAMES[expr.op()] = name
    return expr


class BoundParameter(ops.Scalar):
    """A scalar parameter that compiles to an engine query parameter, bound when a query runs."""

    name: str
    dtype: dt.DataType
    shape = ds.scalar


@replace(pattern.ScalarParameter)
def _leave_unbound(_, **kwargs):
    return BoundParameter(name=_NAMES.get(_, _.name), dtype=_.dtype)


def _visit_bound(self, op, *, name, dtype):
    return sge.Cast(this=sge.Placeholder(this=name), to=self.type_mapper.from_ibis(dtype))


@cache
def _compiler(base: type[SQLGlotCompiler]) -> SQLGlotCompiler:
    """``base`` (a backend's compiler) that leaves ``ibis.param`` values as query parameters."""
    attrs = {"rewrites": (_leave_unbound, *base.rewrites), "visit_BoundParameter": _visit_bound}
    return type(f"Bound{base.__name__}", (base,), attrs)()


@dataclass(frozen=True)
class Query:
    """One expression compiled for one backend, with its parameters unbound."""

    backend: str
    sql: str
    schema: sch.Schema
    params: frozenset[str]

    def run(self, con, params: Mapping[ir.Scalar, Any] | None = None) -> pa.Table:
        """Run on ``con`` (a connection of the same backend) with ``{ibis.param: value}`` bound."""
        if con.name != self.backend:
            raise ValueError(f"query compiled for {self.backend}, not {con.name}")
        given = {_param_name(k): v for k, v in (params or {}).items()}
        missing = self.params - given.keys()
        if missing:
            raise ValueError(f"no value for parameters {sorted(missing)}")
        args = {k: v for k, v in given.items() if k in self.params}
        if self.backend == "duckdb":
            table = con.con.sql(self.sql, params=args or None).to_arrow_table()
        elif self.backend == "pyspark":
            table = con.raw_sql(self.sql, args=args or None).toArrow()
        else:
            raise ValueError(f"no compiled queries on {self.backend}")
        return PyArrowData.convert_table(table, self.schema)


def _param_name(expr: ir.Scalar) -> str:
    op = expr.op()
    if isinstance(op, ops.Alias):
        op = op.arg
    if not isinstance(op, ops.ScalarParameter):
        raise TypeError(f"{expr!r} is not an ibis.param")
    return _NAMES.get(op, op.name)


def compile_query(con, expr: ir.Table) -> Query:
    """Compile ``expr`` for ``con``'s backend, every ``ibis.param`` in it left unbound."""
    tree = _compiler(type(con.compiler)).to_sqlglot(expr)
    names = frozenset(ph.name for ph in tree.find_all(sge.Placeholder))
    sql = tree.sql(dialect=con.compiler.dialect, copy=False, unsupported_level=sg.ErrorLevel.RAISE)
    return Query(con.name, sql, expr.schema(), names)

"""Read dataset files (CSV or YAML) into typed rows, collecting problems instead of raising.

Files are read through :mod:`lendscope.core.files`, the one bounded reader of user input; its
:class:`~lendscope.core.files.InputError` becomes a :class:`Problem` naming file, row and field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from lendscope.core import files
from lendscope.core.files import InputError
from lendscope.dataset.schema import PERIOD_RE, TABLES, USER_TABLES, Table

#: ``origin`` of bundled rows, and of rows written by ``lendscope sync`` (machine-read, kept
#: across builds as they are).
BUNDLED = "bundled"
ONCHAIN = "onchain"

Row = dict[str, Any]
#: Problems reported per file before reading stops (the file is refused either way).
MAX_PROBLEMS = 1000


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input: where (file, row, field) and what."""

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f": row {self.row}" if self.row else "")
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


@dataclass
class TableFile:
    """Rows of one table read from one file; ``_row`` is the row number shown to users."""

    path: str
    table: Table
    rows: list[Row]


class DatasetError(Exception):
    """Raised when input files have problems; nothing has been written."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        lines = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s) found:\n{lines}{more}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def parse_value(col_type: str, text: str) -> Any:
    """Parse one cell's text as ``col_type``; raise ValueError with a user-facing reason."""
    if col_type == "str":
        return text
    if col_type == "float":
        if "," in text or "_" in text:
            raise ValueError(f"{text!r} is not a plain number (write 11.2e9, no separators)")
        try:
            v = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(v):
            raise ValueError(f"{text!r} is not a finite number")
        return v
    if col_type == "int":
        try:
            f = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        if not f.is_integer():
            raise ValueError(f"{text!r} is not an integer")
        if abs(f) >= 2**63:
            raise ValueError(f"{text!r} is out of range for an integer")
        return int(f)
    if col_type == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date YYYY-MM-DD") from None
    if col_type == "period":
        if not PERIOD_RE.match(text):
            raise ValueError(f"{text!r} is not a quarter YYYYQn (e.g. 2024Q4)")
        return text
    raise AssertionError(col_type)


def detect_table(columns: list[str], allowed: tuple[str, ...]) -> Table | None:
    """The table whose required columns are all present and which has every given column."""
    cols = set(columns)
    for name in allowed:
        t = TABLES[name]
        if cols <= set(t.names) and {c.name for c in t.columns if c.required} <= cols:
            return t
    return None


def coerce_rows(
    path: str,
    table: Table,
    raw: list[tuple[int, dict[str, Any]]],
    problems: list[Problem],
    limit: int | None = None,
) -> list[Row]:
    """Type every cell; a row with any bad cell is reported and dropped.

    Stops once ``problems`` holds ``limit`` problems (a file of junk rows would otherwise
    cost time and output in proportion to its cells).
    """
    out: list[Row] = []
    for rownum, rec in raw:
        if limit is not None and len(problems) >= limit:
            break
        row: Row = {"_row": rownum, "_file": path}
        ok = True
        for col in table.columns:
            text = _cell(rec.get(col.name))
            if text == "":
                if col.required:
                    problems.append(
                        Problem(path, rownum, col.name, "is empty; a value is required")
                    )
                    ok = False
                row[col.name] = "" if col.type == "str" else None
                continue
            try:
                row[col.name] = parse_value(col.type, text)
            except ValueError as e:
                problems.append(Problem(path, rownum, col.name, str(e)))
                ok = False
                continue
            if col.choices and row[col.name] not in col.choices:
                problems.append(
                    Problem(
                        path,
                        rownum,
                        col.name,
                        f"unknown value {text!r}; expected one of {', '.join(col.choices)}",
                    )
                )
                ok = False
        if ok:
            out.append(row)
    return out


def _read_csv(text: str, path: str, problems: list[Problem]) -> tuple[list[str], list]:
    """Header and ``(line, record)`` pairs; raises :class:`InputError` when unreadable."""
    header, rows = files.read_csv_rows(text, path)
    if not header:
        raise InputError(path, 0, "", "file is empty: expected a header row")
    raw = []
    for line, cells in rows:
        if len(cells) > len(header):  # reported, and the rest of the file still read
            problems.append(
                Problem(path, line, "", f"has {len(cells)} cells, the header has {len(header)}")
            )
        elif any(c.strip() for c in cells):  # rows of empty cells are skipped
            raw.append((line, dict(zip(header, cells, strict=False))))
    return header, raw


def _yaml_chunks(doc: Any, path: str, allowed: tuple[str, ...], problems: list[Problem]) -> list:
    """``(table name or None, columns, (index, record) pairs)`` per list of rows in ``doc``."""
    chunks = []
    groups = doc.items() if isinstance(doc, dict) else [(None, doc)]
    for name, recs in groups:
        if name is not None and name not in allowed:
            problems.append(
                Problem(
                    path, 0, "", f"unknown table {name!r}; expected one of {', '.join(allowed)}"
                )
            )
            continue
        if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
            problems.append(Problem(path, 0, "", "expected a list of rows (mappings)"))
            continue
        recs = [{str(k): v for k, v in r.items()} for r in recs]
        cols = sorted({k for r in recs for k in r})
        chunks.append((name, cols, list(enumerate(recs, start=1))))
    return chunks


def read_file(
    path: str | Path, allowed: tuple[str, ...] = USER_TABLES
) -> tuple[list[TableFile], list[Problem]]:
    """Read a CSV or YAML file of one table (YAML may map table names to lists of rows)."""
    path = str(path)
    problems: list[Problem] = []
    p = Path(path)
    if not p.is_file():
        return [], [Problem(path, 0, "", "file not found")]
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        return [], [Problem(path, 0, "", f"unsupported file type {suffix!r}; use .csv or .yaml")]
    chunks: list[tuple[str | None, list[str], list]]
    try:  # size, encoding, syntax and the loader's limits: one problem for the whole file
        text = files.read_text(p, path)
        if suffix == ".csv":
            chunks = [(None, *_read_csv(text, path, problems))]
        else:
            chunks = _yaml_chunks(files.load_yaml(text, path), path, allowed, problems)
    except InputError as e:
        return [], [Problem(path, e.row, e.field, e.message)]
    out = []
    for name, cols, raw in chunks:
        table = TABLES[name] if name else detect_table(cols, allowed)
        extra = [c for c in cols if table is not None and c not in table.names]
        if extra:
            problems.append(
                Problem(path, 0, "", f"unknown column(s) {', '.join(extra)} for table {table.name}")
            )
            continue
        if table is None:
            best = max(allowed, key=lambda n: len(set(cols) & set(TABLES[n].names)))
            t = TABLES[best]
            missing = [c.name for c in t.columns if c.required and c.name not in cols]
            extra = [c for c in cols if c not in t.names]
            detail = "; ".join(
                s
                for s in (
                    f"missing column(s) {', '.join(missing)}" if missing else "",
                    f"unknown column(s) {', '.join(extra)}" if extra else "",
                )
                if s
            )
            problems.append(
                Problem(
                    path,
                    1 if suffix == ".csv" else 0,
                    "",
                    f"columns match no table (closest: {best}): {detail}",
                )
            )
            continue
        out.append(TableFile(path, table, coerce_rows(path, table, raw, problems, MAX_PROBLEMS)))
    if len(problems) >= MAX_PROBLEMS:
        stop = Problem(path, 0, "", f"stopped after {MAX_PROBLEMS} problems: fix these first")
        return [], [*problems[:MAX_PROBLEMS], stop]
    return out, problems


def bundled_files() -> list[TableFile]:
    """The dataset shipped in the package, every row of origin ``bundled`` (tests validate it)."""
    out = []
    root = resources.files("lendscope") / "data"
    for name in TABLES:
        res = root / f"{name}.csv"
        problems: list[Problem] = []
        path = f"lendscope/data/{name}.csv"
        _header, raw = _read_csv(res.read_text(encoding="utf-8"), path, problems)
        rows = coerce_rows(path, TABLES[name], raw, problems)
        if problems:
            raise DatasetError(problems)
        for r in rows:
            r["_origin"] = BUNDLED
        out.append(TableFile(f"lendscope/data/{name}.csv", TABLES[name], rows))
    return out


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

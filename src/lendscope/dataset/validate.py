"""Validation of user files against the schema and the bundled data: every check, in order.

- :mod:`~lendscope.dataset.rules`: each row alone (sources, signs, periods, dates), duplicates;
- :mod:`~lendscope.dataset.evidence` with :mod:`~lendscope.dataset.units`: sums against cited
  totals, and probable unit errors in every money column, decided from all the evidence;
- :mod:`~lendscope.dataset.cited`: cited ratios against the figures of their vintage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from lendscope.dataset.cited import check_cited
from lendscope.dataset.evidence import check_units
from lendscope.dataset.load import Problem, Row, TableFile, bundled_files, read_file
from lendscope.dataset.rules import check_duplicates, check_rows


def by_table(files: Iterable[TableFile]) -> dict[str, list[Row]]:
    """Concatenate rows per table name."""
    out: dict[str, list[Row]] = defaultdict(list)
    for f in files:
        out[f.table.name].extend(f.rows)
    return out


def validate(files: list[TableFile], user: set[str]) -> list[Problem]:
    """All checks over the combined files; problems sorted by file, row and field.

    ``user`` holds the paths of the files being added: only their figures are suspected of unit
    errors, and only their cited ratios are cross-checked (the bundled ones are the reference).
    """
    rows = by_table(files)
    problems = check_rows(rows)
    # A duplicate or conflicting row stays in the checks across rows: its unit error, if any,
    # is reported beside the conflict rather than hidden by it.
    bad = {(p.file, p.row) for p in problems}
    fit = {n: [r for r in rs if (r["_file"], r["_row"]) not in bad] for n, rs in rows.items()}
    problems += check_duplicates(rows)
    problems += check_units(fit, user)
    problems += check_cited(
        fit.get("cited_metrics", []), fit.get("observations", []), fit.get("vc_funding", []), user
    )
    return sorted(set(problems))


def check_files(
    paths: Iterable[str | Path], base: list[TableFile] | None = None
) -> tuple[list[TableFile], list[Problem]]:
    """Read user files and validate them with ``base`` (default: the bundled data).

    Returns the files read and every problem; the CLI's ``validate``, ``build`` and the API's
    upload check all go through here.
    """
    paths = list(dict.fromkeys(str(Path(p)) for p in paths))
    loaded: list[TableFile] = []
    problems: list[Problem] = []
    for p in paths:
        files, probs = read_file(p)
        loaded += files
        problems += probs
    base = bundled_files() if base is None else base
    problems += validate(base + loaded, set(paths))
    return loaded, sorted(set(problems))

"""Validate several uploaded disclosure files together, as ``lendscope validate a b c`` does.

A new lender's disclosure is usually two files (its ``sources`` and its ``observations``), and
neither passes alone: the observations cite a source only the other file defines. So every file
of one upload goes through :func:`lendscope.dataset.check_files` at once, with the bundled
data. Nothing is stored: the files are written under random names in a temporary folder that
is removed before the answer, and every problem names the client's file, row and field.

Bounds: at most :data:`MAX_FILES` files, each at most 1 MiB (:func:`~lendscope.app.deps.
read_upload`), the whole body at most ``MAX_BODY`` (the app's middleware); YAML is screened
by the shared loader's checks (no anchors or aliases, bounded depth) before it is parsed.
A file refused by these checks is reported as a problem of that file; the others are still
validated.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from fastapi import HTTPException, UploadFile

from lendscope.app.deps import MAX_UPLOAD, read_upload, upload_name
from lendscope.core import files
from lendscope.dataset import check_files

#: Files one upload may carry.
MAX_FILES = 8
SUFFIXES = (".csv", ".yaml", ".yml")


@dataclass(frozen=True)
class FileProblem:
    """One problem, where (the client's file name, row, field) and what."""

    file: str
    row: int
    field: str
    message: str


@dataclass
class UploadReport:
    """What one upload of several files gave: rows and table per file, and every problem."""

    files: list[dict[str, object]] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every file passed."""
        return bool(self.files) and not self.problems

    def as_dict(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        return {
            "ok": self.ok,
            "files": self.files,
            "problems": [p.__dict__ for p in self.problems],
        }


def _names(uploads: list[UploadFile]) -> list[str]:
    """Client names, made unique (``a.csv``, ``a.csv (2)``) so each problem names one file."""
    seen: dict[str, int] = {}
    out = []
    for f in uploads:
        name = upload_name(f)
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _screen(f: UploadFile, name: str) -> bytes:
    """The file's bytes; :class:`HTTPException` for a refused type, size or YAML construct."""
    suffix = PurePath(name.split(" (")[0]).suffix.lower()
    if suffix not in SUFFIXES:
        raise HTTPException(415, "use a .csv, .yaml or .yml file")
    content = read_upload(f, name)
    if suffix != ".csv":
        try:
            files.check_yaml(files.read_text(content, name, MAX_UPLOAD), name)
        except files.RefusedInput as e:
            raise HTTPException(422, e.message) from None
        except files.InputError:
            pass  # malformed: the validator reports it with its line
    return content


def validate_uploads(uploads: list[UploadFile]) -> UploadReport:
    """Validate ``uploads`` together with the bundled data; 422 for none or too many files."""
    uploads = [f for f in uploads if f is not None and (f.filename or f.size)]
    if not uploads:
        raise HTTPException(422, "choose at least one .csv, .yaml or .yml file to check")
    if len(uploads) > MAX_FILES:
        raise HTTPException(413, f"at most {MAX_FILES} files at once (got {len(uploads)})")
    names = _names(uploads)
    report = UploadReport()
    with tempfile.TemporaryDirectory(prefix="lendscope-upload-") as tmp:
        paths: dict[str, str] = {}  # temporary path -> client name
        for i, (f, name) in enumerate(zip(uploads, names, strict=True)):
            try:
                content = _screen(f, name)
            except HTTPException as e:
                report.problems.append(FileProblem(name, 0, "", str(e.detail)))
                report.files.append({"file": name, "table": None, "rows": 0})
                continue
            suffix = PurePath(name.split(" (")[0]).suffix.lower()
            path = Path(tmp) / f"upload-{i}{suffix}"  # never the client's name
            path.write_bytes(content)
            paths[str(path)] = name
        loaded, problems = check_files(list(paths)) if paths else ([], [])
        tables: dict[str, list[str]] = {}
        rows: dict[str, int] = {}
        for t in loaded:
            tables.setdefault(t.path, []).append(t.table.name)
            rows[t.path] = rows.get(t.path, 0) + len(t.rows)
        for path, name in paths.items():
            table = ", ".join(tables.get(path, [])) or None
            report.files.append({"file": name, "table": table, "rows": rows.get(path, 0)})
        for p in problems:
            message = p.message
            for path, name in paths.items():
                message = message.replace(path, name)
            report.problems.append(FileProblem(paths.get(p.file, p.file), p.row, p.field, message))
    order = {n: i for i, n in enumerate(names)}
    report.files.sort(key=lambda f: order.get(str(f["file"]), 0))
    report.problems.sort(key=lambda p: (order.get(p.file, len(order)), p.row, p.field))
    return report

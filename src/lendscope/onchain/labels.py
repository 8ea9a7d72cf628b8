"""Cited labels of addresses controlled by CeFi lenders (``data/cefi_labels.csv``).

One row per (address, source): ``chain, address, lender, kind, source, says``. ``kind`` says
how the attribution is known (the lender's own ``disclosure``, a court or regulatory ``filing``,
or a public ``attribution`` such as an explorer name tag); ``source`` is an http(s) URL or a
pinned repository file ``github:owner/repo@<40-hex commit>:path``; ``says`` is what the source
states, in short own words. Leading ``#`` lines are the file's provenance header.

Every row is checked: the address's EIP-55 checksum (a mixed-case address must be its own
checksum form), the lender is one the dataset knows (a CeFi platform or an overlap lender),
a kind from the vocabulary, a source present and well-formed, and one lender per address.
Problems name the file, the row (line) and the field; nothing is returned if there is one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lendscope.core import files
from lendscope.core.files import InputError
from lendscope.dataset.load import Problem, bundled_files
from lendscope.dataset.schema import GROUP_SEP, UNATTRIBUTED
from lendscope.onchain.registry import RegistryError, checksum_address

COLUMNS = ("chain", "address", "lender", "kind", "source", "says")
KINDS = ("disclosure", "filing", "attribution")
_GITHUB = re.compile(r"^github:[\w.-]+/[\w.-]+@[0-9a-f]{40}:\S+$")
BUNDLED_NAME = "lendscope/data/cefi_labels.csv"


class LabelError(ValueError):
    """A label file has problems (each names file, row and field)."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        lines = "\n".join(f"  {p}" for p in self.problems[:50])
        super().__init__(f"{len(self.problems)} problem(s) in the label file:\n{lines}")


@dataclass(frozen=True)
class Label:
    """One cited attribution of an address to a lender."""

    chain: str
    address: str  # EIP-55
    lender: str
    kind: str
    source: str
    says: str
    row: int


@dataclass(frozen=True)
class LabelSet:
    """The labels of one file: every row, and the file they came from."""

    path: str
    labels: tuple[Label, ...]

    def on(self, chain: str) -> dict[str, str]:
        """Lower-case address -> lender for the labels on ``chain``."""
        return {lb.address.lower(): lb.lender for lb in self.labels if lb.chain == chain}

    def sources(self, chain: str, address: str) -> list[Label]:
        """Every label row of ``address`` on ``chain``."""
        a = address.lower()
        return [lb for lb in self.labels if lb.chain == chain and lb.address.lower() == a]

    def digest(self, chain: str) -> str:
        """sha256 of the (address, lender) pairs on ``chain``: what a measurement depends on."""
        pairs = "\n".join(f"{a},{lender}" for a, lender in sorted(self.on(chain).items()))
        return hashlib.sha256(pairs.encode()).hexdigest()


def known_lenders() -> set[str]:
    """CeFi lenders the bundled dataset names: platform rows (groups split) and overlaps."""
    out: set[str] = set()
    for f in bundled_files():
        for r in f.rows:
            if f.table.name == "observations" and r["segment"] == "cefi" and r["platform"]:
                out.update(p.strip() for p in r["platform"].split(GROUP_SEP))
            elif f.table.name == "overlaps":
                out.add(r["lender"])
    out.discard(UNATTRIBUTED)
    return out


def _split_header(text: str) -> tuple[str, int]:
    """The text without its leading ``#`` lines (and blank ones), and how many were removed."""
    lines = text.splitlines(keepends=True)
    n = 0
    while n < len(lines) and (lines[n].lstrip().startswith("#") or not lines[n].strip()):
        n += 1
    return "".join(lines[n:]), n


def _check_row(line: int, rec: dict[str, str], lenders: set[str], add) -> Label | None:
    """The row as a :class:`Label`, or None after ``add(line, field, message)`` per problem."""
    cell = {c: (rec.get(c) or "").strip() for c in COLUMNS}
    ok = True
    for c in COLUMNS:
        if not cell[c]:
            add(line, c, "is empty; a value is required")
            ok = False
    if not ok:
        return None
    try:
        address = checksum_address(cell["address"], "address")
    except RegistryError as e:
        add(line, "address", str(e).removeprefix("address: "))
        ok = False
    if cell["lender"] not in lenders:
        add(line, "lender", f"unknown lender {cell['lender']!r}; the dataset knows "
            f"{', '.join(sorted(lenders))}")  # fmt: skip
        ok = False
    if cell["kind"] not in KINDS:
        add(line, "kind", f"unknown value {cell['kind']!r}; expected one of {', '.join(KINDS)}")
        ok = False
    src = cell["source"]
    if not (src.startswith(("https://", "http://")) or _GITHUB.match(src)):
        add(line, "source", f"{src!r} is neither an http(s) URL nor "
            "github:owner/repo@<40-hex commit>:path")  # fmt: skip
        ok = False
    if not ok:
        return None
    return Label(cell["chain"], address, cell["lender"], cell["kind"], src, cell["says"], line)


def parse_labels(text: str, name: str, lenders: set[str] | None = None) -> LabelSet:
    """Labels from CSV text; raises :class:`LabelError` listing every problem."""
    lenders = known_lenders() if lenders is None else lenders
    problems: list[Problem] = []

    def add(line: int, field: str, msg: str) -> None:
        problems.append(Problem(name, line, field, msg))

    body, skipped = _split_header(text)
    try:
        header, rows = files.read_csv_rows(body, name)
    except InputError as e:
        row = e.row + skipped if e.row else 0
        raise LabelError([Problem(name, row, e.field, e.message)]) from None
    if not header:
        raise LabelError([Problem(name, 0, "", f"no header row (expected {','.join(COLUMNS)})")])
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        what = "; ".join(
            s for s in (
                f"missing column(s) {', '.join(missing)}" if missing else "",
                f"unknown column(s) {', '.join(extra)}" if extra else "",
            ) if s
        )  # fmt: skip
        raise LabelError([Problem(name, skipped + 1, "", what)])
    out: list[Label] = []
    owner: dict[tuple[str, str], Label] = {}
    for line, cells in rows:
        line += skipped
        if len(cells) > len(header):
            add(line, "", f"has {len(cells)} cells, the header has {len(header)}")
            continue
        lb = _check_row(line, dict(zip(header, cells, strict=False)), lenders, add)
        if lb is None:
            continue
        key = (lb.chain, lb.address.lower())
        first = owner.setdefault(key, lb)
        if first.lender != lb.lender:
            add(line, "lender", f"{lb.address} is labelled {first.lender!r} on row {first.row}; "
                "an address has one controller")  # fmt: skip
            continue
        if any(x.source == lb.source for x in out if (x.chain, x.address.lower()) == key):
            add(line, "source", f"repeats the source of an earlier row for {lb.address}")
            continue
        out.append(lb)
    if problems:
        raise LabelError(problems)
    return LabelSet(name, tuple(out))


def load_labels(path: str | Path | None = None, lenders: set[str] | None = None) -> LabelSet:
    """The label file at ``path``, or the bundled ``cefi_labels.csv``."""
    if path is None:
        text = (resources.files("lendscope") / "data" / "cefi_labels.csv").read_text("utf-8")
        return parse_labels(text, BUNDLED_NAME, lenders)
    try:
        text = files.read_text(Path(path), str(path))
    except InputError as e:
        raise LabelError([Problem(str(path), 0, "", e.message)]) from None
    return parse_labels(text, str(path), lenders)

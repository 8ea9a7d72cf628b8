"""The one reader of every CSV and YAML file a user hands in: bounded in size, depth and time.

Disclosures (``dataset``), books, funding files and scenarios (``risk``) and the app's uploads
all come through here, from the command line and the API alike:

* :func:`read_text`: at most ``max_bytes`` (1 MiB by default), checked on the bytes before
  decoding; UTF-8 only (a BOM is stripped), NUL bytes and UTF-16/32 refused, naming the byte.
* :func:`load_yaml`: the document is built straight from the parser's events (libyaml's C
  parser, else PyYAML's own) in one loop without recursion, which stops at the first anchor or
  alias, unsafe tag, level past :data:`MAX_DEPTH`, duplicate or merge key or over-long number,
  so a hostile file costs only the events before its offence. The values are those of
  ``yaml.safe_load``, built several times faster (its constructor costs microseconds a node,
  seconds for a 1 MiB list). :func:`check_yaml` runs the same loop and builds nothing.
* :func:`read_csv_rows`: header and rows with their line numbers; rows, columns, field capped.

Every failure is an :class:`InputError` naming file, row (a line) and field, which callers turn
into their own problem line; :class:`RefusedInput` marks a limit or safety rule broken rather
than malformed input. ``core`` imports nothing else of lendscope.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml import events
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

#: Largest file read, in bytes (the API's upload limit, ``app.deps.MAX_UPLOAD``).
MAX_BYTES = 1024 * 1024
#: Deepest YAML nesting (mappings and sequences); the formats here need at most five levels.
MAX_DEPTH = 32
#: Longest CSV field, in characters (a note column is a sentence, not a book).
MAX_FIELD_CHARS = 64 * 1024
#: Most CSV columns; the widest table has fewer than 20.
MAX_COLUMNS = 100
#: Most CSV data rows (a 1 MiB disclosure file holds about 10,000).
MAX_ROWS = 100_000
#: Longest YAML number or date: longer ones are never figures, and base-60 integers
#: (``1:2:3``) cost time quadratic in their length to convert.
MAX_NUMBER_CHARS = 100
_T = "tag:yaml.org,2002:"
#: The YAML tags accepted: JSON's types plus timestamps. Binary, sets, ordered maps, pairs and
#: merge keys are refused, and so is every application tag (``!!python/...``, ``!foo``).
SAFE_TAGS = frozenset(
    _T + t for t in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map")
)


class InputError(ValueError):
    """An input file cannot be read: ``name``, ``row`` (a line; 0 = the whole file), ``field``.

    ``str()`` gives ``name: row N: field: message``, leaving out what is not known.
    """

    def __init__(self, name: str, row: int, field: str, message: str) -> None:
        self.name, self.row, self.field, self.message = name, row, field, message
        super().__init__(name, row, field, message)

    def __str__(self) -> str:
        where = [self.name, f"row {self.row}" if self.row else "", self.field]
        return ": ".join([*(w for w in where if w), self.message])


class RefusedInput(InputError):
    """Input refused by a limit or a safety rule (size, anchors and aliases, depth, tags)."""


# -- bytes to text -------------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n // 1024**2} MiB" if n % 1024**2 == 0 else f"{n:,} bytes"


def _line_at(data: bytes | str, offset: int) -> int:
    return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1


def read_text(
    source: str | Path | bytes, name: str | None = None, max_bytes: int = MAX_BYTES
) -> str:
    """The text of a file (a path) or of uploaded ``bytes``; ``name`` names it in errors.

    Reads at most ``max_bytes + 1`` bytes, so an oversized file is refused without being read.
    """
    if isinstance(source, bytes):
        data, name, size = source, name or "upload", len(source)
    else:
        name = name or str(source)
        try:
            with open(source, "rb") as f:
                data = f.read(max_bytes + 1)
                size = max(len(data), Path(source).stat().st_size)
        except OSError as e:
            raise InputError(name, 0, "", f"cannot read: {e.strerror or e}") from None
    if size > max_bytes:
        msg = f"file is {size:,} bytes, over the {_size(max_bytes)} limit for an input file"
        raise RefusedInput(name, 0, "", msg)
    return _decode(data, name)


def _decode(data: bytes, name: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        msg = "not UTF-8 text (a UTF-16 or UTF-32 byte order mark); save the file as UTF-8"
        raise InputError(name, 0, "", msg)
    nul = data.find(b"\0")
    if nul >= 0:  # checked before decoding: NUL is valid UTF-8, but no text file has one
        line = _line_at(data, nul)
        msg = f"not UTF-8 text (a NUL byte at byte {nul}, line {line}: binary, or UTF-16?)"
        raise InputError(name, line, "", msg)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = _line_at(data, e.start)
        msg = f"not UTF-8 text ({e.reason} at byte {e.start}, line {line})"
        raise InputError(name, line, "", msg) from None


# -- YAML ----------------------------------------------------------------------------------


class _PyParser(Reader, Scanner, Parser):
    """PyYAML's own reader, scanner and parser: the events of libyaml's, in Python."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


#: libyaml's parser (C) where PyYAML was built with it, else PyYAML's own.
_Parser: type = CParser if yaml.__with_libyaml__ else _PyParser


_STR, _SEQ, _MAP, _INT, _NULL, _MERGE = (
    _T + t for t in ("str", "seq", "map", "int", "null", "merge")
)
_OPEN = {events.SequenceStartEvent: _SEQ, events.MappingStartEvent: _MAP}
_CLOSE = (events.SequenceEndEvent, events.MappingEndEvent)
#: PyYAML's implicit types of plain scalars (YAML 1.1, as ``yaml.safe_load`` reads them), by
#: first character.
_IMPLICIT = {
    k: (*v, *Resolver.yaml_implicit_resolvers.get(None, []))
    for k, v in Resolver.yaml_implicit_resolvers.items()
    if k is not None
}
_SCALARS = SafeConstructor()  # only its scalar constructors; collections are built here
_CONSTRUCT = {t: f for t, f in SafeConstructor.yaml_constructors.items() if t in SAFE_TAGS}
_ANCHORS = "YAML anchors and aliases (&name, *name) are not accepted: write the values out"
_MISSING = object()
#: libyaml's wording of the commonest mistake (``note: a: b``), as PyYAML words it: the message
#: users have seen, whichever parser is installed.
_WORDING = {
    "mapping values are not allowed in this context": "mapping values are not allowed here",
}


def _at(name: str, event: Any, message: str, refused: bool = False) -> InputError:
    """The error for ``message`` at ``event``'s line."""
    return (RefusedInput if refused else InputError)(name, event.start_mark.line + 1, "", message)


def check_yaml(text: str, name: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise at the first anchor, alias, unsafe tag or level past ``max_depth``; build nothing.

    A bounded scan (the parser is lazy, so a hostile file costs only the events before its
    first offence); syntax errors met on the way are raised too, with their line.
    """
    _walk(text, name, max_depth, build=False)


def load_yaml(text: str, name: str, max_depth: int = MAX_DEPTH) -> Any:
    """The one YAML document in ``text`` as plain data (``None`` if empty); see the module."""
    # The result is plain lists, dicts and scalars without cycles, so the cyclic collector has
    # nothing to find; left on, it rescans the whole heap as the objects pile up, which makes the
    # worst case grow with whatever else the process holds (2x in a long-running server).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _walk(text, name, max_depth, build=True)
    finally:
        if enabled:
            gc.enable()


class _Frame:
    """An open sequence or mapping: the container, its pending key, its keys' first lines."""

    __slots__ = ("data", "key", "lines", "seq")

    def __init__(self, seq: bool) -> None:
        self.data: Any = [] if seq else {}
        self.key, self.seq = _MISSING, seq
        self.lines: dict = None if seq else {}  # type: ignore[assignment]


def _walk(text: str, name: str, max_depth: int, build: bool) -> Any:
    # One loop over the events, ordered and inlined for speed: a 1 MiB list of half a million
    # scalars is the costliest input, so a scalar takes the fewest steps.
    parser = _Parser(text)
    get_event = parser.get_event
    stack: list[_Frame] = []
    root: Any = None
    documents = 0
    plain: dict[str, Any] = {}  # a plain scalar's text -> its value (every one is immutable)
    try:
        while (event := get_event()) is not None:
            kind = type(event)
            if kind is events.ScalarEvent:
                if event.anchor is not None:
                    raise _at(name, event, _ANCHORS, refused=True)
                if event.tag is not None and event.tag != "!":  # PyYAML reads "!" as no tag
                    value = _tagged(event, name)
                elif not build:
                    continue
                elif not event.implicit[0]:  # quoted, or a block scalar: text
                    value = event.value
                else:
                    value = plain.get(event.value, _MISSING)
                    if value is _MISSING:
                        value = plain[event.value] = _plain(event, name)
            elif kind in _CLOSE:
                value = stack.pop().data
            elif kind in _OPEN:
                if event.anchor is not None:
                    raise _at(name, event, _ANCHORS, refused=True)
                if event.tag not in (None, "!", _OPEN[kind]):
                    _tagged(event, name)  # refused, or a scalar's tag on a collection
                if len(stack) == max_depth:
                    raise _at(name, event, f"YAML nested deeper than {max_depth} levels", True)
                stack.append(_Frame(kind is events.SequenceStartEvent))
                continue
            elif kind is events.AliasEvent:
                raise _at(name, event, _ANCHORS, refused=True)
            elif kind is events.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    msg = "not valid YAML: expected a single document, but found another"
                    raise _at(name, event, msg)
                continue
            else:
                continue  # stream start and end, document end
            if not build:
                continue
            if not stack:
                root = value
            elif (top := stack[-1]).seq:
                top.data.append(value)
            elif top.key is _MISSING:
                _new_key(top, value, event, name)
            else:
                top.data[top.key] = value
                top.key = _MISSING
    except yaml.YAMLError as e:
        raise _yaml_error(e, name, text, max_depth) from None
    except (RecursionError, MemoryError):  # pragma: no cover - nothing here recurses
        raise RefusedInput(name, 0, "", "YAML too large to read") from None
    finally:
        parser.dispose()
    return root


def _new_key(top: _Frame, key: Any, event: Any, name: str) -> None:
    if not isinstance(key, Hashable):
        raise _at(name, event, "not valid YAML: a mapping key that is a list or a mapping")
    if key in top.data:  # yaml.safe_load silently keeps the last value
        text = str(getattr(event, "value", key))[:80]  # 1 and yes are the same key, True
        msg = f"duplicate key {text!r} (the same key as on line {top.lines[key]})"
        raise _at(name, event, f"not valid YAML: {msg}")
    top.key, top.lines[key] = key, event.start_mark.line + 1
    top.data[key] = None  # holds the key's place, in the file's order


def _tagged(event: Any, name: str) -> Any:
    """A scalar with an explicit tag (refused unless safe); raises for a collection's."""
    tag = event.tag
    if tag not in SAFE_TAGS:
        raise _at(name, event, f"YAML tag {tag[:100]!r} is not accepted", refused=True)
    if type(event) is not events.ScalarEvent:
        raise _at(name, event, f"not valid YAML: tag {tag!r} on a collection")
    return _scalar(event, tag, name)


def _plain(event: Any, name: str) -> Any:
    """A plain scalar's value: PyYAML's implicit type (YAML 1.1), as ``yaml.safe_load``."""
    value = event.value
    for tag, regexp in _IMPLICIT.get(value[:1], ()):
        if regexp.match(value):
            if tag == _MERGE:
                msg = "YAML merge keys (<<) are not accepted: write the keys out"
                raise _at(name, event, msg, refused=True)
            return _scalar(event, tag, name)
    return value


def _scalar(event: Any, tag: str, name: str) -> Any:
    """A scalar's value under ``tag``: text, or a safe constructor's number, date, bool, null."""
    value = event.value
    if tag == _STR or tag not in _CONSTRUCT:  # "=" and the like read as text
        return value
    if len(value) > MAX_NUMBER_CHARS and tag != _NULL:
        # Base-60 integers (1:2:3) cost time quadratic in their length to convert.
        msg = f"YAML number or date over {MAX_NUMBER_CHARS} characters ({value[:40]!r}...)"
        raise _at(name, event, msg, refused=True)
    if tag == _INT and value.isdigit() and value[0] != "0":
        return int(value)  # the common case, without building a node
    try:
        return _CONSTRUCT[tag](_SCALARS, ScalarNode(tag, value, event.start_mark, event.end_mark))
    except (ValueError, OverflowError, yaml.YAMLError) as e:  # e.g. the date 2024-13-45
        raise _at(name, event, f"not valid YAML: cannot read {value[:80]!r}: {e}") from None


def _yaml_error(e: yaml.YAMLError, name: str, text: str, max_depth: int) -> InputError:
    """A parser's error as an :class:`InputError` on the line it names."""
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = _WORDING.get(e.problem or "", e.problem or "syntax error")
        if "maximum nesting depth" in problem:  # libyaml's own cap (1000), met while scanning
            return RefusedInput(name, line, "", f"YAML nested deeper than {max_depth} levels")
        context = f"{e.context}, " if e.context and not e.context.startswith("while") else ""
        return InputError(name, line, "", f"not valid YAML: {context}{problem}")
    position = getattr(e, "position", None)  # a ReaderError: a character YAML forbids
    line = _line_at(text, position) if isinstance(position, int) else 0
    return InputError(name, line, "", f"not valid YAML: {str(e).splitlines()[0]}")


# -- CSV -----------------------------------------------------------------------------------

Rows = list[tuple[int, list[str]]]


def read_csv_header(
    text: str, name: str, *, max_columns: int = MAX_COLUMNS, max_field: int = MAX_FIELD_CHARS
) -> list[str]:
    """The header row of a CSV, cells stripped (``[]`` for an empty file); nothing else read."""
    return _read_csv(text, name, 0, max_columns, max_field, header_only=True)[0]


def read_csv_rows(
    text: str,
    name: str,
    *,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_field: int = MAX_FIELD_CHARS,
) -> tuple[list[str], Rows]:
    """The header (cells stripped) and data rows as ``(line, cells)``, blank lines skipped.

    ``line`` is where the row starts (the header is line 1). An empty first line means an
    empty header (``[]``) and no rows. Quotes are strict: a quoted field never closed is an
    error, not the rest of the file in one field.
    """
    return _read_csv(text, name, max_rows, max_columns, max_field, header_only=False)


def _read_csv(
    text: str, name: str, max_rows: int, max_columns: int, max_field: int, header_only: bool
) -> tuple[list[str], Rows]:
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] | None = None
    rows: Rows = []
    end = 0  # the last line read
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if len(cells) > max_columns:
                msg = f"has {len(cells):,} cells; the limit is {max_columns} columns"
                raise RefusedInput(name, start, "", msg)
            if cells and max(map(len, cells)) > max_field:
                raise RefusedInput(name, start, "", _field_limit(max_field))
            if header is None:
                header = [c.strip() for c in cells]
                if header_only or not header:
                    break
            elif cells:
                if len(rows) == max_rows:
                    raise RefusedInput(name, start, "", f"over {max_rows:,} rows (the limit)")
                rows.append((start, cells))
    except csv.Error as e:
        line = end + 1  # where the unreadable row starts
        # csv's own field limit is process-wide (csv.field_size_limit), so it is left alone
        # here; when it is met first it is reported like ours.
        if "field limit" in str(e):
            raise RefusedInput(name, line, "", _field_limit(max_field)) from None
        reason = str(e)
        if "unexpected end of data" in reason:
            reason = 'a quoted field is never closed (a " is missing)'
        raise InputError(name, line, "", f"unreadable CSV: {reason}") from None
    return header or [], rows


def _field_limit(max_field: int) -> str:
    return f"a field is over {min(max_field, csv.field_size_limit()):,} characters (the limit)"

"""The shared loader of user files: decoding, YAML as safe_load reads it but bounded, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import math
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lendscope.core import files
from lendscope.core.files import InputError, RefusedInput
from tests.core.bombs import CPU_BOUND_S, MIB, YAML_BOMBS, timed

SRC = Path(__file__).parents[2] / "src/lendscope"


# -- read_text ---------------------------------------------------------------------------------


def test_read_text_from_a_path_or_bytes_strips_a_utf8_bom(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert files.read_text(p) == files.read_text(p.read_bytes(), "a.csv") == "a,b\n1,2\n"


@pytest.mark.parametrize(
    ("data", "row", "words"),
    [
        ("a,b\n".encode("utf-16"), 0, ["not UTF-8 text", "UTF-16", "save the file as UTF-8"]),
        (b"a,b\n1,\xc3\x28\n", 2, ["not UTF-8 text", "at byte 6, line 2"]),
        (b"a,b\n1,2\nx\x00y\n", 3, ["NUL byte at byte 9, line 3"]),
    ],
    ids=["utf16", "invalid_utf8", "nul"],
)
def test_read_text_refuses_what_is_not_utf8(data, row, words):
    with pytest.raises(InputError) as e:
        files.read_text(data, "up.csv")
    assert e.value.name == "up.csv" and e.value.row == row
    assert all(w in e.value.message for w in words), e.value.message


def test_size_cap_is_checked_on_the_bytes_and_names_file_and_cap(tmp_path):
    p = tmp_path / "big.yaml"
    with open(p, "wb") as f:  # sparse: 3 GiB that read_text must not read
        f.truncate(3 * 1024**3)
    t = time.thread_time()
    with pytest.raises(RefusedInput) as e:
        files.read_text(p)
    assert time.thread_time() - t < 0.5
    assert str(e.value) == (
        f"{p}: file is 3,221,225,472 bytes, over the 1 MiB limit for an input file"
    )
    assert files.read_text(b"x" * MIB, "ok.csv") == "x" * MIB
    with pytest.raises(RefusedInput, match="over the 1,000 bytes limit"):
        files.read_text(b"x" * 1001, "up.csv", max_bytes=1000)


def test_unreadable_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: cannot read: No such file"):
        files.read_text(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="cannot read: Is a directory"):
        files.read_text(tmp_path)


def test_error_text_leaves_out_what_is_unknown():
    assert str(InputError("f.csv", 0, "", "m")) == "f.csv: m"
    assert str(InputError("f.csv", 3, "", "m")) == "f.csv: row 3: m"
    assert str(RefusedInput("f.csv", 3, "x", "m")) == "f.csv: row 3: x: m"
    assert issubclass(RefusedInput, InputError) and issubclass(InputError, ValueError)


# -- YAML: the same data as yaml.safe_load ------------------------------------------------------

SAMPLES = [
    "a: [1, -2, +3, 012, 0x1f, 0b101, 1_000, '7', 1:30, 190:20:30.15]\n",
    "f: [1.5, 1e9, 1.0e+9, .5, -.inf, 1_0.5, .NaN]\n",
    "b: [yes, No, on, OFF, y, n, true, True, ~, null, '', !!null '']\n",
    "d: [2024-01-02, 2024-1-2, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5]\n",
    "s: ['q', \"d\\n\", a b, 'x: y', -x, ! 12, !!str 1, !!int '7', !!float 3, !!bool yes]\n",
    "t: !!timestamp 2020-02-02\nblock: |\n  lit\n  eral\nfolded: >\n  fold\n  ed\n",
    "? complex\n: key\n=: equals as a key\nnested: {a: [{b: {c: []}}], '': {}}\n",
    "- 1\n- [2, [3, [4]]]\n- {a: 1}\n",
    "",
    "# only a comment\n",
    "plain scalar\n",
]
FILES = sorted((SRC / "risk").rglob("*.yaml"))


def _same(a, b) -> bool:
    """Equal, with NaN equal to NaN and types compared (True is not 1 here)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("text", SAMPLES)
def test_values_are_those_of_safe_load(text):
    assert _same(files.load_yaml(text, "s.yaml"), yaml.safe_load(text))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_bundled_yaml_reads_as_with_safe_load(path):
    text = path.read_text()
    assert _same(files.load_yaml(text, path.name), yaml.safe_load(text))


_keys = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none())
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(),
    st.dates(),
    st.datetimes(timezones=st.just(dt.UTC)),
)
_data = st.recursive(
    _leaves,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_keys, kids, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_data, st.booleans())
def test_round_trip_matches_safe_load(data, flow):
    text = yaml.safe_dump({"d": data}, default_flow_style=flow, allow_unicode=True)
    assert _same(files.load_yaml(text, "h.yaml"), yaml.safe_load(text))


# -- YAML: refused, with the line -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "row", "words"),
    [
        ("a: 1\nb: &x [1]\n", 2, "anchors and aliases"),
        ("a: 1\nb: *x\n", 2, "anchors and aliases"),
        ("a: !!python/object/apply:os.system ['true']\n", 1, "tag 'tag:yaml.org,2002:python"),
        ("a: !evil x\n", 1, "tag '!evil' is not accepted"),
        ("a: !!binary aGk=\n", 1, "tag 'tag:yaml.org,2002:binary'"),
        ("a: !!set {x}\n", 1, "tag 'tag:yaml.org,2002:set'"),
        ("a: !!omap [x: 1]\n", 1, "tag 'tag:yaml.org,2002:omap'"),
        ("a:\n  <<: {b: 1}\n  c: 2\n", 2, "merge keys (<<)"),
        ("a: " + "1" * 101 + "\n", 1, "number or date over 100 characters"),
        ("[" * 33 + "]" * 33, 1, "nested deeper than 32 levels"),
        ("".join("  " * i + "a:\n" for i in range(40)), 33, "nested deeper than 32 levels"),
    ],
    ids=["anchor", "alias", "python", "custom", "binary", "set", "omap", "merge", "number",
         "flow_depth", "block_depth"],
)  # fmt: skip
def test_refused_constructs_name_their_line(text, row, words):
    built = "<<" in text or "1" * 101 in text  # caught while building values, not scanning
    for fn in (files.load_yaml,) if built else (files.load_yaml, files.check_yaml):
        with pytest.raises(RefusedInput) as e:
            fn(text, "r.yaml")
        assert (e.value.name, e.value.row) == ("r.yaml", row) and words in e.value.message


def test_depth_cap_is_inclusive():
    assert files.load_yaml("[" * 32 + "]" * 32, "d.yaml") is not None
    assert files.load_yaml("[[1]]", "d.yaml", max_depth=2) == [[1]]
    with pytest.raises(RefusedInput):
        files.load_yaml("[[[1]]]", "d.yaml", max_depth=2)


@pytest.mark.parametrize(
    ("text", "row", "words"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (the same key as on line 1)"),
        ("{1: x, yes: y}", 1, "duplicate key 'yes'"),  # both read as the key 1 == True
        ("? [a]\n: b\n", 1, "a mapping key that is a list or a mapping"),
        ("observations:\n  - period: 2025Q4\n    note: a: b\n", 3,
         "not valid YAML: mapping values are not allowed here"),
        ("a: 1\n---\nb: 2\n", 2, "expected a single document, but found another"),
        ("d: [2024-01-01,\n  2024-13-45]\n", 2, "cannot read '2024-13-45': month must be"),
        ("a: b\nc: \x01\n", 2, "unacceptable character #x0001"),
        ("a: !!str {b: 1}\n", 1, "tag 'tag:yaml.org,2002:str' on a collection"),
        ("a: !!int x\n", 1, "cannot read 'x'"),
    ],
    ids=["duplicate", "same_value", "unhashable", "syntax", "two_docs", "bad_date", "control",
         "tag_on_map", "bad_int"],
)  # fmt: skip
def test_malformed_yaml_names_its_line(text, row, words):
    with pytest.raises(InputError) as e:
        files.load_yaml(text, "m.yaml")
    assert not isinstance(e.value, RefusedInput)
    assert e.value.row == row and words in e.value.message, e.value


def test_check_yaml_builds_nothing_and_passes_malformed_data_on():
    assert files.check_yaml("a: 1\na: 2\n", "c.yaml") is None  # duplicates: load_yaml's job
    with pytest.raises(InputError, match="mapping values"):
        files.check_yaml("a: b: c\n", "c.yaml")


@pytest.mark.parametrize("parser", ["c", "python"])
@pytest.mark.parametrize("bomb", ["brackets_1mib", "dashes_1mib", "nested_maps_1mib",
                                  "block_maps_1mib", "aliases_1mib", "long_key_1mib"])  # fmt: skip
def test_hostile_yaml_stops_early_on_either_parser(monkeypatch, parser, bomb):
    if parser == "python":
        monkeypatch.setattr(files, "_Parser", files._PyParser)
    elif files.CParser is None:  # pragma: no cover
        pytest.skip("PyYAML without libyaml")
    err, seconds = timed(lambda: files.load_yaml(YAML_BOMBS[bomb], "b.yaml"))
    assert isinstance(err, InputError) and err.name == "b.yaml", repr(err)[:300]
    assert seconds <= CPU_BOUND_S / 2, err


# -- CSV ----------------------------------------------------------------------------------------


def test_csv_rows_keep_their_start_line():
    text = ' a , b\n1,2\n\n3,4,5\n"x\ny",z\n6\n'
    header, rows = files.read_csv_rows(text, "c.csv")
    assert header == ["a", "b"]
    assert rows == [(2, ["1", "2"]), (4, ["3", "4", "5"]), (5, ["x\ny", "z"]), (7, ["6"])]
    assert files.read_csv_rows("\n\na,b\n", "c.csv") == ([], [])  # a blank first line
    assert files.read_csv_rows("", "c.csv") == ([], [])
    assert files.read_csv_header('a,b\n1,"open\n', "c.csv") == ["a", "b"]  # reads no further


@pytest.mark.parametrize(
    ("text", "kw", "row", "words"),
    [
        ("a\n1\n2\n3\n", {"max_rows": 2}, 4, "over 2 rows (the limit)"),
        ("a,b,c\n", {"max_columns": 2}, 1, "has 3 cells; the limit is 2 columns"),
        ("a\nxxxx\n", {"max_field": 3}, 2, "a field is over 3 characters"),
        ('a\n"x\n' + "y\n" * 3, {}, 2, 'a quoted field is never closed (a " is missing)'),
        ('a,b\n"x"y,2\n', {}, 2, "unreadable CSV: ',' expected after '\"'"),
    ],
    ids=["rows", "columns", "field", "open_quote", "stray_quote"],
)
def test_csv_limits_and_errors_name_the_line(text, kw, row, words):
    with pytest.raises(InputError) as e:
        files.read_csv_rows(text, "c.csv", **kw)
    assert e.value.row == row and words in e.value.message, e.value


def test_csv_field_limit_of_the_process_is_reported_like_ours():
    old = csv.field_size_limit(10)
    try:
        with pytest.raises(RefusedInput, match="a field is over 10 characters"):
            files.read_csv_rows("a\n" + "x" * 50 + "\n", "c.csv")
    finally:
        csv.field_size_limit(old)

"""The cited CeFi label file: the bundled one is valid, and every kind of error names its place."""

from __future__ import annotations

import re

import pytest
from eth_utils import to_checksum_address

from lendscope.onchain.labels import COLUMNS, KINDS, LabelError, known_lenders, load_labels

HEADER = "# provenance header\n# second line\n" + ",".join(COLUMNS) + "\n"
GOOD = "0x8ACeaB8167c80CB8b3DE7fa6228b889bB1130Ee8"
BAD = GOOD[:3] + GOOD[3].swapcase() + GOOD[4:]  # one letter in the wrong case
SRC = "https://example.org/celsius-wallets"


def write(tmp_path, *rows: str):
    p = tmp_path / "labels.csv"
    p.write_text(HEADER + "".join(r + "\n" for r in rows))
    return p


def problems(tmp_path, *rows: str) -> list[str]:
    with pytest.raises(LabelError) as e:
        load_labels(write(tmp_path, *rows))
    return [str(p) for p in e.value.problems]


def test_bundled_labels_are_valid_and_cited():
    s = load_labels()
    lenders = known_lenders()
    assert s.labels and s.path.endswith("cefi_labels.csv")
    for lb in s.labels:
        assert lb.address == to_checksum_address(lb.address)
        assert lb.lender in lenders and lb.kind in KINDS and lb.says
        assert lb.source.startswith("https://") or re.match(r"github:.+@[0-9a-f]{40}:", lb.source)
    assert {lb.lender for lb in s.labels} >= {"Celsius", "BlockFi", "Galaxy", "Nexo"}
    on = s.on("ethereum")
    assert on[GOOD.lower()] == "Celsius"  # Celsius' DeFi wallet of 2022
    assert len(s.sources("ethereum", GOOD)) >= 2  # corroborated by more than one source
    assert len(s.digest("ethereum")) == 64 and s.on("arbitrum") == {}


def test_lowercase_and_repeated_sources(tmp_path):
    p = write(
        tmp_path,
        f"ethereum,{GOOD.lower()},Celsius,attribution,{SRC},named in a thread",
        f'ethereum,{GOOD},Celsius,filing,https://example.org/filing.pdf,"named, in a filing"',
    )
    s = load_labels(p)
    assert [lb.address for lb in s.labels] == [GOOD, GOOD]  # stored in EIP-55 form
    assert s.labels[0].row == 4  # the header comments count as lines
    assert s.labels[1].says == "named, in a filing"


@pytest.mark.parametrize(
    "row, field, text",
    [
        (f"ethereum,{BAD},Celsius,attribution,{SRC},x", "address", "EIP-55 checksum"),
        (f"ethereum,0x1234,Celsius,attribution,{SRC},x", "address", "not an address"),
        (f"ethereum,{GOOD},Celsius Network,attribution,{SRC},x", "lender", "unknown lender"),
        (f"ethereum,{GOOD},Celsius,rumour,{SRC},x", "kind", "unknown value 'rumour'"),
        (f"ethereum,{GOOD},Celsius,attribution,,x", "source", "is empty"),
        (f"ethereum,{GOOD},Celsius,attribution,{SRC},", "says", "is empty"),
        (f"ethereum,{GOOD},Celsius,attribution,ftp://x/y,x", "source", "neither an http(s) URL"),
        (f"ethereum,{GOOD},Celsius,attribution,github:a/b@main:f.csv,x", "source", "40-hex"),
    ],
)
def test_row_errors_name_file_row_and_field(tmp_path, row, field, text):
    (msg,) = problems(tmp_path, row)
    assert msg.startswith(f"{tmp_path / 'labels.csv'}: row 4, field '{field}': ")
    assert text in msg


def test_one_controller_per_address_and_no_repeats(tmp_path):
    msgs = problems(
        tmp_path,
        f"ethereum,{GOOD},Celsius,attribution,{SRC},x",
        f"ethereum,{GOOD},BlockFi,attribution,https://example.org/other,y",
        f"ethereum,{GOOD},Celsius,attribution,{SRC},again",
    )
    assert "row 5, field 'lender'" in msgs[0] and "labelled 'Celsius' on row 4" in msgs[0]
    assert "row 6, field 'source'" in msgs[1] and "repeats the source" in msgs[1]


def test_header_errors(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("chain,address,lender,kind,source,extra\n")
    with pytest.raises(LabelError, match=r"missing column\(s\) says; unknown column\(s\) extra"):
        load_labels(p)
    with pytest.raises(LabelError, match=r"file not found|cannot read"):
        load_labels(tmp_path / "absent.csv")


def test_every_problem_is_reported_at_once(tmp_path):
    msgs = problems(
        tmp_path,
        f"ethereum,{GOOD},Nobody,attribution,{SRC},x",
        f"ethereum,{BAD},Celsius,maybe,{SRC},x",
    )
    where = ["row 4, field 'lender'", "row 5, field 'address'", "row 5, field 'kind'"]
    assert [m.split(": ")[1] for m in msgs] == where

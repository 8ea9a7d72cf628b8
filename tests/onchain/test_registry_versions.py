"""Registry version windows: parsing, the errors bad windows give, and resolution per block."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest

from lendscope.chain import quarter_end_timestamp
from lendscope.onchain.registry import (
    RegistryError,
    dump_registry,
    load_registry,
    parse_registry,
)

POOL = "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2"
DP_NEW = "0x7B4EB56E7CD4b454BA8ff71E4518426369a138a3"
DP_OLD = "0x69FA688f1Dc47d4B5d8029D5a35FB7a548310654"
DP_OLDER = "0x6b4E260b765B3cA1514e618C0215A6B7839fF93e"


def _reg(versions: str) -> str:
    return f"""
[chains.ethereum]
chain_id = 1
[[deployment]]
id = "x"
protocol = "x"
family = "aave_v3"
chain = "ethereum"
platform = "X"
segment = "defi"
source = "https://example.org"
[deployment.addresses]
pool = {{ address = "{POOL}", label = "Pool" }}
data_provider = {{ address = "{DP_NEW}", label = "DP" }}
{versions}"""


def _version(addr: str, **bounds: object) -> str:
    lines = ["[[deployment.versions]]", 'source = "https://example.org/v"']
    lines += [f"{k} = {v}" for k, v in bounds.items()]
    lines += [
        "[deployment.versions.addresses]",
        f'data_provider = {{ address = "{addr}", label = "DP v" }}',
    ]
    return "\n".join(lines) + "\n"


def parse(versions: str, origin: str = "f.toml"):
    return parse_registry(tomllib.loads(_reg(versions)), origin).deployments[0]


def test_block_windows_resolve_per_block():
    d = parse(
        _version(DP_OLDER, until_block=100) + _version(DP_OLD, from_block=100, until_block=200)
    )
    assert [d.version_at(b) for b in (0, 99, 100, 199, 200)] == [0, 0, 1, 1, None]
    assert d.at(50).addr("data_provider") == DP_OLDER.lower()
    assert d.at(150).addr("data_provider") == DP_OLD.lower()
    assert d.at(200).addr("data_provider") == DP_NEW.lower()  # outside every window: its own
    assert d.at(150).addr("pool") == POOL.lower()  # addresses a version leaves alone stay
    assert d.at(150).label("data_provider") == "DP v" and d.at(150).versions == ()
    assert d.at(150).source == d.source and d.at(150).id == "x"


def test_time_windows_resolve_by_the_block_timestamp():
    d = parse(_version(DP_OLD, until_time="2025-07-03T15:46:07Z"))
    cut = int(datetime(2025, 7, 3, 15, 46, 7, tzinfo=UTC).timestamp())
    assert d.at(10**9, cut - 1).addr("data_provider") == DP_OLD.lower()
    assert d.at(1, cut).addr("data_provider") == DP_NEW.lower()
    with pytest.raises(RegistryError, match="timestamp"):
        d.at(5)


def test_a_toml_date_is_midnight_utc():
    d = parse(_version(DP_OLD, from_time="2024-01-01"))
    assert d.versions[0].from_time == int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())


def test_windows_round_trip_through_dump():
    reg = parse_registry(
        tomllib.loads(
            _reg(_version(DP_OLD, until_block=7) + _version(DP_OLDER, from_block=7, until_block=9))
        )
    )
    again = parse_registry(tomllib.loads(dump_registry(reg)))
    assert again.deployments == reg.deployments
    timed = parse_registry(tomllib.loads(_reg(_version(DP_OLD, until_time="2025-07-03T15:46:07Z"))))
    assert parse_registry(tomllib.loads(dump_registry(timed))).deployments == timed.deployments


@pytest.mark.parametrize(
    ("versions", "want"),
    [
        (
            _version(DP_OLD, from_block=9, until_block=5),
            r"versions\[0\]: from_block 9 is not before until_block 5",
        ),
        (
            _version(DP_OLD, from_block=5, until_block=5),
            r"versions\[0\]: from_block 5 is not before",
        ),
        (
            _version(DP_OLD, until_block=100) + _version(DP_OLDER, from_block=50, until_block=200),
            r"versions\[0\] \(until_block 100\) and versions\[1\] \(from_block 50\) overlap",
        ),
        (
            _version(DP_OLD, from_block=10) + _version(DP_OLDER, from_block=20, until_block=30),
            r"versions\[0\] \(until_block open\) and versions\[1\] \(from_block 20\) overlap",
        ),
        (_version(DP_OLD, until_block=-1), r"versions\[0\]\.until_block: give a block number"),
        (_version(DP_OLD, until_block='"10"'), r"versions\[0\]\.until_block: give a block number"),
        (_version(DP_OLD), r"versions\[0\]: give from_block/until_block or from_time/until_time"),
        (
            _version(DP_OLD, from_block=1, until_time="2025-01-01"),
            r"versions\[0\]: mixes block and time",
        ),
        (
            _version(DP_OLD, until_block=5) + _version(DP_OLDER, from_time="2025-01-01"),
            r"versions mix block and time windows",
        ),
        (_version(DP_OLD, until_time="2025-07-03T15:46:07"), r"until_time: give a UTC offset"),
        (_version(DP_OLD, until_block=5, note='"x"'), r"versions\[0\]: unknown field note"),
        (
            _version(DP_OLD, until_block=5).replace("data_provider = ", "oracle = "),
            r"versions\[0\]: addresses\.oracle: not one of the deployment's addresses",
        ),
        (
            _version(DP_OLD, until_block=5).replace('source = "https://example.org/v"\n', ""),
            r"versions\[0\]: lacks source",
        ),
    ],
)
def test_bad_windows_name_file_entry_and_field(versions, want):
    with pytest.raises(RegistryError, match=want) as e:
        parse(versions, "some/file.toml")
    assert str(e.value).startswith("some/file.toml: deployment 'x': versions")


def test_a_version_address_is_eip55_checked():
    wrong = DP_OLD[:-1] + "4" if DP_OLD[-1] != "4" else DP_OLD[:-1] + "5"
    wrong = wrong[:5] + wrong[5].swapcase() + wrong[6:]  # a mixed-case address, checksum broken
    with pytest.raises(RegistryError) as e:
        parse(_version(wrong, until_block=5), "some/file.toml")
    msg = str(e.value)
    assert "some/file.toml: deployment 'x': versions[0]: addresses.data_provider.address" in msg
    assert "EIP-55" in msg


L2 = {
    "aave-v3-arbitrum": "0x6b4E260b765B3cA1514e618C0215A6B7839fF93e",
    "aave-v3-optimism": "0xd9Ca4878dd38B021583c1B669905592EAe76E044",
    "aave-v3-polygon": "0x9441B65EE553F70df9C77d45d3283B6BC24F222d",
    "aave-v3-avalanche": "0x50ddd0Cd4266299527d25De9CBb55fE0EB8dAc30",
    "aave-v3-base": "0x2d8A3C5677189723C4cB8873CfC9C8976FDF38Ac",
}


@pytest.mark.parametrize("dep_id", sorted(L2))
def test_bundled_l2_data_providers_follow_the_address_book_history(dep_id):
    """Each quarter end reads the provider the address book listed then (bgd-labs history)."""
    d = next(x for x in load_registry().deployments if x.id == dep_id)
    at = {q: d.at(0, quarter_end_timestamp(q)).addr("data_provider") for q in
          ("2023Q2", "2024Q3", "2025Q2", "2025Q3")}  # fmt: skip
    assert at["2023Q2"] == L2[dep_id].lower()
    if dep_id != "aave-v3-base":
        assert at["2024Q3"] == "0x7deeb8ace4220643d8edec871a23807e4d006ee5"
        assert at["2025Q2"] == "0x14496b405d62c24f91f04cda1c69dc526d56fde5"
    assert at["2025Q3"] == d.addr("data_provider")  # the current one, from mid-2025
    assert all("/blob/" in v.source and v.source.endswith(".sol") for v in d.versions)

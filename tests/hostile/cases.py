"""Hostile and malformed files: what an attacker or a careless user hands lendscope.

Each case is a file for one entry point: a disclosure (``validate``, ``build --add``,
``POST /api/v1/validate``), a CeFi loan tape or its funding file (``stress --book``,
``POST /api/v1/stress``), or a stress scenario (``stress --scenario FILE``). Every one must be
refused with a clear message naming the file, within the CPU bound, with nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
GALAXY = "galaxy-2025-04-state-of-crypto-lending"
OBS_HEAD = "period,segment,platform,chain,metric,value_usd,source_id,method,published,note\n"
TAPE_HEAD = (
    "loan_id,lender,counterparty,principal,asset,rate,maturity,collateral_asset,"
    "collateral_amount,initial_ltv,margin_call_ltv,liquidation_ltv,unsecured,"
    "collateral_price_usd,asset_price_usd\n"
)
TAPE_ROW = "L001,ExampleLend,r1,25000,USDC,0.118,2022-11-01,BTC,1.25,0.5,0.7,0.8,false,40000,1\n"
FUNDING_HEAD = "item,lender,tenor_days,amount_usd,runoff\n"


@dataclass(frozen=True)
class Case:
    """One hostile file: its id, the name the user gives it, its bytes and its entry point."""

    id: str
    name: str
    content: bytes
    kind: str  # disclosure | tape | funding | scenario
    cli: bool = True  # False: a limit of the shared server only (the CLI takes big books)


def obs_row(value: str = "1.0e9", **kw: str) -> str:
    """An observations row (a new CeFi lender in 2025Q4 unless overridden)."""
    d = {"period": "2025Q4", "segment": "cefi", "platform": "Acme", "chain": "",
         "metric": "outstanding_loans_usd", "value_usd": value, "source_id": GALAXY,
         "method": "estimate", "published": "2026-02-15", "note": ""}  # fmt: skip
    d.update(kw)
    return ",".join(d.values()) + "\n"


def _yaml_obs(value: str) -> str:
    return (
        "observations:\n  - {period: 2025Q4, segment: cefi, platform: Acme, chain: '', "
        f"metric: outstanding_loans_usd, value_usd: {value}, source_id: {GALAXY}, "
        "method: estimate, published: 2026-02-15}\n"
    )


def _nested_maps(limit: int) -> str:
    depth = (limit - 16) // 5
    return "{a: " * depth + "1" + "}" * depth


def _laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _b(s: str, enc: str = "utf-8") -> bytes:
    return s.encode(enc)


YAML_CASES = [
    Case("yaml_deep_brackets", "deep.yaml", _b("[" * 40_000 + "]" * 40_000), "disclosure"),
    Case("yaml_deep_dashes", "dashes.yaml", _b("- " * 5_000 + "x\n"), "disclosure"),
    Case("yaml_deep_maps_1mib", "maps.yaml", _b(_nested_maps(MIB - 64)), "disclosure"),
    Case("yaml_billion_laughs", "laughs.yaml", _b(_laughs()), "disclosure"),
    Case("yaml_alias", "alias.yaml", _b("sources: &s []\nobservations: *s\n"), "disclosure"),
    Case("yaml_anchor_only", "anchor.yaml", _b("observations: &o []\n"), "disclosure"),
    Case(
        "yaml_python_tag",
        "tag.yaml",
        _b("observations: !!python/object/apply:os.system ['true']\n"),
        "disclosure",
    ),
    Case("yaml_custom_tag", "ctag.yaml", _b("observations: !evil []\n"), "disclosure"),
    Case("yaml_binary_tag", "bin.yaml", _b("observations: !!binary aGVsbG8=\n"), "disclosure"),
    Case(
        "yaml_duplicate_keys",
        "dup.yaml",
        _b(_yaml_obs("1.0e9") + "observations: []\n"),
        "disclosure",
    ),
    Case("yaml_scalar_top", "scalar.yaml", _b("hello\n"), "disclosure"),
    Case("yaml_list_top", "list.yaml", _b("- 1\n- 2\n"), "disclosure"),
    Case("yaml_huge_scalar", "huge.yaml", _b("note: " + "x" * (MIB - 64) + "\n"), "disclosure"),
    Case("yaml_over_cap", "big.yaml", _b("# " + "x" * (2 * MIB) + "\n"), "disclosure"),
    Case("yaml_nan", "nan.yaml", _b(_yaml_obs(".nan")), "disclosure"),
    Case("yaml_inf", "inf.yaml", _b(_yaml_obs(".inf")), "disclosure"),
    Case("yaml_bool_value", "bool.yaml", _b(_yaml_obs("yes")), "disclosure"),
    Case("yaml_tab_indent", "tab.yaml", _b("observations:\n\t- {period: 2025Q4}\n"), "disclosure"),
    Case("yaml_unclosed_quote", "quote.yaml", _b("observations: 'unclosed\n"), "disclosure"),
    Case(
        "yaml_two_documents", "docs.yaml", _b("observations: []\n---\nsources: []\n"), "disclosure"
    ),
    Case(
        "yaml_bad_date",
        "date.yaml",
        _b(_yaml_obs("1.0e9").replace("2026-02-15", "2025-13-45")),
        "disclosure",
    ),
    Case(
        "yaml_nul_byte",
        "nul.yaml",
        _b(_yaml_obs("1.0e9")).replace(b"Acme", b"Ac\0me"),
        "disclosure",
    ),
    Case(
        "yaml_invalid_utf8",
        "latin1.yaml",
        _yaml_obs("1.0e9").replace("Acme", "Acmé").encode("latin-1"),
        "disclosure",
    ),
]

CSV_CASES = [
    Case("csv_empty", "empty.csv", b"", "disclosure"),
    Case("csv_whitespace", "blank.csv", b"   \n\n  \n", "disclosure"),
    Case("csv_utf16", "utf16.csv", _b(OBS_HEAD + obs_row(), "utf-16"), "disclosure"),
    Case(
        "csv_bom_and_unit_error",
        "bom.csv",
        b"\xef\xbb\xbf"
        + _b(
            OBS_HEAD
            + obs_row(period="2024Q4", platform="", value_usd="112e9", published="2025-05-01")
        ),
        "disclosure",
    ),
    Case(
        "csv_invalid_utf8",
        "latin1.csv",
        (OBS_HEAD + obs_row(platform="Acmé")).encode("latin-1"),
        "disclosure",
    ),
    Case("csv_nul_byte", "nul.csv", _b(OBS_HEAD + obs_row(platform="Ac\0me")), "disclosure"),
    Case(
        "csv_huge_field", "field.csv", _b(OBS_HEAD + obs_row(note="x" * (MIB - 512))), "disclosure"
    ),
    Case("csv_over_cap", "big.csv", _b(OBS_HEAD + obs_row() * 20_000), "disclosure"),
    Case(
        "csv_many_columns",
        "cols.csv",
        _b(",".join(f"c{i}" for i in range(60_000)) + "\n"),
        "disclosure",
    ),
    Case(
        "csv_extra_cells",
        "extra.csv",
        _b(OBS_HEAD + obs_row().rstrip("\n") + ",x,y\n"),
        "disclosure",
    ),
    Case(
        "csv_unbalanced_quote",
        "quote.csv",
        _b(OBS_HEAD + obs_row(note='"unterminated')),
        "disclosure",
    ),
    Case("csv_header_only_unknown", "head.csv", b"amount,segment\n", "disclosure"),
    Case("csv_missing_columns", "miss.csv", _b("period,segment\n2025Q4,cefi\n"), "disclosure"),
    Case("csv_nan", "nan.csv", _b(OBS_HEAD + obs_row("nan")), "disclosure"),
    Case("csv_inf", "inf.csv", _b(OBS_HEAD + obs_row("inf")), "disclosure"),
    Case("csv_overflow", "overflow.csv", _b(OBS_HEAD + obs_row("1e400")), "disclosure"),
    Case("csv_negative", "neg.csv", _b(OBS_HEAD + obs_row("-5e9")), "disclosure"),
    Case("csv_hex_number", "hex.csv", _b(OBS_HEAD + obs_row("0x10")), "disclosure"),
    Case(
        "csv_ten_x_unit",
        "unit.csv",
        _b(
            OBS_HEAD
            + obs_row(period="2024Q4", platform="", value_usd="112e9", published="2025-05-01")
        ),
        "disclosure",
    ),
    Case(
        "csv_sum_exceeds_total",
        "sum.csv",
        _b(
            OBS_HEAD
            + obs_row(period="2024Q4", platform="Acme", value_usd="30e9", published="2025-05-01")
        ),
        "disclosure",
    ),
    Case(
        "csv_duplicate_rows", "dups.csv", _b(OBS_HEAD + obs_row() + obs_row("2.0e9")), "disclosure"
    ),
    Case("csv_bad_period", "q5.csv", _b(OBS_HEAD + obs_row(period="2024Q5")), "disclosure"),
    Case(
        "csv_sql_in_period",
        "sql.csv",
        _b(OBS_HEAD + obs_row(period="2024Q4'; DROP TABLE observations;--")),
        "disclosure",
    ),
    Case(
        "csv_future_period",
        "future.csv",
        _b(OBS_HEAD + obs_row(period="2099Q1", published="2099-06-01")),
        "disclosure",
    ),
    Case(
        "csv_published_early",
        "early.csv",
        _b(OBS_HEAD + obs_row(method="reported", published="2025-11-01")),
        "disclosure",
    ),
    Case(
        "csv_unknown_source", "src.csv", _b(OBS_HEAD + obs_row(source_id="nowhere")), "disclosure"
    ),
    Case("csv_unknown_segment", "seg.csv", _b(OBS_HEAD + obs_row(segment="cex")), "disclosure"),
    Case(
        "csv_crlf_in_cell",
        "crlf.csv",
        _b(OBS_HEAD + obs_row(value_usd='"1e9\r\nX-Injected: 1"')),
        "disclosure",
    ),
    Case("csv_path_name", "../../etc/passwd.csv", _b(OBS_HEAD + obs_row("nan")), "disclosure"),
    Case("csv_wrong_suffix", "data.exe", _b(OBS_HEAD + obs_row()), "disclosure"),
]

BOOK_CASES = [
    Case(
        "tape_nan_principal", "tape.csv", _b(TAPE_HEAD + TAPE_ROW.replace("25000", "nan")), "tape"
    ),
    Case(
        "tape_inf_collateral", "tape.csv", _b(TAPE_HEAD + TAPE_ROW.replace("1.25", "inf")), "tape"
    ),
    Case(
        "tape_unknown_asset", "tape.csv", _b(TAPE_HEAD + TAPE_ROW.replace("BTC", "DOGE9")), "tape"
    ),
    Case(
        "tape_bad_date", "tape.csv", _b(TAPE_HEAD + TAPE_ROW.replace("2022-11-01", "soon")), "tape"
    ),
    Case(
        "tape_too_many_loans",
        "tape.csv",
        _b(TAPE_HEAD + "".join(TAPE_ROW.replace("L001", f"L{i}") for i in range(6_000))),
        "tape",
        cli=False,
    ),
    Case(
        "tape_huge_field",
        "tape.csv",
        _b(TAPE_HEAD + TAPE_ROW.replace("r1", "r" * (MIB - 512))),
        "tape",
    ),
    Case("tape_not_a_tape", "tape.csv", _b(OBS_HEAD + obs_row()), "tape"),
    Case("funding_deep_yaml", "funding.yaml", _b("[" * 40_000 + "]" * 40_000), "funding"),
    Case(
        "funding_alias",
        "funding.yaml",
        _b("lender: ExampleLend\nown_capital_usd: &c 1\nliquid_assets_usd: *c\n"),
        "funding",
    ),
    Case("funding_laughs", "funding.yaml", _b(_laughs()), "funding"),
    Case(
        "funding_negative",
        "funding.yaml",
        _b("lender: ExampleLend\nown_capital_usd: -1\nliquid_assets_usd: 1\ndeposits: []\n"),
        "funding",
    ),
    Case(
        "funding_csv_nan",
        "funding.csv",
        _b(FUNDING_HEAD + "deposit,ExampleLend,0,nan,0.03\n"),
        "funding",
    ),
    Case("scenario_deep", "deep.yaml", _b("- " * 5_000 + "x\n"), "scenario"),
    Case(
        "scenario_alias",
        "alias.yaml",
        _b("name: x\ndays: 3\nstart: 2024-01-01\nshocks: &s {ETH: -0.4}\nother: *s\n"),
        "scenario",
    ),
    Case(
        "scenario_below_zero",
        "zero.yaml",
        _b("name: x\ndays: 3\nstart: 2024-01-01\nshocks:\n  ETH: -2.0\n"),
        "scenario",
    ),
    Case(
        "scenario_nan_shock",
        "nan.yaml",
        _b("name: x\ndays: 3\nstart: 2024-01-01\nshocks:\n  ETH: .nan\n"),
        "scenario",
    ),
    Case(
        "scenario_huge_days",
        "days.yaml",
        _b("name: x\ndays: 100000000\nstart: 2024-01-01\nshocks:\n  ETH: -0.4\n"),
        "scenario",
    ),
]

CASES = YAML_CASES + CSV_CASES + BOOK_CASES

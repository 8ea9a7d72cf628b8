"""Bad user files for the validator: row builders and the file-level and cell-type cases."""

from __future__ import annotations

import pytest

GALAXY = "galaxy-2025-04-state-of-crypto-lending"
DEFIANT = "defiant-2025-04-lending-down-43"
OBS = "period,segment,platform,chain,metric,value_usd,source_id,method,published,note\n"
VC = "period,deals,amount_usd,share_of_crypto_vc,source_id,method,published,note\n"
OVL = "period,lender,via_platform,amount_usd,source_id,published,note\n"
SRC = "id,title,publisher,url,published,kind,note\n"
CM = "period,scope,metric,value,source_id,published,note\n"


def obs(**kw: str) -> str:
    """One observations CSV row: a valid new CeFi lender for 2025Q4 unless overridden."""
    r = {
        "period": "2025Q4",
        "segment": "cefi",
        "platform": "Acme Lending",
        "chain": "",
        "metric": "outstanding_loans_usd",
        "value_usd": "1.0e9",
        "source_id": GALAXY,
        "method": "reported",
        "published": "2026-02-15",
        "note": "",
    }
    r.update(kw)
    return ",".join(r.values()) + "\n"


def obs_csv(*rows: str) -> str:
    return OBS + "".join(rows)


def vc(**kw: str) -> str:
    r = {
        "period": "2025Q1",
        "deals": "3",
        "amount_usd": "0.05e9",
        "share_of_crypto_vc": "0.01",
        "source_id": GALAXY,
        "method": "reported",
        "published": "2025-04-30",
        "note": "",
    }
    r.update(kw)
    return VC + ",".join(r.values()) + "\n"


def ovl(**kw: str) -> str:
    r = {
        "period": "2024Q4",
        "lender": "Acme Lending",
        "via_platform": "Aave",
        "amount_usd": "1.0e6",
        "source_id": GALAXY,
        "published": "2025-04-30",
        "note": "",
    }
    r.update(kw)
    return OVL + ",".join(r.values()) + "\n"


def src(**kw: str) -> str:
    r = {
        "id": "acme-2026-02-q4",
        "title": "Acme Lending Q4 2025 report",
        "publisher": "Acme",
        "url": "https://acme.example/q4-2025",
        "published": "2026-02-15",
        "kind": "report",
        "note": "",
    }
    r.update(kw)
    return SRC + ",".join(r.values()) + "\n"


def cited(**kw: str) -> str:
    """One cited_metrics CSV row: the 2024Q4 total's drawdown (43.3%) at a new vintage."""
    r = {
        "period": "2024Q4",
        "scope": "total",
        "metric": "drawdown_from_peak",
        "value": "0.433",
        "source_id": GALAXY,
        "published": "2025-05-01",
        "note": "",
    }
    r.update(kw)
    return ",".join(r.values()) + "\n"


def cited_csv(*rows: str) -> str:
    return CM + "".join(rows)


def yaml_obs(**kw: str) -> str:
    r = {
        "period": "2025Q4",
        "segment": "cefi",
        "platform": "Acme Lending",
        "metric": "outstanding_loans_usd",
        "value_usd": "1.0e9",
        "source_id": GALAXY,
        "method": "reported",
        "published": "2026-02-15",
    }
    r.update(kw)
    return "observations:\n" + "".join(
        f"{'  - ' if i == 0 else '    '}{k}: {v}\n" for i, (k, v) in enumerate(r.items())
    )


def bug(reason: str):
    return pytest.mark.xfail(strict=True, reason=f"validator bug: {reason}")


# (id, file name, content (str, bytes, or None = do not create), substrings, field, row)
# field/row None: the problem is about the whole file (or a whole row), so the message names
# no field (no row).
FILE_CASES = [
    # --- file level ------------------------------------------------------------------------
    (
        "columns_unknown",
        "loans.csv",
        "period,segment,amount\n2024Q4,cefi,1e9\n",
        ["columns match no table", "unknown column(s) amount"],
        None,
        1,
    ),
    (
        "columns_missing",
        "obs.csv",
        "period,segment,platform,chain,metric,value_usd,method,published\n"
        "2025Q4,cefi,Acme,,outstanding_loans_usd,1e9,reported,2026-02-15\n",
        ["columns match no table (closest: observations)", "missing column(s) source_id"],
        None,
        1,
    ),
    ("empty_csv", "empty.csv", "", ["file is empty: expected a header row"], None, None),
    (
        "non_utf8",
        "latin1.csv",
        OBS.encode() + "2025Q4,cefi,Café,,x\n".encode("latin-1"),
        ["not UTF-8 text"],
        None,
        None,
    ),
    (
        "invalid_yaml",
        "bad.yaml",
        "observations:\n  - period: 2025Q4\n    note: a: b\n",
        ["not valid YAML", "mapping values are not allowed here"],
        None,
        3,
    ),
    (
        "yaml_unknown_table",
        "loans.yaml",
        "loans:\n  - period: 2025Q4\n",
        ["unknown table 'loans'", "sources, observations, overlaps, vc_funding"],
        None,
        None,
    ),
    (
        "yaml_not_user_table",
        "ctx.yaml",
        "context:\n  - date: 2025-01-01\n",
        ["unknown table 'context'"],
        None,
        None,
    ),
    (
        "yaml_not_a_list",
        "scalar.yaml",
        "observations: 5\n",
        ["expected a list of rows (mappings)"],
        None,
        None,
    ),
    (
        "unsupported_extension",
        "obs.txt",
        obs_csv(obs()),
        ["unsupported file type '.txt'", "use .csv or .yaml"],
        None,
        None,
    ),
    ("missing_file", "nowhere.csv", None, ["file not found"], None, None),
    (
        "too_many_cells",
        "wide.csv",
        obs_csv(obs(note="a,b")),
        ["has 11 cells, the header has 10"],
        None,
        2,
    ),
    # --- cell types ------------------------------------------------------------------------
    (
        "not_a_number",
        "obs.csv",
        obs_csv(obs(value_usd="lots")),
        ["'lots' is not a number"],
        "value_usd",
        2,
    ),
    (
        "thousands_separators",
        "obs.csv",
        obs_csv(obs(value_usd='"11,200,000,000"')),
        ["'11,200,000,000' is not a plain number", "no separators"],
        "value_usd",
        2,
    ),
    (
        "infinite_number",
        "obs.csv",
        obs_csv(obs(value_usd="inf")),
        ["'inf' is not a finite number"],
        "value_usd",
        2,
    ),
    (
        "period_dash",
        "obs.csv",
        obs_csv(obs(period="2024-Q4")),
        ["'2024-Q4' is not a quarter YYYYQn"],
        "period",
        2,
    ),
    (
        "period_q5",
        "obs.csv",
        obs_csv(obs(period="2024Q5")),
        ["'2024Q5' is not a quarter YYYYQn"],
        "period",
        2,
    ),
    (
        "bad_published_date",
        "obs.csv",
        obs_csv(obs(published="2025-13-01")),
        ["'2025-13-01' is not a date YYYY-MM-DD"],
        "published",
        2,
    ),
    (
        "empty_required",
        "obs.csv",
        obs_csv(obs(source_id="")),
        ["is empty; a value is required"],
        "source_id",
        2,
    ),
    (
        "unknown_segment",
        "obs.csv",
        obs_csv(obs(segment="lending")),
        ["unknown value 'lending'", "cefi, defi, cdp"],
        "segment",
        2,
    ),
    (
        "unknown_metric",
        "obs.csv",
        obs_csv(obs(metric="loans_usd")),
        ["unknown value 'loans_usd'", "outstanding_loans_usd, supply_usd"],
        "metric",
        2,
    ),
    (
        "unknown_method",
        "obs.csv",
        obs_csv(obs(method="guess")),
        ["unknown value 'guess'", "withdrawn"],
        "method",
        2,
    ),
    (
        "yaml_unknown_method",
        "obs.yaml",
        yaml_obs(method="guess"),
        ["unknown value 'guess'"],
        "method",
        1,
    ),
]

"""Rules on single rows, and duplicates: what can be said of a row without the other figures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from lendscope.dataset.cited import cited_rules
from lendscope.dataset.load import Problem, Row
from lendscope.dataset.schema import (
    AGGREGATES,
    FIRST_PERIOD,
    LAST_YEAR_AHEAD,
    METRIC_BY_SCOPE,
    TABLES,
    period_end,
    period_index,
)


def _where(row: Row) -> str:
    return f"{row['_file']} row {row['_row']}"


def _same(a: Row, b: Row, cols: Iterable[str]) -> bool:
    return all(a.get(c) == b.get(c) for c in cols)


def check_rows(rows: dict[str, list[Row]]) -> list[Problem]:
    """Sources, signs, allowed values, periods and dates of each row, table by table.

    A row with any of these problems is left out of the checks across rows: its figure cannot
    be compared (no value, a quarter out of range, a source that does not exist).
    """
    problems: list[Problem] = []
    source_ids = {r["id"] for r in rows.get("sources", [])}

    def add(row: Row, field: str, msg: str) -> None:
        problems.append(Problem(row["_file"], row["_row"], field, msg))

    for name, table in TABLES.items():
        for r in rows.get(name, []):
            if name == "sources":
                if not str(r["url"]).startswith(("https://", "http://")):
                    add(r, "url", f"{r['url']!r} is not an http(s) URL")
            elif r["source_id"] not in source_ids:
                add(r, "source_id", f"unknown source {r['source_id']!r}; add it to sources first")
            for money in table.money:
                if r.get(money) is not None and r[money] < 0:
                    add(r, money, f"is negative ({r[money]:g}); amounts are non-negative USD")
            if name == "observations":
                problems.extend(_observation_rules(r))
            elif name == "vc_funding":
                problems.extend(_vc_rules(r))
            elif name == "cited_metrics":
                problems.extend(cited_rules(r))
            if name in ("overlaps", "vc_funding"):
                problems.extend(_period_rules(r, r.get("method", "reported")))
    return problems


def check_duplicates(rows: dict[str, list[Row]]) -> list[Problem]:
    """Rows repeating a fact (same key) of an earlier row, in the same file or with other values.

    The same row in another file is no problem: adding a file twice adds nothing. A conflicting
    row still takes part in the unit checks, so that a conflict never hides a unit error.
    """
    problems: list[Problem] = []
    for name, table in TABLES.items():
        seen: dict[tuple, Row] = {}
        for r in rows.get(name, []):
            key = tuple(r.get(c) for c in table.key)
            if key not in seen:
                seen[key] = r
                continue
            other = seen[key]
            same_content = _same(r, other, table.names)
            if other["_file"] == r["_file"] or not same_content:
                what = "duplicates" if same_content else "conflicts with"
                problems.append(
                    Problem(
                        r["_file"],
                        r["_row"],
                        table.key[0] if len(table.key) == 1 else "",
                        f"{what} {_where(other)} (same {', '.join(table.key)})",
                    )
                )
    return problems


def _vc_rules(r: Row) -> list[Problem]:
    out = []

    def add(field: str, msg: str) -> None:
        out.append(Problem(r["_file"], r["_row"], field, msg))

    s = r["share_of_crypto_vc"]
    if s is not None and not 0 <= s <= 1:
        add("share_of_crypto_vc", f"{s:g} is not a fraction in [0, 1]")
    if r["deals"] is not None and r["deals"] < 0:
        add("deals", "is negative")
    if r["deals"] is None and r["amount_usd"] is None and s is None:
        add("", "has none of deals, amount_usd, share_of_crypto_vc")
    return out


def _period_rules(r: Row, method: str) -> list[Problem]:
    out = []
    if r["published"] > date.today():  # a vintage is when a figure became known: never later
        out.append(
            Problem(
                r["_file"],
                r["_row"],
                "published",
                f"{r['published']} is in the future (today is {date.today()})",
            )
        )
    elif period_index(r["period"]) < period_index(FIRST_PERIOD):
        out.append(
            Problem(
                r["_file"],
                r["_row"],
                "period",
                f"{r['period']} is before {FIRST_PERIOD}, the first quarter covered",
            )
        )
    elif period_end(r["period"]).year > r["published"].year + LAST_YEAR_AHEAD:
        out.append(
            Problem(
                r["_file"],
                r["_row"],
                "period",
                f"{r['period']} is more than {LAST_YEAR_AHEAD} year(s) after the "
                f"figure was published ({r['published']})",
            )
        )
    elif method != "estimate" and r["published"] < period_end(r["period"]):
        out.append(
            Problem(
                r["_file"],
                r["_row"],
                "published",
                f"{r['published']} is before the end of {r['period']} "
                f"({period_end(r['period'])}); a quarter-end figure cannot be known "
                "before the quarter ends (use method=estimate for forecasts)",
            )
        )
    return out


def _observation_rules(r: Row) -> list[Problem]:
    out = _period_rules(r, r["method"])

    def add(field: str, msg: str) -> None:
        out.append(Problem(r["_file"], r["_row"], field, msg))

    seg = r["segment"]
    if r["metric"] != METRIC_BY_SCOPE[seg]:
        add("metric", f"{r['metric']!r} does not fit segment {seg!r}; use {METRIC_BY_SCOPE[seg]!r}")
    if seg in AGGREGATES and (r["platform"] or r["chain"]):
        add(
            "platform" if r["platform"] else "chain",
            f"must be empty: a {seg!r} row is a market-wide aggregate",
        )
    if seg == "cefi" and r["chain"]:
        add("chain", "must be empty for CeFi lenders")
    if r["method"] == "withdrawn":
        if r["value_usd"] is not None:
            add("value_usd", "must be empty when method is 'withdrawn'")
    elif r["value_usd"] is None:
        add("value_usd", "is empty; a value is required (or method 'withdrawn')")
    return out

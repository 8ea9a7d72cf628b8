"""Checks across rows and tables: sources, duplicates, sums against cited totals, unit errors."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from lendscope.core.fmt import usd
from lendscope.dataset.load import Problem, Row, TableFile, bundled_files, read_file
from lendscope.dataset.schema import (
    AGGREGATES,
    FIRST_PERIOD,
    LAST_YEAR_AHEAD,
    METRIC_BY_SCOPE,
    SEGMENTS,
    UNATTRIBUTED,
    period_end,
    period_index,
)

#: Published figures are rounded (often to $0.1B); sums may miss a cited total by this much.
SUM_TOLERANCE = 0.01
#: A value within this factor of 10x (or 1/10x) a comparable figure is a probable unit error.
UNIT_BAND = (10**0.75, 10**1.25)
#: Neighbours closer than this many quarters are compared for unit errors.
NEIGHBOUR_QUARTERS = 2

OBS_KEY = ("period", "segment", "platform", "chain", "metric")


def _usd(v: float) -> str:
    return usd(v, digits=3, sig=True, billions_from=1e8)


def _where(row: Row) -> str:
    return f"{row['_file']} row {row['_row']}"


def by_table(files: Iterable[TableFile]) -> dict[str, list[Row]]:
    """Concatenate rows per table name."""
    out: dict[str, list[Row]] = defaultdict(list)
    for f in files:
        out[f.table.name].extend(f.rows)
    return out


def _same(a: Row, b: Row, cols: Iterable[str]) -> bool:
    return all(a.get(c) == b.get(c) for c in cols)


def check_rows(rows: dict[str, list[Row]], user: set[str]) -> list[Problem]:
    """Row-level rules and duplicates; ``user`` holds the paths of files the user adds."""
    from lendscope.dataset.schema import TABLES

    problems: list[Problem] = []
    source_ids = {r["id"] for r in rows.get("sources", [])}

    def add(row: Row, field: str, msg: str) -> None:
        problems.append(Problem(row["_file"], row["_row"], field, msg))

    for name, table in TABLES.items():
        seen: dict[tuple, Row] = {}
        for r in rows.get(name, []):
            if name == "sources":
                if not str(r["url"]).startswith(("https://", "http://")):
                    add(r, "url", f"{r['url']!r} is not an http(s) URL")
            elif r["source_id"] not in source_ids:
                add(r, "source_id", f"unknown source {r['source_id']!r}; add it to sources first")
            for money in table.money:
                if r.get(money) is not None and r[money] < 0:
                    add(r, money, f"is negative ({r[money]:g}); amounts are non-negative USD")
            key = tuple(r.get(c) for c in table.key)
            if key in seen:
                other = seen[key]
                same_content = _same(r, other, table.names)
                if other["_file"] == r["_file"] or not same_content:
                    what = "duplicates" if same_content else "conflicts with"
                    add(
                        r,
                        table.key[0] if len(table.key) == 1 else "",
                        f"{what} {_where(other)} (same {', '.join(table.key)})",
                    )
            else:
                seen[key] = r
        if name == "observations":
            for r in rows.get(name, []):
                problems.extend(_observation_rules(r))
        if name == "vc_funding":
            for r in rows.get(name, []):
                s = r["share_of_crypto_vc"]
                if s is not None and not 0 <= s <= 1:
                    add(r, "share_of_crypto_vc", f"{s:g} is not a fraction in [0, 1]")
                if r["deals"] is not None and r["deals"] < 0:
                    add(r, "deals", "is negative")
                if r["deals"] is None and r["amount_usd"] is None and s is None:
                    add(r, "", "has none of deals, amount_usd, share_of_crypto_vc")
        if name in ("overlaps", "vc_funding"):
            for r in rows.get(name, []):
                problems.extend(_period_rules(r, r.get("method", "reported")))
    return problems


def _period_rules(r: Row, method: str) -> list[Problem]:
    out = []
    if period_index(r["period"]) < period_index(FIRST_PERIOD):
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


def snapshot(rows: list[Row], as_of: date) -> dict[tuple, Row]:
    """Latest row per observation key published on or before ``as_of`` (withdrawn dropped)."""
    best: dict[tuple, Row] = {}
    for r in rows:
        if r["published"] > as_of:
            continue
        k = tuple(r[c] for c in OBS_KEY)
        if k not in best or r["published"] > best[k]["published"]:
            best[k] = r
    return {k: r for k, r in best.items() if r["method"] != "withdrawn"}


def _blame(rows: list[Row], user: set[str]) -> Row:
    mine = [r for r in rows if r["_file"] in user]
    return (mine or rows)[0]


def check_consistency(obs: list[Row], user: set[str]) -> list[Problem]:
    """Components against cited totals, and probable unit errors, at every vintage."""
    problems: dict[tuple, Problem] = {}

    def add(row: Row, field: str, msg: str) -> None:
        problems.setdefault(
            (row["_file"], row["_row"], field), Problem(row["_file"], row["_row"], field, msg)
        )

    by_period: dict[str, list[Row]] = defaultdict(list)
    for r in obs:
        by_period[r["period"]].append(r)
    for period, prs in by_period.items():
        for as_of in sorted({r["published"] for r in prs}):
            snap = list(snapshot(prs, as_of).values())
            _check_sums(snap, period, as_of, user, add)
    _check_units(obs, user, add)
    return list(problems.values())


def segment_value(snap: list[Row], seg: str) -> tuple[float | None, list[Row]]:
    """A segment's size in a snapshot: its cited total, else its rows closed by `unattributed`."""
    total = [r for r in snap if r["segment"] == seg and not r["platform"] and not r["chain"]]
    if total:
        return total[0]["value_usd"], total
    comps = [r for r in snap if r["segment"] == seg and r["platform"]]
    if any(r["platform"] == UNATTRIBUTED for r in comps):
        return math.fsum(r["value_usd"] for r in comps), comps
    return None, comps


def _check_sums(snap: list[Row], period: str, as_of: date, user: set[str], add) -> None:
    tol = 1 + SUM_TOLERANCE
    where = f"{period} as published by {as_of}"
    # Each cited (segment, chain) total against its platform rows.
    for t in (r for r in snap if not r["platform"] and r["segment"] in SEGMENTS):
        comps = [
            r
            for r in snap
            if r["segment"] == t["segment"]
            and r["platform"]
            and (not t["chain"] or r["chain"] == t["chain"])
        ]
        if not comps:
            continue
        s = math.fsum(r["value_usd"] for r in comps)
        closed = not t["chain"] and any(r["platform"] == UNATTRIBUTED for r in comps)
        label = f"{t['segment']}" + (f" on {t['chain']}" if t["chain"] else "")
        if s > t["value_usd"] * tol:
            culprit = _blame([*comps, t], user)
            add(
                culprit,
                "value_usd",
                f"{label} platforms sum to {_usd(s)}, more than the cited "
                f"{label} total {_usd(t['value_usd'])} ({_where(t)}) for {where}"
                + _unit_hint(culprit, s, t["value_usd"]),
            )
        elif closed and s * tol < t["value_usd"]:
            culprit = _blame([*comps, t], user)
            add(
                culprit,
                "value_usd",
                f"{label} platforms incl. '{UNATTRIBUTED}' sum "
                f"to {_usd(s)}, not the cited {label} total {_usd(t['value_usd'])} "
                f"({_where(t)}) for {where}" + _unit_hint(culprit, s, t["value_usd"]),
            )
    seg = {s: segment_value(snap, s) for s in SEGMENTS}
    for agg, parts in (("total", SEGMENTS), ("total_ex_cdp", ("cefi", "defi"))):
        rows = [r for r in snap if r["segment"] == agg]
        if not rows:
            continue
        t = rows[0]
        known = [(p, seg[p][0], seg[p][1]) for p in parts if seg[p][0] is not None]
        s = math.fsum(v for _, v, _ in known)
        involved = [t] + [r for _, _, rs in known for r in rs]
        if s > t["value_usd"] * tol:
            culprit = _blame(involved, user)
            add(
                culprit,
                "value_usd",
                f"{' + '.join(p for p, _, _ in known)} = {_usd(s)} exceeds "
                f"the cited {agg} {_usd(t['value_usd'])} ({_where(t)}) for {where}"
                + _unit_hint(culprit, s, t["value_usd"]),
            )
        elif len(known) == len(parts) and s * tol < t["value_usd"]:
            culprit = _blame(involved, user)
            add(
                culprit,
                "value_usd",
                f"{' + '.join(parts)} = {_usd(s)} does not "
                f"sum to the cited {agg} {_usd(t['value_usd'])} ({_where(t)}) for {where}"
                + _unit_hint(culprit, s, t["value_usd"]),
            )


def _unit_hint(row: Row, parts: float, total: float) -> str:
    """Suggest a 10x fix when rescaling the culprit alone makes parts and total agree."""
    v = row["value_usd"]
    if not v:
        return ""
    is_total = not row["platform"] and (parts != v or row["segment"] in AGGREGATES)
    for fix in (v / 10, v * 10):
        p, t = (parts, fix) if is_total else (parts - v + fix, total)
        if t and abs(p - t) <= SUM_TOLERANCE * t:
            return f"; probable unit error: did you mean {_usd(fix)}?"
    return ""


def _check_units(obs: list[Row], user: set[str], add) -> None:
    series: dict[tuple, list[Row]] = defaultdict(list)
    for r in obs:
        if r["value_usd"]:
            series[(r["segment"], r["platform"], r["chain"], r["metric"])].append(r)
    lo, hi = UNIT_BAND
    for rs in series.values():
        for r in rs:
            if r["_file"] not in user:
                continue
            i = period_index(r["period"])
            for c in sorted(rs, key=lambda c: (abs(period_index(c["period"]) - i), c["_row"])):
                if c is r or abs(period_index(c["period"]) - i) > NEIGHBOUR_QUARTERS:
                    continue
                ratio = r["value_usd"] / c["value_usd"]
                if lo <= ratio <= hi or lo <= 1 / ratio <= hi:
                    fix = r["value_usd"] / 10 if ratio > 1 else r["value_usd"] * 10
                    what = "the same figure" if c["period"] == r["period"] else "its neighbour"
                    add(
                        r,
                        "value_usd",
                        f"probable unit error: {_usd(r['value_usd'])} is "
                        f"{ratio:.3g}x {what} {_usd(c['value_usd'])} for {c['period']} "
                        f"({_where(c)}); did you mean {_usd(fix)}?",
                    )
                    break


def validate(files: list[TableFile], user: set[str]) -> list[Problem]:
    """All checks over the combined files; problems sorted by file, row and field."""
    rows = by_table(files)
    problems = check_rows(rows, user)
    bad = {(p.file, p.row) for p in problems}
    obs = [r for r in rows.get("observations", []) if (r["_file"], r["_row"]) not in bad]
    problems += check_consistency(obs, user)
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

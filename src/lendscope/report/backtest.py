"""Plain-text rendering of a backtest: predicted beside actual, per lender and on-chain."""

from __future__ import annotations

from lendscope.core.fmt import usd


def table(r: dict) -> str:
    """The backtest as the tables a risk committee reads."""

    def money(x: float | None) -> str:
        return "-" if x is None else usd(x, digits=2, m_digits=1, billions_from=1e8)

    lines = [
        f"Backtest {r['case']}: scenario {r['scenario']} ({r['start']} .. {r['end']}), "
        f"seed {r['seed']}, book {r['book_source']}",
        "",
        f"{'lender':9} {'actual':>11} {'predicted':>11} {'frozen (model)':>15} {'days off':>8}  ok",
    ]
    for x in r["lenders"]:
        act = x["actual_date"] or "survived"
        pred = x["predicted_date"] or "survives"
        off = "" if x["days_off"] is None else f"{x['days_off']:+d}"
        lines.append(f"{x['lender']:9} {act:>11} {pred:>11} {x['predicted_frozen'] or '-':>15} "
                     f"{off:>8}  {'yes' if x['correct'] else 'NO'}")  # fmt: skip
    lines.append("")
    for x in r["lenders"]:
        lines.append(f"  {x['lender']}: {x['reason']}")
    o = r["onchain"]
    lines += [
        "",
        f"On-chain: {money(o['liquidated_usd'])} liquidated of {money(o['debt_usd'])} debt; "
        f"{money(o['voluntary_repaid_usd'])} repaid or topped up by borrowers",
        f"{'protocol':10} {'window':23} {'published':>10} {'model':>10} {'ratio':>6}",
    ]
    for x in o["observed"]:
        ratio = "-" if x["ratio"] is None else f"{x['ratio']:.2f}"
        pub, mod = money(x["published_usd"]), money(x["model_usd"])
        win = f"{x['window'][0]}..{x['window'][1]}"
        lines.append(f"{x['protocol']:10} {win:23} {pub:>10} {mod:>10} {ratio:>6}")
    lines += ["", "Score: " + r["score"]["summary"]]
    return "\n".join(lines)

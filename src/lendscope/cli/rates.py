"""Protocol rate models."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from lendscope.cli._common import (
    Fmt,
    app,
)


def _rate_opt(help_: str):
    return typer.Option(help=help_)


@app.command()
def rates(
    model: Annotated[str, typer.Argument(help="aave-v3 | compound-v3 | morpho-adaptive")],
    utilization: Annotated[float | None, typer.Option(help="Utilization, 0..1.")] = None,
    curve: Annotated[bool, typer.Option(help="Print the whole curve over 0..1.")] = False,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    optimal: Annotated[float | None, _rate_opt("aave-v3: optimal usage ratio.")] = None,
    base: Annotated[float | None, _rate_opt("aave-v3: base borrow rate (APR).")] = None,
    slope1: Annotated[float | None, _rate_opt("aave-v3: slope below optimal.")] = None,
    slope2: Annotated[float | None, _rate_opt("aave-v3: slope above optimal.")] = None,
    reserve_factor: Annotated[float | None, _rate_opt("aave-v3: reserve factor.")] = None,
    ltv: Annotated[float | None, _rate_opt("aave-v3: LTV (checked against LT).")] = None,
    liquidation_threshold: Annotated[float | None, _rate_opt("aave-v3: LT.")] = None,
    kink: Annotated[float | None, _rate_opt("compound-v3: kink utilization.")] = None,
    supply_base: Annotated[float | None, _rate_opt("compound-v3: supply base rate.")] = None,
    supply_slope_low: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    supply_slope_high: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    borrow_base: Annotated[float | None, _rate_opt("compound-v3: borrow base rate.")] = None,
    borrow_slope_low: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    borrow_slope_high: Annotated[float | None, _rate_opt("compound-v3.")] = None,
    rate_at_target: Annotated[float | None, _rate_opt("morpho-adaptive: APR at 90%.")] = None,
    fee: Annotated[float | None, _rate_opt("morpho-adaptive: market fee.")] = None,
) -> None:
    """Borrow and supply APR/APY of a protocol rate model at a utilization."""
    from lendscope.mechanics.rates import RateParamError, evaluate
    from lendscope.mechanics.rates import curve as rate_curve

    params = {k: v for k, v in locals().items() if k not in
              ("model", "utilization", "curve", "fmt", "rate_curve", "evaluate",
               "RateParamError")}  # fmt: skip
    if utilization is None and not curve:
        raise typer.BadParameter("give --utilization U or --curve", param_hint="--utilization")
    try:
        rows = rate_curve(model, **params) if curve else [evaluate(model, utilization, **params)]
    except RateParamError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    data = [r.as_dict() for r in rows]
    if fmt is Fmt.json:
        typer.echo(json.dumps(data if curve else data[0], indent=2))
        return
    t = RichTable(title=f"{model} rates")
    for c in ("utilization", "borrow APR", "supply APR", "borrow APY", "supply APY"):
        t.add_column(c, justify="right")
    for d in data:
        t.add_row(*(f"{d[k]:.2%}" for k in ("utilization", "borrow_apr", "supply_apr",
                                            "borrow_apy", "supply_apy")))  # fmt: skip
    Console().print(t)


# -- risk engine -----------------------------------------------------------------------------

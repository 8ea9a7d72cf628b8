"""The fits behind the engine's behavioural defaults, each on data the 2022 backtest does not score.

* :func:`runoff_base` — the depositors' run-off per unit of stress signal: Vauld's customers
  withdrew about 20% of its assets in the 22 days before its 4 July 2022 freeze; the model's
  signal over those days (7-day BTC/ETH drawdown, the market news of the 2022 case, and the
  Celsius freeze as a peer failure) is computed from the bundled closes and the base solved
  so the model loses the same 20%.
* :func:`resolution_days` — the median freeze-to-filing lag of seven platforms outside the test
  set (Vauld, Zipmex, Hodlnaut, CoinFLEX, Babel, Cred, Delio).
* :func:`save_share` — the share of liquidatable debt saved by its owners: Maker, 21-22 January
  2022, 6 of 7 whale vaults topped up, $65M of $630M auctioned.

The facts are in ``risk/calibration/facts_*.yaml`` with their sources.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import numpy as np

from lendscope.core import files
from lendscope.risk.behaviour import Depositors
from lendscope.risk.engine_cefi import market_level
from lendscope.risk.scenarios import load_builtin

FACTS = Path(__file__).parent.parent / "calibration"


def _facts(name: str) -> dict:
    path = FACTS / f"facts_{name}.yaml"
    return files.load_yaml(files.read_text(path, str(path)), str(path))


def _vauld() -> dict:
    for x in _facts("runs")["deposit_runoff"]:
        if x["entity"].startswith("Vauld"):
            return x
    raise LookupError("facts_runs.yaml: no Vauld run-off figure")


def signal_path(start: dt.date, end: dt.date, dep: Depositors) -> np.ndarray:
    """The stress signal of a lender with no losses of its own, day by day over start..end."""
    sc = load_builtin("2022")
    S = sc.full_paths()
    news = [dt.date(2022, 5, 9), dt.date(2022, 6, 15), dt.date(2022, 11, 8)]  # the case's news
    peers = [dt.date(2022, 6, 12)]  # Celsius froze
    levels = [market_level(S[0])]
    out = []
    for t in range(1, len(sc.dates)):
        levels.append(market_level(S[t]))
        day = sc.dates[t]
        if not start <= day <= end:
            continue
        peak = max(levels[-dep.window_days - 1 :])
        n = float(sum(dep.news_weight((day - d).days) for d in news))
        ages = np.array([(day - d).days for d in peers if d <= day])
        out.append(float(dep.signal(1.0 - levels[-1] / peak, np.array([n]), ages, np.zeros(1))[0]))
    return np.array(out)


def runoff_base(dep: Depositors | None = None) -> float:
    """Base run-off per day at signal 1 that reproduces Vauld's pre-freeze withdrawals."""
    dep = dep or Depositors()
    v = _vauld()
    lo, hi = (dt.date.fromisoformat(str(x)) for x in v["window"])
    s = signal_path(lo, hi, dep)
    target = float(v["withdrawals_usd"]) / float(v["start_balance_usd"])
    a, b = 0.0, 1.0 / max(float(s.max()), 1e-9)
    for _ in range(100):  # bisection on the cumulative share withdrawn
        m = 0.5 * (a + b)
        if 1.0 - np.prod(1.0 - m * s) < target:
            a = m
        else:
            b = m
    return 0.5 * (a + b)


def resolution_days() -> int:
    """Median freeze-to-filing lag (days) of the calibration set."""
    lags = [int(x["lag_days"]) for x in _facts("runs")["freeze_to_filing"]["calibration_set"]
            if x.get("lag_days") is not None]  # fmt: skip
    return int(statistics.median(lags))


def save_share() -> float:
    """Share of at-risk Maker collateral its owners saved on 21-22 January 2022."""
    for x in _facts("liquidity")["borrower_behaviour"]:
        if x["id"] == "maker_jan_2022_vaults_saved":
            v = x["value"]
            return 1.0 - float(v["liquidated_usd"]) / float(v["collateral_at_risk_usd"])
    raise LookupError("facts_liquidity.yaml: no Maker January 2022 figure")


def fits() -> dict[str, float]:
    """Every fitted default, as computed now from the bundled facts and closes."""
    return {"runoff_base": runoff_base(), "resolution_days": resolution_days(),
            "save_share": save_share()}  # fmt: skip

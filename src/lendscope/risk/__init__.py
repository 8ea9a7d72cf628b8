"""Risk engine: stress scenarios, correlated Monte Carlo paths and positionxscenario kernels.

`scenarios` loads dated historical replays and user shocks, `montecarlo` generates seeded
correlated GBM/jump paths, `kernels` evaluates lending books against them (bad debt, liquidations,
cascades), and `executors` runs chunks locally, on Dask or on Spark with identical results.
"""

from lendscope.risk.kernels import (
    CascadeParams,
    CascadeResult,
    ThresholdBook,
    cascade,
    cascade_reference,
    evar99,
    expected_tail,
    lar95,
    var95,
    var_kernel,
    var_reference,
)
from lendscope.risk.montecarlo import Bridge, GBMModel, Jumps, calibrate, simulate
from lendscope.risk.scenarios import (
    ASSETS,
    Liquidity,
    Scenario,
    ScenarioError,
    builtin_names,
    load_builtin,
    load_scenario,
)

__all__ = [
    "ASSETS",
    "Bridge",
    "CascadeParams",
    "CascadeResult",
    "GBMModel",
    "Jumps",
    "Liquidity",
    "Scenario",
    "ScenarioError",
    "ThresholdBook",
    "builtin_names",
    "calibrate",
    "cascade",
    "cascade_reference",
    "evar99",
    "expected_tail",
    "lar95",
    "load_builtin",
    "load_scenario",
    "simulate",
    "var95",
    "var_kernel",
    "var_reference",
]

"""AdaptiveCurveIrm port checked against ``@morpho-org/blue-sdk`` 6.4.0 as a second reference.

The IRM's Solidity (morpho-blue-irm) is not on npm, so the sdk's bigint port stands in for it:
``AdaptiveCurveIrmLib.getBorrowRate`` / ``wExp`` and ``MarketUtils.getLiquidationIncentiveFactor``
must equal lendscope's integers exactly.
"""

from __future__ import annotations

import json
import random
import subprocess

from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.morpho_blue.irm import (
    INITIAL_RATE_AT_TARGET,
    LN_WEI_INT,
    MAX_RATE_AT_TARGET,
    MIN_RATE_AT_TARGET,
    TARGET_UTILIZATION,
    WEXP_UPPER_BOUND,
    borrow_rate_from_utilization,
    w_exp,
)
from lendscope.mechanics.morpho_blue.math import liquidation_incentive_factor
from tests.evm.harness import EVM_DIR


def sdk(cases: dict) -> dict:
    js = json.dumps(
        {
            k: [[str(x) for x in c] if isinstance(c, tuple) else str(c) for c in v]
            for k, v in cases.items()
        }
    )
    r = subprocess.run(
        ["node", str(EVM_DIR / "blue_sdk_irm.js")],
        input=js,
        text=True,
        capture_output=True,
        check=True,
        cwd=EVM_DIR,
        timeout=60,
    )
    return json.loads(r.stdout)


def cases(n: int = 100, seed: int = 7) -> list[tuple[int, int, int]]:
    rnd = random.Random(seed)
    edge_u = [0, 1, TARGET_UTILIZATION - 1, TARGET_UTILIZATION, TARGET_UTILIZATION + 1, WAD]
    edge_r = [0, MIN_RATE_AT_TARGET, INITIAL_RATE_AT_TARGET, MAX_RATE_AT_TARGET]
    edge_t = [0, 1, 12, 86400, 365 * 86400, 10 * 365 * 86400]
    out = [(u, r, t) for u in edge_u for r in edge_r[:2] for t in edge_t[::2]]
    for _ in range(n):
        u = rnd.choice(
            [rnd.randrange(WAD + 1), TARGET_UTILIZATION + rnd.randint(-(10**15), 10**15)]
        )
        r = rnd.choice([0, rnd.randint(MIN_RATE_AT_TARGET, MAX_RATE_AT_TARGET)])
        t = rnd.choice([rnd.randint(0, 3600), rnd.randint(0, 5 * 365 * 86400)])
        out.append((u, r, t))
    return out


def test_adaptive_curve_irm_matches_blue_sdk() -> None:
    rates = cases()
    rnd = random.Random(11)
    xs = [LN_WEI_INT - 1, LN_WEI_INT, 0, -1, 1, WEXP_UPPER_BOUND - 1, WEXP_UPPER_BOUND]
    xs += [rnd.randint(LN_WEI_INT, WEXP_UPPER_BOUND) for _ in range(100)]
    lltvs = [0, 385 * 10**15, 625 * 10**15, 77 * 10**16, 86 * 10**16, 915 * 10**15, 98 * 10**16]
    got = sdk({"rates": rates, "exp": xs, "lltv": lltvs})
    assert len(got["rates"]) >= 100
    for (u, r, t), (avg, end) in zip(rates, got["rates"], strict=True):
        assert borrow_rate_from_utilization(u, r, t) == (int(avg), int(end)), (u, r, t)
    for x, e in zip(xs, got["exp"], strict=True):
        assert w_exp(x) == int(e), x
    for lltv, lif in zip(lltvs, got["lltv"], strict=True):
        assert liquidation_incentive_factor(lltv) == int(lif), lltv

import datetime as dt

import numpy as np
import pytest

from lendscope.core.assets import ASSETS
from lendscope.risk.scenarios import (
    ZERO_FLOOR,
    ScenarioError,
    builtin_names,
    load_builtin,
    load_scenario,
)

USER = """
name: my-stress
days: 3
start: 2024-01-01
shocks:
  ETH: -0.43
  stETH: {depeg: 0.0625}
  UST: {to_zero: true}
"""


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_builtins_load_and_are_well_formed():
    assert builtin_names() == ["2022", "aug-2024", "black-thursday", "usdc-depeg-2023"]
    for name in builtin_names():
        s = load_builtin(name)
        assert s.multipliers.shape == (s.steps + 1, len(s.assets))
        assert (s.multipliers > 0).all()
        assert np.allclose(s.multipliers[0], 1.0)
        assert all((b - a).days == 1 for a, b in zip(s.dates, s.dates[1:], strict=False))
        assert all(s.sources[a] for a in s.assets) and s.notes
        assert s.full_paths().shape == (s.steps + 1, len(ASSETS))


def test_2022_replays_real_daily_closes():
    s = load_builtin("2022")
    assert s.dates[0] == dt.date(2022, 5, 1) and s.dates[-1] == dt.date(2023, 1, 31)
    usd = s.usd_start

    def close(asset: str, day: dt.date) -> float:
        return float(s.path(asset)[s.dates.index(day)] * usd[asset])

    # The cited actuals: BTC ~$31.8k on 31 May; ETH about -15% on 13 June.
    assert close("BTC", dt.date(2022, 5, 31)) == pytest.approx(31_800, rel=0.01)
    eth = s.path("ETH")
    june = [i for i, d in enumerate(s.dates) if d.month == 6 and d.year == 2022]
    worst = june[int(np.argmin(eth[june] / eth[[i - 1 for i in june]]))]
    assert s.dates[worst] == dt.date(2022, 6, 13) and eth[worst] / eth[worst - 1] < 0.85
    day = s.dates.index(dt.date(2022, 5, 13))
    assert s.path("LUNA")[day] < 1e-5 and s.path("UST")[day] < 0.3  # Terra to ~0 in May
    ratio = s.path("stETH") * usd["stETH"] / (s.path("ETH") * usd["ETH"])
    june18 = s.dates.index(dt.date(2022, 6, 18))
    assert ratio[june18] == pytest.approx(1 - 0.0625, abs=0.002)  # Galaxy: a 6.25% discount
    assert 0.09 <= s.path("miner_collateral").min() <= 0.15  # -85…-91%
    assert s.path("alt").min() == pytest.approx(0.23)  # -77% ex-BTC/stables
    assert s.depeg["UST"] and not s.depeg["ETH"]
    assert s.history_market_debt_usd == 64.4e9 and "galaxy" in s.market_debt_source


def test_episode_scenarios_use_cited_lows():
    bt = load_builtin("black-thursday")
    eth = bt.path("ETH")
    assert bt.usd_start["ETH"] == pytest.approx(194.87)
    assert eth.min() * 194.87 == pytest.approx(95.18)  # 13 Mar intraday low, not the close
    assert bt.liquidity["ETH"].impact_multiplier > 1
    usdc = load_builtin("usdc-depeg-2023")
    assert usdc.path("USDC").min() * usdc.usd_start["USDC"] == pytest.approx(0.8774)
    assert usdc.path("USDC")[-1] > 0.98
    aug = load_builtin("aug-2024")
    day = aug.dates.index(dt.date(2024, 8, 5))
    assert aug.path("ETH")[day] * aug.usd_start["ETH"] == pytest.approx(2122.55)
    # stETH keeps its close ratio to ETH at ETH's intraday low
    assert aug.path("stETH")[day] / aug.path("ETH")[day] == pytest.approx(1.0, abs=0.01)
    assert aug.liquidity["ETH"].adv_usd == pytest.approx(1e10)


def test_assets_a_scenario_leaves_out_follow_their_underlying():
    s = load_scenario_text("name: t\ndays: 10\nshocks: {BTC: -0.37, ETH: 0.17}\n")
    assert s.path("WBTC")[-1] == pytest.approx(0.63) and s.path("GBTC")[-1] == pytest.approx(0.63)
    assert s.path("stETH")[-1] == pytest.approx(1.17)
    assert s.path("wstETH")[-1] == pytest.approx(1.17 * 1.04 ** (10 / 365))  # Lido accrual
    assert s.path("USDC")[-1] == 1.0


def load_scenario_text(text: str):
    import yaml

    from lendscope.risk.scenarios import scenario_from_dict

    return scenario_from_dict(yaml.safe_load(text))


def test_user_shock_file(tmp_path):
    s = load_scenario(write(tmp_path, USER))
    assert s.steps == 3 and s.dates[-1] == dt.date(2024, 1, 4)
    assert s.path("ETH")[-1] == pytest.approx(0.57)
    # a depeg is relative to its peg: stETH = ETH x (1 - 6.25%)
    assert s.path("stETH")[-1] == pytest.approx(0.57 * 0.9375)
    assert s.path("UST")[-1] == pytest.approx(ZERO_FLOOR)
    assert s.depeg["stETH"] and s.depeg["UST"] and not s.depeg["ETH"]
    assert np.all(np.diff(np.log(s.path("ETH"))) < 0)
    assert s.path("BTC").tolist() == [1.0] * 4  # not in the scenario → flat


@pytest.mark.parametrize(
    ("text", "field", "what"),
    [
        (USER.replace("UST:", "DOGE:"), "shocks.DOGE", "unknown asset"),
        (USER.replace("name: my-stress", ""), "name", "missing field"),
        (USER.replace("ETH: -0.43", "ETH: -1.2"), "shocks.ETH", "price <= 0"),
        (USER.replace("days: 3", "days: 0"), "days", "positive integer"),
        (USER.replace("{depeg: 0.0625}", "{depeg: 1.5}"), "shocks.stETH.depeg", "fraction"),
        (USER.replace("{to_zero: true}", "{zero: true}"), "shocks.UST.zero", "unknown field"),
    ],
)
def test_user_file_errors_name_file_and_field(tmp_path, text, field, what):
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert str(p) in msg and f": {field}:" in msg and what in msg


PATHS = """
name: t
dates: {start: 2022-05-01, end: 2022-05-04}
paths:
  ETH:
    source: test
    values: [1.0, 0.9, 0.8, 0.7]
  BTC:
    source: test
    points: {2022-05-01: 1.0, 2022-05-04: 0.5}
"""


@pytest.mark.parametrize(
    ("old", "new", "field", "what"),
    [
        ("0.9, 0.8", "0.9, 0.0", "paths.ETH.values[2]", "must be > 0"),
        ("0.9, 0.8", "-0.9, 0.8", "paths.ETH.values[1]", "must be > 0"),
        ("2022-05-04: 0.5", "2022-04-30: 0.5", "paths.BTC.points[1]", "non-monotone"),
        ("end: 2022-05-04", "end: 2022-04-04", "dates.end", "dates must increase"),
        ("  BTC:\n    source: test\n", "  BTC:\n", "paths.BTC.source", "missing field"),
        ("  ETH:", "  XRP:", "paths.XRP", "unknown asset"),
        ("[1.0, 0.9, 0.8, 0.7]", "[1.0, 0.9]", "paths.ETH.values", "one per day"),
        ("dates: {start: 2022-05-01, ", "dates: {", "dates.start", "missing field"),
    ],
)
def test_path_file_errors(tmp_path, old, new, field, what):
    assert old in PATHS
    p = write(tmp_path, PATHS.replace(old, new))
    with pytest.raises(ScenarioError, match=what) as e:
        load_scenario(p)
    assert f"{p}: {field}:" in str(e.value)


def test_points_are_log_linear(tmp_path):
    s = load_scenario(write(tmp_path, PATHS))
    assert s.path("BTC") == pytest.approx(0.5 ** (np.arange(4) / 3))
    assert s.path("ETH").tolist() == [1.0, 0.9, 0.8, 0.7]


def test_unknown_builtin():
    with pytest.raises(ScenarioError, match="no built-in"):
        load_builtin("nope")

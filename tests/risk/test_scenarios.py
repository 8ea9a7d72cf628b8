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


def test_2022_replays_the_documented_figures():
    s = load_builtin("2022")
    assert s.dates[0] == dt.date(2022, 5, 1) and s.dates[-1] == dt.date(2022, 12, 31)
    day = s.dates.index(dt.date(2022, 5, 13))
    assert s.path("LUNA")[day] < 1e-4 and s.path("UST")[day] < 0.2  # Terra to ~0 in May
    assert s.path("UST")[-1] < 0.05
    ratio = s.path("stETH") / s.path("ETH")
    assert ratio.min() == pytest.approx(1 - 0.0625)  # Galaxy: 6.25% discount
    gbtc_discount = 1 - 0.75 * (s.path("GBTC") / s.path("BTC"))  # 25% discount on 1 May
    assert gbtc_discount.max() == pytest.approx(0.489, abs=1e-3)  # Galaxy: 48.9%
    assert 0.09 <= s.path("miner_collateral").min() <= 0.15  # -85…-91%
    assert s.path("alt").min() == pytest.approx(0.23)  # -77% ex-BTC/stables
    assert s.depeg["UST"] and s.depeg["stETH"] and not s.depeg["ETH"]


def test_episode_scenarios():
    bt = load_builtin("black-thursday")
    eth = bt.path("ETH")
    assert 1 - eth[1] / eth[0] == pytest.approx(0.43)
    assert bt.liquidity["ETH"].impact_multiplier > 1
    usdc = load_builtin("usdc-depeg-2023")
    assert usdc.path("USDC").min() == pytest.approx(0.88)
    assert usdc.path("DAI").min() == pytest.approx(0.90)
    assert usdc.path("USDC")[-1] > 0.98
    aug = load_builtin("aug-2024")
    assert aug.path("ETH").min() == pytest.approx(0.80)
    kind, _, b = aug.impact_params()
    assert kind[ASSETS.index("ETH")] == 1 and b[ASSETS.index("ETH")] == pytest.approx(1e10)


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

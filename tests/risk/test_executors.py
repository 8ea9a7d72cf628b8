import numpy as np
import pytest

from lendscope.risk.executors import (
    SerialExecutor,
    cascade_bytes_per_path,
    cascade_mc,
    get_executor,
    simulate_paths,
)
from lendscope.risk.kernels import CascadeBook, CascadeParams
from lendscope.risk.montecarlo import Bridge, GBMModel, simulate

MODEL = GBMModel(("ETH", "stETH"), [0.0, 0.0], [0.9, 0.95], [[1, 0.95], [0.95, 1]], dt=1 / 365)
PARAMS = CascadeParams(0.5, 0.05, kind=[1, 2], a=[0.2, 0], b=[5e5, 2e5])
N_PATHS, STEPS, SEED, BLOCK = 2500, 12, 2024, 512


def small_book():
    rng = np.random.default_rng(0)
    n = 2000
    a = rng.integers(0, 2, n)
    c = rng.lognormal(5, 1, n)
    return a, c, c * rng.uniform(0.3, 0.85, n), np.where(a == 0, 0.83, 0.8)


BOOK = CascadeBook.build(*small_book(), 2)


def run(ex):
    paths = simulate_paths(MODEL, N_PATHS, STEPS, SEED, ex, [Bridge("stETH", 6, 0.9)], block=BLOCK)
    res = cascade_mc(MODEL, BOOK, N_PATHS, STEPS, SEED, PARAMS, ex, block=BLOCK)
    return paths, res


@pytest.fixture(scope="module")
def serial():
    return run(SerialExecutor())


def assert_identical(a, b):
    assert np.array_equal(a[0], b[0])
    for f in ("liquidated", "bad_debt", "impact"):
        assert np.array_equal(getattr(a[1], f), getattr(b[1], f))


def test_serial_matches_montecarlo_simulate(serial):
    ref = simulate(MODEL, N_PATHS, STEPS, SEED, [Bridge("stETH", 6, 0.9)], block=BLOCK)
    assert np.array_equal(serial[0], ref)
    assert serial[1].liquidated.shape == (N_PATHS, STEPS) and serial[1].liquidated.sum() > 0


def test_chunking_does_not_change_results(serial):
    small = cascade_bytes_per_path(STEPS, 2) * BLOCK  # one block per task
    res = cascade_mc(MODEL, BOOK, N_PATHS, STEPS, SEED, PARAMS, budget_bytes=small, block=BLOCK)
    assert np.array_equal(res.bad_debt, serial[1].bad_debt)


@pytest.mark.parametrize("name", ["local", "dask"])
def test_executors_give_identical_results(serial, name):
    ex = get_executor(name)
    try:
        assert_identical(run(ex), serial)
    finally:
        ex.close()


@pytest.mark.spark
def test_spark_gives_identical_results(serial):
    ex = get_executor("spark")
    try:
        assert_identical(run(ex), serial)
    finally:
        ex.close()


def test_unknown_executor():
    with pytest.raises(ValueError, match="unknown executor"):
        get_executor("ray")

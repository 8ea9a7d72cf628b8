"""Executors that run Monte Carlo blocks locally, on Dask or on Spark with identical results.

Work is cut into the RNG blocks of :mod:`lendscope.risk.montecarlo`; each task gets its own
child ``SeedSequence`` and results are reassembled in block order, so one root seed gives the
same numbers on every executor and worker count.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

import numpy as np

from lendscope.risk.kernels import CascadeBook, CascadeParams, CascadeResult, cascade
from lendscope.risk.montecarlo import (
    BLOCK,
    Bridge,
    GBMModel,
    block_seeds,
    plan_chunk,
    simulate_block,
)

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Ordered ``map`` of a picklable top-level function over items."""

    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Results in item order."""
        ...

    def close(self) -> None:
        """Release workers."""
        ...


class SerialExecutor:
    """In-process, one task after another (the reference)."""

    name = "serial"

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Results in item order."""
        return [fn(x) for x in items]

    def close(self) -> None:
        """Nothing to release."""


def _single_thread_numba() -> None:
    import numba

    numba.set_num_threads(1)  # workers x Numba threads would oversubscribe the 2 cores


class LocalExecutor:
    """``ProcessPoolExecutor`` (default 2 workers) started with *forkserver*.

    Forking a process whose OpenMP (Numba's threading layer here) is initialised is unsafe, so
    workers come from a clean server process; each runs Numba single-threaded.
    """

    name = "local"

    def __init__(self, workers: int = 2) -> None:
        ctx = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_single_thread_numba)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Results in item order."""
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        """Shut the pool down."""
        self._pool.shutdown()


class DaskExecutor:
    """``dask.distributed`` on a ``LocalCluster``.

    Threads by default (``processes=False``): no worker re-imports ``__main__``, so it works from
    scripts without a ``if __name__ == "__main__"`` guard and from notebooks. One worker thread:
    the Numba kernels are already parallel inside. ``processes=True`` needs the guard.
    """

    name = "dask"

    def __init__(self, n_workers: int = 1, threads_per_worker: int = 1, processes: bool = False):
        from distributed import Client, LocalCluster

        self._cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            dashboard_address=None,
        )
        self._client = Client(self._cluster)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Results in item order."""
        futures = self._client.map(fn, list(items), pure=False)
        return self._client.gather(futures)

    def close(self) -> None:
        """Close client and cluster."""
        self._client.close()
        self._cluster.close()


class SparkExecutor:
    """PySpark ``local[1]``: ``sc.parallelize(items).map(fn).collect()`` (needs Java 17)."""

    name = "spark"

    def __init__(self, master: str = "local[1]") -> None:
        from pyspark.sql import SparkSession

        self._spark = (
            SparkSession.builder.master(master)
            .appName("lendscope-risk")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        # PySpark reads PYSPARK_PYTHON (default "python3") when the context starts; point the
        # workers at this interpreter so they import lendscope, NumPy and Numba from our venv.
        self._spark.sparkContext.pythonExec = sys.executable

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Results in item order (one partition per item; collect preserves order)."""
        sc = self._spark.sparkContext
        return sc.parallelize(list(items), max(1, len(items))).map(fn).collect()

    def close(self) -> None:
        """Stop the session."""
        self._spark.stop()


EXECUTORS: dict[str, Callable[..., Executor]] = {
    "serial": SerialExecutor,
    "local": LocalExecutor,
    "dask": DaskExecutor,
    "spark": SparkExecutor,
}


def get_executor(name: str = "local", **kwargs: Any) -> Executor:
    """An executor by name: serial, local (default), dask or spark."""
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r} (have {', '.join(EXECUTORS)})")
    return EXECUTORS[name](**kwargs)


# --------------------------------------------------------------------------- tasks
def _paths_task(args: tuple) -> np.ndarray:
    model, steps, seq, n, bridges, dtype = args
    return simulate_block(model, steps, seq, n, bridges, dtype)


def _cascade_task(args: tuple) -> CascadeResult:
    model, steps, seqs, bridges, book, params = args
    paths = np.concatenate([simulate_block(model, steps, s, n, bridges) for s, n in seqs])
    return cascade(paths, book, params)


def simulate_paths(
    model: GBMModel,
    n_paths: int,
    steps: int,
    seed: int,
    executor: Executor | None = None,
    bridges: Sequence[Bridge] = (),
    dtype: type = np.float64,
    block: int = BLOCK,
) -> np.ndarray:
    """Paths (n_paths, steps + 1, assets), one task per block; same as ``montecarlo.simulate``."""
    ex = executor or SerialExecutor()
    tasks = [
        (model, steps, s, n, tuple(bridges), dtype) for _, s, n in block_seeds(seed, n_paths, block)
    ]
    return np.concatenate(ex.map(_paths_task, tasks))


def cascade_bytes_per_path(steps: int, n_assets: int) -> int:
    """Peak working bytes per path of a cascade task.

    Normals, increments, log path and prices (float64, ~5 live copies of (steps+1)·assets)
    plus the two (steps,) outputs.
    """
    return 5 * 8 * (steps + 1) * n_assets + 2 * 8 * steps


def estimate_cascade_bytes(
    n_positions: int, n_paths: int, steps: int, n_assets: int, chunk: int
) -> int:
    """Upper estimate of peak memory of :func:`cascade_mc` in one process.

    Book: inputs (4 arrays) + sort order and sorted copies + u and prefix sums ≈ 12 x 8 B per
    position; one chunk of paths in flight; all outputs kept.
    """
    book = 12 * 8 * n_positions
    return book + chunk * cascade_bytes_per_path(steps, n_assets) + n_paths * 2 * 8 * steps


def cascade_mc(
    model: GBMModel,
    book: CascadeBook,
    n_paths: int,
    steps: int,
    seed: int,
    params: CascadeParams | None = None,
    executor: Executor | None = None,
    bridges: Sequence[Bridge] = (),
    budget_bytes: int = 256 << 20,
    block: int = BLOCK,
) -> CascadeResult:
    """Monte Carlo of the liquidation cascade, in chunks of whole blocks within ``budget_bytes``.

    Book columns are the model's assets. Paths are generated inside each task and dropped after
    the kernel, so memory is the book + in-flight chunks + (paths, steps) outputs.
    """
    ex, params = executor or SerialExecutor(), params or CascadeParams()
    chunk = plan_chunk(budget_bytes, cascade_bytes_per_path(steps, len(model.assets)), block)
    seeds = block_seeds(seed, n_paths, block)
    per = chunk // block
    tasks = [
        (model, steps, [(s, n) for _, s, n in seeds[g : g + per]], tuple(bridges), book, params)
        for g in range(0, len(seeds), per)
    ]
    parts = ex.map(_cascade_task, tasks)
    return CascadeResult(
        np.concatenate([p.liquidated for p in parts]),
        np.concatenate([p.bad_debt for p in parts]),
        np.concatenate([p.impact for p in parts]),
    )

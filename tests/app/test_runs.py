"""The run pool: slots and queue (429, 503), worker processes, the deadline (504), failures."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi import HTTPException

from lendscope.app import runs
from lendscope.app.runs import Limits, RunPool


# Module-level, so that a worker process can unpickle them.
def _pid() -> int:
    return os.getpid()


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _fail() -> None:
    raise ValueError("a bug")


def _refuse() -> None:
    raise HTTPException(413, "too big")


def _die() -> None:
    os._exit(3)


@pytest.fixture
def pool() -> Iterator[RunPool]:
    p = RunPool(Limits(workers=1, queue=1, queue_timeout_s=0.2, run_timeout_s=5))
    yield p
    p.close()


def test_runs_in_a_reused_worker_process(pool):
    with pool.slot():
        first = pool.call(_pid)
    with pool.slot():
        assert pool.call(_pid) == first != os.getpid()


def test_workers_are_replaced_after_max_runs(pool, monkeypatch):
    monkeypatch.setattr(runs, "MAX_RUNS", 1)
    assert pool.call(_pid) != pool.call(_pid)


def test_a_run_past_the_deadline_is_killed_with_504():
    pool = RunPool(Limits(run_timeout_s=0.5))
    pool.start()
    [worker] = pool._idle
    t0 = time.monotonic()
    with pytest.raises(HTTPException) as e:
        pool.call(_sleep, 30)
    assert e.value.status_code == 504 and "stopped after 0.5 s" in e.value.detail
    assert time.monotonic() - t0 < 5 and not worker.proc.is_alive() and pool._idle == []
    assert pool.call(_sleep, 0) == 0  # a fresh worker serves the next run
    pool.close()


def test_failures_are_clean_http_errors(pool):
    with pytest.raises(HTTPException) as e:
        pool.call(_fail)
    assert (e.value.status_code, e.value.detail) == (500, "stress run failed: ValueError")
    with pytest.raises(HTTPException) as e:
        pool.call(_refuse)
    assert (e.value.status_code, e.value.detail) == (413, "too big")
    with pytest.raises(HTTPException) as e:
        pool.call(_die)
    assert e.value.status_code == 503 and "unexpectedly" in e.value.detail
    assert pool.call(_sleep, 0) == 0


def test_a_full_queue_is_429_and_a_long_wait_503(pool):
    taken, release = threading.Event(), threading.Event()
    waited: list[int] = []

    def hold() -> None:
        with pool.slot():
            taken.set()
            release.wait(10)

    def wait() -> None:
        try:
            with pool.slot():
                waited.append(200)
        except HTTPException as e:
            waited.append(e.status_code)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(10)
    waiter = threading.Thread(target=wait)  # the queue's one place
    waiter.start()
    time.sleep(0.05)
    with pytest.raises(HTTPException) as e, pool.slot():
        pass
    assert e.value.status_code == 429 and e.value.headers == {"Retry-After": "2"}
    waiter.join(5)
    assert waited == [503]  # it waited queue_timeout_s, then gave up
    release.set()
    holder.join(5)
    with pool.slot():  # everything was released
        pass


def test_limits_are_checked():
    with pytest.raises(ValueError, match="workers >= 1"):
        RunPool(Limits(workers=0))
    assert Limits().workers == len(os.sched_getaffinity(0))

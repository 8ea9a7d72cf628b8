"""A bounded pool for the app's computations: few at a time, a short queue, a hard deadline.

A stress run is CPU-bound pure Python, so threads would share one core (the GIL) and a run that
overstays could not be stopped. Runs therefore go to worker processes, forked from a
``forkserver`` that has already imported the engine (a new worker costs a fork, not an import):

- at most ``workers`` runs at once (default: the CPUs this process may use), because more only
  slow each other down;
- at most ``queue`` more wait, each for at most ``queue_timeout_s`` (then 503); a request beyond
  that is answered 429 at once, with ``Retry-After``, instead of piling up threads and memory;
- a run past ``run_timeout_s`` has its worker killed and is answered 504: no worker is ever left
  hung, and the next run gets a fresh one.

The pool knows nothing of HTTP beyond :class:`~fastapi.HTTPException`. Routes hold
:meth:`RunPool.slot` for their whole request (parsing included) and hand the engine itself to
:meth:`RunPool.call`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from fastapi import HTTPException

#: Runs a worker serves before it is replaced (bounds any slow growth of its memory).
MAX_RUNS = 200
#: Modules the forkserver imports once, so that each new worker starts with the engine loaded.
PRELOAD = ["lendscope.app.runs", "lendscope.app.stress_service", "lendscope.risk.results"]


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use, not the machine's
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Limits:
    """How many runs at once, how many waiting, and for how long (seconds)."""

    workers: int = field(default_factory=_cpus)
    queue: int = 4
    queue_timeout_s: float = 10.0
    run_timeout_s: float = 30.0
    #: What ``Retry-After`` tells a client turned away: about one run's time.
    retry_after_s: int = 2


def _serve(conn: Connection) -> None:
    """A worker's loop: receive ``(fn, args)``, send ``(True, result)`` or ``(False, error)``."""
    while True:
        try:
            fn, args = conn.recv()
        except EOFError:  # the pool closed its end: stop
            return
        try:
            conn.send((True, fn(*args)))
        except HTTPException as e:  # a refusal raised by the computation: passed on as such
            conn.send((False, (e.status_code, str(e.detail))))
        except Exception as e:  # any failure becomes a clean 500 in the parent, never a hang
            conn.send((False, (500, f"stress run failed: {type(e).__name__}")))


@dataclass
class _Worker:
    proc: multiprocessing.process.BaseProcess
    conn: Connection
    runs: int = 0

    def stop(self) -> None:
        self.conn.close()
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)


def _context() -> multiprocessing.context.BaseContext:
    # fork would copy a threaded server (unsafe); spawn would import the engine in each worker.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


class RunPool:
    """Admission (running + queued), a run semaphore, and worker processes with a deadline.

    Workers are started on demand, at most ``workers`` of them, and reused: the engine's lazy
    set-up is paid once per worker, not per run. A worker that overstays is killed and a new
    one is started for the next run; each is also replaced after :data:`MAX_RUNS` runs.
    """

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        if self.limits.workers < 1 or self.limits.queue < 0:
            raise ValueError(f"need workers >= 1 and queue >= 0, got {self.limits}")
        self._admitted = threading.BoundedSemaphore(self.limits.workers + self.limits.queue)
        self._running = threading.BoundedSemaphore(self.limits.workers)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._ctx = _context()

    def _busy(self, status: int, message: str) -> HTTPException:
        return HTTPException(
            status, message, headers={"Retry-After": str(self.limits.retry_after_s)}
        )

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of ``workers`` run slots; 429 when the queue is full, 503 after waiting."""
        lim = self.limits
        if not self._admitted.acquire(blocking=False):
            raise self._busy(
                429,
                f"busy: all {lim.workers} stress run slots and {lim.queue} queue places are "
                f"taken; retry in {lim.retry_after_s} s",
            )
        try:
            if not self._running.acquire(timeout=lim.queue_timeout_s):
                raise self._busy(
                    503, f"busy: no stress run slot came free within {lim.queue_timeout_s:g} s"
                )
            try:
                yield
            finally:
                self._running.release()
        finally:
            self._admitted.release()

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        recv, send = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(send,), daemon=True, name="lendscope-run")
        try:
            proc.start()
        finally:
            send.close()  # the worker holds the only other end now: EOF if it dies
        return _Worker(proc, recv)

    def start(self) -> None:
        """Start one worker now (and the forkserver with it), so the first run is not slow."""
        with self._running:
            worker = self._take()
            with self._lock:
                self._idle.append(worker)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker process; the worker is killed and 504 after the deadline.

        Call it inside :meth:`slot`. ``fn`` and ``args`` are pickled (``fn`` must be a
        module-level function). An :class:`HTTPException` raised by ``fn`` is raised here
        with its status and message. The deadline counts from the hand-over, so it includes
        starting a worker where none is idle.
        """
        timeout = self.limits.run_timeout_s
        worker = self._take()
        try:
            worker.conn.send((fn, args))
            if not worker.conn.poll(timeout):
                raise HTTPException(
                    504,
                    f"stress run stopped after {timeout:g} s (the limit); "
                    "try a smaller book or another scenario",
                )
            ok, value = worker.conn.recv()
        except (EOFError, OSError):  # the worker died without answering (killed, no memory)
            worker.stop()
            raise HTTPException(503, "stress run stopped unexpectedly; retry") from None
        except BaseException:
            worker.stop()
            raise
        worker.runs += 1
        if worker.runs < MAX_RUNS:
            with self._lock:
                self._idle.append(worker)
        else:
            worker.stop()
        if not ok:
            status, message = value
            raise HTTPException(status, message)
        return value

    def close(self) -> None:
        """Stop the idle workers (a busy one stops when its run ends or is killed)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

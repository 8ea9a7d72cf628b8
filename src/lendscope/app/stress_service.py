"""The stress run behind the stress page and ``POST /api/v1/stress``: inputs checked, engine run.

Input is a built-in scenario, a seed, and either a synthetic book size or an uploaded CeFi loan
tape plus its funding file (checked by the CLI's book validator). Size is bounded (positions,
upload bytes, loan rows), which bounds run time: the largest request runs in about a second.
Every run goes through the app's :class:`~lendscope.app.runs.RunPool`: a slot for the whole
request (429 when the queue is full), the engine in a worker process with a deadline (504).
Nothing is written to disk; the stress page keeps its last results in memory for their permalinks
(:class:`~lendscope.app.stress_results.RunStore`).
"""

from __future__ import annotations

import time
from pathlib import PurePath
from typing import Literal

from fastapi import HTTPException, UploadFile
from pydantic import BaseModel, Field

from lendscope.app.data import Data
from lendscope.app.deps import MAX_UPLOAD, read_upload, upload_name
from lendscope.app.runs import RunPool
from lendscope.core import files
from lendscope.risk.book_types import Book, BookError
from lendscope.risk.books import check_book, parse_book
from lendscope.risk.results import stress_summary
from lendscope.risk.scenarios import Scenario, builtin_names, load_builtin
from lendscope.risk.synth import calibration, synth_book

MAX_POSITIONS = 5000
MAX_LOANS = 5000
SCENARIOS = tuple(builtin_names())
ScenarioName = Literal["2022", "aug-2024", "black-thursday", "usdc-depeg-2023"]
if set(SCENARIOS) != set(ScenarioName.__args__):  # pragma: no cover - guards drift
    raise ImportError(f"ScenarioName out of date with {SCENARIOS}")


class StressForm(BaseModel):
    """Form fields of a stress request."""

    scenario: ScenarioName = "2022"
    seed: int = Field(0, ge=0, le=2**32 - 1)
    positions: int = Field(500, ge=10, le=MAX_POSITIONS, description="Synthetic book size.")


def _upload(f: UploadFile, suffixes: tuple[str, ...]) -> tuple[str, str]:
    name = upload_name(f)
    if PurePath(name).suffix.lower() not in suffixes:
        raise HTTPException(415, f"file {name!r}: use a {' or '.join(suffixes)} file")
    try:  # the loader every user file goes through: UTF-8 only, no NUL bytes
        return name, files.read_text(read_upload(f, name), name, MAX_UPLOAD)
    except files.InputError as e:
        raise HTTPException(422, str(e)) from None


def run(
    data: Data,
    form: StressForm,
    tape: UploadFile | None,
    funding: UploadFile | None,
    pool: RunPool,
) -> dict:
    """Validate the inputs and run the engine in ``pool``; 4xx with a clear message on bad input.

    The slot is held from the start, so that parsing an upload counts against the limit too.
    """
    with pool.slot():
        return _run(data, form, tape, funding, pool)


def summary(book: Book, scenario: Scenario, seed: int) -> dict:
    """The engine's JSON summary and its run time (called in a pool's worker process)."""
    t0 = time.perf_counter()
    out = stress_summary(book, scenario, seed)
    out["elapsed_s"] = round(time.perf_counter() - t0, 3)
    return out


def _run(
    data: Data,
    form: StressForm,
    tape: UploadFile | None,
    funding: UploadFile | None,
    pool: RunPool,
) -> dict:
    sc = load_builtin(form.scenario)
    if tape is None and funding is None:
        m = data.metrics()
        book = synth_book(calibration(m), form.positions, form.seed, sc.dates[0])
    else:
        if tape is None or funding is None:
            raise HTTPException(422, "upload both a loan tape (.csv) and its funding file")
        try:
            book = Book()
            book.extend(parse_book(*_upload(tape, (".csv",))))
            if not len(book.loans):
                raise BookError(f"{book.sources[0]}: row 1: loan_id: not a CeFi loan tape")
            if len(book.loans) > MAX_LOANS:
                raise HTTPException(413, f"loan tape has over {MAX_LOANS} loans")
            fund = parse_book(*_upload(funding, (".csv", ".yaml", ".yml")))
            if not fund.funding:
                raise BookError(f"{fund.sources[0]}: row 1: item: not a funding file")
            book.extend(fund)
            check_book(book)
        except BookError as e:
            raise HTTPException(422, str(e)) from None
    return pool.call(summary, book, sc, form.seed)

"""The stress-test page (``/stress-test``) and ``POST /api/v1/stress``, registered on import.

Input is a multipart form validated by pydantic: a built-in scenario, a seed, and either a
synthetic book size or an uploaded CeFi loan tape plus its funding file (checked by the CLI's
book validator). Size is bounded (positions, upload bytes, loan rows), which bounds run time:
the largest request runs in well under a second. Nothing is stored.
"""

from __future__ import annotations

import time
from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from lendscope.app import stress
from lendscope.app.api import DataDep, require_token
from lendscope.app.main import MAX_UPLOAD, Data
from lendscope.risk.books import Book, BookError, check_book, parse_book
from lendscope.risk.results import stress_summary
from lendscope.risk.scenarios import builtin_names, load_builtin
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


class SegmentResult(BaseModel):
    """Totals of one segment."""

    model_config = ConfigDict(extra="allow")
    debt_usd: float
    liquidated_usd: float
    bad_debt_usd: float


class StressResult(BaseModel):
    """The engine's JSON summary (as ``lendscope stress --format json``)."""

    model_config = ConfigDict(extra="allow")
    scenario: str
    seed: int
    bad_debt_usd: float
    liquidated_usd: float
    failed_lenders: list[dict[str, Any]]
    by_segment: dict[Literal["cefi", "defi", "cdp"], SegmentResult]


def _upload(f: UploadFile, suffixes: tuple[str, ...]) -> tuple[str, str]:
    name = PurePath((f.filename or "upload").replace("\\", "/")).name[:200] or "upload"
    if PurePath(name).suffix.lower() not in suffixes:
        raise HTTPException(415, f"file {name!r}: use a {' or '.join(suffixes)} file")
    content = f.file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise HTTPException(413, f"file {name!r} is over {MAX_UPLOAD} bytes (1 MiB)")
    try:
        return name, content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(422, f"file {name!r}: not UTF-8 text") from None


def run(data: Data, form: StressForm, tape: UploadFile | None, funding: UploadFile | None) -> dict:
    """Validate the inputs and run the engine; 4xx with a clear message on bad input."""
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
    t0 = time.perf_counter()
    out = stress_summary(book, sc, form.seed)
    out["elapsed_s"] = round(time.perf_counter() - t0, 3)
    return out


router = APIRouter()
UploadTape = Annotated[UploadFile | None, File(description="CeFi loan tape CSV, at most 1 MiB.")]
UploadFunding = Annotated[
    UploadFile | None, File(description="Funding CSV or YAML, at most 1 MiB.")
]


@router.post(
    "/api/v1/stress",
    response_model=StressResult,
    tags=["api"],
    dependencies=[Depends(require_token)],
    responses={
        401: {"description": "A token is set and the request lacks it."},
        413: {"description": "File over 1 MiB or too many loans."},
        415: {"description": "Wrong file type."},
        422: {"description": "Invalid parameter or book (the message names file, row, field)."},
    },
)
def post_stress(
    data: DataDep,
    form: Annotated[StressForm, Form()],
    loan_tape: UploadTape = None,
    funding: UploadFunding = None,
) -> dict[str, Any]:
    """Stress a synthetic book (default) or an uploaded loan tape + funding; returns the JSON."""
    return run(data, form, loan_tape, funding)


def _page(request: Request, **ctx: Any) -> HTMLResponse:
    from lendscope.app.pages import _render

    ctx.setdefault("form", None)
    ctx.setdefault("result", None)
    ctx.setdefault("error", None)
    return _render(request, "stress.html", scenarios=SCENARIOS, max_positions=MAX_POSITIONS, **ctx)


@router.get("/stress-test", include_in_schema=False)
def stress_page(request: Request) -> HTMLResponse:
    """The form."""
    return _page(request)


@router.post("/stress-test", include_in_schema=False)
def stress_page_run(
    request: Request,
    data: DataDep,
    form: Annotated[StressForm, Form()],
    loan_tape: UploadTape = None,
    funding: UploadFunding = None,
) -> HTMLResponse:
    """Run the form and show the summary (errors shown on the page)."""
    tape = loan_tape if loan_tape is not None and loan_tape.filename else None
    fund = funding if funding is not None and funding.filename else None
    try:
        return _page(request, form=form, result=run(data, form, tape, fund))
    except HTTPException as e:
        return _page(request, form=form, error=str(e.detail))


def ensure_registered() -> None:
    """Register this module's router with the app's stress extension point (once)."""
    if not any(e.router is router for e in stress.EXTENSIONS):
        stress.register(router, nav="Stress tests", path="/stress-test")


ensure_registered()

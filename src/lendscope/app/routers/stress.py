"""The stress-test page (``/stress-test``) and ``POST /api/v1/stress``.

Both take the same multipart form (validated by pydantic), depend on the same guard
(:func:`~lendscope.app.deps.require_token`: the bearer token for the API; for the page, a
signed-in session when a token is set, and the CSRF check always) and run through
:func:`lendscope.app.stress_service.run` in the app's bounded pool: the API answers the
engine's JSON, the page shows the summary or the error on the form, with the error's status.
:data:`api_router` is included under ``/api/v1``, :data:`page_router` at the root.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse

from lendscope.app.deps import DataDep, RunsDep, render, require_token
from lendscope.app.models import StressResult
from lendscope.app.stress_service import MAX_POSITIONS, SCENARIOS, StressForm, run

PAGE = "/stress-test"
#: Menu entry (label, path) of the stress page.
NAV = [("Stress tests", PAGE)]

api_router = APIRouter(tags=["api"])
page_router = APIRouter(include_in_schema=False)
UploadTape = Annotated[UploadFile | None, File(description="CeFi loan tape CSV, at most 1 MiB.")]
UploadFunding = Annotated[
    UploadFile | None, File(description="Funding CSV or YAML, at most 1 MiB.")
]


@api_router.post(
    "/stress",
    response_model=StressResult,
    dependencies=[Depends(require_token)],
    responses={
        400: {"description": "Malformed multipart body."},
        401: {"description": "A token is set and the request lacks it."},
        408: {"description": "The request body did not arrive in time."},
        413: {"description": "File over 1 MiB or too many loans."},
        415: {"description": "Wrong file type."},
        422: {"description": "Invalid parameter or book (the message names file, row, field)."},
        429: {"description": "All run slots and the queue are taken; see Retry-After."},
        503: {"description": "No run slot came free in time; see Retry-After."},
        504: {"description": "The run took longer than the limit and was stopped."},
    },
)
def post_stress(
    data: DataDep,
    runs: RunsDep,
    form: Annotated[StressForm, Form()],
    loan_tape: UploadTape = None,
    funding: UploadFunding = None,
) -> dict[str, Any]:
    """Stress a synthetic book (default) or an uploaded loan tape + funding; returns the JSON."""
    return run(data, form, loan_tape, funding, runs)


def _page(
    request: Request, status: int = 200, headers: dict[str, str] | None = None, **ctx: Any
) -> HTMLResponse:
    ctx.setdefault("form", None)
    ctx.setdefault("result", None)
    ctx.setdefault("error", None)
    return render(
        request,
        "stress.html",
        status=status,
        headers=headers,
        scenarios=SCENARIOS,
        max_positions=MAX_POSITIONS,
        **ctx,
    )


@page_router.get(PAGE)
def stress_page(request: Request) -> HTMLResponse:
    """The form."""
    return _page(request)


@page_router.post(PAGE, dependencies=[Depends(require_token)])
def stress_page_run(
    request: Request,
    data: DataDep,
    runs: RunsDep,
    form: Annotated[StressForm, Form()],
    loan_tape: UploadTape = None,
    funding: UploadFunding = None,
) -> HTMLResponse:
    """Run the form and show the summary (errors on the form, with their status and headers)."""
    tape = loan_tape if loan_tape is not None and loan_tape.filename else None
    fund = funding if funding is not None and funding.filename else None
    try:
        return _page(request, form=form, result=run(data, form, tape, fund, runs))
    except HTTPException as e:
        return _page(
            request, status=e.status_code, headers=e.headers, form=form, error=str(e.detail)
        )

"""The stress-test page (``/stress-test``) and ``POST /api/v1/stress``.

Both take the same multipart form (validated by pydantic), depend on the same guard
(:func:`~lendscope.app.deps.require_token`: the bearer token for the API; for the page, a
signed-in session when a token is set, and the CSRF check always) and run through
:func:`lendscope.app.stress_service.run` in the app's bounded pool: the API answers the
engine's JSON, the page shows the summary or the error on the form, with the error's status.
A page run is kept (:class:`~lendscope.app.stress_results.RunStore`, in memory) under a random
id: ``/stress-test/runs/<id>`` is its permalink, ``.json`` and ``.csv`` its downloads.
:data:`api_router` is included under ``/api/v1``, :data:`page_router` at the root.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lendscope.app import sessions
from lendscope.app.deps import DataDep, RunsDep, render, require_token
from lendscope.app.models import StressResult
from lendscope.app.stress_results import RUN_ID, Run, RunStore, result_csv, scenario_info
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
RunId = Annotated[str, Path(pattern=RUN_ID)]


def get_store(request: Request) -> RunStore:
    """The app's kept stress runs (a FastAPI dependency)."""
    return request.app.state.stress_runs


StoreDep = Annotated[RunStore, Depends(get_store)]


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
    ctx.setdefault("run", None)
    return render(
        request,
        "stress.html",
        status=status,
        headers=headers,
        scenarios=SCENARIOS,
        scenario_info=scenario_info(),
        max_positions=MAX_POSITIONS,
        **ctx,
    )


def _kept(request: Request, store: RunStore, run_id: str) -> Run:
    """The kept run; when a token is set, only for a signed-in session or the bearer token."""
    token = request.app.state.token
    if token is not None:
        session = sessions.read(request)
        bearer = request.headers.get("authorization", "")
        given = bearer[7:] if bearer[:7].lower() == "bearer " else None
        if not (session and session.signed_in) and not (
            given is not None and sessions.same_secret(given, token)
        ):
            raise HTTPException(
                401,
                "sign in first: this server asks for its access token before it shows a run",
                headers={"WWW-Authenticate": 'Bearer realm="lendscope"'},
            )
    kept = store.get(run_id)
    if kept is None:
        raise HTTPException(
            404,
            f"no stress run {run_id!r} is kept: runs are kept in memory (the last "
            f"{store.keep}) until the server restarts; run it again from the form",
        )
    return kept


@page_router.get(PAGE)
def stress_page(request: Request) -> HTMLResponse:
    """The form."""
    return _page(request)


@page_router.post(PAGE, dependencies=[Depends(require_token)])
def stress_page_run(
    request: Request,
    data: DataDep,
    runs: RunsDep,
    store: StoreDep,
    form: Annotated[StressForm, Form()],
    loan_tape: UploadTape = None,
    funding: UploadFunding = None,
) -> HTMLResponse:
    """Run the form and show the summary with its permalink (errors on the form, with status)."""
    tape = loan_tape if loan_tape is not None and loan_tape.filename else None
    fund = funding if funding is not None and funding.filename else None
    try:
        result = run(data, form, tape, fund, runs)
    except HTTPException as e:
        return _page(
            request, status=e.status_code, headers=e.headers, form=form, error=str(e.detail)
        )
    files = [f.filename for f in (tape, fund) if f is not None]
    kept = store.add(result, {**form.model_dump(), "files": files})
    link = f"{PAGE}/runs/{kept.id}"
    return _page(request, headers={"Content-Location": link}, form=form, result=result, run=kept)


@page_router.get(PAGE + "/runs/{run_id}.json")
def stress_run_json(request: Request, store: StoreDep, run_id: RunId) -> JSONResponse:
    """A kept run's result: the engine's JSON, as ``POST /api/v1/stress`` answers it."""
    kept = _kept(request, store, run_id)
    name = f"stress-{kept.result['scenario']}-{run_id}.json"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return JSONResponse(kept.result, headers=disposition)


@page_router.get(PAGE + "/runs/{run_id}.csv")
def stress_run_csv(request: Request, store: StoreDep, run_id: RunId) -> Response:
    """A kept run's tables as one CSV (``section,name,metric,value``)."""
    kept = _kept(request, store, run_id)
    name = f"stress-{kept.result['scenario']}-{run_id}.csv"
    return Response(
        result_csv(kept.result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page_router.get(PAGE + "/runs/{run_id}")
def stress_run_page(request: Request, store: StoreDep, run_id: RunId) -> HTMLResponse:
    """A kept run's permalink: its result, with the form filled in as it was sent."""
    kept = _kept(request, store, run_id)
    form = StressForm(**{k: v for k, v in kept.inputs.items() if k != "files"})
    return _page(request, form=form, result=kept.result, run=kept)

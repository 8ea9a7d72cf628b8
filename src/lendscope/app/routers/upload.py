"""The upload page (``/upload``): check one or several disclosure files together.

``GET /upload`` is the form; ``POST /upload`` (guarded by
:func:`~lendscope.app.deps.require_token`: a signed-in session when a token is set, and the
CSRF check always) validates every file of the form at once
(:func:`lendscope.app.upload_service.validate_uploads`) and shows each problem by file, row
and field. ``POST /api/v1/validate/files`` does the same for scripts and answers JSON.
Nothing is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from lendscope.app.deps import MAX_UPLOAD, render, require_token
from lendscope.app.upload_service import MAX_FILES, validate_uploads

PAGE = "/upload"
#: Menu entry (label, path) of the upload page.
NAV = [("Check files", PAGE)]

page_router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["api"])
Uploads = Annotated[
    list[UploadFile],
    File(description=f"Up to {MAX_FILES} CSV or YAML disclosure files, each at most 1 MiB."),
]


class FileRow(BaseModel):
    """One uploaded file: the table(s) it holds (``None`` when unreadable) and its rows."""

    file: str
    table: str | None
    rows: int


class FileProblemOut(BaseModel):
    """One problem: the client's file name, the row (0: the whole file), the field, what."""

    file: str
    row: int
    field: str
    message: str


class FilesReport(BaseModel):
    """The files checked together, and every problem, sorted by file, row and field."""

    ok: bool
    files: list[FileRow]
    problems: list[FileProblemOut]


def _page(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("report", None)
    ctx.setdefault("error", None)
    return render(
        request,
        "upload.html",
        status=status,
        max_files=MAX_FILES,
        max_mib=MAX_UPLOAD // (1024 * 1024),
        **ctx,
    )


@page_router.get(PAGE)
def upload_page(request: Request) -> HTMLResponse:
    """The form."""
    return _page(request)


@page_router.post(PAGE, dependencies=[Depends(require_token)])
def upload_page_check(request: Request, files: Uploads) -> HTMLResponse:
    """Check the files together and show every problem (or that they pass)."""
    try:
        report = validate_uploads(files)
    except HTTPException as e:
        return _page(request, status=e.status_code, error=str(e.detail))
    return _page(request, report=report)


@api_router.post(
    "/validate/files",
    response_model=FilesReport,
    dependencies=[Depends(require_token)],
    responses={
        400: {"description": "Malformed multipart body."},
        401: {"description": "A token is set and the request lacks it."},
        408: {"description": "The request body did not arrive in time."},
        413: {"description": "Too many files, or the body is over the limit."},
        422: {"description": "No file, or a part that is not a file."},
    },
)
def post_validate_files(files: Uploads) -> dict[str, Any]:
    """Validate several disclosure files together (e.g. sources + observations); stores nothing."""
    return validate_uploads(files).as_dict()

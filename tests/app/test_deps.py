"""The shared dependencies: one guard on every route that takes a file or computes, uploads."""

from __future__ import annotations

import io

import pytest
from fastapi import HTTPException, UploadFile
from fastapi.routing import APIRoute, iter_route_contexts

from lendscope.app import create_app
from lendscope.app.deps import require_token, upload_name
from tests.helpers import NO_DB

#: The forms that start or end a session: they check the form (CSRF) but cannot need one.
SESSION_FORMS = {"/sign-in", "/sign-out"}


def _calls(dependant) -> set:
    out = {dependant.call}
    for d in dependant.dependencies:
        out |= _calls(d)
    return out


def _takes_input(route: APIRoute) -> bool:
    """A route that changes nothing but may compute on what it is sent: any non-GET, any body."""
    return bool(route.methods - {"GET", "HEAD"}) or route.body_field is not None


def test_every_route_that_takes_a_file_or_computes_has_the_one_guard():
    app = create_app(NO_DB, warm=False)
    routes = [
        (c.path, c.original_route)
        for c in iter_route_contexts(app.routes)
        if isinstance(c.original_route, APIRoute)
    ]
    guarded = {p for p, r in routes if _takes_input(r) and p not in SESSION_FORMS}
    assert guarded == {
        "/api/v1/validate",
        "/api/v1/validate/files",
        "/api/v1/stress",
        "/stress-test",
        "/upload",
    }
    for path, route in routes:
        if path in guarded and _takes_input(route):
            assert require_token in _calls(route.dependant), path
    assert {p for p, _ in routes} >= SESSION_FORMS


@pytest.mark.parametrize("name", ["", "/", ".", "\\", None])
def test_an_upload_without_a_name_is_refused_by_name(name):
    with pytest.raises(HTTPException) as e:
        upload_name(UploadFile(io.BytesIO(b"a,b\n"), filename=name))
    assert e.value.status_code == 422 and "has no name" in e.value.detail


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("../../etc/acme.yaml", "acme.yaml"),
        ("C:\\x\\tape.csv", "tape.csv"),
        ("dir/", "dir"),
        ("a" * 300, "a" * 200),
    ],
)
def test_upload_names_lose_their_directories(name, want):
    assert upload_name(UploadFile(io.BytesIO(b""), filename=name)) == want

"""Property-based fuzzing of the REST API from its own OpenAPI spec: never a 5xx.

Every operation is fuzzed, and the linked operations are run as a state machine, against two
servers: one with no token (everything open, as by default) and one with a token, which
schemathesis supplies through its auth provider (``Authorization: Bearer``), so that the
guarded operations are exercised past the guard rather than answered 401.

Schemathesis' pytest loader (``from_fixture``) does not run under pytest 9, so each operation
is a parametrized test that draws cases from ``operation.as_strategy()`` with Hypothesis.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lendscope.app import create_app
from tests.helpers import NO_DB

TOKEN = "s3cret-token"  # the token_url fixture's
PATHS = create_app(NO_DB, warm=False).openapi()["paths"]
#: (method, path, mode): negative cases only where there is an input to get wrong.
CASES = [
    pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}")
    for path, item in PATHS.items()
    for method, op in item.items()
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or op.get("parameters") or op.get("requestBody")
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module", params=["no token", "token"])
def api_schema(request):
    """The schema of the open server, or of the one with a token, which auth then supplies."""
    if request.param == "no token":
        return schemathesis.openapi.from_url(f"{request.getfixturevalue('base_url')}/openapi.json")
    schema = schemathesis.openapi.from_url(f"{request.getfixturevalue('token_url')}/openapi.json")

    @schema.auth(refresh_interval=None)
    class Bearer:
        def get(self, case, context) -> str:
            return TOKEN

        def set(self, case, data: str, context) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_api_fuzz(api_schema, method, path, mode):
    operation = api_schema[path][method]
    calls = []

    @given(case=operation.as_strategy(mode))  # the schema's auth, if any, applies
    @SETTINGS
    def run(case) -> None:
        calls.append(case.call_and_validate(checks=CHECKS).status_code)

    run()
    assert calls and max(calls) < 500
    if mode is GenerationMode.POSITIVE:
        assert 401 not in calls  # past the guard: open, or the token supplied
    print(method, path, mode.value, sorted(set(calls)))


def test_api_stateful(api_schema):
    """Sequences of linked calls (a response's values fed to the next request): no 5xx.

    The same checks as above: the data may refuse a schema-valid value (a vintage before the
    first figure) with 422, so "valid data is accepted" is not one of them.
    """

    class Machine(api_schema.as_state_machine()):
        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    assert Machine.bundles, "the spec has no links to follow"
    Machine.run(settings=settings(SETTINGS, max_examples=15, stateful_step_count=4))

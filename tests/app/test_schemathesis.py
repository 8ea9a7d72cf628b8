"""Property-based fuzzing of the REST API from its own OpenAPI spec: never a 5xx.

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


@pytest.fixture(scope="module")
def api_schema(base_url: str):
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_api_fuzz(api_schema, method, path, mode):
    operation = api_schema[path][method]
    calls = []

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        calls.append(case.call_and_validate(checks=CHECKS).status_code)

    run()
    assert calls and max(calls) < 500
    print(method, path, mode.value, sorted(set(calls)))

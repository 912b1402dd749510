"""schemathesis against /openapi.json: generated requests never get a 5xx, and every response
matches the document (status codes, content types, headers, bodies).

Not checked: that every schema-valid request is accepted. The document types each row, but
whether a table makes sense as a whole (a period that is a quarter, reps that appear in both
tables, a number the limits can hold) is the data layer's and the optimizer's call, answered with
a 422 that the document lists."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api.app import create_app
from api.auth import Token, digest


def operations():
    app = create_app({"DATABASE_URL": "sqlite://"})  # in memory: only the document is read
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [r.ok() for r in schema.get_all_operations()]


TOKEN = "st-planner-token"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """With tokens, so schemathesis also checks that requests without a valid one are refused."""
    return create_app(
        {
            "DATABASE": str(tmp_path_factory.mktemp("st") / "q.db"),
            "SOLVER_TIME_LIMIT": 10,
            "TOKENS": [Token("planner", "schemathesis", digest(TOKEN))],
        }
    )


@pytest.mark.parametrize("operation", operations(), ids=lambda op: op.label)
def test_no_server_errors_and_responses_match_the_schema(app, operation):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    op = schema[operation.path][operation.method.upper()]

    @given(op.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"},
            excluded_checks=[checks.positive_data_acceptance],
        )

    run()

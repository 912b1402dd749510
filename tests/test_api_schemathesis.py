"""schemathesis against /openapi.json with every check it has: no 5xx; every status, content
type, header and body as documented; schema-invalid requests refused; schema-valid requests
accepted.

One judgement is the domain's, not the schema's: whether well-formed tables make sense together
(reps in both tables, enough history, a number the limits can hold, a rep the plan has). For
the operations that take tables, and the adjustment preview, a schema-valid request may get a
422, but only one of the domain's own answers
(``api.problems.DOMAIN_TITLES``: invalid data with its rows, an impossible plan with its
diagnosis, ...); a 422 from the request validator ("Invalid request") for schema-valid data fails
the run, as does any other status outside the check's defaults."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from api.auth import Token, digest
from api.problems import DOMAIN_TITLES

TABLES = [
    "POST /v1/forecasts",
    "POST /v1/plans",
    "POST /v1/plans/{plan_id}/replan",
    "POST /v1/plans/{plan_id}/progress",
    "POST /v1/plans/{plan_id}/relief",
    "POST /v1/plans/{plan_id}/adjustments",
    "POST /v1/plans/{plan_id}/adjustments/preview",
]
CONFIG = SchemathesisConfig.from_dict(
    {
        # Literal values lifted from quotaplan's source are placed into JSON parts of multipart
        # bodies without their schema (a generator quirk: "POLICIES" as the settings part).
        "analysis": {"constants": {"enabled": False}},
        "operations": [
            {
                "include-name": TABLES,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                    }
                },
            }
        ],
    }
)


@schemathesis.check
def domain_answers_only(ctx, response, case):
    """A schema-valid request refused with 422 is refused by the domain, not by the validator."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    title = json.loads(response.content).get("title")
    if title not in DOMAIN_TITLES:
        raise AssertionError(f"schema-valid request refused by the validator: {response.text}")
    return None


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


@pytest.mark.slow
@pytest.mark.parametrize("operation", operations(), ids=lambda op: op.label)
def test_every_check_passes_on_every_operation(app, operation):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)
    op = schema[operation.path][operation.method.upper()]

    @given(op.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"}, additional_checks=[domain_answers_only]
        )

    run()

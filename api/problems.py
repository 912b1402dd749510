"""Every error as ``application/problem+json`` (RFC 9457), mapped in one place.

A title, a detail that names the field at fault and the fix, and the right status: 400 malformed,
401/403 auth, 404, 409 conflicts, 413 too large, 422 invalid data or an impossible plan (with
the optimizer's diagnosis), 503 a time limit. The domain errors quotaplan raises are listed once
in :data:`DOMAIN_ERRORS`, each with its answer; anything else that escapes a view is a
programming error: logged with its traceback and answered with a generic 500 (no details leak).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, Response, json
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from datasets import DataValidationError
from inyear.adjust import AdjustmentRefused
from models import ForecastError
from optimizer import PlanInfeasibleError, SolverLimitError, SpecError

from .lifecycle import NotAllowed, WrongState
from .service.errors import NotFound, StaleAdjustment
from .storage import StateConflict, VersionConflict
from .validation import validation_detail

log = logging.getLogger("quotaplan.api")

PROBLEM_JSON = "application/problem+json"


class ApiProblem(Exception):
    """An error to answer with: status, title, detail and any extra members."""

    def __init__(self, status: int, title: str, detail: str, headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra
        self.headers = headers or {}


@dataclass(frozen=True)
class Answer:
    """How one domain error is answered over HTTP."""

    status: int
    title: str
    members: Callable[[Exception], dict] = field(default=lambda exc: {})
    headers: dict = field(default_factory=dict)


#: The domain errors (raised by datasets/, models/, optimizer/ and the store), each mapped once.
DOMAIN_ERRORS: dict[type[Exception], Answer] = {
    DataValidationError: Answer(422, "Invalid input data", lambda e: {"problems": e.to_dict()}),
    PlanInfeasibleError: Answer(422, "Impossible plan", lambda e: e.diagnosis.to_dict()),
    AdjustmentRefused: Answer(422, "Adjustment refused"),
    SpecError: Answer(422, "Invalid plan request"),
    ForecastError: Answer(422, "Invalid forecast request"),
    SolverLimitError: Answer(503, "Solver time limit", headers={"Retry-After": "60"}),
    VersionConflict: Answer(409, "Version conflict", lambda e: {"latest_version": e.latest}),
    StateConflict: Answer(409, "Conflict"),
    WrongState: Answer(409, "Wrong state"),
    NotAllowed: Answer(403, "Forbidden"),
    NotFound: Answer(404, "Not found"),
    StaleAdjustment: Answer(409, "Stale adjustment"),
}


#: The 422 answers that judge what well-formed data means (the domain's call, not the request
#: schema's): a schema-valid request can get these, and no other 422.
DOMAIN_TITLES = frozenset(
    {a.title for a in DOMAIN_ERRORS.values() if a.status == 422}
    | {"Unknown forecast", "Idempotency-Key reused"}
)


def problem(status: int, title: str, detail: str, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(_finite(body)), status=status, mimetype=PROBLEM_JSON)


def _finite(value):
    """JSON as JSON allows it: a number that is not finite (a diagnosis with no amount) is
    null, never ``NaN``, which JSON parsers (a browser's among them) refuse."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _domain(exc: Exception) -> Response:
    answer = next(DOMAIN_ERRORS[k] for k in type(exc).__mro__ if k in DOMAIN_ERRORS)
    resp = problem(answer.status, answer.title, str(exc), **answer.members(exc))
    resp.headers.update(answer.headers)
    return resp


def register(app: Flask) -> None:
    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem):
        resp = problem(exc.status, exc.title, exc.detail, **exc.extra)
        resp.headers.update(exc.headers)
        return resp

    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError):
        detail, errors = validation_detail(exc)
        return problem(422, "Invalid request", detail, errors=errors)

    for kind in DOMAIN_ERRORS:
        app.register_error_handler(kind, _domain)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        detail = {
            413: "the request body is larger than this server accepts "
            f"({app.config['MAX_CONTENT_LENGTH']:,} bytes, QUOTAPLAN_MAX_REQUEST_BYTES); "
            "send fewer rows, or ask the operator to raise the limit",
            404: "no such resource; see /openapi.json for the endpoints",
            405: "this endpoint does not take that method; see /openapi.json",
        }.get(exc.code, exc.description)
        resp = problem(exc.code or 500, exc.name, detail)
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error (a bug in quotaplan; nothing was stored)")
        return problem(
            500,
            "Internal error",
            "quotaplan hit an unexpected error; it is logged on the server. Nothing was stored.",
        )

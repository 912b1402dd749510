"""Every error as ``application/problem+json`` (RFC 9457), mapped in one place.

A title, a detail that names the field at fault and the fix, and the right status: 400 malformed,
401/403 auth, 404, 409 conflicts, 413 too large, 422 invalid data or an impossible plan (with
the optimizer's diagnosis), 503 solver time limit. Nothing escapes as a 500 with a stack trace:
an unexpected error is logged and answered with a problem that says so.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from datasets import DataValidationError
from optimizer import PlanInfeasibleError, SolverLimitError
from optimizer.adjust import AdjustmentRefused

from .storage import VersionConflict

log = logging.getLogger("quotaplan.api")

PROBLEM_JSON = "application/problem+json"


class ApiProblem(Exception):
    """An error to answer with: status, title, detail and any extra members."""

    def __init__(self, status: int, title: str, detail: str, headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra
        self.headers = headers or {}


def problem(status: int, title: str, detail: str, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def _field(loc) -> str:
    return ".".join(str(p) for p in loc) or "body"


def validation_detail(exc: ValidationError) -> tuple[str, list[dict]]:
    """pydantic's errors in words: 'target: Input should be ...'."""
    errors = [
        {"field": _field(e["loc"]), "message": e["msg"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    return detail, errors


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

    @app.errorhandler(DataValidationError)
    def _bad_data(exc: DataValidationError):
        return problem(
            422,
            "Invalid input data",
            str(exc),
            problems=exc.to_dict(),
        )

    @app.errorhandler(PlanInfeasibleError)
    def _impossible(exc: PlanInfeasibleError):
        d = exc.diagnosis
        return problem(
            422, "Impossible plan", str(exc), diagnosis=d.as_dicts(), fixes=d.fixes_as_dicts()
        )

    @app.errorhandler(SolverLimitError)
    def _time_limit(exc: SolverLimitError):
        resp = problem(503, "Solver time limit", str(exc))
        resp.headers["Retry-After"] = "60"
        return resp

    @app.errorhandler(AdjustmentRefused)
    def _refused(exc: AdjustmentRefused):
        return problem(422, "Adjustment refused", str(exc))

    @app.errorhandler(ValueError)
    def _bad_request(exc: ValueError):  # a spec the optimizer refuses (unknown rep in a lock...)
        return problem(422, "Invalid plan request", str(exc))

    @app.errorhandler(VersionConflict)
    def _conflict(exc: VersionConflict):
        return problem(409, "Version conflict", str(exc), latest_version=exc.latest)

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
        log.exception("unexpected error")
        return problem(
            500,
            "Internal error",
            "quotaplan hit an unexpected error; it is logged on the server. Nothing was stored.",
        )

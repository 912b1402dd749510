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

from datasets import DataValidationError, Problem
from datasets.errors import more, row_refs
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


#: Request fields that hold a table's rows: their errors are grouped by column, not listed by row.
TABLES = ("history", "roster", "forecast", "actuals")


def _is_row(loc) -> bool:
    return len(loc) >= 2 and loc[0] in TABLES and isinstance(loc[1], int)


def row_problems(exc: ValidationError, *, lines: bool) -> list[Problem]:
    """pydantic's errors on table rows as the data layer's problems: one per table, column and
    message, naming a few rows ("line 14", or "row 12" of the JSON list) and how many more.
    ``lines``: the rows came from an uploaded file (record 0 is line 2)."""
    groups: dict[tuple, list[int]] = {}
    other = []
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = e["loc"]
        if _is_row(loc):
            column = ".".join(str(p) for p in loc[2:]) or "row"
            groups.setdefault((loc[0], column, e["msg"]), []).append(loc[1])
        else:
            other.append(e)
    problems = []
    for (table, column, msg), positions in groups.items():
        refs, n = row_refs(sorted(set(positions)), lines=lines)
        problems.append(
            Problem(
                table,
                (column,) if column != "row" else (),
                msg[0].lower() + msg[1:] if msg else "invalid value",
                "Correct these rows (see the table's columns in the API reference).",
                refs,
                n,
            )
        )
    for e in other:
        problems.append(Problem("request", (_field(e["loc"]),), e["msg"], "Correct the field."))
    return problems


def validation_detail(exc: ValidationError) -> tuple[str, list[dict]]:
    """pydantic's errors in words: 'target: Input should be ...'; errors on table rows grouped
    by table, column and message (a few rows named and how many more), never one per row."""
    errors, rows = [], {}
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = e["loc"]
        if not _is_row(loc):
            errors.append({"field": _field(loc), "message": e["msg"]})
            continue
        field = ".".join([f"{loc[0]}[]", *(str(p) for p in loc[2:])])
        key = (field, e["msg"])
        if key not in rows:
            rows[key] = []
            errors.append({"field": field, "message": e["msg"], "rows": rows[key]})
        rows[key].append(loc[1])
    words = []
    for e in errors:
        if "rows" in e:
            refs, n = row_refs(sorted(set(e["rows"])), lines=False)
            e["rows"], e["n_rows"] = list(refs), n
        at = f" (at {more(e['rows'], e['n_rows'])})" if "rows" in e else ""
        words.append(f"{e['field']}: {e['message']}{at}")
    detail = "; ".join(words[:5]) + (f"; and {len(words) - 5} more" if len(words) > 5 else "")
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

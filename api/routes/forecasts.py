"""Forecasts: each rep's quarters with quantiles, from history and roster."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, g, request, url_for
from pydantic import TypeAdapter, ValidationError

from models import DEFAULT_QUANTILES

from .. import schemas, work
from ..auth import requires
from ..fastjson import records
from ..idempotency import idempotent
from ..jobs import asynchronous, report
from ..openapi import operation
from ..problems import ApiProblem
from ..work import busy, turn
from .common import (
    ID,
    check_uploads,
    file_problems,
    frame,
    json_body,
    store,
    uploaded_table,
    validation_context,
)
from .limits import check_tables

bp = Blueprint("forecasts", __name__, url_prefix="/v1/forecasts")

MULTIPART = {
    "type": "object",
    "required": ["history", "roster"],
    "properties": {
        "history": {
            "type": "string",
            "format": "binary",
            "description": "history: CSV, .xlsx or Parquet",
        },
        "roster": {
            "type": "string",
            "format": "binary",
            "description": "roster: CSV, .xlsx or Parquet",
        },
        "year": {"type": "integer", "minimum": 1900, "maximum": 2200},
        "fiscal_year_start": {"type": "integer", "minimum": 1, "maximum": 12},
        "partial_quarters": {"type": "string", "enum": ["complete", "drop"]},
    },
}

#: Stored forecast notes that are warnings carry this prefix (one list in the database).
WARNING = "warning: "


def form_year(text: str | None) -> int | None:
    """The ``year`` part of a multipart forecast request (422 naming it if it is no year)."""
    if text is None or text == "":
        return None
    return YEAR.validate_json(text if text.strip().lstrip("-").isdigit() else json.dumps(text))


YEAR = TypeAdapter(schemas.Year)


def form_settings(form) -> schemas.ForecastUpload:
    """The form fields of a multipart forecast request (year, fiscal calendar, partial
    quarters), checked as the JSON request's are."""
    fields = {k: v for k, v in form.items() if k in ("fiscal_year_start", "partial_quarters")}
    fields = {k: v for k, v in fields.items() if v != ""}
    text = fields.get("fiscal_year_start")
    if isinstance(text, str) and text.strip().isdigit():
        fields["fiscal_year_start"] = int(text)
    return schemas.ForecastUpload.model_validate({**fields, "year": form_year(form.get("year"))})


def forecast_table(
    history,
    roster,
    year: int | None,
    quantiles=DEFAULT_QUANTILES,
    seed: int = 0,
    fiscal_year_start: int = 1,
    partial_quarters: str = "complete",
    at: int = 10,
):
    """Validate the tables, fit the quantile forecaster and predict the plan year (in a worker
    process, stopped at QUOTAPLAN_FORECAST_TIME_LIMIT: see ``api.work``); a job reports the
    stage at ``at`` percent."""
    seconds = current_app.config["FORECAST_TIME_LIMIT"]
    return work.forecast_table(
        history,
        roster,
        year,
        quantiles,
        seed,
        fiscal_year_start=fiscal_year_start,
        partial_quarters=partial_quarters,
        seconds=seconds,
        at=at,
    )


def _created(forecast_id: int):
    rec = store().forecast(forecast_id)
    return (
        _forecast_out(rec),
        201,
        {"Location": url_for("forecasts.get", forecast_id=rec.id)},
    )


def _forecast_out(rec) -> dict:
    warnings = [n[len(WARNING) :] for n in rec.notes if n.startswith(WARNING)]
    notes = [n for n in rec.notes if not n.startswith(WARNING)]
    out = schemas.ForecastOut(
        id=rec.id, created_at=rec.created_at, rows=rec.rows, warnings=warnings, notes=notes
    )
    return out.model_dump(mode="json")


@bp.post("")
@requires("planner")
@asynchronous("forecast")
@idempotent("forecast", _created)
@operation(
    "Forecast every rep's quarters (P10/P50/P90 by default) from history and roster.",
    body=schemas.ForecastRequest,
    multipart=MULTIPART,
    response=schemas.ForecastOut,
    status=201,
    errors=("400", "401", "403", "413", "422"),
)
def create():
    """JSON rows, or the history and roster as files (multipart: CSV, Excel .xlsx or Parquet,
    told apart by their content). The forecast is stored; plan from it with ``forecast_id``.
    With ``Prefer: respond-async``: 202 and the job to poll (``GET /v1/jobs/{id}``)."""
    if request.mimetype == "multipart/form-data":
        history, roster = uploaded_table("history"), uploaded_table("roster")
        tables = {"history": history, "roster": roster}
        check_tables(tables)
        form = form_settings(request.form)
        rows = check_uploads(  # the data layer first, as for a plan's uploads
            tables,
            fiscal_year_start=form.fiscal_year_start,
            partial_quarters=form.partial_quarters,
        )
        try:  # the cells as the JSON rows are checked (amounts within QUOTAPLAN_MAX_VALUE...)
            schemas.ForecastRequest.model_validate_json(
                json.dumps(rows),
                context={**validation_context(), "upload": True},
                strict=False,
            )
        except ValidationError as exc:
            raise file_problems(exc, tables) from None
        req = {**form.model_dump(mode="json"), "source": "upload"}
        args = form.model_dump()
    else:
        body = json_body(schemas.ForecastRequest)
        history, roster = frame(body.history), frame(body.roster)
        req = body.model_dump(mode="json")
        args = body.model_dump(exclude={"history", "roster"})
    with turn(), busy():  # after the request's own checks: a bad one never waits for a forecast
        table, company = forecast_table(history, roster, **args)
        report("storing the forecast", 95)
        rec = store().add_forecast(
            created_by=g.user,
            request=req,
            rows=records(table),
            notes=[WARNING + w for w in company.warnings] + list(company.notes),
            idempotency=g.get("idempotency"),
        )
        return _created(rec.id)


@bp.get(f"/<{ID}:forecast_id>")
@requires("viewer")
@operation("A stored forecast.", response=schemas.ForecastOut, errors=("401", "403", "404"))
def get(forecast_id: int):
    rec = store().forecast(forecast_id)
    if rec is None:
        raise ApiProblem(404, "Not found", f"no forecast {forecast_id}")
    return _forecast_out(rec)

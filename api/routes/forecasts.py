"""Forecasts: each rep's quarters with quantiles, from history and roster."""

from __future__ import annotations

from flask import Blueprint, g, request, url_for

from datasets import load_company
from models import DEFAULT_QUANTILES, forecast_year

from .. import schemas
from ..auth import requires
from ..openapi import operation
from ..problems import ApiProblem
from .common import ID, frame, json_body, records, store, uploaded_table
from .limits import check_reps

bp = Blueprint("forecasts", __name__, url_prefix="/v1/forecasts")

MULTIPART = {
    "type": "object",
    "required": ["history", "roster"],
    "properties": {
        "history": {"type": "string", "format": "binary", "description": "history CSV"},
        "roster": {"type": "string", "format": "binary", "description": "roster CSV"},
        "year": {"type": "integer"},
        "fiscal_year_start": {"type": "integer", "minimum": 1, "maximum": 12},
        "partial_quarters": {"type": "string", "enum": ["complete", "drop"]},
    },
}

#: Stored forecast notes that are warnings carry this prefix (one list in the database).
WARNING = "warning: "


def forecast_table(
    history,
    roster,
    year: int | None,
    quantiles=DEFAULT_QUANTILES,
    seed: int = 0,
    fiscal_year_start: int = 1,
    partial_quarters: str = "complete",
):
    """Validate the tables, fit the quantile forecaster and predict the plan year."""
    company = load_company(
        history, roster, fiscal_year_start=fiscal_year_start, partial_quarters=partial_quarters
    )
    return forecast_year(company, year, quantiles=quantiles, seed=seed), company


def _forecast_out(rec) -> dict:
    warnings = [n[len(WARNING) :] for n in rec.notes if n.startswith(WARNING)]
    notes = [n for n in rec.notes if not n.startswith(WARNING)]
    out = schemas.ForecastOut(
        id=rec.id, created_at=rec.created_at, rows=rec.rows, warnings=warnings, notes=notes
    )
    return out.model_dump(mode="json")


@bp.post("")
@requires("planner")
@operation(
    "Forecast every rep's quarters (P10/P50/P90 by default) from history and roster.",
    body=schemas.ForecastRequest,
    multipart=MULTIPART,
    response=schemas.ForecastOut,
    status=201,
    errors=("400", "401", "403", "413", "422"),
)
def create():
    """JSON rows, or the history and roster as CSV files (multipart). The forecast is stored;
    plan from it with ``forecast_id``."""
    if request.mimetype == "multipart/form-data":
        history, roster = uploaded_table("history"), uploaded_table("roster")
        form = schemas.ForecastUpload.model_validate(
            {k: v for k, v in request.form.items() if k in schemas.ForecastUpload.model_fields}
        )
        req = {**form.model_dump(mode="json"), "source": "upload"}
        args = form.model_dump()
    else:
        body = json_body(schemas.ForecastRequest)
        history, roster = frame(body.history), frame(body.roster)
        req = body.model_dump(mode="json")
        args = body.model_dump(exclude={"history", "roster"})
    check_reps(roster)
    table, company = forecast_table(history, roster, **args)
    notes = [WARNING + w for w in company.warnings] + list(company.notes)
    rec = store().add_forecast(created_by=g.user, request=req, rows=records(table), notes=notes)
    return _forecast_out(rec), 201, {"Location": url_for(".get", forecast_id=rec.id)}


@bp.get(f"/<{ID}:forecast_id>")
@requires("viewer")
@operation("A stored forecast.", response=schemas.ForecastOut, errors=("401", "403", "404"))
def get(forecast_id: int):
    rec = store().forecast(forecast_id)
    if rec is None:
        raise ApiProblem(404, "Not found", f"no forecast {forecast_id}")
    return _forecast_out(rec)

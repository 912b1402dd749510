"""Plans: create (JSON, or CSV, .xlsx or Parquet uploads), read (JSON, CSV or a workbook), list
by scenario, compare, re-plan.

Every plan is stored as the next version of its scenario with the request that made it, in the
shape of :class:`api.schemas.PlanRequest` (uploaded tables as rows), so a plan can be rebuilt
and re-planned from what is stored alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pandas as pd
from flask import Blueprint, Response, g, request, url_for
from pydantic import ValidationError

from datasets import load_company
from models import DEFAULT_QUANTILES
from optimizer import Plan, PlanSpec, PlanSummary
from optimizer.changes import annual_changes

from .. import schemas
from ..auth import requires
from ..fastjson import records
from ..idempotency import idempotent
from ..jobs import asynchronous, report
from ..openapi import operation
from ..problems import ApiProblem
from ..service import history
from ..service import plans as planning
from ..service.forecasts import forecaster_code_version
from ..storage import PlanRecord
from ..work import busy, planned, turn
from ..workbook import plan_workbook
from .common import (
    ID,
    check_uploads,
    checked_json_body,
    file_problems,
    frame,
    json_body,
    parse_json,
    plain,
    safe_csv,
    store,
    uploaded_table,
    validation_context,
)
from .forecasts import forecast_table
from .limits import check_tables, time_limit
from .meta import package_version

bp = Blueprint("plans", __name__, url_prefix="/v1")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MULTIPART = {
    "type": "object",
    "required": ["settings", "roster"],
    "properties": {
        "settings": schemas.PlanUpload,  # a JSON part
        "roster": {
            "type": "string",
            "format": "binary",
            "description": "roster: CSV, .xlsx or Parquet",
        },
        "history": {
            "type": "string",
            "format": "binary",
            "description": "history: CSV, .xlsx or Parquet",
        },
        "forecast": {
            "type": "string",
            "format": "binary",
            "description": "forecast: CSV, .xlsx or Parquet",
        },
    },
}


def _brief(rec: PlanRecord) -> schemas.PlanBrief:
    s = rec.summary
    return schemas.PlanBrief(
        id=rec.id,
        scenario=rec.scenario_name,
        version=rec.version,
        kind=rec.kind,
        state=rec.state,
        parent_id=rec.parent_id,
        created_at=rec.created_at,
        created_by=rec.created_by,
        policy=s.get("policy", ""),
        company_target=s.get("company_target") or 0.0,
        total_quota=s.get("total_quota") or 0.0,
        expected_share_attaining=s.get("expected_share_attaining"),
    )


def _out(rec: PlanRecord) -> dict:
    brief = _brief(rec).model_dump()
    out = schemas.PlanOut(**brief, summary=rec.summary, reps=rec.reps, quotas=rec.quotas)
    return out.model_dump(mode="json")


def _tables(req: schemas.PlanRequest, uploads: dict | None = None) -> planning.Tables:
    """The request's tables: ``uploads`` (read from files) stand in for its rows; a forecast
    may also be a stored one (``forecast_id``)."""
    uploads = uploads or {}
    roster = uploads.get("roster")
    roster = roster if roster is not None else frame(req.roster)
    history = uploads.get("history")
    if history is None and req.history is not None:
        history = frame(req.history)
    if history is not None:
        return planning.Tables(roster, history=history)
    forecast = uploads.get("forecast")
    if forecast is None and req.forecast is not None:
        forecast = frame(req.forecast)
    if forecast is None:
        stored = store().forecast(req.forecast_id)
        if stored is None:
            raise ApiProblem(
                422,
                "Unknown forecast",
                f"forecast_id: there is no forecast {req.forecast_id}; create one with "
                "POST /v1/forecasts, or send the forecast rows",
            )
        forecast = pd.DataFrame(stored.rows)
    return planning.Tables(roster, forecast=forecast)


def _inputs(req: schemas.PlanRequest, uploads: dict | None = None) -> planning.PlanInputs:
    """The service's inputs of a request (the settings with the fiscal calendar settled are
    what is stored)."""
    return planning.plan_inputs(req, _tables(req, uploads), fit=_fit, progress=report)


def _fit(history, roster, req: schemas.PlanRequest):
    """How this server forecasts a request's history (:data:`api.service.plans.Fit`), and
    reads the company from the tables: fitted once, in a bounded worker process,
    then remembered by what it was made from (``api.storage.ForecastMemo``), so rebuilding the
    plan (re-plan, adjustment, preview, tracking) reads the tables again but fits nothing."""
    fiscal = req.fiscal_year_start or 1
    made_from = {
        "history": [r.model_dump(mode="json") for r in req.history],
        "roster": [r.model_dump(mode="json") for r in req.roster],
        "year": req.year,
        "fiscal_year_start": fiscal,
        "partial_quarters": req.partial_quarters,
        "quantiles": list(DEFAULT_QUANTILES),
        "seed": 0,
        "quotaplan": package_version(),
        "forecaster": forecaster_code_version(),
    }
    key = hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()
    rows = store().memo_forecast(key)
    if rows is not None:
        report("checking the tables", 10)
        company = load_company(
            history, roster, fiscal_year_start=fiscal, partial_quarters=req.partial_quarters
        )
        return pd.DataFrame(rows), company
    forecast, company = forecast_table(
        history,
        roster,
        req.year,
        fiscal_year_start=fiscal,
        partial_quarters=req.partial_quarters,
        at=10,
    )
    store().remember_forecast(key, records(forecast))
    return forecast, company


def _from_upload() -> tuple[schemas.PlanRequest, dict]:
    """A multipart plan request: ``settings`` (JSON) and the tables as files."""
    raw = request.form.get("settings")
    if raw is None:
        raise ApiProblem(
            422, "Missing settings", "send the plan's settings as JSON in the form field 'settings'"
        )
    settings = parse_json(raw, "settings")
    tables = {"roster": uploaded_table("roster")}
    for name in ("history", "forecast"):
        t = uploaded_table(name, required=False)
        if t is not None:
            tables[name] = t
    if not isinstance(settings, dict):
        raise ApiProblem(422, "Invalid settings", "settings: expected a JSON object")
    check_tables(tables)
    # The settings' own problems first, then the data layer's (naming the files' lines).
    plan = schemas.PlanUpload.model_validate_json(json.dumps(settings))
    rows = check_uploads(
        tables,
        fiscal_year_start=plan.fiscal_year_start or 1,
        partial_quarters=plan.partial_quarters,
    )
    try:
        req = schemas.PlanRequest.model_validate_json(  # the files' cells are text: coerce
            json.dumps({**settings, **rows}),
            context={**validation_context(), "upload": True},
            strict=False,
        )
    except ValidationError as exc:  # a file's cells: the data layer's answer, with its lines
        raise file_problems(exc, tables) from None
    # Tables as read (the data layer's errors then name the file's lines); the forecast as data.
    return req, {n: (t.frame if n == "forecast" else t) for n, t in tables.items()}


def _created(plan_id: int):
    """How a created plan is answered to a retry with the same Idempotency-Key."""
    return _answer(_record(plan_id))


def _answer(rec: PlanRecord):
    """How a created plan (or re-plan) is answered: from the record as stored, not read back."""
    return _out(rec), 201, {"Location": url_for("plans.get_plan", plan_id=rec.id)}


@bp.post("/plans")
@requires("planner")
@asynchronous("plan")
@idempotent("plan", _created)
@operation(
    "Plan quarterly quotas and store them as the scenario's next version.",
    body=schemas.PlanRequest,
    multipart=MULTIPART,
    response=schemas.PlanOut,
    status=201,
    errors=("400", "401", "403", "409", "413", "422", "503"),
)
def create_plan():
    """JSON with the tables as rows, or multipart with the tables as files (CSV, Excel .xlsx
    or Parquet, told apart by their content) and the settings as JSON. An impossible number is
    a 422 with the optimizer's diagnosis. With ``Prefer: respond-async``: 202 and the job to
    poll (``GET /v1/jobs/{id}``), whose ``result`` is the plan's URL once stored."""
    if request.mimetype == "multipart/form-data":
        upload, tables = _from_upload()
        validated = lambda: upload  # noqa: E731 (its tables are read from the files already)
    else:
        validated, tables = checked_json_body(schemas.PlanRequest), {}
    with turn(), busy():  # after the request's own checks: a bad one never waits for a plan
        req = validated()
        inputs = _inputs(req, tables)
        report("solving", planning.solving_at(inputs))
        result = planned(_solved, inputs.spec, inputs.warnings, time_limit())
        report("storing the plan", 95)
        request_json = inputs.choices.model_dump(mode="json")
        rec = _save(req.scenario, result, request_json, "plan", req.base_version)
        return _answer(rec)


def _encoded(result: Plan) -> dict:
    """A plan as it is stored (JSON-ready summary, quotas and reps)."""
    return {
        "summary": plain(result.summary.to_dict()),
        "quotas": records(result.quotas),
        "reps": records(result.reps),
    }


def _solved(spec: PlanSpec, warnings: list[str], seconds: float | None) -> dict:
    """In the planning process (:func:`api.work.planned`): the plan solved and encoded."""
    return _encoded(planning.solved(spec, warnings, seconds))


def _replanned(inputs: planning.PlanInputs, actuals, previous, at_risk_below, seconds) -> dict:
    """In the planning process: the re-plan solved and encoded."""
    result = planning.make_replan(
        inputs, actuals, previous=previous, at_risk_below=at_risk_below, time_limit=seconds
    )
    return _encoded(result)


def _save(scenario, result: dict, request_json, kind, base_version, parent_id=None):
    return store().add_plan(
        scenario,
        kind=kind,
        created_by=g.user,
        request=request_json,
        **result,
        parent_id=parent_id,
        base_version=base_version,
        idempotency=g.get("idempotency"),
    )


def _record(plan_id: int) -> PlanRecord:
    return history.plan_record(store(), plan_id)


#: What a stored request holds besides a PlanRequest: a re-plan's actuals and the adjustments
#: approved on the plan (each rep's annual quota as decided).
DECISIONS = ("replan", "adjustments")


def _stored_request(rec: PlanRecord, limits: schemas.PlanLimits | None = None):
    """The request that made a stored plan (a re-plan: that of the plan it revised), under
    ``limits`` instead of its own where given."""
    req = schemas.PlanRequest.model_validate_json(
        json.dumps({k: v for k, v in rec.request.items() if k not in DECISIONS and v is not None}),
        context={"upload": True},  # uploaded rows as they were read
        strict=False,
    )
    return req if limits is None else req.model_copy(update={"limits": limits})


def _stored_inputs(
    rec: PlanRecord,
    *,
    actuals: bool = True,
    adjustments: bool = True,
    limits: schemas.PlanLimits | None = None,
) -> planning.PlanInputs:
    """The inputs of a stored plan, rebuilt from what is stored (its forecast remembered, not
    fitted again), with what was decided since in its specification: a re-plan's closed
    quarters fixed at their actuals (``actuals``), and every approved adjustment held as an
    annual lock (``adjustments``), so that later steps (another re-plan, another adjustment,
    relief) keep them; under other ``limits`` where given (a re-plan's)."""
    inputs = _inputs(_stored_request(rec, limits))
    spec = _with_decisions(inputs.spec, rec.request, actuals=actuals, adjustments=adjustments)
    return replace(inputs, spec=spec)


def _stored_spec(rec: PlanRecord, *, actuals: bool = True, adjustments: bool = True) -> PlanSpec:
    """The optimizer's specification of a stored plan (see :func:`_stored_inputs`)."""
    return _stored_inputs(rec, actuals=actuals, adjustments=adjustments).spec


def _with_decisions(spec: PlanSpec, request: dict, *, actuals: bool, adjustments: bool):
    locks = dict(spec.limits.locks)
    if adjustments:
        for a in request.get("adjustments") or []:
            locks[(a["rep_id"], None)] = float(a["annual_quota"])
    closed = (request.get("replan") or {}).get("actuals") if actuals else None
    return replace(
        spec,
        limits=replace(spec.limits, locks=locks),
        actuals=pd.DataFrame(closed) if closed else spec.actuals,
    )


def _plan(rec: PlanRecord) -> Plan:
    """A stored plan as the optimizer's :class:`Plan`."""
    summary = PlanSummary.from_dict(rec.summary)
    return Plan(pd.DataFrame(rec.quotas), pd.DataFrame(rec.reps), summary)


@bp.get(f"/plans/<{ID}:plan_id>")
@requires("viewer")
@operation(
    "A stored plan: JSON, CSV with 'Accept: text/csv' (one row per rep and quarter), or an "
    "Excel workbook with 'Accept: " + XLSX + "' (a formatted sheet per rep and quarter with "
    "team subtotals and the company total, the plan's settings, the quotas and reps tables).",
    response=schemas.PlanOut,
    errors=("401", "403", "404"),
    csv=True,
)
def get_plan(plan_id: int):
    """CSV and workbook cells that a spreadsheet would run as a formula (text starting with =,
    +, -, @, tab or CR) are written as text with a leading quote."""
    rec = _record(plan_id)
    best = request.accept_mimetypes.best_match(["application/json", "text/csv", XLSX])
    if best == XLSX:
        fid = rec.request.get("forecast_id")
        forecast = store().forecast(fid) if fid is not None else None
        book = plan_workbook(rec, _plan(rec).table(), forecast)
        name = f"plan-{rec.id}-v{rec.version}.xlsx"
        return Response(
            book,
            mimetype=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if best == "text/csv":
        name = f"plan-{rec.id}-v{rec.version}.csv"
        return Response(
            safe_csv(_plan(rec).table()),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return _out(rec)


@bp.get(f"/plans/<{ID}:plan_id>/inputs")
@requires("viewer")
@operation(
    "What made a plan: its request as stored (tables, target, policy, limits); POST it to "
    "/v1/plans to reproduce the plan.",
    response=schemas.PlanRequest,
    errors=("401", "403", "404"),
)
def plan_inputs(plan_id: int):
    """Uploaded CSV tables come back as rows. A re-plan's inputs are those of the plan it
    revised, with the actuals under ``replan``."""
    return {k: v for k, v in _record(plan_id).request.items() if v is not None}


@bp.get("/scenarios/<name>/plans")
@requires("viewer")
@operation(
    "A scenario's plans, oldest first.", response=schemas.PlanList, errors=("401", "403", "404")
)
def list_plans(name: str):
    recs = store().plans(name)
    if recs is None:
        raise ApiProblem(404, "Not found", f"no scenario {name!r}; GET /v1/scenarios lists them")
    return schemas.PlanList(scenario=name, plans=[_brief(r) for r in recs]).model_dump(mode="json")


@bp.get(f"/plans/<{ID}:plan_id>/compare/<{ID}:other_id>")
@requires("viewer")
@operation(
    "Per-rep differences in annual quota between two plans (b minus a).",
    response=schemas.Comparison,
    errors=("401", "403", "404"),
)
def compare(plan_id: int, other_id: int):
    """Reps in only one plan have null on the other side."""
    a, b = _record(plan_id), _record(other_id)
    both = annual_changes(pd.DataFrame(a.reps), pd.DataFrame(b.reps)).rename(
        columns={"before": "annual_a", "after": "annual_b", "change": "difference"}
    )
    reps = [
        schemas.RepDifference(rep_id=str(rep), **plain(row.to_dict()))
        for rep, row in both.astype(object).where(both.notna(), None).iterrows()
    ]
    out = schemas.Comparison(
        a=_brief(a),
        b=_brief(b),
        total_difference=float(both["annual_b"].sum() - both["annual_a"].sum()),
        reps=reps,
    )
    return out.model_dump(mode="json")


@bp.post(f"/plans/<{ID}:plan_id>/replan")
@requires("planner")
@asynchronous("replan")
@idempotent("plan", _created)
@operation(
    "Mid-year: re-plan the open quarters from the closed quarters' actuals; flags reps at risk.",
    body=schemas.ReplanRequest,
    response=schemas.PlanOut,
    status=201,
    errors=("400", "401", "403", "404", "409", "413", "422", "503"),
)
def replan_plan(plan_id: int):
    """The re-plan is stored as the scenario's next version (kind 'replan', parent the plan
    revised), with the same inputs, policy and limits. With ``Prefer: respond-async``: 202 and
    the job to poll (``GET /v1/jobs/{id}``)."""
    body = json_body(schemas.ReplanRequest)
    rec = _record(plan_id)
    with turn(), busy():
        report("rebuilding the plan's inputs", 5)
        inputs = _stored_inputs(
            rec, actuals=False, adjustments=body.keep_adjustments, limits=body.limits
        )
        report("solving", planning.solving_at(inputs))
        result = planned(
            _replanned,
            inputs,
            frame(body.actuals),
            _plan(rec),
            body.at_risk_below,
            time_limit(),
        )
        base = inputs.choices
        report("storing the re-plan", 95)
        kept = rec.request.get("adjustments") if body.keep_adjustments else None
        stored = {
            **base.model_dump(mode="json"),
            "replan": {"of": rec.id, **body.model_dump(mode="json")},
            **({"adjustments": kept} if kept else {}),
        }
        new = _save(
            rec.scenario_name, result, stored, "replan", body.base_version, parent_id=rec.id
        )
        return _answer(new)

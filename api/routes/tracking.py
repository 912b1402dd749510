"""In-year tracking of a stored plan: progress snapshots (kept with the plan's history) and
quota relief proposals. The bookings come as JSON rows, or as a file (CSV, .xlsx or Parquet)
read by the data layer exactly as ``quotaplan track --actuals`` reads it."""

from __future__ import annotations

import json

import pandas as pd
from flask import Blueprint, g, request, url_for

from datasets.tables import to_number

from .. import schemas
from ..auth import requires
from ..fastjson import records
from ..idempotency import idempotent
from ..openapi import operation
from ..problems import ApiProblem
from ..service import tracking
from ..work import heavy
from .common import (
    ID,
    frame,
    json_body,
    parse_json,
    plain,
    store,
    uploaded_table,
    validation_context,
)
from .limits import check_tables
from .plans import _record, _stored_inputs, _stored_spec

bp = Blueprint("tracking", __name__, url_prefix="/v1")


def _multipart(settings) -> dict:
    return {
        "type": "object",
        "required": ["actuals"],
        "properties": {
            "settings": settings,  # a JSON part
            "actuals": {
                "type": "string",
                "format": "binary",
                "description": "bookings (CSV, .xlsx or Parquet): rep_id, revenue and period (a month, or a closed "
                "quarter) or date",
            },
        },
    }


def _bookings(body_model, settings_model):
    """The request's settings and its bookings: JSON with the bookings as rows, or multipart
    with the bookings as a file (``actuals``) and the settings as JSON (``settings``, optional).
    The bookings as the tracker takes them (a DataFrame of the rows, or the file as read)."""
    if request.mimetype != "multipart/form-data":
        body = json_body(body_model)
        return body, frame(body.actuals)
    table = uploaded_table("actuals")
    check_tables({"actuals": table})
    raw = request.form.get("settings")
    settings = parse_json(raw, "settings") if raw else {}
    if not isinstance(settings, dict):
        raise ApiProblem(422, "Invalid settings", "settings: expected a JSON object")
    body = settings_model.model_validate_json(json.dumps(settings), context=validation_context())
    return body, table


def _stored_request(body, actuals) -> dict:
    """What a snapshot keeps of its request: the settings and the bookings as rows (an uploaded
    file's columns as the tracker read them, amounts as numbers)."""
    out = body.model_dump(mode="json")
    if "actuals" not in out:
        f = actuals.frame
        cols = [c for c in ("rep_id", "period", "date", "revenue") if c in f.columns]
        out["actuals"] = records(f[cols].assign(revenue=to_number(f["revenue"])[0]))
    return out


def _snapshot_out(rec, full: bool = True) -> dict:
    model = schemas.ProgressOut if full else schemas.ProgressBrief
    fields = {
        "id": rec.id,
        "plan_id": rec.plan_id,
        "as_of": rec.as_of,
        "created_at": rec.created_at,
        "created_by": rec.created_by,
        "summary": rec.summary,
    }
    if full:
        fields.update(reps=rec.reps, teams=rec.teams, phased=rec.phased)
    return model(**fields).model_dump(mode="json")


def _created(progress_id: int):
    snap = store().progress_snapshot(progress_id)
    location = url_for("tracking.get_progress", plan_id=snap.plan_id, progress_id=snap.id)
    return _snapshot_out(snap), 201, {"Location": location}


@bp.post(f"/plans/<{ID}:plan_id>/progress")
@requires("planner")
@idempotent("progress", _created)
@heavy
@operation(
    "Track a plan: pacing, projected year-end, chances and flags per rep and team, from the "
    "bookings so far; stored as a snapshot of the plan's history.",
    body=schemas.ProgressRequest,
    multipart=_multipart(schemas.ProgressSettings),
    response=schemas.ProgressOut,
    status=201,
    errors=("400", "401", "403", "404", "413", "422"),
)
def add_progress(plan_id: int):
    """Bookings are monthly totals (``period``) or dated (``date``), as JSON rows or an uploaded
    file (amounts such as "$1,200" are read as numbers). Quotas are phased inside each quarter
    by the month shape of the plan's history where it was monthly (else 15/25/60). Every flag
    comes with its reason in words; reps on or ahead of their phased quota are not flagged at
    risk, out of reach or overloaded."""
    body, actuals = _bookings(schemas.ProgressRequest, schemas.ProgressSettings)
    rec = _record(plan_id)
    p = tracking.progress(_stored_inputs(rec), pd.DataFrame(rec.quotas), actuals, body)
    snap = store().add_progress(
        rec.id,
        idempotency=g.get("idempotency"),
        as_of=p.summary.as_of,
        created_by=g.user,
        request=_stored_request(body, actuals),
        summary=plain(p.summary.to_dict()),
        reps=records(p.reps),
        teams=records(p.teams),
        phased=records(p.phased),
    )
    return _created(snap.id)


@bp.get(f"/plans/<{ID}:plan_id>/progress")
@requires("viewer")
@operation(
    "A plan's tracking snapshots, by the day tracked to: how the picture changed week by week.",
    response=schemas.ProgressList,
    errors=("401", "403", "404"),
)
def list_progress(plan_id: int):
    rec = _record(plan_id)
    snaps = [_snapshot_out(s, full=False) for s in store().progress(rec.id)]
    return {"plan_id": rec.id, "snapshots": snaps}


@bp.get(f"/plans/<{ID}:plan_id>/progress/<{ID}:progress_id>")
@requires("viewer")
@operation(
    "One tracking snapshot in full (per rep, per team, phased by month or week).",
    response=schemas.ProgressOut,
    errors=("401", "403", "404"),
)
def get_progress(plan_id: int, progress_id: int):
    _record(plan_id)
    snap = store().progress(plan_id, progress_id)
    if snap is None:
        raise ApiProblem(
            404, "Not found", f"plan {plan_id} has no snapshot {progress_id}; list them first"
        )
    return _snapshot_out(snap)


@bp.post(f"/plans/<{ID}:plan_id>/relief")
@requires("planner")
@heavy
@operation(
    "Propose quota relief: the rest of the year re-planned from the closed quarters, keeping "
    "the company number where capacity allows and saying where it does not.",
    body=schemas.ReliefRequest,
    multipart=_multipart(schemas.ReliefSettings),
    response=schemas.ReliefOut,
    errors=("400", "401", "403", "404", "413", "422", "503"),
)
def propose_relief(plan_id: int):
    """A proposal, not stored: to adopt it, POST its ``closed_actuals`` to
    ``/v1/plans/{id}/replan``. Nobody's proposed quota exceeds their cap."""
    body, actuals = _bookings(schemas.ReliefRequest, schemas.ReliefSettings)
    rec = _record(plan_id)
    r = tracking.relief_proposal(_stored_spec(rec), pd.DataFrame(rec.quotas), actuals, body)
    out = schemas.ReliefOut(
        plan_id=rec.id,
        kept_number=r.kept_number,
        number=r.number,
        message=r.message,
        reps=records(r.reps),
        quotas=records(r.plan.quotas) if r.plan is not None else None,
        closed_actuals=records(r.closed_actuals),
    )
    return out.model_dump(mode="json")

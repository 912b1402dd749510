"""In-year tracking of a stored plan: progress snapshots (kept with the plan's history) and
quota relief proposals."""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, g, url_for

from optimizer.tracking import DEFAULT_MONTH_SHAPE, Thresholds, month_shape, relief, track

from .. import schemas
from ..auth import requires
from ..idempotency import idempotent
from ..openapi import operation
from ..problems import ApiProblem
from ..work import heavy
from .common import ID, json_body, plain, records, store
from .plans import _record, _stored_spec

bp = Blueprint("tracking", __name__, url_prefix="/v1")


def _bookings(rows: list[schemas.BookingRow]) -> pd.DataFrame:
    """Bookings as the tracker reads them: dated rows keep their day, monthly rows their month."""
    df = pd.DataFrame([r.model_dump() for r in rows])
    dated = df["date"].notna()
    if dated.all():
        return df[["rep_id", "date", "revenue"]].assign(date=pd.to_datetime(df["date"]))
    if dated.any():  # a month's total stands for its last day
        month_end = pd.PeriodIndex(df.loc[~dated, "period"], freq="M").end_time.normalize()
        df.loc[~dated, "date"] = month_end
        return df[["rep_id", "date", "revenue"]].assign(date=pd.to_datetime(df["date"]))
    return df[["rep_id", "period", "revenue"]]


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
    response=schemas.ProgressOut,
    status=201,
    errors=("400", "401", "403", "404", "413", "422"),
)
def add_progress(plan_id: int):
    """Bookings are monthly totals (``period``) or dated (``date``). Quotas are phased inside
    each quarter by the month shape of the plan's history where it was monthly (else 15/25/60).
    Every flag comes with its
    reason in words; reps on or ahead of their phased quota are not flagged at risk, out of
    reach or overloaded."""
    body = json_body(schemas.ProgressRequest)
    rec = _record(plan_id)
    history = rec.request.get("history")
    shape = (
        month_shape(pd.DataFrame(history), body.fiscal_year_start)
        if history
        else DEFAULT_MONTH_SHAPE
    )
    p = track(
        _stored_spec(rec, actuals=False),
        pd.DataFrame(rec.quotas),
        _bookings(body.actuals),
        as_of=body.as_of,
        fiscal_year_start=body.fiscal_year_start,
        shape=shape,
        thresholds=Thresholds(
            at_risk_below=body.at_risk_below, missed_quarters=body.missed_quarters
        ),
        grain=body.grain,
    )
    snap = store().add_progress(
        rec.id,
        idempotency=g.get("idempotency"),
        as_of=p.summary["as_of"],
        created_by=g.user,
        request=body.model_dump(mode="json"),
        summary=plain(p.summary),
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
    response=schemas.ReliefOut,
    errors=("400", "401", "403", "404", "413", "422", "503"),
)
def propose_relief(plan_id: int):
    """A proposal, not stored: to adopt it, POST its ``closed_actuals`` to
    ``/v1/plans/{id}/replan``. Nobody's proposed quota exceeds their cap."""
    body = json_body(schemas.ReliefRequest)
    rec = _record(plan_id)
    r = relief(
        _stored_spec(rec),
        pd.DataFrame(rec.quotas),
        _bookings(body.actuals),
        as_of=body.as_of,
        fiscal_year_start=body.fiscal_year_start,
    )
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

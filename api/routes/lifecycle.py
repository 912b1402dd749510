"""A plan's life over HTTP: moving its state, adjustments approved up the team/region hierarchy
(the rules: ``api.lifecycle``), the books at every level, the audit log and each rep's
explanation.

Every change is written with its audit entry in one transaction (``api.storage``); a plan that
is published changes only through a new version (a revision), never in place.
"""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, g, request

from .. import schemas
from ..auth import open_mode, requires
from ..idempotency import idempotent
from ..lifecycle import Actor
from ..openapi import operation
from ..problems import ApiProblem
from ..service import adjustments, history, states
from ..work import heavy
from .common import ID, json_body, plain, store
from .plans import _record, _stored_spec

bp = Blueprint("lifecycle", __name__, url_prefix="/v1")


def _actor() -> Actor:
    return Actor(g.user, g.role, g.get("scope"), open_mode())


def _brief(rec) -> dict:
    return {
        "id": rec.id,
        "scenario": rec.scenario_name,
        "version": rec.version,
        "kind": rec.kind,
        "parent_id": rec.parent_id,
        "state": rec.state,
    }


@bp.post(f"/plans/<{ID}:plan_id>/state")
@requires("planner")
@operation(
    "Move a plan: draft -> in_review (planner), in_review -> approved or back to draft, "
    "approved -> published (company-level approver).",
    body=schemas.StateChange,
    response=schemas.PlanState,
    errors=("400", "401", "403", "404", "409", "422"),
)
def move_plan(plan_id: int):
    """Two approvers moving the same plan at once: one wins, the other gets 409."""
    body = json_body(schemas.StateChange)
    return _brief(states.move_plan(store(), plan_id, body.to, _actor(), body.comment))


def _created(adjustment_id: int):
    """How a proposed adjustment is answered (also to a retry with the same key)."""
    return _adjustment_out(store().adjustment(adjustment_id)), 201


@bp.post(f"/plans/<{ID}:plan_id>/adjustments")
@requires("planner")
@idempotent("adjustment", _created)
@heavy
@operation(
    "Propose a change to a rep's annual quota, with a reason: the rest of the rep's team is "
    "rebalanced; the change waits for approval at team then region level.",
    body=schemas.AdjustmentRequest,
    response=schemas.AdjustmentOut,
    status=201,
    errors=("400", "401", "403", "404", "422"),
)
def propose(plan_id: int):
    """A change that breaks one of the plan's limits (the rep's cap, floor, ratchet...), or that
    the team cannot absorb, is refused (422) with the reason. ``POST .../adjustments/preview``
    shows the same rebalance without storing anything."""
    body = json_body(schemas.AdjustmentRequest)
    rec = _record(plan_id)
    p = _proposal(rec, body)
    adj = adjustments.store_proposal(store(), rec, p, g.user, body.reason, g.get("idempotency"))
    return _adjustment_out(adj), 201


@bp.post(f"/plans/<{ID}:plan_id>/adjustments/preview")
@requires("planner")
@heavy
@operation(
    "What an adjustment would do, stored nowhere: the rep's annual quota before and after, and "
    "every rep of the team whose quota the rebalance moves (with the limit that binds them).",
    body=schemas.AdjustmentRequest,
    response=schemas.AdjustmentPreview,
    errors=("400", "401", "403", "404", "422"),
)
def preview(plan_id: int):
    """The same body as ``POST /v1/plans/{id}/adjustments``, the same computation and the same
    refusals (422 with the reason); proposing it afterwards stores exactly these changes."""
    body = json_body(schemas.AdjustmentRequest)
    rec = _record(plan_id)
    p = _proposal(rec, body)
    before, after = p.team_totals()
    return schemas.AdjustmentPreview(
        plan_id=rec.id,
        rep_id=body.rep_id,
        team=p.team,
        annual_quota_before=p.mover.before,
        annual_quota_after=p.mover.after,
        changes=[c.to_dict() for c in p.moved],
        team_total_before=before,
        team_total_after=after,
    ).model_dump(mode="json")


def _proposal(rec, body: schemas.AdjustmentRequest) -> adjustments.Proposal:
    """What the adjustment makes of plan ``rec`` (:func:`api.service.adjustments.propose`)."""
    quotas, reps = pd.DataFrame(rec.quotas), pd.DataFrame(rec.reps)
    return adjustments.propose(_stored_spec(rec), quotas, reps, body.rep_id, body.annual_quota)


def _adjustment_out(adj) -> dict:
    return schemas.AdjustmentOut(
        id=adj.id,
        plan_id=adj.plan_id,
        rep_id=adj.rep_id,
        proposed_by=adj.proposed_by,
        reason=adj.reason,
        status=adj.status,
        levels=adj.levels,
        next_level=adj.levels[adj.step] if adj.status == "pending" else None,
        decisions=adj.decisions,
        changes=adj.changes,
    ).model_dump(mode="json")


@bp.get(f"/plans/<{ID}:plan_id>/adjustments")
@requires("viewer")
@operation(
    "A plan's adjustments and where each stands.",
    response=schemas.AdjustmentList,
    errors=("401", "403", "404"),
)
def list_adjustments(plan_id: int):
    rec = _record(plan_id)
    return {
        "plan_id": rec.id,
        "adjustments": [_adjustment_out(a) for a in store().adjustments(rec.id)],
    }


QUEUE_PARAMS = (
    {
        "name": "state",
        "in": "query",
        "required": False,
        "description": "pending (the only state with decisions left to take)",
        "schema": {"type": "string", "enum": ["pending"], "default": "pending"},
    },
    {
        "name": "plan_id",
        "in": "query",
        "required": False,
        "description": "Only this plan's adjustments",
        "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID},
    },
)


@bp.get("/adjustments")
@requires("approver")
@operation(
    "The approver's queue: the adjustments waiting for a decision the caller may take (at their "
    "level, and not their own proposal), oldest first; ?plan_id= for one plan's.",
    response=schemas.AdjustmentQueue,
    errors=("401", "403", "404", "422"),
    params=QUEUE_PARAMS,
)
def queue():
    """Each with its plan, the rep, who proposed it and why, the rep's annual quota before and
    after, and the level it waits for. ``stale``: the plan changed since it was proposed, so
    approving it would set it aside; the proposer should propose it again."""
    query = schemas.AdjustmentQuery.model_validate(request.args.to_dict())
    out = [
        schemas.QueuedAdjustment(
            id=q.adjustment.id,
            plan_id=q.adjustment.plan_id,
            scenario=q.scenario,
            plan_version=q.plan_version,
            rep_id=q.adjustment.rep_id,
            team=q.adjustment.levels[0].partition(":")[2],
            proposed_by=q.adjustment.proposed_by,
            reason=q.adjustment.reason,
            created_at=q.adjustment.created_at,
            annual_quota_before=q.mover.before,
            annual_quota_after=q.mover.after,
            level=q.level,
            levels=q.adjustment.levels,
            decisions=q.adjustment.decisions,
            changes=q.adjustment.changes,
            stale=q.stale,
        )
        for q in adjustments.queue(store(), _actor(), query.plan_id)
    ]
    return schemas.AdjustmentQueue(
        state=query.state, plan_id=query.plan_id, adjustments=out
    ).model_dump(mode="json")


@bp.post(f"/adjustments/<{ID}:adjustment_id>/decision")
@requires("approver")
@operation(
    "Approve or reject an adjustment at your level (team, then region); the last approval "
    "applies it: in place on a plan not yet published, as a new published version otherwise.",
    body=schemas.Decision,
    response=schemas.DecisionOut,
    errors=("400", "401", "403", "404", "409", "422"),
)
def decide(adjustment_id: int):
    body = json_body(schemas.Decision)
    adj, plan = adjustments.decide(store(), adjustment_id, _actor(), body.decision, body.comment)
    return {"adjustment": _adjustment_out(adj), "plan": _brief(plan) if plan else None}


@bp.get(f"/plans/<{ID}:plan_id>/books")
@requires("viewer")
@operation(
    "One set of books: at every level (company, region, team) the number set for it and the sum "
    "of its reps' quotas, with the uplift (over-assignment) between them.",
    response=schemas.Books,
    errors=("401", "403", "404"),
)
def books(plan_id: int):
    """A team or region without a target of its own gets its share of the company number (its
    reps' quotas over the company's over-assignment)."""
    rec = _record(plan_id)
    rows = adjustments.books(
        pd.DataFrame(rec.reps),
        float(rec.summary["company_target"]),
        float(rec.summary.get("over_assignment") or 0.0),
        rec.request.get("limits") or {},
    )
    return {"plan_id": rec.id, "levels": rows}


@bp.get(f"/plans/<{ID}:plan_id>/audit")
@requires("viewer")
@operation(
    "The audit log of a plan and the versions it came from: who changed what, when, before, "
    "after, why; ?rep_id= for one rep's quota history.",
    response=schemas.AuditList,
    errors=("401", "403", "404"),
)
def audit(plan_id: int):
    entries = history.audit_log(store(), _record(plan_id), request.args.get("rep_id"))
    return {"plan_id": plan_id, "entries": [_entry(e) for e in entries]}


def _entry(e) -> dict:
    return schemas.AuditEntry.model_validate(e, from_attributes=True).model_dump(mode="json")


@bp.get(f"/plans/<{ID}:plan_id>/reps/<rep_id>")
@requires("rep")
@operation(
    "One rep's quota and how it was set, in words: forecast, stretch, chance, the limit that "
    "bound it, and every adjustment and approval since. A rep's token sees only their own.",
    response=schemas.RepExplanation,
    errors=("401", "403", "404"),
)
def explain_rep(plan_id: int, rep_id: str):
    if not open_mode() and g.role == "rep" and g.user != rep_id:
        raise ApiProblem(403, "Forbidden", "a rep's token reads only that rep's own quota")
    story = history.rep_story(store(), _record(plan_id), rep_id)
    out = schemas.RepExplanation(
        plan_id=story.plan_id,
        rep_id=rep_id,
        annual_quota=story.annual_quota,
        quotas=plain(story.quotas),
        explanation=story.explanation,
        history=[_entry(e) for e in story.entries],
    )
    return out.model_dump(mode="json")

"""What happened to a stored plan: its audit log (the plan and the versions it came from), and
one rep's story (their number in words, and the entries they may read), for
``quotaplan history`` and ``GET /v1/plans/{id}/audit`` and ``/reps/{rep}``. Reads a store."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..explanations import own_story, rep_explanation
from .errors import NotFound


def plan_record(store, plan_id: int):
    """The stored plan ``plan_id``."""
    rec = store.plan(plan_id)
    if rec is None:
        raise NotFound(
            f"no plan {plan_id}: check its id (GET /v1/scenarios/{{name}}/plans lists a "
            "scenario's plans)"
        )
    return rec


def audit_log(store, rec, rep_id: str | None = None) -> list:
    """The log of the stored plan ``rec`` (:func:`plan_record`) and the versions it came from,
    oldest first; with ``rep_id``, that rep's entries and the plan-wide ones."""
    return store.audit(store.lineage(rec.id), rep_id)


@dataclass(frozen=True)
class RepStory:
    """A rep's number in a plan, their quarters, the number in words, and their history as told
    to them (a teammate's reasons are not theirs to read)."""

    plan_id: int
    rep_id: str
    annual_quota: float
    quotas: list[dict]
    explanation: list[str]
    entries: list


def rep_story(store, rec, rep_id: str) -> RepStory:
    """``rep_id``'s story in the stored plan ``rec`` (:func:`plan_record`)."""
    reps = pd.DataFrame(rec.reps).set_index("rep_id")
    if rep_id not in reps.index:
        raise NotFound(f"rep {rep_id!r} is not in plan {rec.id}")
    entries = own_story(store.audit(store.lineage(rec.id), rep_id), rep_id)
    return RepStory(
        plan_id=rec.id,
        rep_id=rep_id,
        annual_quota=float(reps.loc[rep_id, "annual_quota"]),
        quotas=[q for q in rec.quotas if q["rep_id"] == rep_id],
        explanation=rep_explanation(rec, reps.loc[rep_id], entries),
        entries=entries,
    )

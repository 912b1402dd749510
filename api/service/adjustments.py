"""One rep at a time, and the books: what an adjustment of a rep's annual quota makes of a
plan (``POST /v1/plans/{id}/adjustments`` and its ``/preview``), and the number and the sum of
the quotas at every level (``GET /v1/plans/{id}/books``). Pure: plans' tables in, figures out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from inyear.adjust import AdjustmentRefused, QuotaChange, adjust, changes
from optimizer import Plan, PlanSpec, parse_amount
from optimizer.wording import money

from ..fastjson import records
from ..lifecycle import (
    Actor,
    NotAllowed,
    WrongState,
    applies_as_revision,
    approval_levels,
    check_decision,
    is_stale,
    may_propose,
    status_after,
)
from ..storage import StateConflict
from .errors import NotFound, StaleAdjustment


@dataclass(frozen=True)
class Proposal:
    """An adjustment computed: the plan with the rep's new number and their team rebalanced
    (everyone else exactly as they were), the rep's team and region, the approval levels it
    waits for, and every rep whose annual quota moves (``inyear.adjust.changes``)."""

    plan: Plan
    rep_id: str
    team: str
    region: str
    levels: list[str]
    moved: tuple[QuotaChange, ...]
    before: pd.DataFrame = field(repr=False, compare=False)  # the plan's reps as they were

    @property
    def mover(self) -> QuotaChange:
        """The adjusted rep's change."""
        return next(c for c in self.moved if c.rep_id == self.rep_id)

    def team_totals(self) -> tuple[float, float]:
        """The team's annual total before and after."""
        was = self.before.loc[self.before["team"] == self.team, "annual_quota"].sum()
        now = self.plan.reps.loc[self.plan.reps["team"] == self.team, "annual_quota"].sum()
        return float(was), float(now)


def propose(
    spec: PlanSpec, quotas: pd.DataFrame, reps: pd.DataFrame, rep_id: str, annual_quota: float
) -> Proposal:
    """What setting ``rep_id``'s annual quota to ``annual_quota`` makes of the plan (``spec``,
    its ``quotas`` and ``reps`` tables). Refused (:class:`inyear.adjust.AdjustmentRefused`)
    when it breaks a limit, the team cannot absorb it, or it changes nothing."""
    new = adjust(spec, quotas, rep_id, annual_quota)
    rep = reps.set_index("rep_id").loc[rep_id]
    team, region = str(rep["team"]), str(rep["region"])
    new = _team_only(quotas, reps, new, team, rep_id)
    moved = changes(reps, new.reps)
    if not any(c.rep_id == rep_id for c in moved):
        raise AdjustmentRefused(
            f"{rep_id}'s annual quota is already {money(annual_quota)}: nothing to adjust; "
            "propose a different number"
        )
    return Proposal(new, rep_id, team, region, approval_levels(team, region), moved, reps)


def _team_only(quotas: pd.DataFrame, reps: pd.DataFrame, new: Plan, team: str, rep_id: str):
    """The adjusted plan as stored: the team's rows from the re-solve (the adjusted rep's limit
    shown as ``adjustment``), everyone else's rows exactly as they were (not 'lock')."""
    team_reps = set(new.reps.loc[new.reps["team"] == team, "rep_id"])
    out = []
    for old, fresh in ((quotas, new.quotas), (reps, new.reps)):
        mine = fresh[fresh["rep_id"].isin(team_reps)].copy()
        mine.loc[mine["rep_id"] == rep_id, "binding"] = "adjustment"
        both = pd.concat([old[~old["rep_id"].isin(team_reps)], mine], ignore_index=True)
        keys = ["rep_id", "period"] if "period" in both else ["rep_id"]
        out.append(both.sort_values(keys, kind="stable").reset_index(drop=True))
    return replace(new, quotas=out[0], reps=out[1])


@dataclass(frozen=True)
class Queued:
    """An adjustment waiting for a decision an actor may take: the adjustment, its plan's
    scenario and version, the level it waits for, and whether deciding it now would find it
    stale (the plan changed since it was proposed)."""

    adjustment: object
    scenario: str
    plan_version: int
    level: str
    stale: bool

    @property
    def mover(self) -> QuotaChange:
        """The adjusted rep's change."""
        a = self.adjustment
        return QuotaChange.from_dict(next(c for c in a.changes if c["rep_id"] == a.rep_id))


def queue(store, actor: Actor, plan_id: int | None = None) -> list[Queued]:
    """The adjustments ``actor`` may decide now (at their level, not their own proposal),
    oldest first; only plan ``plan_id``'s if given."""
    if plan_id is not None and not store.exists("plan", plan_id):
        raise NotFound(
            f"no plan {plan_id}: check its id (GET /v1/scenarios/{{name}}/plans lists a "
            "scenario's plans)"
        )
    out = []
    for adj, scenario, version, content_rev, latest in store.pending_adjustments(plan_id):
        level = adj.levels[adj.step]
        try:
            check_decision(adj.id, adj.status, level, adj.proposed_by, actor)
        except (NotAllowed, WrongState):
            continue  # someone else's to decide
        stale = is_stale(content_rev, adj.plan_rev, latest, adj.scenario_version)
        out.append(Queued(adj, scenario, version, level, stale))
    return out


def store_proposal(store, plan, proposal: Proposal, who: str, reason: str, idempotency=None):
    """Store ``proposal`` (computed against ``plan`` as it was read) as a pending adjustment,
    its proposal logged, in one transaction: refused (StateConflict) if the plan changed
    meanwhile or, published, is no longer its scenario's latest version."""
    with store.writes(idempotency) as w:
        now = w.plan(plan.id)
        latest = w.latest(now.scenario_id)
        if not may_propose(now.state, now.content_rev, now.version, plan.content_rev, latest):
            raise StateConflict(
                f"plan {plan.id} changed while the adjustment was computed (or has a newer "
                f"version, {latest}); propose it again on the latest"
            )
        return w.add_adjustment(
            plan.id,
            plan_rev=plan.content_rev,
            scenario_version=latest,
            rep_id=proposal.rep_id,
            proposed_by=who,
            reason=reason,
            levels=proposal.levels,
            quotas=records(proposal.plan.quotas),
            reps=records(proposal.plan.reps),
            changes=[c.to_dict() for c in proposal.moved],
        )


def decide(store, adjustment_id: int, actor: Actor, decision: str, comment: str):
    """``actor``'s decision at the level the adjustment waits for; the last level's approval
    applies it (in place on a plan not yet published, as the scenario's next version on a
    published one), unless the plan changed since it was proposed: then it is set aside
    (StaleAdjustment). Everything, audit included, in one transaction; a decision taken
    meanwhile by someone else is a StateConflict. Returns the adjustment and the plan it
    changed (None until applied)."""
    adj = store.adjustment(adjustment_id)
    if adj is None:
        raise NotFound(f"no adjustment {adjustment_id}")
    level = adj.levels[adj.step] if adj.status == "pending" else None
    check_decision(adjustment_id, adj.status, level, adj.proposed_by, actor)
    entry = {"level": level, "who": actor.user, "decision": decision, "comment": comment}
    status = status_after(decision, adj.step, adj.levels)
    with store.writes() as w:
        adj = w.record_decision(adjustment_id, adj.step, entry, status)
        if adj.status != "approved":
            return adj, None
        plan = w.plan(adj.plan_id)
        latest = w.latest(plan.scenario_id)
        stale = is_stale(plan.content_rev, adj.plan_rev, latest, adj.scenario_version)
        if stale:
            w.set_aside(adj, actor.user, "the plan changed after this adjustment was proposed")
        else:
            plan = w.apply(adj, plan, actor.user, applies_as_revision(plan.state))
    if stale:
        raise StaleAdjustment(
            f"plan {adj.plan_id} changed after adjustment {adj.id} was proposed, so it was set "
            "aside, not applied; propose it again on the plan as it is now"
        )
    return adj, plan


def books(reps: pd.DataFrame, company_number: float, over: float, limits: dict) -> list[dict]:
    """At every level (company, each region, each team) the number set for it and the sum of
    its reps' quotas, with the uplift between them. A team or region without a target of its
    own (``limits``' ``team_targets``/``region_targets``) gets its share of the company
    number: its reps' quotas over the company's over-assignment ``over``."""
    rows = [_level("company", "company", company_number, reps["annual_quota"].sum())]
    for level in ("region", "team"):
        own = limits.get(f"{level}_targets") or {}
        for name, members in reps.groupby(level):
            total = float(members["annual_quota"].sum())
            number = parse_amount(own[name]) if name in own else total / (1 + over)
            rows.append(_level(level, str(name), number, total))
    return rows


def _level(level: str, name: str, number: float, quotas: float) -> dict:
    return {
        "level": level,
        "name": name,
        "number": number,
        "sum_of_quotas": float(quotas),
        "uplift": float(quotas - number),
        "uplift_share": float(quotas / number - 1) if number > 0 else None,
    }

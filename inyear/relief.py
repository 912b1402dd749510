"""Quota relief: the rest of the year re-planned from the quarters closed so far.

``relief(spec, quotas, actuals, as_of=...)`` proposes new quotas with the optimizer's mid-year
re-plan (closed quarters become the actuals, same limits: nobody goes above their cap) and
says where capacity cannot keep the company number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimizer.changes import annual_changes
from optimizer.errors import PlanInfeasibleError, SpecError
from optimizer.inputs import PlanData, prepare
from optimizer.replanning import replan
from optimizer.results import Plan
from optimizer.spec import PlanSpec
from optimizer.wording import money

from .actuals import as_of_day, check_quarter_totals, plan_actuals, plan_calendar
from .pacing import plan_days, quota_matrix


@dataclass(frozen=True)
class Relief:
    """A proposal: ``plan`` (the re-planned year; None when even the reachable number cannot be
    planned), ``reps`` (per rep: annual quota before and after, the change), ``kept_number``
    (whether the company number still holds), ``number`` (what the proposal adds up to) and
    ``message`` (what happened, in words), ``closed_actuals`` (the closed quarters' bookings the
    proposal started from: a re-plan with them adopts it)."""

    plan: Plan | None
    reps: pd.DataFrame
    kept_number: bool
    number: float
    message: str
    closed_actuals: pd.DataFrame  # rep_id, period, revenue: what the proposal re-planned from


def relief(
    spec: PlanSpec,
    quotas: pd.DataFrame,
    actuals,
    *,
    as_of=None,
    fiscal_year_start: int | None = None,
    previous: Plan | None = None,
) -> Relief:
    """Re-allocate the rest of the year given the bookings of the quarters closed by ``as_of``
    (the optimizer's mid-year re-plan, same limits: nobody goes above their cap). Reps out of
    reach get the relief capacity allows; where capacity cannot carry the company number, the
    proposal keeps the most it can, and says by how much it falls short and why.

    ``actuals`` as :func:`inyear.tracking.track` takes them; ``previous`` is the plan being
    relieved (solved again from ``spec`` if not given).
    """
    fiscal_year_start = plan_calendar(spec, fiscal_year_start)
    data = prepare(replace(spec, actuals=None))
    booked = plan_actuals(actuals, data, fiscal_year_start)
    as_of = as_of_day(as_of, booked)
    check_quarter_totals(booked, as_of)
    days = plan_days(data.periods, fiscal_year_start)
    ends = days.groupby("t")["date"].max()
    closed = [data.periods[t] for t, end in ends.items() if end <= as_of]
    before = quota_matrix(quotas, data).sum(axis=1)
    if not closed:
        raise SpecError(
            f"no quarter has closed by {as_of:%Y-%m-%d}: relief re-plans from a closed quarter on"
        )
    t_of = days.set_index("date")["t"]
    book = booked.rows
    rows = book[book["date"] <= ends.iloc[len(closed) - 1]]
    sold = (
        rows.assign(period=data.periods[t_of.loc[rows["date"]].to_numpy()])
        .groupby(["rep_id", "period"])["revenue"]
        .sum()
    )
    grid = pd.MultiIndex.from_product([data.reps, closed], names=["rep_id", "period"])
    closed_actuals = sold.reindex(grid, fill_value=0.0).rename("revenue").reset_index()
    number = spec.target
    try:
        plan = replan(spec, closed_actuals, previous=previous)
        message = f"the company number {money(number)} holds"
        kept = True
    except PlanInfeasibleError as exc:
        reasons = "; ".join(f.message for f in exc.diagnosis.findings)
        lower = [
            x.changes["target"]
            for x in exc.diagnosis.fixes
            if set(x.changes) == {"target"} and x.changes["target"] < spec.target
        ]
        if not lower:
            return Relief(
                None, _changes(before, None, data), False, number, reasons, closed_actuals
            )
        number = lower[0]
        try:
            # A plan at the lower number (its own level), not the previous plan's number.
            plan = replan(replace(spec, target=number), closed_actuals)
        except PlanInfeasibleError as again:
            return Relief(
                None, _changes(before, None, data), False, number, str(again), closed_actuals
            )
        kept = False
        message = (
            f"capacity cannot keep the company number: the proposal reaches {money(number)}, "
            f"{money(spec.target - number)} short ({reasons})"
        )
    return Relief(plan, _changes(before, plan, data), kept, number, message, closed_actuals)


def _changes(before: np.ndarray, plan: Plan | None, data: PlanData) -> pd.DataFrame:
    out = pd.DataFrame({"rep_id": data.reps, "team": data.team, "annual_quota_before": before})
    if plan is None:
        return out
    now = out.rename(columns={"annual_quota_before": "annual_quota"})
    ch = annual_changes(now, plan.reps).reindex(data.reps)
    return out.assign(annual_quota_after=ch["after"].to_numpy(), change=ch["change"].to_numpy())

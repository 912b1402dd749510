"""Mid-year re-planning: closed quarters become what the reps sold, the rest of the year is set
again so that actuals plus the remaining quotas still add up to the company number.

The re-plan keeps the plan's policy, limits and common level: a rep's remaining quotas are as
stretched as the plan allowed, and more only if the shortfall so far needs it (the level is the
lowest that fits, never below the plan's). So actuals exactly on quota change nothing, a company
behind its number spreads the gap over the reps with room for it, and a company ahead of it
eases the remaining quotas.

Reps whose chance of still reaching the annual quota they were given (actuals to date plus what
the forecast says they sell in the open quarters) is under ``at_risk_below`` are flagged at
risk: they are the ones to coach, or to consider for relief.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .changes import annual_changes
from .errors import SpecError
from .explain import attain_probability
from .inputs import prepare
from .results import Plan, ReplanSummary
from .solve import solve_plan
from .spec import AT_RISK_BELOW, LP_POLICIES, PlanSpec


def replan(
    spec: PlanSpec,
    actuals: pd.DataFrame,
    *,
    previous: Plan | None = None,
    at_risk_below: float = AT_RISK_BELOW,
    time_limit: float | None = None,
    route: str | None = None,
) -> Plan:
    """Re-allocate the open quarters of ``spec``'s plan given ``actuals`` (``rep_id, period,
    revenue``, every rep in each closed quarter).

    ``previous`` is the plan being revised (solved from ``spec`` if not given). The result is a
    :class:`Plan` whose closed quarters hold the actuals (binding ``actual``); its rep table adds
    ``actual_to_date``, ``remaining_quota``, ``previous_annual_quota``, ``change``,
    ``p_attain_previous`` (the chance of still reaching the previous annual quota) and
    ``at_risk``, and its summary the closed quarters, the actuals to date, the reps at risk and
    the plan's level kept.

    Raises the errors of :func:`optimizer.solve_plan`, and ``ValueError`` for a rule-of-thumb
    policy (they have no limits to re-plan within).
    """
    if spec.policy not in LP_POLICIES:
        raise SpecError(
            f"re-planning keeps the limits, which the rule of thumb {spec.policy!r} ignores; "
            f"re-plan with {' or '.join(LP_POLICIES)}"
        )
    if not 0 < at_risk_below < 1:
        raise SpecError(f"at_risk_below must be a chance between 0 and 1, got {at_risk_below}")
    if previous is None:
        previous = solve_plan(spec, time_limit=time_limit, route=route)
    level = previous.summary.objective.level
    # An attainment goal was met by the plan's number: the re-plan keeps that number.
    spec = replace(spec, target=previous.summary.company_target, attainment=None, actuals=actuals)
    new = solve_plan(spec, time_limit=time_limit, route=route, min_level=level)
    data = prepare(spec)
    # Comonotone quarters: the open quarters' quantiles add up, on top of the actuals.
    year = data.quantiles[:, ~data.closed].sum(axis=1) + data.actual_to_date[:, None]
    q = new.quotas
    closed = q["binding"].eq("actual")
    by_rep = pd.DataFrame(
        {
            "actual_to_date": q["quota"].where(closed, 0.0).groupby(q["rep_id"]).sum(),
            "remaining_quota": q["quota"].where(~closed, 0.0).groupby(q["rep_id"]).sum(),
        }
    )
    moved = annual_changes(previous.reps, new.reps)[["before", "change"]]
    moved = moved.rename(columns={"before": "previous_annual_quota"})
    reps = new.reps.join(by_rep, on="rep_id").join(moved, on="rep_id")
    given = reps["previous_annual_quota"].to_numpy(float)
    reps["p_attain_previous"] = attain_probability(given, data.levels, year)
    reps["at_risk"] = reps["p_attain_previous"] < at_risk_below
    figures = ReplanSummary(
        previous_level=level,
        level=new.summary.objective.level,
        at_risk_below=at_risk_below,
        reps_at_risk=int(reps["at_risk"].sum()),
        moved=float(np.abs(reps["change"]).sum()),
    )
    return Plan(q, reps, replace(new.summary, replan=figures))

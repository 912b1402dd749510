"""Allocation: quarterly quotas per rep from a forecast, the company number and limits.

``plan(forecast, roster, target=..., policy=..., **limits)`` is the short way; ``PlanSpec`` and
``solve_plan`` the explicit one; ``replan(spec, actuals)`` re-allocates the rest of the year
mid-way. Impossible plans raise ``PlanInfeasibleError`` with a diagnosis.
"""

from .diagnose import Diagnosis, Finding, Fix
from .errors import PlanInfeasibleError, SolverLimitError, SpecError
from .replan import AT_RISK_BELOW, replan
from .solve import Plan, solve_plan
from .spec import LP_POLICIES, POLICIES, Limits, PlanSpec, parse_amount


def plan(
    forecast,
    roster,
    *,
    target=None,
    attainment: float | None = None,
    policy: str = "equal-stretch",
    time_limit: float | None = None,
    **limits,
) -> Plan:
    """Plan quotas in one call: ``plan(forecast, roster, target="12.5M", over_assignment=0.05)``,
    or ``plan(forecast, roster, attainment=0.65)`` for the company number at which about 65% of
    reps are expected to reach quota.

    ``limits`` are the fields of :class:`Limits`.
    """
    spec = PlanSpec(forecast, roster, target, policy, Limits(**limits), attainment=attainment)
    return solve_plan(spec, time_limit=time_limit)


__all__ = [
    "AT_RISK_BELOW",
    "Diagnosis",
    "Finding",
    "Fix",
    "LP_POLICIES",
    "POLICIES",
    "Limits",
    "Plan",
    "PlanInfeasibleError",
    "PlanSpec",
    "SolverLimitError",
    "SpecError",
    "parse_amount",
    "plan",
    "replan",
    "solve_plan",
]

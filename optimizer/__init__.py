"""Allocation: quarterly quotas per rep from a forecast, the company number and limits.

``plan(forecast, roster, target=..., policy=..., **limits)`` is the short way; ``PlanSpec`` and
``solve_plan`` the explicit one. Impossible plans raise ``PlanInfeasibleError`` with a diagnosis.
"""

from .solve import Plan, PlanInfeasibleError, SolverLimitError, solve_plan
from .spec import LP_POLICIES, POLICIES, Limits, PlanSpec, parse_amount


def plan(
    forecast,
    roster,
    *,
    target,
    policy: str = "equal-stretch",
    time_limit: float | None = None,
    **limits,
) -> Plan:
    """Plan quotas in one call: ``plan(forecast, roster, target="12.5M", over_assignment=0.05)``.

    ``limits`` are the fields of :class:`Limits`.
    """
    return solve_plan(
        PlanSpec(forecast, roster, target, policy, Limits(**limits)), time_limit=time_limit
    )


__all__ = [
    "LP_POLICIES",
    "POLICIES",
    "Limits",
    "Plan",
    "PlanInfeasibleError",
    "PlanSpec",
    "SolverLimitError",
    "parse_amount",
    "plan",
    "solve_plan",
]

"""Allocation: quarterly quotas per rep from a forecast, the company number and limits.

``plan(forecast, roster, target=..., policy=..., **limits)`` is the short way; ``PlanSpec`` and
``solve_plan`` the explicit one; ``replan(spec, actuals)`` re-allocates the rest of the year
mid-way. Impossible plans raise ``PlanInfeasibleError`` with a diagnosis.

The names that need pandas, Pyomo or HiGHS are imported when first used (PEP 562), so what a
plan is asked for (``PlanSpec``, ``Limits``, ``POLICIES``) can be read without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

from .errors import PlanInfeasibleError, SolverLimitError, SpecError
from .spec import AT_RISK_BELOW, LP_POLICIES, POLICIES, Limits, PlanSpec, parse_amount

if TYPE_CHECKING:
    from .results import Plan

#: The names imported when first used, and the submodule of each. No submodule is named as a name
#: exported here (``replan`` lives in ``replanning``): importing a submodule binds its name in
#: the package to the module, which would hide the name from ``__getattr__``.
__getattr__, _, _LAZY = lazy_loader.attach(
    __name__,
    submod_attrs={
        "results": ["Diagnosis", "Finding", "Fix", "Plan", "PlanSummary", "SolveStatus"],
        "replanning": ["replan"],
        "solve": ["solve_plan"],
    },
)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    from .solve import solve_plan

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
    "PlanSummary",
    "SolveStatus",
    "SolverLimitError",
    "SpecError",
    "parse_amount",
    "plan",
    "replan",
    "solve_plan",
]

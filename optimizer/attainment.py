"""The attainment distribution as a planning input: "about 65% of reps should reach quota".

Under the optimising policies a higher company number never lowers a quota (a property test
checks it for equal-stretch), so the expected share of reps attaining their annual quota falls
as the number rises, continuously. The company number that gives a requested share is
therefore a root of ``share(target) - requested`` on the interval of numbers the limits allow:
found by first bracketing it with feasible numbers (bisection where a number is impossible),
then Brent's method.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy.optimize import brentq

from .errors import PlanInfeasibleError
from .inputs import prepare
from .ranges import bounds
from .results import Diagnosis, Finding, Fix, Plan
from .spec import PlanSpec
from .wording import money

#: How close the plan's expected share must come to the requested one (absolute).
SHARE_TOL = 5e-4


def plan_for_attainment(spec: PlanSpec, solve: Callable[[PlanSpec], Plan]) -> Plan:
    """The plan whose expected share of reps attaining is ``spec.attainment``.

    ``solve(spec_with_target)`` plans one company number. Raises ``PlanInfeasibleError`` when
    no number within the limits gives that share (saying which shares are reachable), or when
    no number fits the limits at all.
    """
    goal, t0 = spec.attainment, time.perf_counter()
    plans: dict[float, Plan | None] = {}

    def at(target: float) -> Plan | None:
        if target not in plans:
            try:
                plans[target] = solve(replace(spec, target=target, attainment=None))
            except PlanInfeasibleError:
                plans[target] = None
        return plans[target]

    def gap(target: float) -> float:
        return at(target).summary.expected_share_attaining - goal

    data = prepare(replace(spec, target=1.0, attainment=None))
    floor, cap = bounds(data, spec.limits, data.p50.sum())
    scale = 1 + spec.limits.over_assignment
    lowest, highest = max(floor.sum(), 1e-9 * cap.sum()) / scale, cap.sum() / scale
    if not highest > 0:
        raise PlanInfeasibleError(
            Diagnosis(
                (
                    Finding(
                        "capacity",
                        0.0,
                        float("nan"),
                        "no rep has any capacity in the plan's quarters; check the forecast",
                    ),
                )
            )
        )
    # A feasible number to start from: the forecast's P50, else a scan of the allowed range.
    start = data.p50.sum() / scale
    candidates = [start, *np.linspace(lowest, highest, 9)[1:-1], lowest, highest]
    feasible = next((t for t in candidates if at(t) is not None), None)
    if feasible is None:
        solve(replace(spec, target=start, attainment=None))  # raises with the diagnosis
    g = gap(feasible)
    if abs(g) <= SHARE_TOL:
        return _done(at(feasible), goal, len(plans), t0)
    # Bracket the root between two feasible numbers, moving towards it.
    near, far = feasible, (highest if g > 0 else lowest)
    while at(far) is None or np.sign(gap(far)) == np.sign(g) != 0:
        if at(far) is not None:  # the whole feasible side misses the goal
            _unreachable(spec, goal, far, at(far))
        mid = 0.5 * (near + far)
        if abs(far - near) <= 1e-9 * highest:
            _unreachable(spec, goal, near, at(near))
        if at(mid) is None:
            far = mid
        elif np.sign(gap(mid)) == np.sign(g):
            near = mid
        else:
            far = mid
    if abs(gap(near)) <= SHARE_TOL:
        best = near
    elif abs(gap(far)) <= SHARE_TOL:
        best = far
    else:
        lo, hi = sorted((near, far))
        best = brentq(gap, lo, hi, xtol=1e-7 * hi, rtol=1e-10, maxiter=100)
    return _done(at(best), goal, len(plans), t0)


def _done(plan: Plan, goal: float, solved: int, t0: float) -> Plan:
    s = plan.summary
    whole = {**s.timings, "total_s": time.perf_counter() - t0}  # the whole search
    summary = replace(s, attainment_goal=goal, plans_solved=solved, timings=whole)
    return replace(plan, summary=summary)


def _unreachable(spec: PlanSpec, goal: float, target: float, plan: Plan) -> None:
    share = plan.summary.expected_share_attaining
    if share > goal:
        advice = (
            f"even at the highest company number the limits allow (about {money(target)}), "
            f"{share:.0%} of reps are expected to attain; ask for a higher share, or raise the "
            "cap quantile or the anti-ratchet limit"
        )
    else:
        advice = (
            f"even at the lowest company number the limits allow (about {money(target)}), only "
            f"{share:.0%} of reps are expected to attain; ask for a lower share, or lower the "
            "floors and growth minimums"
        )
    # The nearest share that is reachable, a little inside the range (the share moves with
    # the number continuously, so one just inside is met).
    inside = math.ceil(share * 200 + 1e-9) / 200 if share > goal else math.floor(share * 200) / 200
    raise PlanInfeasibleError(
        Diagnosis(
            (
                Finding(
                    "attainment",
                    share,
                    float("nan"),
                    f"{goal:.0%} of reps attaining is out of reach: {advice}",
                ),
            ),
            (
                Fix(
                    {"attainment": inside},
                    f"ask for {inside:.1%} of reps attaining (near {money(target)})",
                ),
            ),
        )
    )

"""The Pyomo model of a plan: one small ``declare_*`` helper per family of limits.

``build_plan_model`` never solves. The overload cap and the floor are variable bounds; every
other limit is a row. The limits come from ``optimizer.ranges`` after precedence (a rep's own
limits never contradict each other there), so the model is infeasible only when a company-wide
limit cannot be met; ``optimizer.diagnose`` then says which and what to change.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .inputs import PlanData
from .ranges import ANNUAL, annual_locks, group_targets, phasing_ranges, rep_limits
from .spec import Limits


def build_plan_model(
    data: PlanData,
    limits: Limits,
    total: float,
) -> pyo.ConcreteModel:
    """The plan's limits as a Pyomo model without an objective (the policy sets it, and moves
    the quotas' upper bounds for its level: :func:`set_upper`)."""
    n, T = data.p50.shape
    # Money is modelled in units of the average quota cell, so every coefficient is of order 1:
    # raw currency (matrix 1..1e6, right-hand sides 1e8) leaves HiGHS declaring wrong optima.
    unit = total / (n * T)
    rl = rep_limits(data, limits, total)
    m = pyo.ConcreteModel(name="quota_plan")
    m.R = pyo.RangeSet(0, n - 1)
    m.T = pyo.RangeSet(0, T - 1)
    m.unit = unit
    floor, cap = rl.floor / unit, rl.cap / unit
    m.floor_units, m.cap_units = floor, cap  # for set_upper
    locked = annual_locks(data, limits)
    m.locked_reps = pyo.Set(initialize=sorted(locked))
    declare_quota(m, floor, cap)
    declare_company_total(m, total / unit)
    lo, hi = phasing_ranges(data, limits, total)
    declare_phasing(m, lo / unit, hi / unit)
    declare_annual_limits(m, {k: v / unit for k, v in rl.annual.items()})
    declare_group_targets(
        m, [(name, rows, value / unit) for name, rows, value in group_targets(data, limits)]
    )
    declare_annual_locks(m, {i: rl.lo[i] / unit for i in locked})
    if limits.smoothness is not None:
        declare_smoothness(m, limits.smoothness, rl.smooth_extra / unit)
    return m


def declare_quota(m, floor: np.ndarray, cap: np.ndarray) -> None:
    """The quotas, with the floor and the cap as bounds."""
    m.quota = pyo.Var(m.R, m.T, bounds=lambda m, i, t: (float(floor[i, t]), float(cap[i, t])))


def declare_company_total(m, total: float) -> None:
    m.company_total = pyo.Constraint(
        expr=pyo.quicksum(m.quota[i, t] for i in m.R for t in m.T) == total
    )


def declare_phasing(m, low: np.ndarray, high: np.ndarray) -> None:
    """Each quarter's company total within [low, high] (rows only where a band applies)."""
    m.phased = pyo.Set(initialize=[t for t in m.T if np.isfinite(low[t])])
    col = lambda m, t: pyo.quicksum(m.quota[i, t] for i in m.R)  # noqa: E731
    m.phasing_high = pyo.Constraint(m.phased, rule=lambda m, t: col(m, t) <= float(high[t]))
    m.phasing_low = pyo.Constraint(m.phased, rule=lambda m, t: col(m, t) >= float(low[t]))


def _annual(m, i):
    return pyo.quicksum(m.quota[i, t] for t in m.T)


def declare_annual_limits(m, limits: dict[str, np.ndarray]) -> None:
    """Rows ``annual <= bound`` / ``>= bound`` for each annual limit where it applies."""
    for name, (side, _) in ANNUAL.items():
        bound = limits[name]
        reps = pyo.Set(initialize=[i for i in m.R if np.isfinite(bound[i])])
        m.add_component(f"{name}_reps", reps)

        def rule(m, i, bound=bound, side=side):
            if side == "high":
                return _annual(m, i) <= float(bound[i])
            return _annual(m, i) >= float(bound[i])

        m.add_component(name, pyo.Constraint(reps, rule=rule))


def declare_group_targets(m, targets: list) -> None:
    """Each team/region target: its members' quotas add up to it (``targets``: (name, member
    rows, value) in model units)."""
    m.groups = pyo.Set(initialize=range(len(targets)))
    m.group_target = pyo.Constraint(
        m.groups,
        rule=lambda m, g: (
            pyo.quicksum(m.quota[int(i), t] for i in targets[g][1] for t in m.T)
            == float(targets[g][2])
        ),
    )
    m.group_names = [name for name, _, _ in targets]


def declare_annual_locks(m, years: dict[int, float]) -> None:
    """A locked rep's year is the lock (after precedence: at least what is already held)."""
    m.annual_lock = pyo.Constraint(m.locked_reps, rule=lambda m, i: _annual(m, i) == years[i])


def declare_smoothness(m, share: float, extra: np.ndarray) -> None:
    """Quarter to quarter, a rep's quota moves by at most ``share`` of their average quarter,
    plus ``extra`` where their own limits need more (``optimizer.smoothness``)."""
    steps = [(i, t) for i in m.R for t in m.T if t > 0]
    m.steps = pyo.Set(initialize=steps, dimen=2)
    n_t = len(m.T)

    def room(m, i):
        return share / n_t * _annual(m, i) + float(extra[i])

    m.smooth_up = pyo.Constraint(
        m.steps, rule=lambda m, i, t: m.quota[i, t] - m.quota[i, t - 1] <= room(m, i)
    )
    m.smooth_down = pyo.Constraint(
        m.steps, rule=lambda m, i, t: m.quota[i, t - 1] - m.quota[i, t] <= room(m, i)
    )


def declare_closeness(m, reference: np.ndarray, weight: np.ndarray) -> None:
    """The second stage's objective ``m.closeness``: sum((quota - reference)^2 / (2 weight)),
    money in and weights in the model's units. Strictly convex, so the plan is unique."""
    ref, w = reference / m.unit, weight / m.unit
    m.closeness = pyo.Objective(
        expr=pyo.quicksum(
            (m.quota[i, t] - float(ref[i, t])) ** 2 / (2 * float(w[i, t])) for i in m.R for t in m.T
        )
    )


def set_upper(m, upper: np.ndarray) -> None:
    """Set every quota's upper bound (money), never below its floor: a policy's level changes
    the bounds of the built model instead of rebuilding it."""
    ub = np.maximum(upper / m.unit, m.floor_units)
    for (i, t), v in m.quota.items():
        v.setub(float(ub[i, t]))


def quota_values(m, shape) -> np.ndarray:
    """The solved quotas, in money."""
    out = np.zeros(shape)
    for (i, t), v in m.quota.items():
        out[i, t] = v.value if v.value is not None else np.nan
    return out * m.unit

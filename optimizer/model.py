"""The Pyomo model of a plan: one small ``declare_*`` helper per family of limits.

``build_plan_model`` never solves. In the strict model the overload cap and the floor are variable
bounds; in the elastic model (for diagnosing an impossible plan) every limit has a penalised
slack so the solve finds the smallest relaxation that makes the number reachable.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from .inputs import PlanData
from .ranges import (
    annual_limits,
    annual_locks,
    bounds,
    group_targets,
    level_cells,
    phasing_ranges,
)
from .spec import Limits, parse_amount

#: Penalty per unit of slack on the company number and group targets in the elastic model,
#: relative to the limits': we would rather say which limit to relax than quietly miss a target.
TARGET_PENALTY = 10.0


def build_plan_model(
    data: PlanData,
    limits: Limits,
    total: float,
    *,
    stretch_base: np.ndarray | None = None,
    elastic: bool = False,
) -> pyo.ConcreteModel:
    """The plan LP without an objective (the policy sets it).

    Parameters
    ----------
    stretch_base : if given, a variable ``max_stretch`` and rows ``quota <= max_stretch x base``.
    elastic : limits as rows with penalised slack (``m.slack_cost``) instead of hard limits.
    """
    n, T = data.p50.shape
    # Money is modelled in units of the average quota cell, so every coefficient is of order 1:
    # raw currency (matrix 1..1e6, right-hand sides 1e8) leaves HiGHS declaring wrong optima.
    unit = total / (n * T)
    data = replace(
        data,
        quantiles=data.quantiles / unit,
        last_year_quota=data.last_year_quota / unit,
        ote=data.ote / unit,
        actual=data.actual / unit,
    )
    limits = replace(
        limits,
        locks={k: v / unit for k, v in limits.locks.items()},
        group_targets={k: parse_amount(v) / unit for k, v in limits.group_targets.items()},
    )
    total = total / unit
    m = pyo.ConcreteModel(name="quota_plan")
    m.R = pyo.RangeSet(0, n - 1)
    m.T = pyo.RangeSet(0, T - 1)
    m.unit = unit
    floor, cap = bounds(data, limits)
    m.floor_units, m.cap_units = floor, cap  # for set_upper
    if stretch_base is not None:
        stretch_base = stretch_base / unit
    m.slack_terms = []
    m.locked_reps = pyo.Set(initialize=sorted(annual_locks(data, limits)))
    declare_quota(m, floor, cap, elastic)
    declare_company_total(m, total, elastic)
    if stretch_base is not None:
        declare_stretch(m, stretch_base, level_cells(data, limits))
    declare_phasing(m, *phasing_ranges(data, limits, total), elastic)
    declare_annual_limits(m, annual_limits(data, limits), elastic)
    declare_group_targets(m, data, limits, elastic)
    declare_annual_locks(m, data, limits)
    if limits.smoothness is not None:
        declare_smoothness(m, limits.smoothness)
    if elastic:
        m.slack_cost = pyo.Expression(expr=sum(w * v for w, v in m.slack_terms) / total)
    return m


def _slack(m, name: str, index, weight: float = 1.0):
    var = (
        pyo.Var(*index, domain=pyo.NonNegativeReals)
        if index
        else pyo.Var(domain=pyo.NonNegativeReals)
    )
    m.add_component(name, var)
    if index:
        m.slack_terms.extend((weight, var[k]) for k in var)
    else:
        m.slack_terms.append((weight, var))
    return var


def declare_quota(m, floor: np.ndarray, cap: np.ndarray, elastic: bool) -> None:
    if not elastic:
        m.quota = pyo.Var(m.R, m.T, bounds=lambda m, i, t: (float(floor[i, t]), float(cap[i, t])))
        return
    m.quota = pyo.Var(m.R, m.T, domain=pyo.NonNegativeReals)
    over = _slack(m, "cap_excess", (m.R, m.T))
    under = _slack(m, "floor_shortfall", (m.R, m.T))
    m.rep_cap = pyo.Constraint(
        m.R, m.T, rule=lambda m, i, t: m.quota[i, t] <= float(cap[i, t]) + over[i, t]
    )
    m.rep_floor = pyo.Constraint(
        m.R, m.T, rule=lambda m, i, t: m.quota[i, t] >= float(floor[i, t]) - under[i, t]
    )


def declare_company_total(m, total: float, elastic: bool) -> None:
    body = pyo.quicksum(m.quota[i, t] for i in m.R for t in m.T)
    if elastic:
        short = _slack(m, "target_shortfall", (), TARGET_PENALTY)
        excess = _slack(m, "target_excess", (), TARGET_PENALTY)
        m.company_total = pyo.Constraint(expr=body + short - excess == total)
    else:
        m.company_total = pyo.Constraint(expr=body == total)


def declare_stretch(m, base: np.ndarray, cells: np.ndarray) -> None:
    m.max_stretch = pyo.Var(domain=pyo.NonNegativeReals)
    idx = [(int(i), int(t)) for i, t in zip(*np.nonzero(cells), strict=True)]
    m.stretch_index = pyo.Set(initialize=idx, dimen=2)
    m.rep_stretch = pyo.Constraint(
        m.stretch_index, rule=lambda m, i, t: m.quota[i, t] <= m.max_stretch * float(base[i, t])
    )


def declare_phasing(m, low: np.ndarray, high: np.ndarray, elastic: bool) -> None:
    """Each quarter's company total within [low, high] (rows only where a band applies)."""
    m.phased = pyo.Set(initialize=[t for t in m.T if np.isfinite(low[t])])
    if elastic:
        over = _slack(m, "phasing_excess", (m.phased,))
        under = _slack(m, "phasing_shortfall", (m.phased,))
    col = lambda m, t: pyo.quicksum(m.quota[i, t] for i in m.R)  # noqa: E731
    m.phasing_high = pyo.Constraint(
        m.phased, rule=lambda m, t: col(m, t) <= float(high[t]) + (over[t] if elastic else 0)
    )
    m.phasing_low = pyo.Constraint(
        m.phased, rule=lambda m, t: col(m, t) >= float(low[t]) - (under[t] if elastic else 0)
    )


def _annual(m, i):
    return pyo.quicksum(m.quota[i, t] for t in m.T)


#: Annual limit -> (side, name of its slack in the elastic model).
_ANNUAL_ROWS = {
    "ratchet": ("high", "ratchet_excess"),
    "growth_floor": ("low", "growth_shortfall"),
    "ote_high": ("high", "ote_excess"),
    "ote_low": ("low", "ote_shortfall"),
}


def declare_annual_limits(m, limits: dict[str, np.ndarray], elastic: bool) -> None:
    """Rows ``annual <= bound`` / ``>= bound`` for each annual limit where it applies."""
    for name, (side, slack) in _ANNUAL_ROWS.items():
        bound = limits[name]
        reps = pyo.Set(initialize=[i for i in m.R if np.isfinite(bound[i])])
        m.add_component(f"{name}_reps", reps)
        s = _slack(m, slack, (reps,)) if elastic else None

        def rule(m, i, bound=bound, side=side, s=s):
            extra = s[i] if s is not None else 0
            if side == "high":
                return _annual(m, i) <= float(bound[i]) + extra
            return _annual(m, i) >= float(bound[i]) - extra

        m.add_component(name, pyo.Constraint(reps, rule=rule))


def declare_group_targets(m, data: PlanData, limits: Limits, elastic: bool) -> None:
    targets = group_targets(data, limits)
    m.groups = pyo.Set(initialize=range(len(targets)))
    if elastic:
        short = _slack(m, "group_shortfall", (m.groups,), TARGET_PENALTY)
        excess = _slack(m, "group_excess", (m.groups,), TARGET_PENALTY)
    m.group_target = pyo.Constraint(
        m.groups,
        rule=lambda m, g: (
            pyo.quicksum(m.quota[int(i), t] for i in targets[g][1] for t in m.T)
            + ((short[g] - excess[g]) if elastic else 0)
            == float(targets[g][2])
        ),
    )
    m.group_names = [name for name, _, _ in targets]


def declare_annual_locks(m, data: PlanData, limits: Limits) -> None:
    annual = annual_locks(data, limits)
    m.annual_lock = pyo.Constraint(m.locked_reps, rule=lambda m, i: _annual(m, i) == annual[i])


def declare_smoothness(m, share: float) -> None:
    steps = [(i, t) for i in m.R for t in m.T if t > 0]
    m.steps = pyo.Set(initialize=steps, dimen=2)
    n_t = len(m.T)
    m.smooth_up = pyo.Constraint(
        m.steps,
        rule=lambda m, i, t: m.quota[i, t] - m.quota[i, t - 1] <= share / n_t * _annual(m, i),
    )
    m.smooth_down = pyo.Constraint(
        m.steps,
        rule=lambda m, i, t: m.quota[i, t - 1] - m.quota[i, t] <= share / n_t * _annual(m, i),
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

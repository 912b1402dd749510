"""The optimising policies, each in two stages: the common level, then the closest plan.

``equal-stretch``: the lowest common stretch s (every quota <= s x P50), then, at that level,
the plan closest to proportional: minimise sum(quota^2 / P50), which with the total fixed is the
squared deviation from proportional weighted by 1 / P50, and spreads stretch as evenly as the
limits allow.

``equal-probability``: the lowest common quantile level alpha (so the highest common chance
1 - alpha of attaining) at which the number fits, then the plan closest to each rep's
alpha-quantile, sum((quota - Q(alpha))^2 / P50).

Both second stages are strictly convex, so a plan is unique: relabelling the reps relabels
their quotas, and equal reps get equal quotas.

Two routes reach the same optimum. Without smoothness, and with team/region targets that nest,
the limits are a flow network (``optimizer.network``): the level by an exact feasibility test and bisection, the
plan by water-filling, certified by its duality gap. Otherwise (or if the certificate fails)
the general Pyomo model is solved by HiGHS: a linear program for the level, a quadratic
program for the plan.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from .inputs import PlanData
from .model import build_plan_model, declare_closeness, quota_values, set_upper
from .network import closest, lowest_level, network_excess, plan_groups, plan_network
from .ranges import bounds, level_cells
from .spec import Limits, PlanSpec


def fast_route(data: PlanData, limits: Limits) -> bool:
    """Whether the plan's limits form a flow network: no smoothness, and team/region targets (if
    any) nest, every two groups disjoint or one inside the other."""
    return limits.smoothness is None and plan_groups(data, limits) is not None


def weights(data: PlanData) -> np.ndarray:
    """The second stage's weights: P50, and a tiny weight where P50 is 0 (such quotas stay at
    their floor unless nothing else can take the number)."""
    p50 = data.p50
    pos = p50 > 0
    return np.where(pos, p50, 1e-6 * (p50[pos].mean() if pos.any() else 1.0))


class Infeasible(Exception):
    """The policy cannot place the number within the limits (the caller diagnoses)."""


class NotCertified(Exception):
    """The second stage did not reach a certified optimum (the caller says so)."""


def _clock(timings: dict, key: str, t0: float) -> None:
    timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0


def equal_stretch(
    data: PlanData, spec: PlanSpec, total: float, timings: dict, solve, route=None, min_level=None
):
    """Quotas (money) and the policy's figures; ``solve(model)`` runs HiGHS on a Pyomo model.
    ``min_level``: the stretch level never goes below this (a re-plan keeps its plan's level).

    The level s is common to every cell it can reach: a cell whose floor is above s x P50 is
    held at its floor (reported as held above the level), so one rep's high floor does not
    lift everyone's stretch."""
    route = route or ("network" if fast_route(data, spec.limits) else "pyomo")
    cells = level_cells(data, spec.limits)
    p50 = data.p50

    def level(tot: float, start: float = 0.0, rtol: float = 1e-11) -> float | None:
        floor, cap = bounds(data, spec.limits, tot)
        with np.errstate(divide="ignore", invalid="ignore"):
            hi = float(np.max(np.where(cells, cap / p50, 0.0), initial=0.0))

        def upper_at(s: float) -> np.ndarray:
            return np.where(cells, np.maximum(np.minimum(cap, s * p50), floor), cap)

        return _lowest(data, spec.limits, tot, upper_at, start, hi, rtol, timings, solve, route)

    s_star = level(total)
    if s_star is None:
        raise Infeasible
    s_star = max(s_star, min_level or 0.0)
    floor, cap = bounds(data, spec.limits, total)
    upper = np.where(cells, np.maximum(np.minimum(cap, s_star * (1 + 1e-9) * p50), floor), cap)
    quota, second = _closest(data, spec, total, upper, np.zeros_like(p50), timings, solve, route)
    # A larger number never lowers the level, so the search starts at s*; a marginal cost
    # needs no more than 7 digits.
    up = level(total * 1.01, start=s_star, rtol=1e-7)
    up = max(up, min_level or 0.0) if up is not None else None
    info = {
        "objective": {"max_stretch": s_star, "squared_deviation": second["objective"]},
        "marginal": {
            "max_stretch_at_plus_1pct": up if up is not None else float("nan"),
            "max_stretch_per_1pct_more": (up - s_star) if up is not None else float("nan"),
            "dual_company_total": second["company_dual"],
        },
        **second["status"],
    }
    return quota, info


def _lowest(data, limits, total, upper_at, start, hi, rtol, timings, solve, route):
    """The lowest level in [start, hi] at which the plan with cell upper bounds ``upper_at``
    is feasible: the network's exact excess on the fast route, HiGHS's yes or no on the
    general model (one model, its bounds moved between solves)."""
    t0 = time.perf_counter()
    if route == "network":
        excess = network_excess(data, limits, total)
        out = lowest_level(lambda s: excess(upper_at(s)), start, hi, rtol)
        _clock(timings, "level_s", t0)
        return out
    m = build_plan_model(data, limits, total)
    m.objective = pyo.Objective(expr=0.0)
    _clock(timings, "build_s", t0)

    def excess_at(s):  # HiGHS says only yes or no: bisection
        set_upper(m, upper_at(s))
        return 0.0 if solve(m, "level_s")[0] else 1.0

    return lowest_level(excess_at, start, hi, max(rtol, 1e-9))


def equal_probability(
    data: PlanData, spec: PlanSpec, total: float, timings: dict, solve, route=None, min_level=None
):
    """The lowest common quantile level alpha at which the number fits (bisection; feasibility
    by the network test or by HiGHS), then the plan closest to each rep's alpha-quantile.
    ``min_level``: alpha never goes below this (a re-plan keeps its plan's level)."""
    route = route or ("network" if fast_route(data, spec.limits) else "pyomo")
    lim = spec.limits
    cells = level_cells(data, lim)

    def level(tot: float, start: float, rtol: float = 1e-9) -> float | None:
        floor, cap = bounds(data, lim, tot)

        def upper_at(alpha: float) -> np.ndarray:
            return np.where(cells, np.maximum(np.minimum(cap, data.quantile(alpha)), floor), cap)

        return _lowest(
            data, lim, tot, upper_at, start, lim.cap_quantile, rtol, timings, solve, route
        )

    alpha = level(total, LOWEST_QUANTILE)
    if alpha is None:
        raise Infeasible
    alpha = max(alpha, min_level or 0.0)
    floor, cap = bounds(data, lim, total)
    reference = data.quantile(alpha)
    upper = np.where(cells, np.maximum(np.minimum(cap, reference), floor), cap)
    quota, second = _closest(data, spec, total, upper, reference, timings, solve, route)
    up = level(total * 1.01, start=alpha, rtol=1e-7)
    up = max(up, min_level or 0.0) if up is not None else None
    info = {
        "objective": {
            "common_level": alpha,
            "common_chance": 1 - alpha,
            "squared_deviation": second["objective"],
        },
        "marginal": {
            "common_level_at_plus_1pct": up if up is not None else float("nan"),
            # The change in the common chance (negative: a higher number lowers it).
            "common_chance_per_1pct_more": (alpha - up) if up is not None else float("nan"),
            "dual_company_total": second["company_dual"],
        },
        **second["status"],
    }
    return quota, info


#: The lowest quantile level the equal-probability search starts from.
LOWEST_QUANTILE = 0.005


def _closest(data, spec, total, upper, reference, timings, solve, route):
    """The second stage: the plan within ``upper`` (money) closest to ``reference``."""
    w = weights(data)
    if route == "network":
        t0 = time.perf_counter()
        net, unit = plan_network(data, spec.limits, total)
        c = closest(replace(net, upper=upper / unit), reference / unit, w / unit)
        _clock(timings, "plan_s", t0)
        if c.certified:
            return c.quota * unit, {
                "objective": c.objective * unit,
                "company_dual": c.company_dual,
                "status": {
                    "solver_status": "optimal",
                    "route": "network (exact level search, water-filling)",
                    "certificate": {"duality_gap": c.gap, "max_residual": c.residual},
                },
            }
        # Not certified (numerical trouble): the general model decides.
    t0 = time.perf_counter()
    m = build_plan_model(data, spec.limits, total)
    set_upper(m, upper)
    declare_closeness(m, reference, w)
    _clock(timings, "build_s", t0)
    ok, res = solve(m, "plan_s")
    if not ok:
        # At the level's knife-edge HiGHS's QP can stall on a degenerate face: a hair of room
        # above the level (1e-7 of each bound) gives it an interior to work in.
        set_upper(m, upper * (1 + 1e-7) + 1e-9 * float(np.max(upper, initial=1.0)))
        ok, res = solve(m, "plan_s")
    if not ok:  # pragma: no cover - the level search proved it feasible
        raise NotCertified("the second stage did not reach an optimum at the level found")
    dual = res.solution_loader.get_duals([m.company_total])[m.company_total]
    return quota_values(m, data.p50.shape), {
        "objective": pyo.value(m.closeness) * m.unit,
        "company_dual": abs(float(dual)),
        "status": {"solver_status": "optimal", "route": "pyomo + HiGHS (LP level, QP plan)"},
    }

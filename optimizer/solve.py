"""Solving a plan: policy objectives, HiGHS in memory, the diagnosis of impossible plans."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from .explain import attain_probability, binding_limits, rep_binding
from .inputs import PlanData, prepare
from .model import bounds, build_plan_model, declare_deviation, quota_values, set_upper
from .spec import LP_POLICIES, PlanSpec


class PlanInfeasibleError(ValueError):
    """The number cannot be met within the limits; ``diagnosis`` says which limit and by how much."""

    def __init__(self, diagnosis: list[dict]):
        self.diagnosis = diagnosis
        lines = ["the plan is impossible within its limits:"] + [
            f"  - {d['message']}" for d in diagnosis
        ]
        super().__init__("\n".join(lines))


class SolverLimitError(RuntimeError):
    """HiGHS stopped (time limit) before proving the plan optimal."""


@dataclass(frozen=True)
class Plan:
    """A solved plan.

    Attributes
    ----------
    quotas : per rep and quarter: ``quota``, ``p50``, ``stretch`` (quota / P50),
        ``p_attain`` (chance of reaching the quota under the forecast), ``binding``.
    reps : per rep: annual quota, P50, stretch, chance of attaining, binding limit, last year's
        quota and the change, quota-to-OTE, and limits the quota breaks (rule-of-thumb policies).
    summary : company number, total quota, over-assignment, expected share of reps attaining,
        policy, solver status, objective, timings and the marginal cost of the number.
    """

    quotas: pd.DataFrame
    reps: pd.DataFrame
    summary: dict


def _solve(m: pyo.ConcreteModel, time_limit: float | None) -> tuple[object, bool, float]:
    """HiGHS through Pyomo's in-memory interface (no files). Returns results, optimal?, seconds."""
    kwargs = {"load_solutions": False, "raise_exception_on_nonoptimal_result": False}
    if time_limit:
        kwargs["time_limit"] = time_limit
    t0 = time.perf_counter()
    res = SolverFactory("highs").solve(m, **kwargs)
    elapsed = time.perf_counter() - t0
    tc = res.termination_condition
    if tc == TerminationCondition.maxTimeLimit:
        raise SolverLimitError(
            f"HiGHS hit the time limit ({time_limit} s) before an optimal plan; raise the limit or plan fewer reps at once"
        )
    optimal = tc == TerminationCondition.convergenceCriteriaSatisfied
    if optimal:
        res.solution_loader.load_vars()
    return res, optimal, elapsed


def solve_plan(spec: PlanSpec, *, time_limit: float | None = None) -> Plan:
    """Build, solve and explain the plan a :class:`PlanSpec` asks for.

    Raises
    ------
    datasets.DataValidationError : the forecast or roster is unusable.
    PlanInfeasibleError : the number cannot be met within the limits (with the diagnosis).
    SolverLimitError : the solver ran out of time.
    """
    data = prepare(spec)
    total = spec.total
    timings = {"build_s": 0.0, "solve_s": 0.0}
    info: dict = {
        "solver_status": "not needed (rule of thumb)",
        "objective": None,
        "marginal": None,
    }
    if spec.policy == "equal-stretch":
        quota, info = _equal_stretch(data, spec, total, timings, time_limit)
    elif spec.policy == "equal-probability":
        quota, info = _equal_probability(data, spec, total, timings, time_limit)
    else:
        quota = rule_of_thumb(data, spec.policy, total)
    return explain(data, spec, quota, info, timings)


def _stage(data, spec, total, timings, **build):
    t0 = time.perf_counter()
    m = build_plan_model(data, spec.limits, total, **build)
    timings["build_s"] += time.perf_counter() - t0
    return m


def _equal_stretch(data: PlanData, spec: PlanSpec, total: float, timings: dict, time_limit):
    p50 = data.p50
    m = _stage(data, spec, total, timings, stretch_base=p50)
    m.objective = pyo.Objective(expr=m.max_stretch)
    res, ok, dt = _solve(m, time_limit)
    timings["solve_s"] += dt
    if not ok:
        raise PlanInfeasibleError(diagnose(data, spec, total, time_limit))
    s_star = pyo.value(m.max_stretch)
    dual = res.solution_loader.get_duals([m.company_total])[m.company_total]
    # Stage 2: at the lowest common stretch, stay as close as possible to proportional.
    m.max_stretch.setub(s_star * (1 + 1e-9) + 1e-12)
    m.objective.deactivate()
    proportional = (
        total * p50 / p50.sum() if p50.sum() > 0 else np.full(p50.shape, total / p50.size)
    )
    declare_deviation(m, proportional)
    res, ok, dt = _solve(m, time_limit)
    timings["solve_s"] += dt
    if not ok:  # pragma: no cover - stage 1 proved it feasible
        raise SolverLimitError(
            f"the second stage did not reach an optimum; the first found max stretch {s_star:.4f}"
        )
    quota = quota_values(m, p50.shape)
    # The marginal cost of the number: the stage-1 optimum re-solved at +1%. The dual of the
    # company-total row is reported too, but a min-max LP is degenerate and its dual at the
    # optimal vertex can be one-sided (0 while the stretch does rise with the number).
    m1 = _stage(data, spec, total * 1.01, timings, stretch_base=p50)
    m1.objective = pyo.Objective(expr=m1.max_stretch)
    _, ok1, dt = _solve(m1, time_limit)
    timings["solve_s"] += dt
    up = pyo.value(m1.max_stretch) if ok1 else float("nan")
    info = {
        "solver_status": "optimal",
        "objective": {
            "max_stretch": s_star,
            "deviation_from_proportional": pyo.value(m.total_deviation) * m.unit,
        },
        "marginal": {
            "max_stretch_at_plus_1pct": up,
            "max_stretch_per_1pct_more": up - s_star,
            "dual_company_total": dual / m.unit,
        },
    }
    return quota, info


def _equal_probability(data: PlanData, spec: PlanSpec, total: float, timings: dict, time_limit):
    """The lowest common quantile level alpha (so the highest common chance 1 - alpha of
    attaining) at which the number fits, by bisection on alpha; then quotas as close to each rep's
    alpha-quantile as the limits allow."""
    lo = 0.5 * spec.limits.floor_quantile if spec.limits.floor_quantile else 0.01
    hi = spec.limits.cap_quantile

    m = _stage(data, spec, total, timings)
    m.objective = pyo.Objective(expr=0.0)

    def feasible(alpha: float):
        set_upper(m, data.quantile(alpha))
        _, ok, dt = _solve(m, time_limit)
        timings["solve_s"] += dt
        return ok

    if not feasible(hi):
        raise PlanInfeasibleError(diagnose(data, spec, total, time_limit))
    if feasible(lo):
        hi = lo
    for _ in range(30):
        if hi - lo < 1e-6:
            break
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if feasible(mid) else (mid, hi)
    alpha = hi
    reference = data.quantile(alpha)
    set_upper(m, reference)
    m.objective.deactivate()
    declare_deviation(m, reference)
    _, ok, dt = _solve(m, time_limit)
    timings["solve_s"] += dt
    info = {
        "solver_status": "optimal",
        "objective": {
            "common_level": alpha,
            "common_chance": 1 - alpha,
            "deviation": pyo.value(m.total_deviation) * m.unit,
        },
        "marginal": None,
    }
    return quota_values(m, reference.shape), info


def rule_of_thumb(data: PlanData, policy: str, total: float) -> np.ndarray:
    """The usual ways of setting quotas, for comparison; limits are not applied, only reported."""
    p50 = data.p50
    shares = (
        p50.sum(axis=0) / p50.sum() if p50.sum() > 0 else np.full(p50.shape[1], 1 / p50.shape[1])
    )
    if policy == "forecast-proportional":
        return total * p50 / p50.sum()
    if policy == "equal-split":
        annual = np.full(len(data.reps), total / len(data.reps))
    elif policy == "last-year-plus-growth":
        # Last year's quota where known, else this year's P50; all raised by one growth rate.
        annual = np.where(np.isfinite(data.last_year_quota), data.last_year_quota, p50.sum(axis=1))
        annual = annual * total / annual.sum()
    else:
        raise ValueError(f"unknown policy {policy!r}")
    return annual[:, None] * shares[None, :]


FAMILIES = {
    "cap_excess": (
        "cap",
        "the number exceeds realistic capacity by {pct} ({amount}): the reps' P{cap} caps add up to {capacity}; raise the cap quantile, add capacity (hires), or lower the target",
    ),
    "floor_shortfall": (
        "floor",
        "the floors (P{floor}) add up to more than the number leaves room for, by {pct} ({amount}); lower the floor quantile or raise the target",
    ),
    "phasing_excess": (
        "phasing",
        "the quarterly phasing band (+/-{band}) cannot hold: {where} need(s) {amount} more than the band allows; widen the band",
    ),
    "phasing_shortfall": (
        "phasing",
        "the quarterly phasing band (+/-{band}) cannot hold: {where} fall(s) {amount} short of the band; widen the band",
    ),
    "ratchet_excess": (
        "ratchet",
        "the anti-ratchet limit (at most +{max_inc} on last year's quota) holds back {amount} ({pct}) across {n} rep(s); allow a larger increase or lower the target",
    ),
    "growth_shortfall": (
        "growth-floor",
        "the minimum growth on last year's quota ({min_inc}) forces {amount} ({pct}) more than fits across {n} rep(s); lower the minimum",
    ),
    "ote_excess": (
        "ote",
        "the quota-to-OTE band caps {n} rep(s) {amount} ({pct}) below what the number needs; raise the upper multiple or lower the target",
    ),
    "ote_shortfall": (
        "ote",
        "the quota-to-OTE band's lower multiple needs {amount} ({pct}) more than fits across {n} rep(s); lower it",
    ),
    "group_shortfall": (
        "team",
        "{where}: target out of reach by {amount}; lower it or move capacity",
    ),
    "group_excess": ("team", "{where}: target below what its limits force by {amount}; raise it"),
    "target_shortfall": (
        "lock",
        "locked quotas and limits leave the number {amount} ({pct}) short; unlock or lower locked quotas",
    ),
    "target_excess": (
        "lock",
        "locked quotas alone exceed the number by {amount} ({pct}); lower them or raise the target",
    ),
}


def diagnose(data: PlanData, spec: PlanSpec, total: float, time_limit=None) -> list[dict]:
    """The smallest relaxation that makes the plan possible, limit family by limit family.

    Solves the elastic model (every limit with a penalised slack; missing the number costs
    ten times more) and reports each family whose slack is used.
    """
    m = build_plan_model(data, spec.limits, total, elastic=True)
    m.objective = pyo.Objective(expr=m.slack_cost)
    _, ok, _ = _solve(m, time_limit)
    if not ok:
        return [
            {
                "limit": "lock",
                "amount": float("nan"),
                "message": "locked quotas contradict each other (an annual lock against its quarterly locks?); review the locks",
            }
        ]
    out = []
    lim = spec.limits
    for name, (limit, template) in FAMILIES.items():
        var = getattr(m, name, None)
        if var is None:
            continue
        used = {
            k: v.value * m.unit
            for k, v in (var.items() if var.is_indexed() else [(None, var)])
            if v.value and v.value * m.unit > 1e-6 * total
        }
        if not used:
            continue
        amount = float(sum(used.values()))
        where = ""
        if name.startswith("phasing"):
            where = ", ".join(str(data.periods[k]) for k in used)
        elif name.startswith("group"):
            where = ", ".join(f"{m.group_names[k][0]} {m.group_names[k][1]}" for k in used)
        message = template.format(
            pct=f"{amount / spec.target:.2%}"
            if amount / spec.target < 0.01
            else f"{amount / spec.target:.1%}",
            capacity=money(float(bounds(data, lim)[1].sum())),
            amount=money(amount),
            n=len(used),
            cap=f"{lim.cap_quantile * 100:g}",
            floor=f"{(lim.floor_quantile or 0) * 100:g}",
            band=f"{(lim.phasing_band or 0):.0%}",
            max_inc=f"{(lim.max_increase or 0):.0%}",
            min_inc=f"{(lim.min_increase or 0):+.0%}",
            where=where,
        )
        out.append(
            {
                "limit": limit,
                "slack": name,
                "amount": amount,
                "share_of_target": amount / spec.target,
                "message": message,
            }
        )
    if lim.locks and out:
        taken = sum(lim.locks.values())
        out.append(
            {
                "limit": "lock",
                "slack": None,
                "amount": taken,
                "share_of_target": taken / spec.target,
                "message": f"{len(lim.locks)} locked quota(s) take {money(taken)} ({taken / spec.total:.1%} of the quotas to assign); the rest must fit the other reps' limits",
            }
        )
    if not out:  # pragma: no cover - the strict model was infeasible, so some slack is used
        out.append(
            {
                "limit": "unknown",
                "amount": float("nan"),
                "message": "infeasible, but the elastic model needs no relaxation (numerical trouble)",
            }
        )
    return out


def money(x: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:,.2f}{unit}"
    return f"{x:,.0f}"


def explain(data: PlanData, spec: PlanSpec, quota: np.ndarray, info: dict, timings: dict) -> Plan:
    """The plan tables: per rep-quarter and per rep figures, and the summary."""
    limits, total = spec.limits, spec.total
    n, T = quota.shape
    quota = np.where(np.abs(quota) < 1e-9 * total, 0.0, quota)
    p50 = data.p50
    with np.errstate(divide="ignore", invalid="ignore"):
        stretch = np.where(p50 > 0, quota / p50, np.nan)
    p_q = attain_probability(quota, data.levels, data.quantiles)
    binding = (
        binding_limits(quota, data, limits, total)
        if spec.policy in LP_POLICIES
        else np.full((n, T), "none", dtype=object)
    )
    quotas = pd.DataFrame(
        {
            "rep_id": np.repeat(data.reps, T),
            "period": np.tile(data.periods, n),
            "quota": quota.ravel(),
            "p50": p50.ravel(),
            "stretch": stretch.ravel(),
            "p_attain": p_q.ravel(),
            "binding": binding.ravel(),
        }
    )
    annual = quota.sum(axis=1)
    annual_q = data.quantiles.sum(axis=1)  # comonotone quarters: the annual quantiles add up
    p_a = attain_probability(annual, data.levels, annual_q)
    lyq = data.last_year_quota
    floor, cap = bounds(data, limits)
    violations = _violations(quota, floor, cap, data, limits)
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = pd.DataFrame(
            {
                "rep_id": data.reps,
                "team": data.team,
                "region": data.region,
                "annual_quota": annual,
                "annual_p50": p50.sum(axis=1),
                "stretch": np.where(p50.sum(axis=1) > 0, annual / p50.sum(axis=1), np.nan),
                "p_attain": p_a,
                "binding": rep_binding(binding),
                "last_year_quota": lyq,
                "change_vs_last_year": annual / lyq - 1,
                "quota_to_ote": annual / data.ote,
                "violations": violations,
            }
        )
    planned = annual > 0
    summary = {
        "policy": spec.policy,
        "company_target": spec.target,
        "over_assignment": limits.over_assignment,
        "total_quota": float(quota.sum()),
        "reps": n,
        "expected_share_attaining": float(p_a[planned].mean()) if planned.any() else float("nan"),
        "max_stretch": float(np.nanmax(stretch)) if np.isfinite(stretch).any() else float("nan"),
        "reps_over_cap": int(np.any(quota > cap * (1 + 1e-6) + 1e-6, axis=1).sum()),
        **info,
        **timings,
    }
    return Plan(quotas, reps, summary)


def _violations(quota, floor, cap, data, limits) -> np.ndarray:
    tol = 1e-6
    annual = quota.sum(axis=1)
    out = []
    for i in range(len(quota)):
        v = []
        if (quota[i] > cap[i] * (1 + tol) + tol).any():
            v.append("cap")
        if (quota[i] < floor[i] * (1 - tol) - tol).any():
            v.append("floor")
        lyq = data.last_year_quota[i]
        if (
            limits.max_increase is not None
            and np.isfinite(lyq)
            and annual[i] > lyq * (1 + limits.max_increase) * (1 + tol) + tol
        ):
            v.append("ratchet")
        out.append(",".join(v))
    return np.array(out, dtype=object)

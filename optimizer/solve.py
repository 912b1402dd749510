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
from .model import build_plan_model
from .policies import Infeasible, NotCertified, equal_probability, equal_stretch, fast_route
from .ranges import bounds
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

    def table(self) -> pd.DataFrame:
        """The plan as one table: a row per rep and quarter, with the rep's annual figures."""
        reps = self.reps.rename(
            columns={
                "stretch": "annual_stretch",
                "p_attain": "annual_p_attain",
                "binding": "rep_binding",
                "basis": "rep_basis",
            }
        )
        return self.quotas.merge(reps, on="rep_id", how="left")


#: Tighter than HiGHS's defaults (1e-7; models are in units of the average quarter), so a level
#: the general model accepts is feasible to the same precision as the fast route's.
TIGHT = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
#: HiGHS's defaults, set explicitly (a persistent solver keeps the options of its last solve).
DEFAULT = {"primal_feasibility_tolerance": 1e-7, "dual_feasibility_tolerance": 1e-7}


def _solve(
    m: pyo.ConcreteModel, time_limit: float | None, solver=None
) -> tuple[object, bool, float, float]:
    """HiGHS through Pyomo's in-memory interface (no files). Pass the same ``solver`` for
    repeated solves of one model: the interface is persistent and then only sends the changes
    (a bisection that moves bounds is not re-translated each step).

    Solves at tight tolerances, and again at HiGHS's defaults if it reports a numerical error
    there. Returns the results, whether optimal, the wall time and HiGHS's own share of it (the
    rest is Pyomo's translation of the model).
    """
    wall = highs = 0.0
    solver = solver or SolverFactory("highs")
    for options in (TIGHT, DEFAULT):
        kwargs = {
            "load_solutions": False,
            "raise_exception_on_nonoptimal_result": False,
            "solver_options": options,
        }
        if time_limit:
            kwargs["time_limit"] = time_limit
        t0 = time.perf_counter()
        res = solver.solve(m, **kwargs)
        elapsed = time.perf_counter() - t0
        wall += elapsed
        highs += min(float(getattr(res.timing_info, "highs_time", None) or elapsed), elapsed)
        tc = res.termination_condition
        if tc != TerminationCondition.error:
            break
    if tc == TerminationCondition.maxTimeLimit:
        raise SolverLimitError(
            f"HiGHS hit the time limit ({time_limit} s) before an optimal plan; raise the limit or plan fewer reps at once"
        )
    optimal = tc == TerminationCondition.convergenceCriteriaSatisfied
    if optimal:
        res.solution_loader.load_vars()
    return res, optimal, wall, highs


def solve_plan(
    spec: PlanSpec,
    *,
    time_limit: float | None = None,
    route: str | None = None,
    min_level: float | None = None,
) -> Plan:
    """Build, solve and explain the plan a :class:`PlanSpec` asks for.

    ``route`` forces "network" (the fast route; only without smoothness, and with team/region
    targets that nest) or "pyomo" (the general model solved by HiGHS); by default the fastest that
    applies. ``min_level`` keeps the policy's common level (stretch, or quantile level) at or
    above this: a re-plan passes its plan's level (see ``optimizer.replan``).

    Raises
    ------
    datasets.DataValidationError : the forecast or roster is unusable.
    PlanInfeasibleError : the number cannot be met within the limits (with the diagnosis), or
        no number gives the attainment the spec asks for.
    SolverLimitError : the solver ran out of time.
    """
    if spec.attainment is not None:
        from .attainment import plan_for_attainment

        return plan_for_attainment(
            spec, lambda s: solve_plan(s, time_limit=time_limit, route=route, min_level=min_level)
        )
    if route not in (None, "network", "pyomo"):
        raise ValueError(f"route must be 'network' or 'pyomo', got {route!r}")
    t0 = time.perf_counter()
    data = prepare(spec)
    if route == "network" and not fast_route(data, spec.limits):
        raise ValueError(
            "the network route cannot take smoothness or team/region targets that overlap "
            "without nesting"
        )
    total = spec.total
    timings = {"prepare_s": time.perf_counter() - t0}

    solvers: dict[int, tuple] = {}  # one persistent HiGHS per model (keeps the model alive)

    def solve(m, key):
        _, solver = solvers.setdefault(id(m), (m, SolverFactory("highs")))
        res, ok, wall, highs = _solve(m, time_limit, solver)
        timings[key] = timings.get(key, 0.0) + highs
        timings["translation_s"] = timings.get("translation_s", 0.0) + wall - highs
        return ok, res

    info: dict = {
        "solver_status": "not needed (rule of thumb)",
        "objective": None,
        "marginal": None,
    }
    policy = {"equal-stretch": equal_stretch, "equal-probability": equal_probability}
    if spec.policy in policy:
        run = policy[spec.policy]
        try:
            quota, info = run(data, spec, total, timings, solve, route, min_level)
        except Infeasible:
            raise PlanInfeasibleError(diagnose(data, spec, total, time_limit)) from None
        except NotCertified as e:  # pragma: no cover - the level search proved it feasible
            raise SolverLimitError(str(e)) from None
    else:
        quota = rule_of_thumb(data, spec.policy, total)
    plan = explain(data, spec, quota, info, timings)
    plan.summary["total_s"] = time.perf_counter() - t0
    return plan


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
    _, ok, _, _ = _solve(m, time_limit)
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
    if not out:  # the strict test was infeasible by rounding only
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
    closed = data.closed
    p_q = attain_probability(quota, data.levels, data.quantiles)
    p_q[:, closed] = 1.0  # a closed quarter's quota is what the rep sold
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
            **({"basis": data.basis.ravel()} if data.basis is not None else {}),
        }
    )
    annual = quota.sum(axis=1)
    # Comonotone quarters: the annual quantiles add up; closed quarters add their actuals.
    annual_q = data.quantiles[:, ~closed].sum(axis=1) + data.actual_to_date[:, None]
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
                # The year's forecast band: its lowest and highest quantiles (levels in summary).
                "annual_low": annual_q[:, 0],
                "annual_high": annual_q[:, -1],
                "stretch": np.where(p50.sum(axis=1) > 0, annual / p50.sum(axis=1), np.nan),
                "p_attain": p_a,
                "binding": rep_binding(binding),
                "last_year_quota": lyq,
                "change_vs_last_year": annual / lyq - 1,
                "quota_to_ote": annual / data.ote,
                "violations": violations,
                "basis": data.rep_basis(),
            }
        )
    planned = annual > 0
    summary = {
        "policy": spec.policy,
        "fiscal_year_start": spec.fiscal_year_start,
        "company_target": spec.target,
        "over_assignment": limits.over_assignment,
        "total_quota": float(quota.sum()),
        "reps": n,
        "band_levels": [float(data.levels[0]), float(data.levels[-1])],
        "expected_share_attaining": float(p_a[planned].mean()) if planned.any() else float("nan"),
        "max_stretch": float(np.nanmax(stretch[:, ~closed]))
        if np.isfinite(stretch[:, ~closed]).any()
        else float("nan"),
        "reps_over_cap": int(np.any(quota > cap * (1 + 1e-6) + 1e-6, axis=1).sum()),
        **info,
        **timings,
    }
    if closed.any():
        summary["closed_quarters"] = [str(p) for p in data.periods[closed]]
        summary["actual_to_date"] = float(data.actual_to_date.sum())
        summary["remaining_quota"] = float(quota[:, ~closed].sum())
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

"""Solving a plan: the policy's two stages on the fast route or HiGHS, and the plan's tables."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC

from .diagnose import diagnose
from .errors import PlanInfeasibleError, SolverLimitError
from .explain import attain_probability, binding_limits, rep_binding
from .highs import Solver
from .inputs import PlanData, prepare
from .policies import Infeasible, NotCertified, equal_probability, equal_stretch, fast_route
from .ranges import level_cells, rep_limits
from .results import (
    CommonLevel,
    HeldAbove,
    LimitGaveWay,
    Objective,
    Plan,
    PlanSummary,
    Solved,
    SolverRecord,
    SolveStatus,
    StageRecord,
)
from .spec import LP_POLICIES, PlanSpec
from .wording import money


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
    above this: a re-plan passes its plan's level (see ``optimizer.replanning``).

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

    # One HiGHS for the level LPs (the marginal cost's goes on from the level's basis), one for
    # the plan's QP, one for the feasibility checks; what each stage ran is recorded for the
    # summary.
    solvers = {"level": Solver(time_limit), "plan": Solver(time_limit), "check": Solver(time_limit)}
    stages: dict[str, dict] = {}

    def solve(m, stage, algorithm, point=None, **options):
        """HiGHS on ``m`` for ``stage``; with ``point`` (variables, values), that point is
        checked against the model's rows instead (``Solver.verify``)."""
        which = "plan" if stage == "plan" else "check" if stage.endswith("check") else "level"
        if point is not None:
            res = solvers[which].verify(m, algorithm, point)
        else:
            res = solvers[which].solve(m, algorithm, **options)
        key = "plan_s" if stage == "plan" else "level_s"
        timings[key] = timings.get(key, 0.0) + res.highs_s
        timings["translation_s"] = timings.get("translation_s", 0.0) + res.translation_s
        _record(stages.setdefault(stage, {}), res)
        return res

    solved = None  # a rule of thumb runs no solver
    policy = {"equal-stretch": equal_stretch, "equal-probability": equal_probability}
    if spec.policy in policy:
        run = policy[spec.policy]
        try:
            # Without the cycle collector meanwhile (Pyomo's PauseGC, as its own writers do):
            # building a model makes tens of thousands of objects, and each full collection
            # they set off walks every object the process holds (some 130,000 from the imports
            # alone), 0.05 to 0.1 s each time, more than HiGHS's own time on 1,000 reps. Python
            # collects as usual once the plan is solved.
            with PauseGC():
                quota, solved = run(data, spec, total, timings, solve, route, min_level)
        except Infeasible:
            raise PlanInfeasibleError(
                lambda: diagnose(spec, solve_plan, data, time_limit)
            ) from None
        except NotCertified as e:  # pragma: no cover - the level search proved it feasible
            raise SolverLimitError(str(e)) from None
    else:
        quota = rule_of_thumb(data, spec.policy, total)
    timings["total_s"] = time.perf_counter() - t0
    solver = _solver_summary(stages) if stages else None
    return plan_tables(data, spec, quota, solved, solver, timings)


def _record(stage: dict, res) -> None:
    """Add one HiGHS solve to its stage's record (the keys :meth:`StageRecord.from_dict`
    reads): the algorithms run (how often), the last status, iterations, and the last optimal
    solve's gap and residual."""
    runs = stage.setdefault("algorithms", {})
    runs[res.algorithm] = runs.get(res.algorithm, 0) + 1
    stage["status"] = res.status
    for k, v in res.iterations.items():
        stage.setdefault("iterations", {})[k] = stage.get("iterations", {}).get(k, 0) + v
    if res.optimal:
        stage["duality_gap"] = res.gap
        stage["max_residual"] = res.residual
    if res.note:
        stage["note"] = res.note


def _solver_summary(stages: dict[str, dict]) -> SolverRecord:
    """What HiGHS ran for each stage (``level check``: whether the plan fits at its relaxation's
    level; ``level``: the level LPs at the plan's number, when it does not; ``plan``: the
    closest plan's QP; ``marginal check`` and ``marginal``: the same at the number +1%), and
    why another algorithm ran than the stage asked for, if one did."""
    records = {name: StageRecord.from_dict(stage) for name, stage in stages.items()}
    notes = []
    for why in sorted({r.note for r in records.values() if r.note}):
        ran = {a for r in records.values() if r.note == why for a in r.algorithms}
        notes.append(f"{why}; ran {', '.join(sorted(ran))} instead (slower on large plans)")
    return SolverRecord(records, tuple(notes))


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


def plan_tables(
    data: PlanData,
    spec: PlanSpec,
    quota: np.ndarray,
    solved: Solved | None,
    solver: SolverRecord | None,
    timings: dict,
) -> Plan:
    """The plan tables: per rep-quarter and per rep figures, and the summary. ``solved``: what
    the optimising policy reported (None: a rule of thumb), ``solver``: what HiGHS ran."""
    limits, total = spec.limits, spec.total
    n, T = quota.shape
    quota = np.where(np.abs(quota) < 1e-9 * total, 0.0, quota)
    p50 = data.p50
    with np.errstate(divide="ignore", invalid="ignore"):
        stretch = np.where(p50 > 0, quota / p50, np.nan)
    closed = data.closed
    p_q = attain_probability(quota, data.levels, data.quantiles)
    p_q[:, closed] = 1.0  # a closed quarter's quota is what the rep sold
    optimised = spec.policy in LP_POLICIES
    binding = (
        binding_limits(quota, data, limits, total)
        if optimised
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
    # Comonotone quarters: the annual quantiles add up; closed quarters add their actuals (the
    # year's P50 too: a re-plan's stretch is against what the rep can now be expected to sell).
    annual_q = data.quantiles[:, ~closed].sum(axis=1) + data.actual_to_date[:, None]
    year_p50 = p50[:, ~closed].sum(axis=1) + data.actual_to_date
    p_a = attain_probability(annual, data.levels, annual_q)
    rl = rep_limits(data, limits, total)
    gave = [g for g in rl.gave_way if optimised]
    gave_way = np.full(n, "", dtype=object)
    for g in gave:
        if g.rep is not None:
            note = f"{g.limit} (to {g.to}, {money(g.amount)})"
            gave_way[g.rep] = f"{gave_way[g.rep]}; {note}" if gave_way[g.rep] else note
    ly = data.last_year_quota
    base = np.where(np.isfinite(ly), ly, data.last_year_given)
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = pd.DataFrame(
            {
                "rep_id": data.reps,
                "team": data.team,
                "region": data.region,
                "annual_quota": annual,
                "annual_p50": year_p50,
                # The year's forecast band: its lowest and highest quantiles (levels in summary).
                "annual_low": annual_q[:, 0],
                "annual_high": annual_q[:, -1],
                "stretch": np.where(year_p50 > 0, annual / year_p50, np.nan),
                "p_attain": p_a,
                "binding": rep_binding(binding),
                "gave_way": gave_way,
                "last_year_quota": data.last_year_given,
                # The share of last year that quota covered, and the quota for a full year (on
                # which the growth limits act; blank under a quarter of the year).
                "last_year_share": data.last_year_share,
                "last_year_annualised": ly,
                "change_vs_last_year": annual / base - 1,
                "quota_to_ote": annual / data.ote,
                "violations": _violations(quota, rl),
                "basis": data.rep_basis(),
            }
        )
    planned = annual > 0
    closed_labels = tuple(str(p) for p in data.periods[closed]) if closed.any() else None
    summary = PlanSummary(
        policy=spec.policy,
        fiscal_year_start=spec.fiscal_year_start,
        company_target=spec.target,
        over_assignment=limits.over_assignment,
        total_quota=float(quota.sum()),
        reps=n,
        band_levels=(float(data.levels[0]), float(data.levels[-1])),
        expected_share_attaining=float(p_a[planned].mean()) if planned.any() else float("nan"),
        max_stretch=float(np.nanmax(stretch[:, ~closed]))
        if np.isfinite(stretch[:, ~closed]).any()
        else float("nan"),
        reps_over_cap=int(np.any(quota > rl.cap * (1 + 1e-6) + 1e-6, axis=1).sum()),
        solver_status=SolveStatus.OPTIMAL if solved is not None else SolveStatus.RULE_OF_THUMB,
        objective=solved.objective if solved is not None else None,
        marginal=solved.marginal if solved is not None else None,
        route=solved.route if solved is not None else None,
        certificate=solved.certificate if solved is not None else None,
        solver=solver,
        limits_gave_way=tuple(
            LimitGaveWay(
                str(data.reps[g.rep]) if g.rep is not None else None,
                g.limit,
                g.to,
                float(g.amount),
                g.why,
            )
            for g in gave
        ),
        timings=dict(timings),
        level=common_level(data, spec, quota, stretch, rl, solved.objective)
        if optimised and solved is not None
        else None,
        closed_quarters=closed_labels,
        actual_to_date=float(data.actual_to_date.sum()) if closed_labels else None,
        remaining_quota=float(quota[:, ~closed].sum()) if closed_labels else None,
    )
    return Plan(quotas, reps, summary)


def common_level(data, spec, quota, stretch, rl, objective: Objective) -> CommonLevel:
    """The level the policy set for everyone (the common stretch, or the common quantile and
    so chance of attaining), and the cells held above it, by what holds them (their floor, a
    lock): the plan's headline, not its most extreme cell."""
    closed = data.closed
    if spec.policy == "equal-stretch":
        common = objective.common_stretch
        kind, chance = "stretch", None
        value = float(objective.max_stretch if common is None else common)
        with np.errstate(invalid="ignore"):
            above = stretch > value * (1 + 1e-6) + 1e-9
            at = np.abs(stretch - value) <= 1e-6 * value + 1e-9
    else:
        kind, value = "quantile", float(objective.common_level)
        chance = 1 - value
        ref = data.quantile(value)
        tol = 1e-6 * max(spec.total / quota.size, 1.0)
        above = quota > ref * (1 + 1e-6) + tol
        at = (np.abs(quota - ref) <= 1e-6 * np.abs(ref) + tol) & (quota > 0)
    above[:, closed] = False
    at[:, closed] = False
    # What holds each such cell up: a lock, else its floor (after precedence).
    reason = np.where(~level_cells(data, spec.limits), "lock", "floor")
    reason = np.where(
        (reason == "floor") & (np.abs(quota - rl.floor) > 1e-6 * np.maximum(rl.floor, 1.0)),
        "other",
        reason,
    )
    held = {}
    reason = np.where(reason == "other", _coupling(spec.limits), reason)
    for label in np.unique(reason[above]):
        cells = above & (reason == label)
        held[str(label)] = HeldAbove(
            int(cells.sum()),
            int(cells.any(axis=1).sum()),
            float(np.nanmax(np.where(cells, stretch, np.nan))),
        )
    return CommonLevel(kind, value, held, chance, int(at.any(axis=1).sum()))


def _coupling(limits) -> str:
    """What else can hold a cell above the common level, neither at its floor nor locked: the
    limits that tie cells together, those the plan has."""
    present = [
        words
        for words, on in (
            ("smoothness", limits.smoothness is not None),
            ("team/region targets", bool(limits.group_targets)),
            ("the phasing band", limits.phasing_band is not None),
        )
        if on
    ]
    return " or ".join(present) or "other limits"


def _violations(quota, rl) -> np.ndarray:
    """Per rep, the limits a quota breaks (the rule-of-thumb policies ignore them)."""
    tol = 1e-6
    annual = quota.sum(axis=1)
    over = (quota > rl.cap * (1 + tol) + tol).any(axis=1)
    under = (quota < rl.floor * (1 - tol) - tol).any(axis=1)
    ratchet = rl.annual["ratchet"]
    above = np.isfinite(ratchet) & (annual > ratchet * (1 + tol) + tol)
    out = []
    for i in range(len(quota)):
        v = [
            name
            for name, hit in (("cap", over[i]), ("floor", under[i]), ("ratchet", above[i]))
            if hit
        ]
        out.append(",".join(v))
    return np.array(out, dtype=object)

"""Speed of planning, from forecast table to plan table: the network route, and the general
model (Pyomo + HiGHS) beside it in the same run.

Targets (issue #21): the general model plans with smoothness and with overlapping team/region
targets at 1,000 / 10,000 / 100,000 reps in under 1 s / 5 s / 60 s within 4 GB, with Pyomo's
build plus translation no more than HiGHS's own time; the network route keeps its speed
(issue #5: 10,000 reps under 2 s, 100,000 under 20 s).

Two routes reach the same plan (``optimizer.policies``):

- **network** (the default without smoothness, with team/region targets that nest): the level by
  an exact circulation-cut test and a safeguarded secant search, the plan by water-filling on a
  dual of 1 + 2T + G prices; no Pyomo model at all, so build and translation are zero.
- **pyomo** (the general model): Pyomo builds the model once (its limit families as
  ``MatrixConstraint`` blocks), ``optimizer.compile`` turns it into HiGHS's arrays
  (translation), HiGHS solves the level check / level LP / plan QP with the algorithm chosen
  per stage (``optimizer.highs``); its own time is reported apart.

Each size runs in its own process (so peak memory is that size's), ``--repeats`` times;
figures are medians. The baseline in the same run is the forecast-proportional rule
(prepare + explain, no optimisation). On the scenarios both routes take, the equivalence
columns compare their level and objective (relative difference).

Run: ``python -m benchmarks.bench_optimizer [--sizes 1000 10000 100000]
[--pyomo-sizes 1000 10000 100000] [--scenarios plain teams smooth overlap]``
Writes ``benchmarks/results/optimizer_speed.md`` and ``optimizer_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from optimizer import Limits, PlanSpec, solve_plan

from .report import table, write

QUARTERS = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
STEPS = ("prepare_s", "build_s", "translation_s", "relaxation_s", "level_s", "plan_s")
#: ``smooth`` and ``overlap`` only the general model takes; each is compared with the network
#: route on the instance without what it adds (``plain``, ``teams``) in the same run.
SCENARIOS = ("plain", "teams", "smooth", "overlap")
GENERAL_ONLY = {"smooth": "plain", "overlap": "teams"}


def make_instance(
    n: int, seed: int = 0, groups: bool = False, overlap: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, float, dict]:
    """A forecast table with heavy-tailed levels and seasonality, a roster, a number at 95% of
    P50 and, with ``groups``, team/region targets: teams of 10 reps, regions of 10 teams; every
    region has a target (their targets split the number, +/-3% around their share of P50) and
    so has every other team (+/-3% around its share). With ``overlap`` the teams are shifted by
    5 reps, so every tenth team straddles two regions: the targets no longer nest."""
    rng = np.random.default_rng(seed)
    level = np.exp(rng.normal(np.log(300_000), 0.6, n))
    season = np.array([0.85, 0.95, 0.95, 1.25])
    p50 = level[:, None] * season[None, :] * np.exp(rng.normal(0, 0.05, (n, 4)))
    reps = np.char.add("R", np.char.zfill(np.arange(n).astype(str), 6)).astype(object)
    f = pd.DataFrame(
        {"rep_id": np.repeat(reps, 4), "period": np.tile(QUARTERS, n), "q50": p50.ravel()}
    )
    f["q10"], f["q90"] = f["q50"] * 0.6, f["q50"] * 1.5
    lyq = np.where(rng.random(n) < 0.7, p50.sum(axis=1) * rng.uniform(0.8, 1.2, n), np.nan)
    team, region = (np.arange(n) + (5 if overlap else 0)) // 10, np.arange(n) // 100
    roster = pd.DataFrame(
        {
            "rep_id": reps,
            "team": team.astype(str) if groups else "T",
            "region": region.astype(str) if groups else "R",
            "active": True,
            "last_year_quota": lyq,
            "ote": np.nan,
        }
    )
    target = 0.95 * p50.sum()
    targets = {}
    if groups:
        annual = p50.sum(axis=1)
        by_region = np.bincount(region, annual) * rng.uniform(0.97, 1.03, region.max() + 1)
        by_team = np.bincount(team, annual) / annual.sum() * target
        by_team *= rng.uniform(0.97, 1.03, len(by_team))
        targets = {
            ("region", str(g)): v for g, v in enumerate(by_region / by_region.sum() * target)
        }
        targets |= {("team", str(g)): v for g, v in enumerate(by_team) if g % 2 == 0}
    return f, roster, target, targets


def measure(n: int, route: str, policy: str, scenario: str, repeats: int) -> dict:
    """Run in a child process: medians of ``repeats`` plans of ``n`` reps, and peak memory."""
    f, roster, target, targets = make_instance(
        n, groups=scenario in ("teams", "overlap"), overlap=scenario == "overlap"
    )
    limits = Limits(group_targets=targets, smoothness=0.3 if scenario == "smooth" else None)
    spec = PlanSpec(f, roster, target, policy, limits)
    runs, base, plan = [], [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        plan = solve_plan(spec, route=route)
        wall = time.perf_counter() - t0
        runs.append({"total_s": wall, **{k: plan.summary.timings.get(k, 0.0) for k in STEPS}})
        t0 = time.perf_counter()
        solve_plan(PlanSpec(f, roster, target, "forecast-proportional"))
        base.append(time.perf_counter() - t0)
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["explain_s"] = max(out["total_s"] - sum(out[k] for k in STEPS), 0.0)
    out["baseline_s"] = statistics.median(base)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["level"] = plan.summary.objective.level
    out["objective"] = plan.summary.objective.squared_deviation
    certificate = plan.summary.certificate
    out["certificate"] = certificate.to_dict() if certificate is not None else None
    out["highs_s"] = out["level_s"] + out["plan_s"] if route == "pyomo" else 0.0
    solver = plan.summary.solver
    stages = solver.stages if solver is not None else {}
    out["algorithms"] = {name: ", ".join(stage.algorithms) for name, stage in stages.items()}
    out["notes"] = list(solver.notes) if solver is not None else []
    return {
        "reps": n,
        "scenario": scenario,
        "groups": len(targets),
        "route": route,
        "policy": policy,
        "repeats": repeats,
        **out,
    }


def child(n: int, route: str, policy: str, scenario: str, repeats: int) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_optimizer", "--child", str(n), route, policy]
    cmd += [scenario, "--repeats", str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def rel(a: float, b: float) -> float:
    """Relative difference; objectives are in money, so below 1 the difference is absolute (an
    objective of 0, every quota exactly on its reference, is reached by both routes)."""
    return abs(a - b) / max(abs(a), abs(b), 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument(
        "--pyomo-sizes",
        type=int,
        nargs="*",
        default=[1_000, 10_000, 100_000],
        help="Sizes for the general (Pyomo + HiGHS) route, in every scenario.",
    )
    ap.add_argument("--policies", nargs="+", default=["equal-stretch", "equal-probability"])
    ap.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--pyomo-repeats",
        type=int,
        default=3,
        help="Runs of the general route per size (1 above 10,000 reps).",
    )
    ap.add_argument(
        "--large-general",
        nargs="*",
        default=["smooth", "overlap"],
        choices=SCENARIOS,
        help="Scenarios whose general route is also run above 10,000 reps (plain and teams "
        "take the network route in practice).",
    )
    ap.add_argument(
        "--child", nargs=4, metavar=("N", "ROUTE", "POLICY", "SCENARIO"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        n, route, policy, scenario = args.child
        print(json.dumps(measure(int(n), route, policy, scenario, args.repeats), default=float))
        return
    load = [round(x, 2) for x in os.getloadavg()]
    rows = []

    def network(n, scenario, policy):
        for r in rows:
            if (r["reps"], r["route"], r["policy"], r["scenario"]) == (
                n,
                "network",
                policy,
                scenario,
            ):
                return r
        rows.append(child(n, "network", policy, scenario, args.repeats))
        print(rows[-1], flush=True)
        return rows[-1]

    for scenario in args.scenarios:
        base = GENERAL_ONLY.get(scenario, scenario)
        for policy in args.policies:
            if scenario not in GENERAL_ONLY:
                for n in args.sizes:
                    network(n, scenario, policy)
            for n in args.pyomo_sizes:
                if n > 10_000 and scenario not in args.large_general:
                    continue
                fast = network(n, base, policy)
                repeats = args.pyomo_repeats if n <= 10_000 else 1
                row = child(n, "pyomo", policy, scenario, repeats)
                row["vs_network"] = row["total_s"] / fast["total_s"]
                if scenario == base:  # the same instance: both routes must agree
                    row["level_rel_diff"] = rel(fast["level"], row["level"])
                    row["objective_rel_diff"] = rel(fast["objective"], row["objective"])
                rows.append(row)
                print(row, flush=True)
    lines = [
        "# Optimizer speed: forecast table to plan table",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores shared with "
        f"other work (load average {load[0]} / {load[1]} / {load[2]} at the start, "
        f"{' / '.join(str(round(x, 2)) for x in os.getloadavg())} at the end: timings are "
        "inflated by it; the ratios against the network route in the same run less so). "
        f"Command: `python -m benchmarks.bench_optimizer --sizes {' '.join(map(str, args.sizes))} "
        f"--pyomo-sizes {' '.join(map(str, args.pyomo_sizes))} "
        f"--scenarios {' '.join(args.scenarios)} --policies {' '.join(args.policies)} "
        f"--large-general {' '.join(args.large_general)} --repeats {args.repeats} "
        f"--pyomo-repeats {args.pyomo_repeats}`.",
        f"Medians of {args.repeats} runs for the network route, {args.pyomo_repeats} for the "
        "general route up to 10,000 reps (1 above); each size in its own process, so peak RSS "
        "is that size's. Default limits (cap P90, floor P10, phasing +/-10%, anti-ratchet +25% "
        "for the 70% of reps with a last-year quota); the number at 95% of P50. `total` "
        "includes the +1% level search for the marginal cost and the explanation of every "
        "quota. Baseline: the forecast-proportional rule in the same process.",
        "",
        "Scenarios: `plain`, the company number only; `teams`, also team and region targets "
        "(teams of 10 reps, regions of 10 teams; every region and every other team has a target: "
        "6,000 targets at 100,000 reps), which nest; `smooth`, `plain` with a 30% quarter-to-"
        "quarter smoothness limit; `overlap`, `teams` with every team shifted by 5 reps, so one "
        "team in ten straddles two regions and the targets no longer nest. Only the general "
        "route takes `smooth` and `overlap`; their `vs network` is against the network route "
        "on `plain` and `teams` of the same size.",
        "",
        "Columns: Pyomo build (the model and its stages' changes), translation (compiling the "
        "model to arrays and sending them to HiGHS), relaxation (the flow network's level, a "
        "lower bound the general route starts from), level and plan (HiGHS's own time on the "
        "general route; the search and the water-filling on the network route), `b+t / HiGHS` "
        "(Pyomo's share against HiGHS's).",
        "",
        *table(
            [
                "scenario",
                "policy",
                "route",
                "reps",
                "total (s)",
                "prepare",
                "Pyomo build",
                "translation",
                "relaxation",
                "level",
                "plan",
                "b+t / HiGHS",
                "explain",
                "baseline (s)",
                "vs network",
                "peak RSS (MB)",
                "level diff",
                "objective diff",
            ],
            (_cells(r) for r in rows),
            text=[0, 1, 2],
        ),
    ]
    lines += ["", "HiGHS's algorithm per stage (general route), and the certificate:", ""]
    for r in rows:
        if r["route"] == "pyomo":
            c = r.get("certificate") or {}
            lines.append(
                f"- {r['scenario']}, {r['policy']}, {r['reps']:,} reps: "
                + "; ".join(f"{k}: {v}" for k, v in r["algorithms"].items())
                + f"; duality gap {c.get('duality_gap', float('nan')):.1e}, largest residual "
                f"{c.get('max_residual', float('nan')):.1e}"
                + "".join(f" ({n})" for n in r["notes"])
            )
    write("optimizer_speed", {"load_before": load, "rows": rows}, lines, default=float)


def _cells(r: dict) -> list[str]:
    """A row of the speed table: its figures, formatted."""
    diffs = ("level_rel_diff", "objective_rel_diff")
    return [
        r["scenario"],
        r["policy"],
        r["route"],
        f"{r['reps']:,}",
        *(f"{r[k]:.2f}" for k in ("total_s", *STEPS)),
        f"{(r['build_s'] + r['translation_s']) / r['highs_s']:.2f}" if r["highs_s"] else "",
        f"{r['explain_s']:.2f}",
        f"{r['baseline_s']:.3f}",
        f"{r['vs_network']:.1f}x" if "vs_network" in r else "",
        f"{r['peak_rss_mb']:,.0f}",
        *(f"{r[k]:.1e}" if "level_rel_diff" in r else "" for k in diffs),
    ]


if __name__ == "__main__":
    main()

"""Speed of planning, from forecast table to plan table, and the fast route checked against the
general model.

Issue #5 targets: 10,000 reps in under 2 s and 100,000 in under 20 s within 4 GB, with
Pyomo's build + translation never more than the HiGHS solve time it feeds.

Two routes reach the same plan (``optimizer.policies``):

- **network** (the default without smoothness, with team/region targets that nest): the level by
  an exact circulation-cut test and a safeguarded secant search, the plan by water-filling on a
  dual of 1 + 2T + G prices; no Pyomo model at all, so build and translation are zero.
- **pyomo** (the general model): Pyomo builds the LP for the level and the QP for the plan,
  HiGHS solves them in memory; Pyomo's translation is the wall time of each solve minus
  HiGHS's own ``highs_time``.

Each size runs in its own process (so peak memory is that size's), ``--repeats`` times;
figures are medians. The baseline in the same run is the forecast-proportional rule
(prepare + explain, no optimisation). The equivalence columns compare the two routes' level
and objective on the same instance (relative difference).

Run: ``python -m benchmarks.bench_optimizer [--sizes 1000 10000 100000] [--pyomo-sizes 1000]
[--scenarios plain teams]``
Writes ``benchmarks/results/optimizer_speed.md`` and ``optimizer_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer import Limits, PlanSpec, solve_plan

RESULTS = Path(__file__).resolve().parent / "results"
QUARTERS = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
STEPS = ("prepare_s", "build_s", "translation_s", "level_s", "plan_s")
SCENARIOS = ("plain", "teams")


def make_instance(
    n: int, seed: int = 0, groups: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, float, dict]:
    """A forecast table with heavy-tailed levels and seasonality, a roster, a number at 95% of
    P50 and, with ``groups``, team/region targets: teams of 10 reps, regions of 10 teams; every
    region has a target (their targets split the number, +/-3% around their share of P50) and
    so has every other team (+/-3% around its share)."""
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
    team, region = np.arange(n) // 10, np.arange(n) // 100
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
    f, roster, target, targets = make_instance(n, groups=scenario == "teams")
    spec = PlanSpec(f, roster, target, policy, Limits(group_targets=targets))
    runs, base, plan = [], [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        plan = solve_plan(spec, route=route)
        wall = time.perf_counter() - t0
        runs.append({"total_s": wall, **{k: plan.summary.get(k, 0.0) for k in STEPS}})
        t0 = time.perf_counter()
        solve_plan(PlanSpec(f, roster, target, "forecast-proportional"))
        base.append(time.perf_counter() - t0)
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["explain_s"] = max(out["total_s"] - sum(out[k] for k in STEPS), 0.0)
    out["baseline_s"] = statistics.median(base)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    level = "max_stretch" if policy == "equal-stretch" else "common_level"
    out["level"] = plan.summary["objective"][level]
    out["objective"] = plan.summary["objective"]["squared_deviation"]
    out["certificate"] = plan.summary.get("certificate")
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
    ap.add_argument("--pyomo-sizes", type=int, nargs="*", default=[1_000])
    ap.add_argument(
        "--pyomo-sizes-teams",
        type=int,
        nargs="*",
        default=[200],
        help="Pyomo route sizes for the teams scenario (HiGHS's QP with group rows is slow: "
        "more than 5 minutes at 1,000 reps here).",
    )
    ap.add_argument("--policies", nargs="+", default=["equal-stretch", "equal-probability"])
    ap.add_argument("--scenarios", nargs="+", default=["plain", "teams"], choices=SCENARIOS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--child", nargs=4, metavar=("N", "ROUTE", "POLICY", "SCENARIO"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        n, route, policy, scenario = args.child
        print(json.dumps(measure(int(n), route, policy, scenario, args.repeats), default=float))
        return
    rows = []
    for scenario in args.scenarios:
        for policy in args.policies:
            for n in args.sizes:
                rows.append(child(n, "network", policy, scenario, args.repeats))
                print(rows[-1], flush=True)
            for n in args.pyomo_sizes if scenario == "plain" else args.pyomo_sizes_teams:
                if not any(
                    (r["reps"], r["scenario"], r["policy"]) == (n, scenario, policy) for r in rows
                ):
                    rows.append(child(n, "network", policy, scenario, args.repeats))
                    print(rows[-1], flush=True)
                rows.append(child(n, "pyomo", policy, scenario, 1))
                fast = next(
                    r
                    for r in rows
                    if (r["reps"], r["route"], r["policy"], r["scenario"])
                    == (n, "network", policy, scenario)
                )
                rows[-1]["level_rel_diff"] = rel(fast["level"], rows[-1]["level"])
                rows[-1]["objective_rel_diff"] = rel(fast["objective"], rows[-1]["objective"])
                print(rows[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "optimizer_speed.json").write_text(json.dumps(rows, indent=2, default=float))
    lines = [
        "# Optimizer speed: forecast table to plan table",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores. "
        f"Command: `python -m benchmarks.bench_optimizer --sizes {' '.join(map(str, args.sizes))} "
        f"--pyomo-sizes {' '.join(map(str, args.pyomo_sizes))} "
        f"--pyomo-sizes-teams {' '.join(map(str, args.pyomo_sizes_teams))} "
        f"--scenarios {' '.join(args.scenarios)} --repeats {args.repeats}`.",
        f"Medians of {args.repeats} runs for the network route (1 run for the Pyomo route); each "
        "size in its own process, so peak RSS is that size's. Default limits (cap P90, floor P10, "
        "phasing +/-10%, anti-ratchet +25% for the 70% of reps with a last-year quota); the "
        "number at 95% of P50. `total` includes the +1% level search for the marginal cost "
        "(equal-stretch) and the explanation of every quota. Baseline: the forecast-proportional "
        "rule in the same process (prepare + explain only).",
        "",
        "Scenarios: `plain`, the company number only; `teams`, also team and region targets "
        "(teams of 10 reps, regions of 10 teams; every region and every other team has a "
        "target, so 100,000 reps carry 6,000 group targets), which the network route takes as "
        "nodes of the network (one more price per group in the second stage).",
        "",
        "Targets (issue #5): 10,000 reps under 2 s; 100,000 under 20 s within 4 GB; Pyomo build + "
        "translation never more than the HiGHS time it feeds (the network route builds no Pyomo "
        "model).",
        "",
        "| scenario | policy | route | reps | total (s) | prepare | Pyomo build | Pyomo translation | level (search / HiGHS) | plan (water-filling / HiGHS) | explain | baseline (s) | ratio | peak RSS (MB) | level diff vs network | objective diff vs network |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        diff = (
            (f"{r['level_rel_diff']:.1e}", f"{r['objective_rel_diff']:.1e}")
            if "level_rel_diff" in r
            else ("", "")
        )
        lines.append(
            f"| {r['scenario']} | {r['policy']} | {r['route']} | {r['reps']:,} | {r['total_s']:.2f} | {r['prepare_s']:.2f} | "
            f"{r['build_s']:.2f} | {r['translation_s']:.2f} | {r['level_s']:.2f} | {r['plan_s']:.3f} | "
            f"{r['explain_s']:.2f} | {r['baseline_s']:.3f} | {r['total_s'] / r['baseline_s']:.0f}x | "
            f"{r['peak_rss_mb']:,.0f} | {diff[0]} | {diff[1]} |"
        )
    (RESULTS / "optimizer_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Speed of planning: the current Pyomo formulation at growing numbers of reps.

Issue #5 targets, from forecast table to plan table: 10,000 reps in under 2 s and 100,000 in
under 20 s within 4 GB, with Pyomo's build + translation never more than the HiGHS solve time.
This script records where the current (straightforward) formulation stands; it does not yet
split Pyomo's translation from HiGHS's own time (both are in "solve"). Medians of ``--repeats``
runs; the baseline in the same run is the forecast-proportional rule (no LP).

Run: ``python -m benchmarks.bench_optimizer [--sizes 1000 10000] [--repeats 3]``
Writes ``benchmarks/results/optimizer_speed.md`` and ``optimizer_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer import plan

RESULTS = Path(__file__).resolve().parent / "results"
QUARTERS = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]


def make_instance(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """A forecast table with heavy-tailed levels and seasonality, a roster, and a number at 95% of P50."""
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
    roster = pd.DataFrame(
        {
            "rep_id": reps,
            "team": "T",
            "region": "R",
            "active": True,
            "last_year_quota": lyq,
            "ote": np.nan,
        }
    )
    return f, roster, 0.95 * p50.sum()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        f, roster, target = make_instance(n)
        runs, base = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            p = plan(f, roster, target=target)
            runs.append((time.perf_counter() - t0, p.summary["build_s"], p.summary["solve_s"]))
            t0 = time.perf_counter()
            plan(f, roster, target=target, policy="forecast-proportional")
            base.append(time.perf_counter() - t0)
        total = statistics.median(r[0] for r in runs)
        rows.append(
            {
                "reps": n,
                "total_s": total,
                "build_s": statistics.median(r[1] for r in runs),
                "solve_incl_translation_s": statistics.median(r[2] for r in runs),
                "baseline_s": statistics.median(base),
                "ratio": total / statistics.median(base),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
        print(rows[-1])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "optimizer_speed.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Optimizer speed (current Pyomo formulation)",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores; medians of {args.repeats} runs; equal-stretch with the default limits",
        "(three LP solves: min max stretch, min deviation, and the +1% re-solve for the marginal cost).",
        "Command: `python -m benchmarks.bench_optimizer`. Targets: 10,000 reps under 2 s, 100,000 under 20 s (not met yet).",
        "",
        "| reps | total (s) | Pyomo build (s) | translation + HiGHS solve (s) | forecast-proportional baseline (s) | ratio | peak RSS so far (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['reps']:,} | {r['total_s']:.2f} | {r['build_s']:.2f} | {r['solve_incl_translation_s']:.2f} | {r['baseline_s']:.3f} | {r['ratio']:.0f}x | {r['peak_rss_mb']:,.0f} |"
        )
    (RESULTS / "optimizer_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

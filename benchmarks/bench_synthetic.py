"""Speed and memory of the synthetic company generator and of validation.

Target (issue #3): 100,000 reps x 5 years generated in under 10 s on a 2-core machine.

Each size runs ``--repeats`` times in a fresh subprocess (so peak memory is the run's own); we
report the median. The baseline, run in the same process, is the bare cost of drawing as many
gamma variates as the history has rows: the generator's time over it says how much the rest
(ramp, leave, seasonality, tables) costs on top of the random numbers it cannot avoid.

Run: ``python -m benchmarks.bench_synthetic [--sizes 10000 100000] [--repeats 5]``
Writes ``benchmarks/results/synthetic.md`` and ``synthetic.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys

from .report import table, write

CHILD = r"""
import json, resource, sys, time
import numpy as np
from datasets import make_company, load_company
n_reps, n_years, validate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
t0 = time.perf_counter()
s = make_company(n_reps, n_years, random_state=0)
gen = time.perf_counter() - t0
rows = len(s.company.history)
rng = np.random.default_rng(1)
t0 = time.perf_counter()
rng.gamma(np.full(rows, 4.0), 1.0)
base = time.perf_counter() - t0
val = None
if validate:
    t0 = time.perf_counter()
    load_company(s.company.history, s.company.roster)
    val = time.perf_counter() - t0
print(json.dumps({"generate_s": gen, "baseline_s": base, "validate_s": val, "rows": rows,
                  "roster": len(s.company.roster), "reps_total": len(s.reps),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(n_reps: int, n_years: int, repeats: int, validate: bool) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n_reps), str(n_years), "1" if validate else "0"],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout))
        print(f"  {n_reps:>7,} reps: generate {runs[-1]['generate_s']:.2f} s", file=sys.stderr)
    med = {
        k: statistics.median(r[k] for r in runs)
        for k in ("generate_s", "baseline_s", "peak_rss_mb")
    }
    if validate:
        med["validate_s"] = statistics.median(r["validate_s"] for r in runs)
    return {
        "n_reps": n_reps,
        "n_years": n_years,
        "repeats": repeats,
        **runs[0],
        **med,
        "ratio_to_baseline": med["generate_s"] / med["baseline_s"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--no-validate", action="store_true", help="skip timing load_company on the result"
    )
    args = ap.parse_args()
    rows = [run(n, args.years, args.repeats, not args.no_validate) for n in args.sizes]
    lines = [
        "# Synthetic company generator: speed and memory",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; medians of {args.repeats} runs, each in a fresh process.",
        "Command: `python -m benchmarks.bench_synthetic`. Target: 100,000 reps x 5 years in under 10 s.",
        "",
        *table(
            [
                "reps at start",
                "reps in all",
                "history rows",
                "generate (s)",
                "baseline: gamma draws (s)",
                "ratio",
                "validate again (s)",
                "peak RSS (MB)",
            ],
            (
                [
                    f"{r['n_reps']:,}",
                    f"{r['reps_total']:,}",
                    f"{r['rows']:,}",
                    f"{r['generate_s']:.2f}",
                    f"{r['baseline_s']:.3f}",
                    f"{r['ratio_to_baseline']:.0f}x",
                    f"{r['validate_s']:.2f}" if r.get("validate_s") is not None else "-",
                    f"{r['peak_rss_mb']:,.0f}",
                ]
                for r in rows
            ),
        ),
    ]
    write("synthetic", rows, lines)


if __name__ == "__main__":
    main()

"""Speed of fitting and forecasting: the learned model at 10,000 reps x 5 years.

Target (issue #4): fit + predict for 10,000 reps with 5 years of quarterly history in under 60 s
on this 2-core machine. Medians of ``--repeats`` runs; the baseline in the same run is the
trailing-mean forecaster on the same company (the cost of the shared data handling).

Run: ``python -m benchmarks.bench_forecast [--sizes 1000 10000] [--repeats 3]``
Writes ``benchmarks/results/forecast_speed.md`` and ``forecast_speed.json``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from datasets import make_company
from models import QuantileForecaster, TrailingMean

from .report import table, write


def timed(model, company, year):
    t0 = time.perf_counter()
    model.fit(company)
    t1 = time.perf_counter()
    model.predict(year)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        company = make_company(n, args.years, random_state=0).company
        year = 2021 + args.years
        ours = [timed(QuantileForecaster(), company, year) for _ in range(args.repeats)]
        base = [timed(TrailingMean(), company, year) for _ in range(args.repeats)]
        fit = statistics.median(f for f, _ in ours)
        pred = statistics.median(p for _, p in ours)
        base_total = statistics.median(f + p for f, p in base)
        rows.append(
            {
                "reps_at_start": n,
                "active_reps": int(company.roster["active"].sum()),
                "history_rows": len(company.history),
                "fit_s": fit,
                "predict_s": pred,
                "total_s": statistics.median(f + p for f, p in ours),
                "baseline_total_s": base_total,
                "ratio": statistics.median(f + p for f, p in ours) / base_total,
            }
        )
        print(rows[-1])
    lines = [
        "# Forecaster speed",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores; medians of {args.repeats} runs.",
        "Command: `python -m benchmarks.bench_forecast`. Target: fit + predict at 10,000 reps x 5 years under 60 s.",
        "",
        *table(
            [
                "reps at start",
                "active reps",
                "history rows",
                "fit (s)",
                "predict (s)",
                "total (s)",
                "trailing-mean baseline (s)",
                "ratio",
            ],
            (
                [
                    f"{r['reps_at_start']:,}",
                    f"{r['active_reps']:,}",
                    f"{r['history_rows']:,}",
                    f"{r['fit_s']:.1f}",
                    f"{r['predict_s']:.2f}",
                    f"{r['total_s']:.1f}",
                    f"{r['baseline_total_s']:.2f}",
                    f"{r['ratio']:.0f}x",
                ]
                for r in rows
            ),
        ),
    ]
    write("forecast_speed", rows, lines)


if __name__ == "__main__":
    main()

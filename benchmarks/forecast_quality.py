"""Forecast accuracy and calibration: the learned model against the baselines.

Rolling-origin backtest (``models.backtest``) of every model in ``models.MODELS`` on synthetic
companies (several sizes, fixed seeds) and on every real dataset with sales under
``../shared/data``. Targets (issue #4), on the synthetic companies: the learned model's WAPE at
least 5% below the best baseline's, its pinball loss below every baseline's, and its P10-P90
interval covering 72-88% of held-out rep-quarters.

Run: ``python -m benchmarks.forecast_quality [--sizes 200 1000 5000] [--seeds 0 1 2]``
Writes ``benchmarks/results/forecast_quality.md`` and ``forecast_quality.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from datasets import make_company
from datasets.adventureworks import LOADERS, shared_data_dir
from models import MODELS
from models.backtest import backtest

RESULTS = Path(__file__).resolve().parent / "results"
OURS = "quantile-gbm"


def run_one(label: str, company, **info) -> pd.DataFrame:
    t0 = time.perf_counter()
    result = backtest(company, {name: cls() for name, cls in MODELS.items()})
    scores = result.scores.assign(
        dataset=label,
        seconds=time.perf_counter() - t0,
        test_years=",".join(map(str, sorted(result.by_year["year"].unique()))),
        **info,
    )
    print(f"{label}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return scores


def verdict(scores: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: the learned model against the best baseline."""
    rows = []
    for label, g in scores.groupby("dataset", sort=False):
        g = g.set_index("model")
        ours, base = g.loc[OURS], g.drop(index=OURS)
        best = base["wape"].idxmin()
        rows.append(
            {
                "dataset": label,
                "rep_quarters": int(ours["rep_quarters"]),
                "wape": ours["wape"],
                "best baseline": best,
                "its wape": base.loc[best, "wape"],
                "wape gain": 1 - ours["wape"] / base.loc[best, "wape"],
                "pinball": ours["pinball"],
                "best baseline pinball": base["pinball"].min(),
                "beats every pinball": bool((ours["pinball"] < base["pinball"]).all()),
                "coverage": ours["coverage_p10_p90"],
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--years", type=int, default=5)
    args = ap.parse_args()
    parts = []
    for n in args.sizes:
        for seed in args.seeds:
            synth = make_company(n, args.years, random_state=seed)
            parts.append(run_one(f"synthetic n={n} seed={seed}", synth.company, kind="synthetic"))
    root = shared_data_dir()
    for name, load in LOADERS.items():
        try:
            real = load(root)
        except FileNotFoundError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        if real.history is None:
            continue
        parts.append(run_one(name, real.company, kind="real"))
    scores = pd.concat(parts, ignore_index=True)
    RESULTS.mkdir(exist_ok=True)
    scores.to_csv(RESULTS / "forecast_quality.csv", index=False)
    v = verdict(scores)
    fmt = v.copy()
    for c in ("wape", "its wape", "coverage"):
        fmt[c] = fmt[c].map("{:.1%}".format)
    fmt["wape gain"] = v["wape gain"].map("{:+.1%}".format)
    for c in ("pinball", "best baseline pinball"):
        fmt[c] = fmt[c].map("{:.4f}".format)
    detail = scores[
        [
            "dataset",
            "model",
            "rep_quarters",
            "wape",
            "mape",
            "pinball",
            "coverage_p10_p90",
            "test_years",
        ]
    ].copy()
    for c in ("wape", "mape", "coverage_p10_p90"):
        detail[c] = detail[c].map("{:.1%}".format)
    detail["pinball"] = detail["pinball"].map("{:.4f}".format)
    detail["rep_quarters"] = detail["rep_quarters"].astype(int)
    synth = v[v["dataset"].str.startswith("synthetic")]
    ok = (
        (synth["wape gain"] >= 0.05)
        & synth["beats every pinball"]
        & synth["coverage"].between(0.72, 0.88)
    )
    lines = [
        "# Forecast quality: learned model vs baselines",
        "",
        "Command: `python -m benchmarks.forecast_quality`. Rolling-origin backtest: each test year forecast from the years before it;",
        "every model scored on the same rep-quarters. WAPE and MAPE of the P50; pinball loss averaged over P10/P50/P90 and divided by",
        "mean revenue; coverage = share of actuals inside P10-P90 (nominal 80%).",
        "",
        f"Synthetic targets met (WAPE gain >= 5%, best pinball, coverage 72-88%): {int(ok.sum())} of {len(synth)} companies.",
        "",
        "## The learned model against the best baseline",
        "",
        fmt.to_markdown(index=False),
        "",
        "## Every model",
        "",
        detail.to_markdown(index=False),
        "",
    ]
    (RESULTS / "forecast_quality.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

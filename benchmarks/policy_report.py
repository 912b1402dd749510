"""The sweep's report: per policy, each metric's mean over companies with a 95% confidence
interval, a Markdown report that says which policy wins on what, and PNG plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .policy_sweep import CEILING
from .report import table

#: Metric -> (label, better when higher?).
METRICS = {
    "share_attaining_annual": ("reps attaining annual quota", True),
    "share_attaining_quarter": ("rep-quarters attaining", True),
    "company_attainment": ("company attainment", None),
    "wape": ("quota-vs-actual WAPE", False),
    "attainment_std": ("std of attainment across reps", False),
    "attainment_gini": ("Gini of attainment", False),
    "reps_over_cap": ("reps over their cap", False),
    "ratchet_violations": ("ratchet violations", False),
    "quarters_pulled_forward": ("quarters pulled forward", False),
}


def summarize(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per policy and metric: mean, 95% interval half-width (normal approximation over
    companies), and the number of companies planned."""
    ok = metrics[metrics["status"] == "ok"]
    rows = []
    for policy, g in ok.groupby("policy", sort=False):
        for m in METRICS:
            x = g[m].astype(float).dropna()
            half = 1.96 * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else float("nan")
            rows.append(
                {"policy": policy, "metric": m, "mean": x.mean(), "ci95": half, "n": len(x)}
            )
    return pd.DataFrame(rows)


def spread_cut(metrics: pd.DataFrame, policy: str, baseline: str = "last-year-plus-growth"):
    """How much ``policy`` cuts the std of attainment against ``baseline`` on the same
    companies: mean of the per-company relative cuts, with a 95% interval."""
    ok = metrics[metrics["status"] == "ok"].pivot(
        index="company", columns="policy", values="attainment_std"
    )
    if policy not in ok or baseline not in ok:
        return float("nan"), float("nan")
    cut = (1 - ok[policy] / ok[baseline]).dropna()
    half = 1.96 * cut.std(ddof=1) / np.sqrt(len(cut)) if len(cut) > 1 else float("nan")
    return float(cut.mean()), float(half)


#: The columns of the real companies' tables: metric -> heading.
REAL_COLUMNS = {
    "reps": "reps",
    "share_attaining_annual": "attaining annual",
    "share_attaining_quarter": "rep-quarters attaining",
    "company_attainment": "company attainment",
    "wape": "WAPE",
    "attainment_std": "std of attainment",
    "attainment_gini": "Gini",
    "reps_over_cap": "over cap",
    "ratchet_violations": "ratchet violations",
}


def real_section(real) -> list[str]:
    """Markdown for :class:`benchmarks.real_backtest.RealRun`: a table per company and year,
    the company's real quotas as the last row, and what could not be run."""
    lines = [
        "## Real companies: our policies against the quotas the company set",
        "",
        "Each year's number is the total of the real quotas of the reps who had one in every "
        "quarter; every policy splits that number among those reps, from a forecast fitted on "
        "the quarters before the year (last year's quota: the real one).",
    ]
    m = real.metrics
    for (dataset, year), g in m.groupby(["dataset", "year"], sort=False) if len(m) else []:
        lines += [
            "",
            f"### {dataset}, {year} (number {g['target'].iloc[0] / 1e6:.2f}M)",
            "",
            "| policy | " + " | ".join(REAL_COLUMNS.values()) + " |",
            "| --- |" + " ---: |" * len(REAL_COLUMNS),
        ]
        for r in g.itertuples():
            if r.status != "ok":
                lines.append(f"| {r.policy} | impossible: {r.detail.strip(' -')} |")
                continue
            cells = [_fmt(getattr(r, c), c in COUNTS) for c in REAL_COLUMNS]
            lines.append(f"| {r.policy} | " + " | ".join(cells) + " |")
    if len(real.skipped):
        lines.append("")
    for r in real.skipped.itertuples():
        when = f" {int(r.year)}" if pd.notna(r.year) else ""
        lines.append(f"- Not run: {r.dataset}{when}: {r.reason}.")
    return lines


#: The metrics that count reps.
COUNTS = {"reps", "reps_over_cap", "ratchet_violations"}


def _fmt(v, count: bool) -> str:
    if pd.isna(v):
        return "n/a"
    return f"{v:.0f}" if count else f"{v:.3f}"


def write_report(
    metrics: pd.DataFrame, reps: pd.DataFrame, out: Path, command: str, real=None
) -> Path:
    """``report.md`` and the plots in ``out`` (with a section on the real companies if ``real``,
    a :class:`benchmarks.real_backtest.RealRun`, is given); returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(metrics)
    plots = _plots(metrics, reps, out)
    n = metrics["company"].nunique()
    infeasible = metrics[metrics["status"] != "ok"]
    lines = [
        "# Which way of setting quotas works? A backtest over synthetic companies",
        "",
        f"Command: `{command}`. {n} companies; for each, the policies set the last year's quotas "
        "from the years before it (forecaster fitted on those years only) at the same company "
        "number (what was really sold that year x the company's ambition), and are scored "
        "against what the reps then sold. Means over companies with 95% intervals.",
        "",
    ]
    policies = list(summary["policy"].unique())
    rows = []
    for m, (label, higher) in METRICS.items():
        s = summary[summary["metric"] == m].set_index("policy")
        best = None
        if higher is not None and len(s):
            best = s["mean"].idxmax() if higher else s["mean"].idxmin()
        cells = []
        for p in policies:
            v = s.loc[p]
            cell = f"{v['mean']:.3f} +/- {v['ci95']:.3f}" if v["n"] else "n/a"
            cells.append(f"**{cell}**" if p == best else cell)
        rows.append([label, *cells])
    lines += [
        *table(["metric", *policies], rows, text=[0]),
        "",
        "Bold: the best mean on that metric.",
        "",
    ]
    ceiling, ceiling_half = spread_cut(metrics, CEILING)
    for p in ("equal-stretch", "equal-probability"):
        cut, half = spread_cut(metrics, p)
        if np.isfinite(cut):
            lines.append(
                f"- {p} cuts the std of attainment across reps by {cut:.1%} +/- {half:.1%} "
                "against last-year-plus-growth on the same companies (the bar: at least 30%)"
                + (f"; {cut / ceiling:.0%} of the ceiling's cut." if np.isfinite(ceiling) else ".")
            )
    if np.isfinite(ceiling):
        lines.append(
            f"- The ceiling (quotas in proportion to each rep's true expected sales, known only "
            f"to the generator) cuts it by {ceiling:.1%} +/- {ceiling_half:.1%}: what a perfect "
            "forecast could do; the rest of the spread is the luck of the year."
        )
    over = summary[summary["metric"] == "reps_over_cap"].set_index("policy")["mean"]
    for p in ("equal-stretch", "equal-probability"):
        if p in over:
            lines.append(f"- {p}: {over[p]:.2f} reps over their cap per company on average.")
    if len(infeasible):
        lines.append(
            f"- {len(infeasible)} policy-company pairs could not be planned within the limits "
            "(counted out of the means): "
            + "; ".join(f"company {r.company} {r.policy}" for r in infeasible.itertuples())
        )
    lines += ["", *[f"![{t}]({p.name})" for t, p in plots]]
    if real is not None:
        lines += ["", *real_section(real)]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plots(metrics: pd.DataFrame, reps: pd.DataFrame, out: Path) -> list[tuple[str, Path]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    policies = list(metrics["policy"].unique())
    r = reps[reps["quota"] > 0].assign(attainment=lambda d: d["revenue"] / d["quota"])

    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.boxplot(
        [r.loc[r["policy"] == p, "attainment"].clip(upper=3) for p in policies],
        showfliers=False,
    )
    ax.set_xticks(range(1, len(policies) + 1), policies, rotation=20)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("annual attainment (sales / quota)")
    ax.set_title("Attainment across reps, per policy")
    made.append(("attainment distribution per policy", _save(fig, out / "attainment.png")))

    fig, axes = plt.subplots(1, len(policies), figsize=(3 * len(policies), 3.2), sharey=True)
    for ax, p in zip(np.atleast_1d(axes), policies, strict=True):
        g = r[r["policy"] == p]
        ax.scatter(g["quota"] / 1e6, g["revenue"] / 1e6, s=3, alpha=0.3)
        top = max(g["quota"].max(), g["revenue"].max()) / 1e6 if len(g) else 1
        ax.plot([0, top], [0, top], color="grey", lw=0.8)
        ax.set_title(p, fontsize=9)
        ax.set_xlabel("quota (M)")
    np.atleast_1d(axes)[0].set_ylabel("sold (M)")
    made.append(("quota vs actual", _save(fig, out / "quota_vs_actual.png")))

    fig, ax = plt.subplots(figsize=(6, 4))
    ok = metrics[metrics["status"] == "ok"]
    for p in policies:
        g = ok[ok["policy"] == p].groupby("ambition")["attainment_std"].mean()
        ax.plot(g.index, g.to_numpy(), marker="o", label=p)
    ax.set_xlabel("ambition (company number / what was sold)")
    ax.set_ylabel("std of attainment across reps")
    ax.set_title("Fairness vs ambition")
    ax.legend(fontsize=8)
    made.append(("fairness vs ambition", _save(fig, out / "fairness_vs_ambition.png")))
    return made


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path

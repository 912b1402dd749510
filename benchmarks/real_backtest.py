"""The policy backtest on the real companies in the shared data directory, with the quotas each
company really set scored alongside ours as the human baseline.

For a plan year Y every policy splits the same number among the same reps: the total of the
real quotas of the reps the company gave a quota in every quarter of Y. The forecast is fitted
on the quarters before Y; last year's quota (what last-year-plus-growth and the anti-ratchet
limit start from) is the real quota of Y - 1, which was known when Y was planned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from datasets import Company
from datasets.adventureworks import LOADERS, RealDataset
from datasets.errors import DataValidationError
from datasets.periods import quarter_index
from optimizer import POLICIES, Limits

from .policy_backtest import backtest_policies, full_year


@dataclass(frozen=True)
class RealRun:
    """``metrics``: a row per dataset, year and policy (the real quotas included);
    ``quotas``: every plan next to what was sold; ``skipped``: ``dataset, year, reason``."""

    metrics: pd.DataFrame
    quotas: pd.DataFrame
    skipped: pd.DataFrame


def plan_years(company: Company, min_history: int = 2) -> list[int]:
    """The years whose four quarters all hold sales, after at least ``min_history`` quarters."""
    q = quarter_index(company.history["period"].unique())
    first = int(q.min())
    years = sorted({int(i) // 4 for i in q})
    present = set(int(i) for i in q)
    return [
        y
        for y in years
        if all(4 * y + k in present for k in range(4)) and 4 * y - first >= min_history
    ]


def with_last_year_quota(company: Company, quotas: pd.DataFrame, year: int) -> Company:
    """The roster with ``last_year_quota``: the real quota of ``year - 1`` (reps with one in
    every quarter of it; the others have none)."""
    periods = [f"{year - 1}Q{k}" for k in range(1, 5)]
    last = full_year(quotas, periods).groupby("rep_id")["quota"].sum()
    roster = company.roster.assign(last_year_quota=company.roster["rep_id"].map(last))
    return Company(company.history, roster, company.notes, company.fiscal_year_start)


def backtest_dataset(
    dataset: RealDataset,
    year: int,
    *,
    policies=POLICIES,
    limits: Limits | None = None,
    forecaster=None,
):
    """:func:`benchmarks.policy_backtest.backtest_policies` for one real company and year, its
    real quotas as the reference."""
    company = with_last_year_quota(dataset.company, dataset.quotas, year)
    return backtest_policies(
        company,
        year,
        policies=policies,
        limits=limits,
        forecaster=forecaster,
        reference=dataset.quotas,
    )


def run_real(
    data_dir=None,
    *,
    policies=POLICIES,
    limits: Limits | None = None,
    forecaster=None,
    progress: Callable[[str], None] | None = None,
    min_reps: int = 3,
) -> RealRun:
    """Every plan year of every dataset in ``data_dir`` (default: the shared data directory);
    a dataset or year the harness cannot run, or where fewer than ``min_reps`` reps have a real
    quota in every quarter, is listed in ``skipped`` with the reason."""
    metrics, quotas, skipped = [], [], []
    for name, load in LOADERS.items():
        try:
            dataset = load(data_dir)
            company = dataset.company
        except (FileNotFoundError, DataValidationError) as exc:
            skipped.append({"dataset": name, "year": None, "reason": _reason(exc)})
            continue
        years = plan_years(company)
        if not years:
            skipped.append(
                {"dataset": name, "year": None, "reason": "no complete year after 2 quarters"}
            )
        for year in years:
            if progress:
                progress(f"{name} {year}")
            try:
                r = backtest_dataset(
                    dataset, year, policies=policies, limits=limits, forecaster=forecaster
                )
            except ValueError as exc:
                skipped.append({"dataset": name, "year": year, "reason": _reason(exc)})
                continue
            reps = int(r.metrics["reps"].max())
            if reps < min_reps:
                reason = f"only {reps} rep(s) with a real quota in every quarter (< {min_reps})"
                skipped.append({"dataset": name, "year": year, "reason": reason})
                continue
            metrics.append(r.metrics.assign(dataset=name))
            quotas.append(r.quotas.assign(dataset=name, year=year))
    return RealRun(
        pd.concat(metrics, ignore_index=True) if metrics else pd.DataFrame(),
        pd.concat(quotas, ignore_index=True) if quotas else pd.DataFrame(),
        pd.DataFrame(skipped, columns=["dataset", "year", "reason"]),
    )


def _reason(exc: Exception) -> str:
    """The error in one line (a data problem's own words, not its heading)."""
    if isinstance(exc, DataValidationError):
        return "; ".join(p.what for p in exc.problems)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

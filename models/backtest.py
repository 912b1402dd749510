"""Rolling-origin backtest: forecast each held-out year from the years before it, and score.

For every test year Y, each model is fitted on the history before Y (never on Y itself) and
forecasts Y's four quarters for the reps on the books; the forecasts are scored against what the
reps booked. Models are compared on the rep-quarters that every model forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from datasets import Company
from datasets.forecasts import level_columns
from datasets.periods import quarter_end, quarter_index
from datasets.roster import fte_quarter_columns

from . import metrics
from .base import BaseForecaster, ForecastError, level_column

#: MAPE is measured on rep-quarters whose actual is at least this share of the median rep-quarter.
MAPE_FLOOR_SHARE = 0.25


@dataclass(frozen=True)
class BacktestResult:
    """Scores per model (and per test year), and every forecast next to its actual."""

    scores: pd.DataFrame
    by_year: pd.DataFrame
    forecasts: pd.DataFrame


def backtest_roster(
    company: Company, train: pd.DataFrame, year_end: pd.Timestamp, year_start=None
) -> pd.DataFrame:
    """The roster as it could have been known before the test year.

    Reps who left before the test year (a ``leave_date`` before ``year_start``) stay off the
    team; later leave dates were not known yet, so those reps are on it. Reps in the history
    but not on the roster are put back (their team unknown), capacity columns of quarters after
    the test year are dropped (they concern later plans; the test year's and earlier ones,
    leave recorded or planned by then, are kept), and reps hired after the test year are left
    out.
    """
    roster = company.roster
    later = [
        col
        for q, col in fte_quarter_columns(roster).items()
        if quarter_end(q, company.fiscal_year_start) > year_end
    ]
    known = roster.drop(columns=later).copy()
    left = known["leave_date"] < year_start if year_start is not None else False
    known["active"] = ~left
    known["leave_date"] = known["leave_date"].where(left)
    gone = np.setdiff1d(train["rep_id"].unique(), known["rep_id"])
    if len(gone):
        extra = pd.DataFrame({"rep_id": gone})
        extra = extra.assign(
            team="unassigned", region="unassigned", hire_date=pd.NaT, fte=1.0, active=True
        )
        known = pd.concat([known, extra], ignore_index=True)
    known = known[~(known["hire_date"] > year_end)]
    return known.astype({"rep_id": "str"}).sort_values("rep_id").reset_index(drop=True)


def split_at_year(company: Company, year: int) -> tuple[Company, pd.DataFrame]:
    """The company as it was known before ``year`` (history before it, roster as it could have
    been known), and what was booked in ``year`` (``rep_id, period, revenue``)."""
    h = company.history
    q = quarter_index(h["period"].to_numpy())
    train = h[q < year * 4].reset_index(drop=True)
    actual = h[q // 4 == year].reset_index(drop=True)
    fys = company.fiscal_year_start
    start = quarter_end(f"{year - 1}Q4", fys) + pd.Timedelta(days=1)
    roster = backtest_roster(company, train, quarter_end(f"{year}Q4", fys), start)
    return Company(train, roster, (), fys, company.month_shape), actual


def backtest(
    company: Company, models: dict[str, BaseForecaster], years=None, progress=None
) -> BacktestResult:
    """Fit each model on the years before each test year, forecast it, and score.

    Parameters
    ----------
    company : the validated history and roster.
    models : name -> unfitted forecaster (cloned for every test year).
    years : the test years; default: the last two complete years of the history, provided
        at least two years of history precede them.
    progress : optional callable taking a message, called before each fit.
    """
    h = company.history
    q = quarter_index(h["period"].to_numpy())
    complete = pd.Series(q % 4).groupby(q // 4).nunique()
    complete = sorted(int(y) for y, n in complete.items() if n == 4)
    if years is None:
        first_year = int(q.min() // 4)
        years = [y for y in complete if y >= first_year + 2][-2:]
    if not years:
        raise ForecastError(
            "the history is too short to backtest: it needs two years before a complete test year"
        )
    rows = []
    for year in years:
        past, actual = split_at_year(company, year)
        for name, model in models.items():
            if progress:
                progress(f"{year}: fitting {name}")
            fitted = clone(model).fit(past)
            f = fitted.predict(year).merge(actual, on=["rep_id", "period"], how="inner")
            rows.append(f.assign(model=name, year=year))
    forecasts = pd.concat(rows, ignore_index=True)
    # Compare like with like: the rep-quarters that every model forecast.
    counts = forecasts.groupby(["year", "rep_id", "period"])["model"].transform("nunique")
    common = forecasts[counts == len(models)]
    levels = level_columns(forecasts.columns)
    floor = MAPE_FLOOR_SHARE * common["revenue"].median()
    scores = common.groupby("model", sort=False).apply(
        lambda g: _score(g, levels, floor), include_groups=False
    )
    by_year = common.groupby(["year", "model"], sort=False).apply(
        lambda g: _score(g, levels, floor), include_groups=False
    )
    return BacktestResult(scores.reset_index(), by_year.reset_index(), forecasts)


def _score(g: pd.DataFrame, levels: list[str], floor: float) -> pd.Series:
    a = g["revenue"].to_numpy()
    qs = {float(c[1:]) / 100: g[c].to_numpy() for c in levels}
    lo, hi = (
        g[level_column(0.1)] if "q10" in g else None,
        g[level_column(0.9)] if "q90" in g else None,
    )
    return pd.Series(
        {
            "rep_quarters": len(g),
            "wape": metrics.wape(a, g["q50"]),
            "mape": metrics.mape(a, g["q50"], floor),
            "pinball": metrics.scaled_pinball(a, qs),
            "coverage_p10_p90": metrics.coverage(a, lo, hi)
            if lo is not None and hi is not None
            else np.nan,
        }
    )

"""What every forecaster shares: the fit/predict interface, the forecast table, capacity scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from datasets import Company, load_company
from datasets.periods import QUARTER_LABEL, quarter_freq, quarter_index, quarter_label
from datasets.roster import fte_quarter_columns

from .panel import hire_quarters, make_panel, seasonal_index

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)


class ForecastError(ValueError):
    """A forecast that cannot be made as asked (quantile levels, periods, too little history)."""


def level_column(level: float) -> str:
    """``0.1`` -> ``"q10"``, ``0.975`` -> ``"q97.5"``."""
    return f"q{level * 100:g}"


def check_quantiles(quantiles) -> tuple[float, ...]:
    levels = tuple(sorted(float(q) for q in quantiles))
    if not levels or any(not 0 < q < 1 for q in levels) or len(set(levels)) != len(levels):
        raise ForecastError(
            f"quantiles must be distinct levels strictly between 0 and 1, got {quantiles!r}"
        )
    if 0.5 not in levels:
        raise ForecastError(
            f"quantiles must include 0.5 (the median is the point forecast), got {quantiles!r}"
        )
    return levels


class BaseForecaster(BaseEstimator):
    """A scikit-learn style forecaster of quarterly revenue per rep, with quantiles.

    ``fit(history, roster)`` learns from a history and roster (paths, DataFrames, or a
    :class:`datasets.Company` as ``history`` with no roster); ``predict(periods)`` returns the
    forecast table: ``rep_id``, ``period`` and one column per quantile level (``q10``, ``q50``,
    ``q90``), for every active roster rep, scaled by planned capacity (``fte_<quarter> / fte``)
    and zero before a rep's hire quarter. Quantiles never cross and are never negative.
    """

    def fit(self, history, roster=None):
        company = history if isinstance(history, Company) else load_company(history, roster)
        self.levels_ = check_quantiles(self.quantiles)
        self.company_ = company
        active = company.roster.loc[company.roster["active"], "rep_id"].to_numpy(dtype=object)
        self.panel_ = make_panel(company.history, extra_reps=active)
        roster = company.roster.set_index("rep_id")
        self.region_ = (
            roster["region"].reindex(self.panel_.reps).fillna("unassigned").to_numpy(dtype=object)
        )
        self.team_ = (
            roster["team"].reindex(self.panel_.reps).fillna("unassigned").to_numpy(dtype=object)
        )
        self.hire_q_ = hire_quarters(company.roster, self.panel_.reps, company.fiscal_year_start)
        self.season_ = seasonal_index(self.panel_, self.region_)
        self._fit()
        return self

    def _fit(self) -> None:
        """Learn from ``self.panel_`` and friends (set by :meth:`fit`)."""

    def _quantiles(self, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Quantiles at standing capacity: (len(rows), len(targets), n_levels); NaN = no forecast."""
        raise NotImplementedError

    def target_quarters(self, periods) -> np.ndarray:
        """Quarter indices from a year (its four quarters), a label, or a list of labels."""
        check_is_fitted(self, "panel_")
        if isinstance(periods, int | np.integer):
            labels = [f"{int(periods)}Q{k}" for k in range(1, 5)]
        else:
            labels = [periods] if isinstance(periods, str) else list(periods)
        bad = [p for p in labels if not QUARTER_LABEL.match(str(p))]
        if bad or not labels:
            raise ForecastError(
                f"periods must be a year or quarter labels like 2026Q1; got {bad or labels!r}"
            )
        q = quarter_index(np.asarray(labels, dtype=object))
        if (q <= self.panel_.last).any():
            raise ForecastError(
                f"forecast periods must come after the history, which ends {quarter_label(self.panel_.last)}"
            )
        return q

    def predict(self, periods) -> pd.DataFrame:
        """The forecast table for the active roster reps over ``periods`` (a year or quarter labels)."""
        targets = self.target_quarters(periods)
        roster = self.company_.roster
        active = roster.loc[roster["active"], "rep_id"].to_numpy(dtype=object)
        rows = pd.Index(self.panel_.reps).get_indexer(active)
        q = self._quantiles(rows, targets)
        on = roster.set_index("rep_id").loc[active]
        factor = capacity_factor(on, targets, self.hire_q_[rows])
        factor *= staying_share(on, targets, self.company_.fiscal_year_start)
        q = q * factor[:, :, None]
        q = np.sort(np.clip(q, 0.0, None), axis=2)  # no crossing (rearrangement), no negatives
        labels = quarter_label(targets)
        table = pd.DataFrame(
            {"rep_id": np.repeat(active, len(targets)), "period": np.tile(labels, len(active))}
        )
        for j, level in enumerate(self.levels_):
            table[level_column(level)] = q[:, :, j].ravel()
        table = table.dropna(subset=[level_column(lv) for lv in self.levels_])
        table["rep_id"] = table["rep_id"].astype("str")
        table["period"] = table["period"].astype("str")
        return table.reset_index(drop=True)


def staying_share(roster: pd.DataFrame, targets: np.ndarray, fiscal_year_start: int = 1):
    """Per rep and quarter, the share of the quarter the rep is still on the team: up to and
    including their ``leave_date``, their last day (1 where they stay, 0 after they leave)."""
    out = np.ones((len(roster), len(targets)))
    if "leave_date" not in roster:
        return out
    leave = roster["leave_date"].to_numpy("datetime64[ns]")
    freq = quarter_freq(fiscal_year_start)
    for j, label in enumerate(quarter_label(targets)):
        q = pd.Period(str(label), freq=freq)
        start, end = q.start_time.normalize(), q.end_time.normalize() + pd.Timedelta(days=1)
        days = (end - start).days
        before = (leave - np.datetime64(start)) / np.timedelta64(1, "D") + 1
        out[:, j] = np.where(np.isnat(leave), 1.0, np.clip(before / days, 0.0, 1.0))
    return out


def capacity_factor(roster: pd.DataFrame, targets: np.ndarray, hire_q: np.ndarray) -> np.ndarray:
    """Planned capacity relative to the standing capacity the history reflects, per rep and quarter.

    ``fte_<quarter> / fte`` where the roster plans a quarter (``fte`` 0 with a planned quarter:
    the history is taken as full time), 1 otherwise, and 0 for quarters before the hire quarter.
    """
    fte = roster["fte"].to_numpy(float)
    planned = fte_quarter_columns(roster.reset_index())
    out = np.ones((len(roster), len(targets)))
    for j, label in enumerate(quarter_label(targets)):
        col = planned.get(str(label))
        plan = roster[col].to_numpy(float) if col else np.full(len(roster), np.nan)
        ratio = np.where(fte > 0, plan / np.where(fte > 0, fte, 1.0), plan)
        out[:, j] = np.where(np.isnan(plan), np.where(fte > 0, 1.0, 0.0), ratio)
    out[targets[None, :] < np.nan_to_num(hire_q, nan=-np.inf)[:, None]] = 0.0
    return out

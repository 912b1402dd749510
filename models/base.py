"""What every forecaster shares: the fit/predict interface, the forecast table, capacity scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from datasets import Company, load_company
from datasets.periods import QUARTER_LABEL, quarter_freq, quarter_index, quarter_label
from datasets.roster import fte_quarter_columns

from .panel import make_panel, seasonal_index
from .ramp import start_months

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
    ``q90``) and ``basis`` (where the number came from, in words), for every active roster rep,
    scaled by planned capacity (``fte_<quarter> / fte``) and zero before a rep's start. Quantiles
    never cross and are never negative.
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
        self.start_ = start_months(company.roster, self.panel_.reps, company.fiscal_year_start)
        self.hire_q_ = np.floor(self.start_ / 3)
        self.season_ = seasonal_index(self.panel_, self.region_)
        # Leave and part-time spells the roster records for past quarters (fte_<quarter>).
        known = roster.reindex(self.panel_.reps)
        known["fte"] = known["fte"].fillna(1.0)
        ratio = fte_ratio(known, self.panel_.quarters)
        self.recorded_capacity_ = np.where(np.isnan(ratio), 1.0, ratio)
        # ... and the share of a leaver's last quarter they were still there (leave_date).
        self.recorded_capacity_ *= staying_share(
            known, self.panel_.quarters, company.fiscal_year_start
        )
        self._fit()
        return self

    def _fit(self) -> None:
        """Learn from ``self.panel_`` and friends (set by :meth:`fit`)."""

    def _quantiles(self, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Quantiles at standing capacity: (len(rows), len(targets), n_levels); NaN = no forecast."""
        raise NotImplementedError

    def _basis(self, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Where each forecast came from, in words: (len(rows), len(targets)) text."""
        has = ~np.all(np.isnan(self.panel_.revenue[rows]), axis=1)
        text = np.where(has, f"own history ({type(self).__name__})", "no history: no forecast")
        return np.repeat(text[:, None], len(targets), axis=1).astype(object)

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

    def remaining_quarters(self, year: int | None = None) -> list[str]:
        """The quarters of ``year`` that come after the history (all four for a year after it);
        default year: the year after the last complete year (:meth:`datasets.Company.plan_year`)."""
        check_is_fitted(self, "panel_")
        if year is None:
            year = self.company_.plan_year()[0]
        left = [f"{int(year)}Q{k}" for k in range(1, 5)]
        left = [p for p in left if quarter_index(np.array([p]))[0] > self.panel_.last]
        if not left:
            raise ForecastError(
                f"{year} is inside the history, which ends {quarter_label(self.panel_.last)}: "
                "forecast a later year"
            )
        return left

    def predict(self, periods) -> pd.DataFrame:
        """The forecast table for the active roster reps over ``periods`` (a year or quarter labels)."""
        targets = self.target_quarters(periods)
        roster = self.company_.roster
        active = roster.loc[roster["active"], "rep_id"].to_numpy(dtype=object)
        rows = pd.Index(self.panel_.reps).get_indexer(active)
        q = self._quantiles(rows, targets)
        on = roster.set_index("rep_id").loc[active]
        planned = capacity_factor(on, targets, self.hire_q_[rows])
        staying = staying_share(on, targets, self.company_.fiscal_year_start)
        q = q * (planned * staying)[:, :, None]
        q = np.sort(np.clip(q, 0.0, None), axis=2)  # no crossing (rearrangement), no negatives
        labels = quarter_label(targets)
        table = pd.DataFrame(
            {"rep_id": np.repeat(active, len(targets)), "period": np.tile(labels, len(active))}
        )
        for j, level in enumerate(self.levels_):
            table[level_column(level)] = q[:, :, j].ravel()
        basis = self._basis(rows, targets)
        ratio = fte_ratio(on, targets)
        leave = on["leave_date"] if "leave_date" in on else pd.Series(pd.NaT, index=on.index)
        for i, j in zip(*np.nonzero(~np.isnan(ratio) & (np.abs(ratio - 1) > 1e-9)), strict=True):
            basis[i, j] += f" x planned capacity {ratio[i, j]:.0%}"
        for i, j in zip(*np.nonzero(staying < 1), strict=True):
            day = f"{pd.Timestamp(leave.iloc[i]):%Y-%m-%d}"
            basis[i, j] = (
                f"after the last day on the team ({day})"
                if staying[i, j] <= 0
                else f"{basis[i, j]} x {staying[i, j]:.0%} of the quarter (last day {day})"
            )
        table["basis"] = basis.ravel()
        table["fiscal_year_start"] = int(self.company_.fiscal_year_start)
        table = table.dropna(subset=[level_column(lv) for lv in self.levels_])
        for col in ("rep_id", "period", "basis"):
            table[col] = table[col].astype("str")
        return table.reset_index(drop=True)


def fte_ratio(roster: pd.DataFrame, quarters: np.ndarray) -> np.ndarray:
    """``fte_<quarter> / fte`` per rep (rows of ``roster``, indexed by rep) and quarter where
    the roster has the quarter's column and a value (``fte`` 0: the value itself), NaN
    elsewhere."""
    fte = roster["fte"].to_numpy(float)
    columns = fte_quarter_columns(roster.reset_index())
    out = np.full((len(roster), len(quarters)), np.nan)
    for j, label in enumerate(np.atleast_1d(quarter_label(np.asarray(quarters)))):
        col = columns.get(str(label))
        if col:
            plan = roster[col].to_numpy(float)
            out[:, j] = np.where(fte > 0, plan / np.where(fte > 0, fte, 1.0), plan)
    return out


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
    the history is taken as full time), 1 otherwise (0 for ``fte`` 0), and 0 for quarters before
    the hire quarter.
    """
    fte = roster["fte"].to_numpy(float)
    ratio = fte_ratio(roster, targets)
    out = np.where(np.isnan(ratio), np.where(fte > 0, 1.0, 0.0)[:, None], ratio)
    out[targets[None, :] < np.nan_to_num(hire_q, nan=-np.inf)[:, None]] = 0.0
    return out

"""Simple forecasts that the learned model has to beat, behind the same interface.

Each makes a point forecast by a rule; its quantiles come from how far that rule missed on the
last year of the training history (the weighted quantiles of actual / forecast, a year ahead),
so the baselines are scored on pinball loss and coverage on equal terms.
"""

from __future__ import annotations

import warnings

import numpy as np

from .base import DEFAULT_QUANTILES, BaseForecaster
from .metrics import weighted_quantiles


def _same_quarter_last_year(revenue: np.ndarray, origin: int, cols: np.ndarray) -> np.ndarray:
    """For each target column, the latest column at or before ``origin`` in the same quarter of year."""
    back = 4 * np.ceil((cols - origin) / 4).astype(int)
    src = cols - back
    out = np.full((revenue.shape[0], len(cols)), np.nan)
    ok = src >= 0
    out[:, ok] = revenue[:, src[ok]]
    return out


class _RuleForecaster(BaseForecaster):
    def __init__(self, quantiles=DEFAULT_QUANTILES):
        self.quantiles = quantiles

    def _point(self, revenue: np.ndarray, origin: int, cols: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit(self) -> None:
        R = self.panel_.revenue
        origin = R.shape[1] - 1 - 4  # a year before the end: score the rule on the last year
        ratios = np.ones(len(self.levels_))
        if origin >= 0:
            cols = np.arange(origin + 1, R.shape[1])
            point = self._point(R[:, : origin + 1], origin, cols)
            actual = R[:, cols]
            ok = ~np.isnan(point) & ~np.isnan(actual) & (point > 0)
            if ok.sum() >= 10:
                ratios = weighted_quantiles(actual[ok] / point[ok], point[ok], self.levels_)
        self.ratio_quantiles_ = ratios

    def _quantiles(self, rows, targets):
        cols = targets - self.panel_.first
        point = self._point(self.panel_.revenue, self.panel_.revenue.shape[1] - 1, cols)[rows]
        return point[:, :, None] * self.ratio_quantiles_[None, None, :]


class SeasonalNaive(_RuleForecaster):
    """Each quarter as the same quarter last year."""

    def _point(self, revenue, origin, cols):
        return _same_quarter_last_year(revenue, origin, cols)


class TrailingMean(_RuleForecaster):
    """The mean of the last four quarters (deseasonalised), times the target quarter's seasonal index."""

    def _point(self, revenue, origin, cols):
        season = self.season_  # per rep (region-shrunk) index, Q1..Q4
        first = self.panel_.first
        window = np.arange(max(0, origin - 3), origin + 1)
        deseason = revenue[:, window] / season[:, (first + window) % 4]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reps with no recent quarter
            level = np.nanmean(deseason, axis=1)
        return level[:, None] * season[:, (first + cols) % 4]


class LastYearPlusGrowth(_RuleForecaster):
    """The same quarter last year, times the company's growth over the last four quarters."""

    def _point(self, revenue, origin, cols):
        totals = np.nansum(revenue[:, : origin + 1], axis=0)
        growth = (
            totals[origin - 3 : origin + 1].sum() / totals[origin - 7 : origin - 3].sum()
            if origin >= 7
            else 1.0
        )
        return _same_quarter_last_year(revenue, origin, cols) * growth


BASELINES = {
    "seasonal-naive": SeasonalNaive,
    "trailing-mean": TrailingMean,
    "last-year-plus-growth": LastYearPlusGrowth,
}

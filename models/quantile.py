"""The learned forecaster: pooled quantile gradient boosting on scale-free features.

Every rep's history is put on one scale before learning: deseasonalised (region-shrunk seasonal
index), bluebird quarters replaced by their neighbours' median, ramp-up quarters divided by the
learned ramp share. A rep's *level* at a forecast origin is the mean of their last four such
quarters (their team's median level if they have none yet). The model learns the ratio of a
future quarter's revenue to that level, one gradient-boosting model per quantile, from every
rep and origin in the history, weighted by level so that it minimises money-weighted loss.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from datasets.periods import quarter_label

from .base import DEFAULT_QUANTILES, BaseForecaster, ForecastError
from .metrics import weighted_quantiles
from .panel import find_outliers, learn_ramp, ramp_share

FEATURES = [
    "horizon",
    "quarter_of_year",
    "season_target",
    "ramp_target",
    "tenure_target",
    "own_level",
    "log_relative_level",
    "n_recent",
    "zero_share",
    "outliers_recent",
    "trend",
    *[f"lag{j}" for j in range(1, 9)],
]


class QuantileForecaster(BaseForecaster):
    """Quantile gradient boosting over reps' normalised histories.

    Parameters
    ----------
    quantiles : levels to forecast; must include 0.5.
    max_horizon : furthest quarter ahead learned (further targets reuse it).
    n_origins : how many of the latest forecast origins in the history to learn from.
    outlier_threshold : a quarter above this multiple of its neighbours' median is a bluebird.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization : passed to
        :class:`sklearn.ensemble.HistGradientBoostingRegressor`.
    max_train_rows : training examples above this are subsampled (seeded) to bound fit time.
    calibrate : shift each quantile by its out-of-sample miss on the history's last year
        (see ``_calibrate``); costs a second fit.
    random_state : seed for the subsample.

    Attributes
    ----------
    ramp_curve_ : share of full productivity by quarters since hire, learned from past hires.
    outliers_ : the bluebird quarters found and what they were treated as.
    models_ : the fitted regressor per quantile level.
    calibration_ : the shift added to each level's predicted ratio (0 without calibration).
    """

    def __init__(
        self,
        quantiles=DEFAULT_QUANTILES,
        *,
        max_horizon: int = 4,
        n_origins: int = 8,
        outlier_threshold: float = 3.0,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 50,
        l2_regularization: float = 1.0,
        max_train_rows: int = 200_000,
        calibrate: bool = True,
        random_state: int | None = 0,
    ):
        self.quantiles = quantiles
        self.max_horizon = max_horizon
        self.n_origins = n_origins
        self.outlier_threshold = outlier_threshold
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_train_rows = max_train_rows
        self.calibrate = calibrate
        self.random_state = random_state

    # --- preparing the history ------------------------------------------------------------------
    def _prepare(self) -> None:
        P = self.panel_
        cols = P.first + np.arange(P.revenue.shape[1])
        season_at = self.season_[:, cols % 4]
        # A season with no sales at all (a company that booked nothing) deseasonalises to 0.
        d = np.divide(P.revenue, season_at, out=np.zeros_like(P.revenue), where=season_at > 0)
        mask, ref = find_outliers(d, self.outlier_threshold)
        r, c = np.nonzero(mask)
        self.outliers_ = pd.DataFrame(
            {
                "rep_id": P.reps[r].astype(str),
                "period": quarter_label(cols[c]) if len(c) else np.array([], dtype=str),
                "revenue": P.revenue[r, c],
                "treated_as": ref[r, c] * season_at[r, c],
            }
        )
        d = np.where(mask, ref, d)
        self.ramp_curve_ = learn_ramp(d, self.hire_q_, P.first)
        ramp = ramp_share(self.ramp_curve_, cols[None, :] - self.hire_q_[:, None])
        # Quarters early in the ramp say little about the mature level: leave them out of it.
        self._adjusted = np.where(ramp >= 0.3, d / np.maximum(ramp, 0.3), np.nan)
        self._clean = d
        self._outlier_mask = mask

    def _level(self, origin: int) -> tuple[np.ndarray, np.ndarray]:
        """Each rep's level at an origin column, and whether it is their own (else team median)."""
        a = self._adjusted
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            level = np.nanmean(a[:, max(0, origin - 3) : origin + 1], axis=1)
            older = np.nanmean(a[:, max(0, origin - 7) : origin + 1], axis=1)
        level = np.where(np.isnan(level), older, level)
        own = ~np.isnan(level) & (level > 0)
        fallback = pd.Series(level[own]).groupby(self.team_[own]).median()
        company = np.median(level[own]) if own.any() else 1.0
        team_level = pd.Series(self.team_).map(fallback).fillna(company).to_numpy(float)
        return np.where(own, level, team_level), own

    def _features(
        self, origin: int, targets: np.ndarray, rows: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Features of ``rows`` at an origin column for target quarters; and their levels."""
        P = self.panel_
        level, own = self._level(origin)
        level, own = level[rows], own[rows]
        lags = np.full((len(rows), 8), np.nan)
        for j in range(8):
            c = origin - j
            if c >= 0:
                lags[:, j] = self._adjusted[rows, c] / level
        recent = self._clean[rows, max(0, origin - 7) : origin + 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            n_recent = np.sum(~np.isnan(recent), axis=1)
            zero_share = np.where(
                n_recent > 0, np.nansum(recent == 0, axis=1) / np.maximum(n_recent, 1), np.nan
            )
            trend = np.nanmean(lags[:, :4], axis=1) / np.nanmean(lags[:, 4:], axis=1) - 1
        outliers_recent = self._outlier_mask[rows, max(0, origin - 7) : origin + 1].sum(axis=1)
        rel = (
            np.log(np.maximum(level, 1e-9) / np.median(level[level > 0]))
            if (level > 0).any()
            else np.zeros(len(rows))
        )
        frames = []
        origin_q = P.first + origin
        for t in targets:
            k = t - self.hire_q_[rows]
            frames.append(
                pd.DataFrame(
                    {
                        "horizon": np.full(len(rows), min(t - origin_q, self.max_horizon)),
                        "quarter_of_year": np.full(len(rows), t % 4),
                        "season_target": self.season_[rows, t % 4],
                        "ramp_target": ramp_share(self.ramp_curve_, k),
                        "tenure_target": np.clip(k, -4, 40),
                        "own_level": own.astype(float),
                        "log_relative_level": rel,
                        "n_recent": n_recent,
                        "zero_share": zero_share,
                        "outliers_recent": outliers_recent,
                        "trend": trend,
                        **{f"lag{j + 1}": lags[:, j] for j in range(8)},
                    }
                )
            )
        return pd.concat(frames, ignore_index=True), np.tile(level, len(targets))

    # --- fitting and predicting -------------------------------------------------------------------
    def _fit(self) -> None:
        self._prepare()
        X, y, w, origin = self._training_set()
        if len(y) == 0:
            raise ForecastError(
                "the history is too short to learn from: give at least two quarters"
            )
        self.calibration_ = self._calibrate(X, y, w, origin)
        self.models_ = self._train(X, y, w)
        self.n_train_rows_ = min(len(y), self.max_train_rows)

    def _training_set(self):
        """Features, target ratios, levels and origins of every (rep, origin, target) example."""
        P = self.panel_
        T = P.revenue.shape[1]
        X_parts, y_parts, w_parts, o_parts = [], [], [], []
        first_origin = max(0, T - 1 - self.max_horizon - self.n_origins + 1)
        for origin in range(first_origin, T - 1):
            targets_c = np.arange(origin + 1, min(T, origin + 1 + self.max_horizon))
            actual = P.revenue[:, targets_c]
            # Learn from reps on the books at the target; new hires only if their hire is known.
            has_past = ~np.all(np.isnan(P.revenue[:, : origin + 1]), axis=1)
            eligible = has_past | ~np.isnan(self.hire_q_)
            rows = np.flatnonzero(eligible & ~np.all(np.isnan(actual), axis=1))
            if len(rows) == 0:
                continue
            X, level = self._features(origin, P.first + targets_c, rows)
            y = actual[rows].T.ravel() / np.maximum(level, 1e-9)
            keep = ~np.isnan(y) & (level > 0)
            X_parts.append(X[keep])
            y_parts.append(y[keep])
            w_parts.append(level[keep])
            o_parts.append(np.full(keep.sum(), origin))
        if not X_parts:
            return pd.DataFrame(columns=FEATURES), np.empty(0), np.empty(0), np.empty(0, int)
        X = _finite(pd.concat(X_parts, ignore_index=True)[FEATURES])
        return X, np.concatenate(y_parts), np.concatenate(w_parts), np.concatenate(o_parts)

    def _train(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
        # Money weighting by resampling in proportion to level: the same loss in expectation as
        # sample_weight, which makes scikit-learn's quantile loss far slower (a weighted
        # percentile per leaf). It also bounds the training set at max_train_rows.
        n = min(len(y), self.max_train_rows)
        pick = np.random.default_rng(self.random_state).choice(
            len(y), n, replace=True, p=w / w.sum()
        )
        X, y = X[pick], y[pick]
        # scikit-learn cannot bin a feature that is entirely missing (e.g. no hire dates at all).
        self.empty_features_ = np.all(np.isnan(X), axis=0)
        X = np.where(self.empty_features_[None, :], 0.0, X)
        models = {}
        for level in self.levels_:
            model = HistGradientBoostingRegressor(
                loss="quantile",
                quantile=level,
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                early_stopping=False,
                random_state=self.random_state,
            )
            models[level] = model.fit(X, y)
        return models

    def _predict_ratios(self, models: dict, X: np.ndarray) -> np.ndarray:
        X = np.where(self.empty_features_[None, :], 0.0, X)
        return np.stack([models[lv].predict(X) for lv in self.levels_], axis=1)

    def _calibrate(self, X, y, w, origin) -> dict[float, float]:
        """Shift per level so that each quantile is hit at its rate a year out of sample.

        Models fitted on the origins whose targets end before the history's last year forecast
        that year from its start; each level is moved by the money-weighted quantile of its
        misses there (conformalised quantile regression, one-sided per level). Without enough
        history for this, no shift.
        """
        zero = dict.fromkeys(self.levels_, 0.0)
        if not self.calibrate:
            return zero
        cal_origin = self.panel_.revenue.shape[1] - 1 - self.max_horizon
        cal = origin == cal_origin
        fit_rows = origin + self.max_horizon <= cal_origin
        if cal.sum() < 30 or fit_rows.sum() < 100:
            return zero
        models = self._train(X[fit_rows], y[fit_rows], w[fit_rows])
        pred = self._predict_ratios(models, X[cal])
        return {
            lv: float(weighted_quantiles(y[cal] - pred[:, j], w[cal], [lv])[0])
            for j, lv in enumerate(self.levels_)
        }

    def _quantiles(self, rows, targets):
        origin = self.panel_.revenue.shape[1] - 1
        X, level = self._features(origin, targets, rows)
        ratios = self._predict_ratios(self.models_, _finite(X[FEATURES]))
        ratios += np.array([self.calibration_[lv] for lv in self.levels_])[None, :]
        out = ratios * level[:, None]
        # (targets x reps, levels) -> (reps, targets, levels)
        return out.reshape(len(targets), len(rows), len(self.levels_)).transpose(1, 0, 2)


def _finite(X: pd.DataFrame) -> np.ndarray:
    """Features as a float matrix with infinities (ratios to a zero level) as missing."""
    out = X.to_numpy(float)
    out[np.isinf(out)] = np.nan
    return out


def forecast_year(company, year: int | None = None, *, quantiles=DEFAULT_QUANTILES, seed: int = 0):
    """The quantile forecast of every active rep's quarters in ``year`` (default: the year after
    the history), from a fitted :class:`QuantileForecaster` on ``company``."""
    if year is None:
        year = int(company.history["period"].max()[:4]) + 1
    model = QuantileForecaster(tuple(sorted(quantiles)), random_state=seed)
    return model.fit(company).predict(year)

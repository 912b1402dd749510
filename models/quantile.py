"""The learned forecaster: a level per rep from their own history (and their team's where that
is thin), and quantile gradient boosting of what happens next relative to it.

Every rep's history is put on one scale first: deseasonalised (region-shrunk seasonal index),
bluebird quarters replaced by their neighbours' median. A rep's *level* at a forecast origin is
the recency-weighted ratio estimate of ``models.levels``: their revenue over their exposure (0
before the start, ramping after it, the ramp learned from past hires), shrunk towards the team
median by how little of it there is, so a hire's first partial quarters count for what they are
worth. The *base* of a future quarter is level x exposure x seasonal index x growth. One
gradient-boosting model per quantile learns the ratio of the quarter's revenue to its base, from
every rep and origin in the history, money-weighted; each level but the median is then shifted
by its out-of-sample miss on the history's last held-out quarters (conformalised quantile
regression) and, where the history is too short to hold a year out, widened for the horizons it
could not check.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from datasets.periods import quarter_label

from .base import DEFAULT_QUANTILES, BaseForecaster, ForecastError
from .basis import basis_words
from .levels import LOW_EXPOSURE, LevelModel
from .metrics import weighted_quantiles
from .panel import find_outliers
from .ramp import RAMP_GRID, exposure, learn_ramp

FEATURES = [
    "horizon",
    "quarter_of_year",
    "season_target",
    "exposure_target",
    "tenure_target",
    "evidence",
    "own_share",
    "fast_start",
    "log_relative_level",
    "n_recent",
    "zero_share",
    "outliers_recent",
    "trend_short",
    "trend_long",
    *[f"lag{j}" for j in range(1, 9)],
]

#: Rows of calibration (held-out) examples and of fitting examples a calibration needs.
MIN_CALIBRATION_ROWS, MIN_FIT_ROWS = 30, 100
#: How much of the learned median's correction to the base may be kept (chosen out of sample).
BLEND_GRID = np.linspace(0.0, 1.0, 11)


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
    calibrate : shift each quantile but the median by its out-of-sample miss on the history's
        last held-out quarters, and keep as much of the learned median's correction to the base
        as helped there (see ``_calibrate``); costs a second fit.
    n_threads : OpenMP threads per gradient-boosting fit (None: scikit-learn's default, every
        core). One by default: these fits are small, and on a busy machine more threads spin
        against each other (a backtest of a 200-rep company took 280-570 s with the default
        threads at load 9 on 2 cores, 21 s with one).
    random_state : seed for the subsample.

    Attributes
    ----------
    ramp_ : the distribution of ramp lengths (:class:`models.ramp.RampPrior`), learned from
        past hires or the default; ``ramp_.describe()`` says which.
    level_model_ : the level model (:class:`models.levels.LevelModel`: half-life and growth
        chosen from the history, shrinkage, noise).
    outliers_ : the bluebird quarters found and what they were treated as.
    models_ : the fitted regressor per quantile level.
    calibration_ : per level, the shift added to the predicted ratio (0 without calibration).
    median_ratio_, median_blend_ : the P50 is the base x ``median_ratio_ + median_blend_ *
        (learned ratio - median_ratio_)``: the money-weighted median ratio of revenue to base
        over the training examples, plus the share of the learned correction that lowered the
        held-out quarters' absolute error (1 where nothing could be held out).
    calibration_horizon_ : quarters ahead the calibration could check (0: none).
    widen_ : factor on the distance of each quantile from the median, per horizon 1..4 (1 where
        the calibration checked that horizon; more where the history was too short to).
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
        n_threads: int | None = 1,
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
        self.n_threads = n_threads
        self.random_state = random_state

    # --- preparing the history ------------------------------------------------------------------
    def _prepare(self) -> None:
        P = self.panel_
        cols = P.first + np.arange(P.revenue.shape[1])
        season_at = self.season_[:, cols % 4]
        # A season with no sales at all (a company that booked nothing) deseasonalises to 0.
        d = np.divide(P.revenue, season_at, out=np.zeros_like(P.revenue), where=season_at > 0)
        # Exposure at the fastest ramp of the grid: a quarter is a bluebird only if it stands
        # out even as a fast starter's (the ramp itself is learned after this cleaning).
        upper = exposure(self.start_, cols, RAMP_GRID[0], self.company_.month_shape)
        mask, ref = find_outliers(
            d, self.outlier_threshold, exposure=upper * self.recorded_capacity_
        )
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
        shape = self.company_.month_shape
        self.ramp_ = learn_ramp(d, self.start_, P.first, shape)
        self.level_model_ = LevelModel(
            d, self.start_, P.first, self.team_, self.ramp_, shape, self.recorded_capacity_
        )
        self.level_choice_ = self.level_model_.fit_half_life()
        self._clean = d
        self._outlier_mask = mask

    def _features(self, origin: int, targets: np.ndarray, rows: np.ndarray):
        """Features of ``rows`` at an origin column for target quarters, and each example's
        base (level x exposure x seasonal index x growth)."""
        P, L = self.panel_, self.level_model_
        st = L.at(origin, targets, rows)
        level = st.level
        values, observed = L.values[rows], L.observed[rows]
        e_hist = (L._e_hist[rows] * L.ramp.weights[None, None, :]).sum(axis=2)
        lags = np.full((len(rows), 8), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            for j in range(8):
                c = origin - j
                if c >= 0:
                    ok = observed[:, c] & (e_hist[:, c] >= LOW_EXPOSURE) & (level > 0)
                    lags[ok, j] = values[ok, c] / (level[ok] * e_hist[ok, c])
        window = slice(max(0, origin - 7), origin + 1)
        recent = np.where(observed[:, window], values[:, window], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            n_recent = np.sum(~np.isnan(recent), axis=1)
            zero_share = np.where(
                n_recent > 0, np.nansum(recent == 0, axis=1) / np.maximum(n_recent, 1), np.nan
            )
        outliers_recent = self._outlier_mask[rows, window].sum(axis=1)
        positive = level[level > 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.log(np.maximum(level, 1e-9) / np.median(positive)) if len(positive) else 0
            trend_short = st.short / level - 1
            trend_long = st.long / level - 1
        origin_q = P.first + origin
        g = L.growth
        frames, bases = [], []
        for j, t in enumerate(targets):
            h = t - origin_q
            tenure = (3 * t + 1.5 - L.start[rows]) / 3
            frames.append(
                pd.DataFrame(
                    {
                        "horizon": np.full(len(rows), min(h, self.max_horizon)),
                        "quarter_of_year": np.full(len(rows), t % 4),
                        "season_target": self.season_[rows, t % 4],
                        "exposure_target": st.exposure[:, j],
                        "tenure_target": np.clip(tenure, -4, 40),
                        "evidence": st.evidence,
                        "own_share": st.own_share,
                        "fast_start": st.fast,
                        "log_relative_level": rel,
                        "n_recent": n_recent,
                        "zero_share": zero_share,
                        "outliers_recent": outliers_recent,
                        "trend_short": trend_short,
                        "trend_long": trend_long,
                        **{f"lag{k + 1}": lags[:, k] for k in range(8)},
                    }
                )
            )
            bases.append(level * st.exposure[:, j] * self.season_[rows, t % 4] * g**h)
        return pd.concat(frames, ignore_index=True), np.concatenate(bases)

    # --- fitting and predicting -------------------------------------------------------------------
    def _fit(self) -> None:
        self._prepare()
        X, y, w, origin, target = self._training_set()
        if len(y) == 0:
            raise ForecastError(
                "the history is too short to learn from: give at least two quarters"
            )
        with threadpool_limits(self.n_threads, user_api="openmp"):
            self.calibration_, self.calibration_horizon_, self.median_blend_ = self._calibrate(
                X, y, w, origin, target
            )
            self.widen_ = self._widening()
            self.models_ = self._train(X, y, w)
        self.median_ratio_ = float(weighted_quantiles(y, w, [0.5])[0])
        self.n_train_rows_ = min(len(y), self.max_train_rows)

    def _training_set(self):
        """Features, target ratios, bases, origins and target columns of every (rep, origin,
        target) example."""
        P = self.panel_
        T = P.revenue.shape[1]
        X_parts, y_parts, w_parts, o_parts, t_parts = [], [], [], [], []
        first_origin = max(0, T - 1 - self.max_horizon - self.n_origins + 1)
        for origin in range(first_origin, T - 1):
            targets_c = np.arange(origin + 1, min(T, origin + 1 + self.max_horizon))
            actual = P.revenue[:, targets_c]
            # Learn from reps on the books at the target with a past or a known start.
            has_past = self.level_model_.observed[:, : origin + 1].any(axis=1)
            eligible = has_past | np.isfinite(self.level_model_.start)
            rows = np.flatnonzero(eligible & ~np.all(np.isnan(actual), axis=1))
            if len(rows) == 0:
                continue
            X, base = self._features(origin, P.first + targets_c, rows)
            y = actual[rows].T.ravel() / np.maximum(base, 1e-9)
            keep = ~np.isnan(y) & (base > 0)
            X_parts.append(X[keep])
            y_parts.append(y[keep])
            w_parts.append(base[keep])
            o_parts.append(np.full(keep.sum(), origin))
            t_parts.append(np.repeat(targets_c, len(rows))[keep])
        if not X_parts:
            empty = np.empty(0)
            return pd.DataFrame(columns=FEATURES), empty, empty, empty.astype(int), empty
        X = _finite(pd.concat(X_parts, ignore_index=True)[FEATURES])
        return (
            X,
            np.concatenate(y_parts),
            np.concatenate(w_parts),
            np.concatenate(o_parts),
            np.concatenate(t_parts),
        )

    def _train(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
        # Money weighting by resampling in proportion to the base: the same loss in expectation
        # as sample_weight, which makes scikit-learn's quantile loss far slower (a weighted
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
                min_samples_leaf=min(self.min_samples_leaf, max(5, n // 20)),
                l2_regularization=self.l2_regularization,
                early_stopping=False,
                random_state=self.random_state,
            )
            models[level] = model.fit(X, y)
        return models

    def _predict_ratios(self, models: dict, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:  # no rep to forecast with the learned part (e.g. new hires only)
            return np.zeros((0, len(self.levels_)))
        X = np.where(self.empty_features_[None, :], 0.0, X)
        return np.stack([models[lv].predict(X) for lv in self.levels_], axis=1)

    def _calibrate(self, X, y, w, origin, target) -> tuple[dict[float, float], int, float]:
        """Shift per level so that each quantile is hit at its rate out of sample, and how much
        of the learned median's correction to the base to keep.

        Models fitted on the examples whose targets come before a held-out origin forecast the
        quarters after it; each level is moved by the money-weighted quantile of its misses
        there (conformalised quantile regression, one-sided per level). The held-out origin is
        a year before the history ends where the history allows, else as far back as leaves
        enough examples on both sides (the horizons checked are returned). Without enough
        history for any, no shift.

        The median is not shifted: it is the base times the training examples' median ratio
        plus a share of the learned correction to it, the share (of :data:`BLEND_GRID`) with the
        least money-weighted absolute error on the held-out quarters. A rep-quarter's revenue is
        noisy, and a correction learned from few reps can add more noise than it takes away;
        out of sample says which (1, all of it, without a check).
        """
        zero = dict.fromkeys(self.levels_, 0.0)
        if not self.calibrate:
            return zero, 0, 1.0
        T = self.panel_.revenue.shape[1]
        for h in range(self.max_horizon, 0, -1):
            cal_origin = T - 1 - h
            cal = origin == cal_origin
            fit_rows = target <= cal_origin
            if cal.sum() >= MIN_CALIBRATION_ROWS and fit_rows.sum() >= MIN_FIT_ROWS:
                break
        else:
            return zero, 0, 1.0
        models = self._train(X[fit_rows], y[fit_rows], w[fit_rows])
        pred = self._predict_ratios(models, X[cal])
        shifts = {
            lv: 0.0
            if lv == 0.5
            else float(weighted_quantiles(y[cal] - pred[:, j], w[cal], [lv])[0])
            for j, lv in enumerate(self.levels_)
        }
        mid = pred[:, self.levels_.index(0.5)]
        c = float(weighted_quantiles(y[fit_rows], w[fit_rows], [0.5])[0])
        errors = [np.sum(w[cal] * np.abs(y[cal] - (c + b * (mid - c)))) for b in BLEND_GRID]
        return shifts, h, float(BLEND_GRID[int(np.argmin(errors))])

    def _widening(self) -> np.ndarray:
        """Per horizon 1..max_horizon, how much to stretch each quantile's distance from the
        median: 1 for horizons the calibration checked; beyond them, spread grows like the
        square root of the horizon (a random walk of the level); with no check at all, twice
        that (the intervals are then a guess and said to be)."""
        h = np.arange(1, self.max_horizon + 1, dtype=float)
        checked = self.calibration_horizon_
        if checked == 0:
            return 2.0 * np.sqrt(h)
        return np.sqrt(np.maximum(h / checked, 1.0))

    def _quantiles(self, rows, targets):
        origin = self.panel_.revenue.shape[1] - 1
        X, base = self._features(origin, targets, rows)
        with threadpool_limits(self.n_threads, user_api="openmp"):
            ratios = self._predict_ratios(self.models_, _finite(X[FEATURES]))
        ratios += np.array([self.calibration_[lv] for lv in self.levels_])[None, :]
        horizon = np.clip(np.repeat(targets - self.panel_.last, len(rows)), 1, self.max_horizon)
        mid = self.levels_.index(0.5)
        stretch = self.widen_[horizon - 1][:, None]
        ratios = ratios[:, [mid]] + (ratios - ratios[:, [mid]]) * stretch
        c = self.median_ratio_
        ratios[:, mid] = c + self.median_blend_ * (ratios[:, mid] - c)
        out = np.clip(ratios, 0.0, None) * base[:, None]
        # (targets x reps, levels) -> (reps, targets, levels)
        return out.reshape(len(targets), len(rows), len(self.levels_)).transpose(1, 0, 2)

    def _basis(self, rows, targets):
        """Where each rep-quarter's forecast came from (see :func:`basis_words`)."""
        origin = self.panel_.revenue.shape[1] - 1
        st = self.level_model_.at(origin, targets, rows)
        roster = self.company_.roster.set_index("rep_id")["hire_date"]
        hired = roster.reindex(self.panel_.reps[rows])
        lm = self.level_model_
        # Started within the history's last year (start months: 3 x the quarter index).
        recent = lm.start[rows] > 3.0 * (lm.first + origin + 1) - 12
        return basis_words(
            has_history=self.level_model_.observed[rows].any(axis=1),
            hire_date=hired.to_numpy(),
            inferred=self.level_model_.inferred_start[rows],
            own_share=st.own_share,
            exposure=st.exposure,
            recent=recent,
        )


def _finite(X: pd.DataFrame) -> np.ndarray:
    """Features as a float matrix with infinities (ratios to a zero level) as missing."""
    out = X.to_numpy(float)
    out[np.isinf(out)] = np.nan
    return out

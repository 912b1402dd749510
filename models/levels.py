"""A rep's level: what they sell in a full quarter at full productivity, from their own history
where there is some and from their team where there is little or none.

At a forecast origin, a rep's level is a ratio estimate over their past quarters, shrunk
towards their team's median level by how little evidence is behind it:

    own = sum_q w_q * g^(o-q) * d_q / sum_q w_q * e_q
    level = s * own + (1 - s) * team,   s = n / (n + k),

with ``d_q`` the deseasonalised, bluebird-cleaned revenue, ``e_q`` the quarter's exposure (the
share of a full quarter the rep could sell: 0 before the start, ramping after it, less on
recorded leave), ``w_q = 2^-((o - q) / half_life)`` recency weights, ``g`` the company's
quarterly growth, ``n`` the effective number of full quarters behind ``own`` (Kish:
``(sum w e)^2 / sum w^2 e``) and ``k`` the prior's weight in full quarters (empirical Bayes:
the squared noise of a quarter over the squared spread of levels within a team). A rep with a year of history is their own
history; a hire's first, partial quarters count for what they are worth (a month in, the team
median still weighs; a fast start shows), and a rep with no history is the team median.

For a rep who is still ramping (or whose first quarters are in the window), the ramp length is
not known: each length of :data:`models.ramp.RAMP_GRID` gives a level and a likelihood of the
rep's first quarters, and the posterior over lengths (prior: the ramp learned from past hires)
weighs both the level and the exposure of the quarters to come. A hire who books a full quarter
in their first month is read as a fast starter, not divided by a five-month ramp.

The half-life comes from how a rep's quarters drift apart with time (a variogram fitted as a
local level under noise, whose Kalman filter is an exponential weighting), so a company whose
reps' levels wander uses its recent quarters and a steady one averages more of them. The
company's growth of a rep's level is measured on the history and carried forward.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ramp import RAMP_GRID, RampPrior, exposure

#: Half-lives (quarters) the level's recency weights may take; the data chooses among them.
HALF_LIVES = (2.0, 4.0, 8.0, 16.0, 64.0)
#: A quarter whose exposure is under this says little about a rep's full level on its own.
LOW_EXPOSURE = 0.25


@dataclass(frozen=True)
class LevelState:
    """Levels at one origin, for the rows asked.

    Attributes
    ----------
    level : full-productivity level (deseasonalised revenue per full quarter).
    exposure : (rows, targets) the expected exposure in each target quarter.
    evidence : effective full quarters of the rep's own history behind the level.
    own_share : ``evidence / (evidence + k)``: how much of the level is the rep's own.
    fast : posterior chance of a ramp of two months or less (NaN: not ramping).
    short, long : the level with the shortest and longest half-lives (trend features).
    """

    level: np.ndarray
    exposure: np.ndarray
    evidence: np.ndarray
    own_share: np.ndarray
    fast: np.ndarray
    short: np.ndarray
    long: np.ndarray


class LevelModel:
    """The level estimate of every rep at any origin (see the module docstring).

    Parameters
    ----------
    d : (n, T) deseasonalised, cleaned revenue, NaN where the rep was not on the books.
    start : (n,) start months (see :func:`models.ramp.start_months`), NaN where unknown.
    first : quarter index of column 0.
    team : (n,) team of each rep (the prior's group).
    ramp : the distribution of ramp lengths.
    month_shape : each month's share of a quarter.
    capacity : (n, T) recorded capacity in each history quarter relative to the rep's standing
        fte (leave, part-time spells: the roster's ``fte_<quarter> / fte``), 1 where unrecorded.
    """

    def __init__(self, d, start, first, team, ramp: RampPrior, month_shape, capacity=None):
        self.d = d
        self.capacity = np.ones(d.shape) if capacity is None else np.asarray(capacity, float)
        self.first = first
        self.team = np.asarray(team, dtype=object)
        self.ramp = ramp
        self.n, self.T = d.shape
        self.month_shape = month_shape
        observed = ~np.isnan(d)
        # A quarter with no row between a rep's first and last rows booked nothing.
        seen = np.cumsum(observed, axis=1) > 0
        seen_after = np.cumsum(observed[:, ::-1], axis=1)[:, ::-1] > 0
        self.observed = seen & seen_after
        self.values = np.where(self.observed, np.nan_to_num(d), 0.0)
        first_row = np.where(observed.any(axis=1), np.argmax(observed, axis=1), -1)
        start = np.asarray(start, float).copy()
        # No hire date, and the first row after the history starts: that quarter is the start.
        inferred = np.isnan(start) & (first_row > 0)
        start[inferred] = 3.0 * (first + first_row[inferred])
        self.start = start
        self.inferred_start = inferred
        # Reps whose ramp can matter: started less than a year before the history, or later.
        self.ramping = np.flatnonzero(np.isfinite(start) & (start > 3 * (first - 4)))
        self._e_hist = self._exposure_obs(np.arange(self.n), np.arange(self.T))
        self.noise, self.spread = self._dispersion()
        self.k = float(np.clip((self.noise / max(self.spread, 1e-6)) ** 2, 0.05, 4.0))
        self.growth = self._growth()
        self.half_life = 8.0

    # --- the pieces ------------------------------------------------------------------------------
    def _dispersion(self) -> tuple[float, float]:
        """Noise of a full quarter around a rep's level, and the spread of levels within teams
        (both as coefficients of variation, robust), from reps with two full years."""
        d = np.where(self.observed, self.values, np.nan)[:, -8:]
        full = np.sum(~np.isnan(d) & (d > 0), axis=1) >= 6
        if full.sum() < 5:
            return 0.35, 0.7
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(np.where(d > 0, d, np.nan), axis=1)
        rel = d[full] / mean[full, None] - 1
        rel = rel[~np.isnan(rel) & (d[full] > 0)]
        noise = 1.4826 * float(np.median(np.abs(rel - np.median(rel))))
        lv = pd.Series(mean[full])
        team_med = lv.groupby(self.team[full]).transform("median")
        ratio = (lv / team_med).to_numpy()
        spread = 1.4826 * float(np.median(np.abs(ratio - np.median(ratio))))
        # Levels are heavy-tailed: the linear spread of a log-normal with that robust spread.
        spread = max(spread, float(np.std(np.clip(ratio, 0, 5))))
        return max(noise, 0.05), max(spread, 0.1)

    def _growth(self) -> float:
        """The company's quarterly growth of a rep's level: over every pair of consecutive years
        (four quarters each, counted back from the history's end), the ratio of the total
        revenue to the total exposure of the reps fully on the books in both (exposure at least
        0.9 in every quarter: ramped, not on leave), the pairs pooled by their revenue. Totals,
        not a median of per-rep ratios: weighting each rep's ratio by one year's noisy revenue
        would bias it low."""
        if self.T < 8:
            return 1.0
        e = (self._e_hist * self.ramp.weights[None, None, :]).sum(axis=2)
        v = np.where(self.observed, self.values, 0.0)
        logs, weights = [], []
        for end in range(self.T, 7, -4):
            now, then = slice(end - 4, end), slice(end - 8, end - 4)
            full = (e[:, now].min(axis=1) >= 0.9) & (e[:, then].min(axis=1) >= 0.9)
            if full.sum() < 5:
                continue
            a, b = v[full, now].sum(), v[full, then].sum()
            ea, eb = e[full, now].sum(), e[full, then].sum()
            if a > 0 and b > 0:
                logs.append(np.log((a / ea) / (b / eb)))
                weights.append(a + b)
        if not logs:
            return 1.0
        yearly = float(np.exp(np.average(logs, weights=weights)))
        return float(np.clip(yearly, 0.7, 1.5) ** 0.25)

    def _sums(self, origin: int, half_life: float, rows: np.ndarray, e_obs: np.ndarray):
        """Weighted revenue, weighted exposure and the effective number of full quarters behind
        their ratio (Kish: (sum w e)^2 / sum w^2 e) up to ``origin`` (e_obs: rows x T' x J)."""
        lag = origin - np.arange(origin + 1)
        g = self.growth
        w = 0.5 ** (lag / half_life)
        num = self.values[rows, : origin + 1] @ (w * g**lag)
        den = np.einsum("rtj,t->rj", e_obs[:, : origin + 1], w)
        den2 = np.einsum("rtj,t->rj", e_obs[:, : origin + 1], w * w)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where(den2 > 0, den * den / den2, 0.0)
        return num, den, n_eff

    def _shrunk(self, num, den, n_eff, prior):
        """The ratio estimate shrunk towards the prior by its evidence: (rows, J) levels and
        own shares."""
        own = n_eff / (n_eff + self.k)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(den > 0, num[:, None] / den, 0.0)
        return own * ratio + (1 - own) * prior[:, None], own

    def _exposure_obs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Exposure in history columns ``cols`` per ramp length: (rows, cols, J); 1 where the
        rep is not ramping, 0 where not observed."""
        out = np.ones((len(rows), len(cols), len(RAMP_GRID)))
        pos = pd.Index(rows).get_indexer(self.ramping)
        inside = pos >= 0
        if inside.any():
            r = self.ramping[inside]
            out[pos[inside]] = exposure(
                self.start[r], self.first + cols, RAMP_GRID, self.month_shape
            )
        obs = self.observed[np.ix_(rows, cols)] * self.capacity[np.ix_(rows, cols)]
        return out * obs[:, :, None]

    def at(self, origin: int, targets: np.ndarray, rows: np.ndarray | None = None) -> LevelState:
        """Levels at history column ``origin`` for ``rows`` (default: all), with the expected
        exposure in ``targets`` (quarter indices)."""
        rows = np.arange(self.n) if rows is None else np.asarray(rows)
        e_obs = self._e_hist[rows, : origin + 1]
        num, den, n_eff = self._sums(origin, self.half_life, rows, e_obs)
        prior = self._team_prior(origin, rows)
        level_j, own_j = self._shrunk(num, den, n_eff, prior)  # (rows, J)
        post = self._posterior(origin, rows, level_j, prior, e_obs)
        level = (post * level_j).sum(axis=1)
        e_t = np.ones((len(rows), len(targets), len(RAMP_GRID)))
        pos = pd.Index(rows).get_indexer(self.ramping)
        inside = pos >= 0
        if inside.any():
            r = self.ramping[inside]
            e_t[pos[inside]] = exposure(self.start[r], targets, RAMP_GRID, self.month_shape)
        inside_hist = (targets >= self.first) & (targets < self.first + self.T)
        if inside_hist.any():  # leave recorded for a target quarter of the history
            cap = self.capacity[np.ix_(rows, targets[inside_hist] - self.first)]
            e_t[:, inside_hist, :] *= cap[:, :, None]
        # Unknown start and no history: nothing says when they start (planned at zero).
        unknown = np.isnan(self.start[rows]) & ~self.observed[rows].any(axis=1)
        e_t[unknown] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            exp_t = np.einsum("rj,rtj->rt", post * level_j, e_t) / level[:, None]
        exp_t = np.nan_to_num(exp_t)
        evidence = (post * n_eff).sum(axis=1)
        ramping = np.isin(rows, self.ramping)
        fast = np.where(ramping, post[:, RAMP_GRID <= 2].sum(axis=1), np.nan)
        alt = []
        for h in (HALF_LIVES[0], HALF_LIVES[-1]):
            alt_j, _ = self._shrunk(*self._sums(origin, h, rows, e_obs), prior)
            alt.append((post * alt_j).sum(axis=1))
        return LevelState(
            level=level,
            exposure=exp_t,
            evidence=evidence,
            own_share=(post * own_j).sum(axis=1),
            fast=fast,
            short=alt[0],
            long=alt[1],
        )

    def _team_prior(self, origin: int, rows: np.ndarray) -> np.ndarray:
        """The prior level of ``rows``: the median level of their team's reps with half a year
        of their own history at ``origin`` (any rep in the history, asked for or not: a team
        whose current reps are all new is judged by those who sold before them), else the
        company's median."""
        every = np.arange(self.n)
        num, den, n_eff = self._sums(origin, self.half_life, every, self._e_hist[:, : origin + 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            own = num / den[:, -1]
        ok = (n_eff[:, -1] >= 2.0) & np.isfinite(own) & (own > 0)
        if not ok.any():
            ok = np.isfinite(own) & (own > 0)
        company = float(np.median(own[ok])) if ok.any() else 1.0
        by_team = pd.Series(own[ok]).groupby(self.team[ok]).median()
        return pd.Series(self.team[rows]).map(by_team).fillna(company).to_numpy(float)

    def _posterior(self, origin, rows, level_j, prior, e_obs) -> np.ndarray:
        """Posterior weights over ramp lengths (rows, J): the ramp prior where the rep is not
        ramping, updated by the first quarters of those who are."""
        post = np.repeat(self.ramp.weights[None, :], len(rows), axis=0)
        sel = np.flatnonzero(np.isin(rows, self.ramping))
        if not len(sel):
            return post
        r = rows[sel]
        d = self.values[r, : origin + 1]
        obs = self.observed[r, : origin + 1]
        e = e_obs[sel]  # (s, t, J)
        L = level_j[sel][:, None, :]
        sd = self.noise * L * np.maximum(e, 0.15) + 1e-9
        z = (d[:, :, None] - L * e) / sd
        early = obs & ((np.arange(origin + 1)[None, :] + self.first) * 3 - self.start[r, None] < 24)
        loglik = np.where(early[:, :, None], -2.5 * np.log1p(z * z / 4.0), 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = np.log(np.maximum(level_j[sel], 1e-12) / np.maximum(prior[sel], 1e-12)[:, None])
        spread_log = np.log1p(self.spread)
        loglik -= 0.5 * (logp / spread_log) ** 2
        loglik += np.log(np.maximum(self.ramp.weights, 1e-12))[None, :]
        loglik -= loglik.max(axis=1, keepdims=True)
        p = np.exp(loglik)
        post[sel] = p / p.sum(axis=1, keepdims=True)
        return post

    # --- how fast levels move: the half-life ----------------------------------------------------
    def _variogram(self, max_lag: int = 8) -> dict:
        """How far apart a rep's quarters are, by how far apart in time: the robust variance of
        the difference of log level-per-exposure (growth taken out) at lags 1..8, over quarters
        of full exposure, fitted as ``2 * noise + lag * drift`` (a local level under noise).
        The Kalman filter of that model weighs past quarters as an exponential with gain
        ``alpha``; its half-life is the level's. Steady levels (no drift) average many quarters;
        levels that wander use the recent ones."""
        e = (self._e_hist * self.ramp.weights[None, None, :]).sum(axis=2)
        full = self.observed & (e >= 0.9) & (self.values > 0)
        x = np.where(full, np.log(np.where(full, self.values, 1.0)), np.nan)
        x -= np.log(self.growth) * np.arange(self.T)[None, :]
        lags, var = [], []
        for k in range(1, min(max_lag, self.T - 1) + 1):
            diff = (x[:, k:] - x[:, :-k]).ravel()
            diff = diff[np.isfinite(diff)]
            if len(diff) < 30:
                break
            mad = np.median(np.abs(diff - np.median(diff)))
            lags.append(k)
            var.append((1.4826 * mad) ** 2)
        if len(lags) < 2:
            return {"half_life": 8.0, "noise": np.nan, "drift": np.nan, "lags": lags}
        A = np.column_stack([np.full(len(lags), 2.0), np.asarray(lags, float)])
        (noise, drift), *_ = np.linalg.lstsq(A, np.asarray(var), rcond=None)
        noise, drift = max(noise, 1e-6), max(drift, 0.0)
        q = drift / noise
        alpha = (-q + np.sqrt(q * q + 4 * q)) / 2
        half = float(np.log(0.5) / np.log1p(-alpha)) if alpha > 0 else HALF_LIVES[-1]
        half = float(np.clip(half, HALF_LIVES[0], HALF_LIVES[-1]))
        return {"half_life": half, "noise": float(noise), "drift": float(drift), "lags": lags}

    def fit_half_life(self) -> dict:
        """Set the half-life from the variogram (see :meth:`_variogram`); returns its terms."""
        found = self._variogram()
        self.half_life = found["half_life"]
        return found

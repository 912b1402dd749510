"""Ramp-up from the start date: how much of a full quarter a rep can sell while they ramp.

A rep who starts at month ``s`` (fractional, counted from the first month of quarter 0 of the
quarter index, so ``3 * quarter_index + position + day fraction``) sells at a share
``clip((t - s) / R, 0, 1)`` of their full level ``t`` months in, for a ramp of ``R`` months
(linear, as the 0/25/50/75/100% schedules of DOMAIN.md). A quarter's *exposure* is that share
averaged over its months, each month weighted by its share of a quarter's bookings (the
within-quarter shape: a start in a quarter's last days misses most of its third month, which
holds 60% of it). Before the start the exposure is zero.

The ramp length differs between hires (an experienced hire is productive within weeks; a
graduate takes months), so it is a distribution over :data:`RAMP_GRID`: learned from past hires
where there are at least :data:`MIN_RAMP_HIRES` of them, else :data:`DEFAULT_RAMP` (about five
months, DOMAIN.md). A hire's own first quarters then say which ramp is theirs (``models.levels``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.periods import quarter_freq, quarter_index

#: Ramp lengths considered, in months from the start date to full productivity.
RAMP_GRID = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0])
#: Weights over :data:`RAMP_GRID` where there are no hires to learn from: centred on five months
#: (Bridge Group), spread over the 1-12 months practitioners report (SMB to enterprise).
DEFAULT_RAMP = np.array([0.02, 0.04, 0.08, 0.12, 0.16, 0.20, 0.14, 0.10, 0.08, 0.06])
#: Past hires needed to learn the ramp: a known start date inside the history, and at least two
#: quarters of history a year or more after it (their mature level).
MIN_RAMP_HIRES = 8
#: How many hires' worth the default weighs against the learned distribution.
PRIOR_HIRES = 4.0


def start_months(roster: pd.DataFrame, reps: np.ndarray, fiscal_year_start: int = 1) -> np.ndarray:
    """Each rep's start in fractional months of the quarter index (NaN where the roster has no
    hire date or no row): ``3 * quarter index of the hire quarter + month position in it +
    (day - 1) / days in the month``, all in the plan's fiscal calendar."""
    hired = roster.set_index("rep_id")["hire_date"].reindex(reps)
    out = np.full(len(reps), np.nan)
    known = hired.notna().to_numpy()
    if not known.any():
        return out
    dates = pd.DatetimeIndex(hired[known])
    quarters = dates.to_period(quarter_freq(fiscal_year_start))
    position = (dates.to_period("M") - quarters.asfreq("M", how="start")).map(lambda d: d.n)
    day = (dates.day - 1) / dates.days_in_month
    out[known] = (
        3 * quarter_index(quarters.astype(str).to_numpy())
        + np.asarray(position, float)
        + np.asarray(day, float)
    )
    return out


def exposure(
    start: np.ndarray, quarters: np.ndarray, ramp_months, month_shape=(0.15, 0.25, 0.60)
) -> np.ndarray:
    """Share of a full quarter's bookings each rep can make in each quarter.

    Parameters
    ----------
    start : (n,) start months (see :func:`start_months`); NaN: fully ramped throughout.
    quarters : (T,) quarter indices.
    ramp_months : a ramp length in months, or one per grid point (J,).

    Returns
    -------
    (n, T) for a scalar ramp, (n, T, J) for a grid.
    """
    r = np.atleast_1d(np.asarray(ramp_months, float))
    s = np.asarray(start, float)
    months = 3 * np.asarray(quarters, float)[:, None] + np.arange(3)[None, :]  # (T, 3)
    t = months[None, :, :] - np.nan_to_num(s, nan=-1e6)[:, None, None]  # (n, T, 3)
    shape = np.asarray(month_shape, float)
    shape = shape / shape.sum()
    out = np.empty((len(s), months.shape[0], len(r)))
    lo, hi = np.clip(t, 0, None), np.clip(t + 1, 0, None)
    for j, R in enumerate(r):  # one ramp length at a time keeps memory at (n, T, 3)

        def area(u, R=R):  # integral of clip(x / R, 0, 1) from 0 to u, for u >= 0
            return np.where(u <= R, u * u / (2 * R), u - R / 2)

        out[:, :, j] = (area(hi) - area(lo)) @ shape
    return out[..., 0] if np.ndim(ramp_months) == 0 else out


@dataclass(frozen=True)
class RampPrior:
    """The distribution of ramp lengths (weights over :data:`RAMP_GRID`) and where it came from.

    ``hires``: the past hires it was learned from (0: the default); ``learned``: whether there
    were at least :data:`MIN_RAMP_HIRES` of them.
    """

    weights: np.ndarray
    hires: int
    learned: bool

    @property
    def median_months(self) -> float:
        cum = np.cumsum(self.weights)
        return float(RAMP_GRID[np.searchsorted(cum, 0.5)])

    def shares(self, month_shape=(0.15, 0.25, 0.60), quarters: int = 4) -> np.ndarray:
        """Expected exposure in the quarter of a start on the quarter's first day and the
        quarters after it (for display)."""
        e = exposure(np.zeros(1), np.arange(quarters), RAMP_GRID, month_shape)[0]
        return e @ self.weights

    def describe(self, month_shape=(0.15, 0.25, 0.60)) -> str:
        by_q = ", ".join(f"{s:.0%}" for s in self.shares(month_shape))
        fast = float(self.weights[RAMP_GRID <= 2].sum())
        if self.learned:
            return (
                f"ramp learned from {self.hires} past hires: full productivity about "
                f"{self.median_months:g} months after the start (median), {fast:.0%} within two "
                f"months; a start on a quarter's first day sells {by_q} of a full quarter in "
                "that quarter and the next three"
            )
        return (
            f"default ramp (no hires to learn from: {self.hires} past hire(s) with a start date "
            f"and a year of history after it, {MIN_RAMP_HIRES} needed): full productivity about "
            f"{self.median_months:g} months after the start; {by_q} of a full quarter in the "
            "quarter of a start on its first day and the next three"
        )


def learn_ramp(
    d: np.ndarray,
    start: np.ndarray,
    first: int,
    month_shape=(0.15, 0.25, 0.60),
    noise: float = 0.3,
) -> RampPrior:
    """The distribution of ramp lengths among past hires.

    Parameters
    ----------
    d : (n, T) deseasonalised revenue (NaN: no row), columns quarters ``first + c``.
    start : (n,) start months (NaN: unknown).
    noise : the coefficient of variation of a full quarter around a rep's level.

    For each hire who started inside the history and has at least two quarters a year or more
    after their start, their mature level (the median of those quarters) and their first four
    quarters give a likelihood for each ramp length; the distribution is found by EM over the
    grid, starting from and shrunk towards :data:`DEFAULT_RAMP` (weighted as
    :data:`PRIOR_HIRES` hires).
    """
    n, T = d.shape
    quarters = first + np.arange(T)
    start_q = np.floor(np.asarray(start, float) / 3)
    k = quarters[None, :] - start_q[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mature_vals = np.where(k >= 5, d, np.nan)
        mature = np.nanmedian(mature_vals, axis=1)
    ok = (
        (start_q >= first)
        & (np.sum(~np.isnan(mature_vals), axis=1) >= 2)
        & (mature > 0)
        & np.isfinite(mature)
    )
    rows = np.flatnonzero(ok)
    if len(rows) < MIN_RAMP_HIRES:
        return RampPrior(DEFAULT_RAMP.copy(), len(rows), False)
    early = (k[rows] >= 0) & (k[rows] <= 3) & ~np.isnan(d[rows])
    e = exposure(start[rows], quarters, RAMP_GRID, month_shape)  # (h, T, J)
    ratio = np.where(early, d[rows] / mature[rows, None], np.nan)[:, :, None]
    sd = noise * np.maximum(e, 0.15)
    z = np.where(early[:, :, None], (ratio - e) / sd, 0.0)
    loglik = (-2.5 * np.log1p(z * z / 4.0)).sum(axis=1)  # Student t, 4 degrees of freedom
    loglik -= loglik.max(axis=1, keepdims=True)
    lik = np.exp(loglik)
    w = DEFAULT_RAMP.copy()
    for _ in range(50):
        post = lik * w[None, :]
        post /= post.sum(axis=1, keepdims=True)
        new = (post.sum(axis=0) + PRIOR_HIRES * DEFAULT_RAMP) / (len(rows) + PRIOR_HIRES)
        if np.abs(new - w).max() < 1e-6:
            w = new
            break
        w = new
    return RampPrior(w, len(rows), True)

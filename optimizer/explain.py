"""Explaining a plan: chance of attaining each quota, stretch, and which limit bound it."""

from __future__ import annotations

import numpy as np

from .inputs import PlanData
from .ranges import ANNUAL, annual_limits, bounds, phasing_ranges
from .spec import Limits


def attain_probability(quota: np.ndarray, levels: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """P(revenue >= quota) under the forecast quantiles.

    The distribution function runs linearly through the knots (quantile value, level) and
    extends the first and last segments to levels 0 and 1. A zero quota is always attained.
    """
    q = np.asarray(quota, float)
    knots = np.maximum.accumulate(quantiles, axis=-1)
    lv = np.asarray(levels, float)
    # Tails: where the first/last segment reaches level 0 / level 1.
    slope_lo = (knots[..., 1] - knots[..., 0]) / (lv[1] - lv[0])
    slope_hi = (knots[..., -1] - knots[..., -2]) / (lv[-1] - lv[-2])
    x = np.concatenate(
        [
            (knots[..., 0] - slope_lo * lv[0])[..., None],
            knots,
            (knots[..., -1] + slope_hi * (1 - lv[-1]))[..., None],
        ],
        axis=-1,
    )
    y = np.concatenate([[0.0], lv, [1.0]])
    # Piecewise-linear interpolation along each row's own knots, for all rows at once.
    xs = x.reshape(-1, x.shape[-1])
    qq = q.reshape(-1)
    above = (qq[:, None] >= xs).sum(axis=1)  # knots at or below the quota
    j = np.clip(above - 1, 0, len(y) - 2)
    rows = np.arange(len(qq))
    x0, x1 = xs[rows, j], xs[rows, j + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(x1 > x0, y[j] + (qq - x0) / (x1 - x0) * (y[j + 1] - y[j]), y[j + 1])
    cdf = np.where(above == 0, 0.0, np.where(above == len(y), 1.0, inside))
    cdf = np.where(xs[:, -1] <= 0, 1.0, cdf).reshape(q.shape)  # no revenue expected at all
    return np.where(q <= 0, 1.0, 1.0 - cdf)


def binding_limits(
    quota: np.ndarray, data: PlanData, limits: Limits, total: float, tol: float = 1e-6
) -> np.ndarray:
    """Per rep-quarter, the limit that holds the quota where it is ('none' if nothing binds).

    Order of precedence when several are tight: lock, ratchet, growth floor, OTE, cap, floor,
    phasing.
    """
    n, T = quota.shape
    eps = tol * max(total / max(n * T, 1), 1.0)
    out = np.full((n, T), "none", dtype=object)
    floor, cap = bounds(data, limits, total)
    col_lo, col_hi = phasing_ranges(data, limits, total)
    col = quota.sum(axis=0)
    out[:, (np.abs(col - col_lo) <= eps * n) | (np.abs(col - col_hi) <= eps * n)] = "phasing"
    out[np.abs(quota - floor) <= eps] = "floor"
    out[(np.abs(quota - cap) <= eps) & (cap > floor + eps)] = "cap"
    out[cap <= eps] = "no-capacity"  # not yet hired, or on leave all quarter
    annual = quota.sum(axis=1)
    for name, bound in annual_limits(data, limits, total).items():  # later labels take precedence
        out[np.isfinite(bound) & (np.abs(annual - bound) <= eps * T), :] = ANNUAL[name][1]
    for rep, period in limits.locks:
        i = np.flatnonzero(data.reps == str(rep))
        if period is None:
            out[i, :] = "lock"
        else:
            out[i, np.flatnonzero(data.periods == str(period))] = "lock"
    out[:, data.closed] = "actual"
    return out


def rep_binding(per_quarter: np.ndarray) -> np.ndarray:
    """One limit per rep: the most frequent across its quarters ('none', 'no-capacity' and
    closed quarters' 'actual' aside)."""
    out = []
    for row in per_quarter:
        tight = [b for b in row if b not in ("none", "no-capacity", "actual")]
        out.append(max(set(tight), key=tight.count) if tight else "none")
    return np.array(out, dtype=object)

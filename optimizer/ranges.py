"""A plan's limits as numbers: bounds per rep-quarter, ranges per rep's year and per quarter.

One place computes them; the Pyomo model (``optimizer.model``), the fast network route
(``optimizer.network``) and the explanation of a plan (``optimizer.explain``) all read them here.

Closed quarters (a mid-year re-plan) are history: their cells are fixed at the actuals, their
phasing band no longer applies, and where a rep's actuals already push their year past an annual
limit, that limit gives way to what the actuals and the remaining floors force (the actuals
alone never make a re-plan impossible).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inputs import PlanData
from .spec import Limits, SpecError, parse_amount


def bounds(data: PlanData, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """Per rep-quarter floor and cap. A lock is the planner's decision and overrides them:
    a quarterly lock fixes the cell; an annual lock frees the rep's quarters up to the lock.
    Closed quarters are fixed at the actuals."""
    cap = data.quantile(limits.cap_quantile)
    floor = (
        data.quantile(limits.floor_quantile)
        if limits.floor_quantile is not None
        else np.zeros_like(cap)
    )
    floor = np.minimum(floor, cap)
    for i, value in annual_locks(data, limits).items():
        open_ = ~data.closed
        floor[i, open_], cap[i, open_] = 0.0, max(value - data.actual_to_date[i], 0.0)
    for (rep, period), value in limits.locks.items():
        if period is not None:
            i, t = rep_index(data, rep), period_index(data, period)
            cap[i, t] = floor[i, t] = value
    closed = data.closed
    floor[:, closed] = cap[:, closed] = data.actual[:, closed]
    return floor, cap


def annual_locks(data: PlanData, limits: Limits) -> dict[int, float]:
    """Row index -> locked annual quota."""
    return {
        rep_index(data, rep): float(v)
        for (rep, period), v in limits.locks.items()
        if period is None
    }


def rep_index(data: PlanData, rep) -> int:
    hits = np.flatnonzero(data.reps == str(rep))
    if not len(hits):
        raise SpecError(f"lock for rep {rep!r}, who is not in the forecast")
    return int(hits[0])


def period_index(data: PlanData, period) -> int:
    hits = np.flatnonzero(data.periods == str(period))
    if not len(hits):
        raise SpecError(
            f"lock for {period!r}, which is not a quarter of the plan ({', '.join(data.periods)})"
        )
    if data.closed[hits[0]]:
        raise SpecError(f"lock for {period!r}, a closed quarter: its quotas are the actuals")
    return int(hits[0])


def level_cells(data: PlanData, limits: Limits) -> np.ndarray:
    """The rep-quarters a policy's common level (stretch, quantile) applies to: those with a
    P50, in an open quarter, and not held by a lock (locked quotas may sit above the level)."""
    mask = data.p50 > 0
    mask[:, data.closed] = False
    for i in annual_locks(data, limits):
        mask[i] = False
    for rep, period in limits.locks:
        if period is not None:
            mask[rep_index(data, rep), period_index(data, period)] = False
    return mask


def seasonal_shares(data: PlanData) -> np.ndarray:
    """Each quarter's share of the year in the forecast (P50)."""
    totals = data.p50.sum(axis=0)
    return totals / totals.sum() if totals.sum() > 0 else np.full(len(totals), 1 / len(totals))


def phasing_ranges(data: PlanData, limits: Limits, total: float) -> tuple[np.ndarray, np.ndarray]:
    """Each quarter's company total: (low, high), within the band around its seasonal share of
    the year; NaN where no band applies (no band, or a closed quarter).

    In a re-plan the open quarters must carry what the actuals leave of the number; where that
    is more (or less) than their bands add up to, the bands give way in proportion, just enough
    to hold it: a company ahead of plan is not told its plan is impossible, and actuals exactly
    on plan leave the bands as they were.
    """
    T = len(data.periods)
    if limits.phasing_band is None:
        return np.full(T, np.nan), np.full(T, np.nan)
    season = seasonal_shares(data) * total
    lo, hi = (1 - limits.phasing_band) * season, (1 + limits.phasing_band) * season
    closed = data.closed
    if closed.any():
        left = total - float(np.nansum(data.actual[:, closed]))
        open_lo, open_hi = lo[~closed].sum(), hi[~closed].sum()
        if 0 < left < open_lo:
            lo[~closed] *= left / open_lo
        if left > open_hi > 0:
            hi[~closed] *= left / open_hi
    lo[closed] = hi[closed] = np.nan
    return lo, hi


#: The annual limits, each a bound on a rep's year: name -> (side, binding label), in rising
#: precedence when a plan is explained.
ANNUAL = {
    "ote_high": ("high", "ote"),
    "ote_low": ("low", "ote"),
    "growth_floor": ("low", "growth-floor"),
    "ratchet": ("high", "ratchet"),
}


def annual_limits(data: PlanData, limits: Limits) -> dict[str, np.ndarray]:
    """Each annual limit (see ``ANNUAL``) per rep, NaN where it does not apply: no last year's
    quota or OTE, the limit switched off, or the rep's year locked by the planner."""
    n = len(data.reps)
    nan = np.full(n, np.nan)
    ly, ote = data.last_year_quota, data.ote
    known = np.isfinite(ly) & (ly > 0)
    paid = np.isfinite(ote) & (ote > 0)
    out = {
        "ratchet": np.where(known, ly * (1 + limits.max_increase), np.nan)
        if limits.max_increase is not None
        else nan,
        "growth_floor": np.where(known, ly * (1 + limits.min_increase), np.nan)
        if limits.min_increase is not None
        else nan,
        "ote_high": np.where(paid, limits.ote_band[1] * ote, np.nan)
        if limits.ote_band is not None
        else nan,
        "ote_low": np.where(paid, limits.ote_band[0] * ote, np.nan)
        if limits.ote_band is not None
        else nan,
    }
    locked = list(annual_locks(data, limits))
    if data.closed.any():  # the actuals and the remaining floors / caps force the year
        floor, cap = bounds(data, limits)
        least, most = floor.sum(axis=1), cap.sum(axis=1)
    for name, (side, _) in ANNUAL.items():
        v = out[name].copy()
        v[locked] = np.nan
        if data.closed.any():
            v = np.maximum(v, least) if side == "high" else np.minimum(v, most)
        out[name] = v
    return out


def annual_range(data: PlanData, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """Each rep's year: (low, high) from the annual limits and annual locks (0 and inf where
    free)."""
    lim = annual_limits(data, limits)
    lo = np.fmax.reduce(
        [np.zeros(len(data.reps))] + [lim[k] for k in ANNUAL if ANNUAL[k][0] == "low"]
    )
    hi = np.fmin.reduce(
        [np.full(len(data.reps), np.inf)] + [lim[k] for k in ANNUAL if ANNUAL[k][0] == "high"]
    )
    for i, value in annual_locks(data, limits).items():
        lo[i] = hi[i] = value
    return lo, hi


def group_targets(
    data: PlanData, limits: Limits
) -> list[tuple[tuple[str, str], np.ndarray, float]]:
    """Each team/region target: ((level, name), member row indices, the members' quotas' sum:
    target x (1 + group over-assignment))."""
    rows = {
        "team": pd.Series(data.team).groupby(data.team).indices,
        "region": pd.Series(data.region).groupby(data.region).indices,
    }
    out = []
    for (level, name), value in limits.group_targets.items():
        members = rows[level].get(name)
        if members is None:
            raise SpecError(f"{level} target for {name!r}, which has no reps in the forecast")
        total = parse_amount(value) * (1 + limits.group_over_assignment)
        out.append(((level, name), np.asarray(members), total))
    return out

"""History as a rep x quarter matrix, and what every forecaster derives from it.

Quarters are integers (``year * 4 + quarter - 1``, see :func:`datasets.periods.quarter_index`);
column ``c`` of a panel is quarter ``first + c``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.periods import quarter_index


@dataclass(frozen=True)
class Panel:
    """Revenue per rep (rows) and quarter (columns); NaN where the rep has no row."""

    reps: np.ndarray
    first: int
    revenue: np.ndarray

    @property
    def quarters(self) -> np.ndarray:
        return self.first + np.arange(self.revenue.shape[1])

    @property
    def last(self) -> int:
        return self.first + self.revenue.shape[1] - 1


def make_panel(history: pd.DataFrame, extra_reps=()) -> Panel:
    """The panel of a canonical history, with empty rows for ``extra_reps`` (new hires)."""
    reps = np.union1d(
        history["rep_id"].unique().astype(object), np.asarray(list(extra_reps), dtype=object)
    )
    row = pd.Index(reps).get_indexer(history["rep_id"])
    q = quarter_index(history["period"].to_numpy())
    first, last = int(q.min()), int(q.max())
    revenue = np.full((len(reps), last - first + 1), np.nan)
    revenue[row, q - first] = history["revenue"].to_numpy(float)
    return Panel(reps, first, revenue)


def seasonal_index(
    panel: Panel, groups: np.ndarray | None = None, shrink: float = 20.0
) -> np.ndarray:
    """Each rep's seasonal index by quarter of year (rows: reps, columns: Q1..Q4; mean 1).

    The company index is the mean over complete years of each quarter's share of the year's
    total (x4), counting only reps on the books through the whole year (and before it, so not
    ramping), with the year's growth taken out: headcount added during a year, and reps
    growing through it, would otherwise read as a late-year season. With ``groups`` (e.g.
    regions), each group's own index is shrunk towards the company's by its size: weight
    ``n / (n + shrink)`` for a group of ``n`` reps.
    """
    company = _index(panel.revenue, panel.first)
    out = np.repeat(company[None, :], len(panel.reps), axis=0)
    if groups is None:
        return out
    for g in pd.unique(groups):
        rows = groups == g
        own = _index(panel.revenue[rows], panel.first)
        w = rows.sum() / (rows.sum() + shrink)
        idx = w * own + (1 - w) * company
        out[rows] = idx / idx.mean()
    return out


def _index(revenue: np.ndarray, first: int) -> np.ndarray:
    q = first + np.arange(revenue.shape[1])
    observed = ~np.isnan(revenue)
    years = [y for y in np.unique(q // 4) if np.sum(q // 4 == y) == 4]
    if not years:
        return np.ones(4)
    cols = {y: np.flatnonzero(q // 4 == y)[np.argsort(q[q // 4 == y] % 4)] for y in years}
    through = {y: observed[:, cols[y]].all(axis=1) for y in years}
    settled = {
        y: through[y] & (observed[:, : cols[y][0]].any(axis=1) if cols[y][0] > 0 else True)
        for y in years
    }
    # The reps' growth from one year to the next, pooled over the pairs of complete years.
    logs, weights = [], []
    for y in years:
        if y - 1 in cols:
            both = settled[y] & through[y - 1]
            a, b = np.nansum(revenue[both][:, cols[y]]), np.nansum(revenue[both][:, cols[y - 1]])
            if both.sum() >= 3 and a > 0 and b > 0:
                logs.append(np.log(a / b))
                weights.append(a + b)
    quarterly = np.exp(np.average(logs, weights=weights) / 4) if logs else 1.0
    shares = []
    for y in years:
        rows = settled[y] if settled[y].sum() >= 3 else through[y]
        totals = np.nansum(revenue[rows][:, cols[y]], axis=0) / quarterly ** np.arange(4)
        if totals.sum() > 0:
            shares.append(totals / totals.mean())
    return np.mean(shares, axis=0) if shares else np.ones(4)


def find_outliers(
    d: np.ndarray,
    threshold: float = 3.0,
    window: int = 4,
    min_neighbours: int = 3,
    exposure: np.ndarray | None = None,
    min_exposure: float = 0.25,
) -> tuple[np.ndarray, np.ndarray]:
    """Bluebird quarters: far above what the rep sells per unit of exposure in the neighbouring
    quarters.

    Parameters
    ----------
    d : deseasonalised revenue, reps x quarters.
    threshold : a quarter whose revenue per exposure is above ``threshold`` x the median of
        the ``window`` quarters on each side (itself excluded) is an outlier, given at least
        ``min_neighbours`` of them.
    exposure : (reps, quarters) the share of a full quarter each rep could sell (start, ramp,
        recorded leave); None: 1 everywhere. Quarters under ``min_exposure`` (a first month, a
        leave) neither count as neighbours nor are judged: a rep back from leave, or in their
        first full quarter, is not a bluebird against the near-empty quarters around it.

    Returns
    -------
    The outlier mask, and what each quarter would be at its neighbours' rate (the median rate
    times its exposure: what an outlier is replaced by).
    """
    n, T = d.shape
    e = np.ones_like(d, dtype=float) if exposure is None else np.asarray(exposure, float)
    judged = e >= min_exposure
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(judged, d / e, np.nan)
    offsets = [o for o in range(-window, window + 1) if o != 0]
    stack = np.full((n, T, len(offsets)), np.nan)
    for j, off in enumerate(offsets):
        if abs(off) >= T:  # no neighbour that far in a short history
            continue
        if off < 0:
            stack[:, -off:, j] = rate[:, : T + off]
        else:
            stack[:, : T - off, j] = rate[:, off:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neighbourhoods
        ref_rate = np.nanmedian(stack, axis=2)
    count = np.sum(~np.isnan(stack), axis=2)
    with np.errstate(invalid="ignore"):
        mask = judged & (count >= min_neighbours) & (ref_rate > 0) & (rate > threshold * ref_rate)
    return mask, ref_rate * e

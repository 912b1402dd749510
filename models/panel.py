"""History as a rep x quarter matrix, and what every forecaster derives from it.

Quarters are integers (``year * 4 + quarter - 1``, see :func:`datasets.periods.quarter_index`);
column ``c`` of a panel is quarter ``first + c``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.periods import quarter_freq, quarter_index

#: Share of full productivity in the quarter of hire and the quarters after it, used when the
#: history holds too few past hires to learn the curve (5-month ramp, DOMAIN.md: 0/25/50/75/100%
#: by month, hires spread over the quarter).
DEFAULT_RAMP = np.array([0.1, 0.55, 0.95, 1.0])


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


def hire_quarters(roster: pd.DataFrame, reps: np.ndarray, fiscal_year_start: int = 1) -> np.ndarray:
    """Quarter index of each rep's hire date (NaN where unknown or not on the roster)."""
    hired = roster.set_index("rep_id")["hire_date"].reindex(reps)
    known = hired.notna().to_numpy()
    out = np.full(len(reps), np.nan)
    if known.any():
        labels = hired[known].dt.to_period(quarter_freq(fiscal_year_start)).astype(str).to_numpy()
        out[known] = quarter_index(labels)
    return out


def seasonal_index(
    panel: Panel, groups: np.ndarray | None = None, shrink: float = 20.0
) -> np.ndarray:
    """Each rep's seasonal index by quarter of year (rows: reps, columns: Q1..Q4; mean 1).

    The company index is the mean over complete years of each quarter's share of the year's
    total (x4). With ``groups`` (e.g. regions), each group's own index is shrunk towards the
    company's by its size: weight ``n / (n + shrink)`` for a group of ``n`` reps.
    """
    company = _index(np.nansum(panel.revenue, axis=0), panel.first)
    out = np.repeat(company[None, :], len(panel.reps), axis=0)
    if groups is None:
        return out
    for g in pd.unique(groups):
        rows = groups == g
        own = _index(np.nansum(panel.revenue[rows], axis=0), panel.first)
        w = rows.sum() / (rows.sum() + shrink)
        idx = w * own + (1 - w) * company
        out[rows] = idx / idx.mean()
    return out


def _index(totals: np.ndarray, first: int) -> np.ndarray:
    q = first + np.arange(len(totals))
    shares = []
    for year in np.unique(q // 4):
        cols = (q // 4) == year
        if cols.sum() == 4 and totals[cols].sum() > 0:
            shares.append(totals[cols][np.argsort(q[cols] % 4)] / totals[cols].mean())
    return np.mean(shares, axis=0) if shares else np.ones(4)


def find_outliers(
    d: np.ndarray, threshold: float = 3.0, window: int = 4, min_neighbours: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Bluebird quarters: far above the median of the rep's neighbouring quarters.

    Parameters
    ----------
    d : deseasonalised revenue, reps x quarters.
    threshold : a quarter above ``threshold`` x the median of the ``window`` quarters on each
        side (itself excluded) is an outlier, given at least ``min_neighbours`` of them.

    Returns
    -------
    The outlier mask, and the neighbours' median (what an outlier is replaced by).
    """
    n, T = d.shape
    offsets = [o for o in range(-window, window + 1) if o != 0]
    stack = np.full((n, T, len(offsets)), np.nan)
    for j, off in enumerate(offsets):
        if abs(off) >= T:  # no neighbour that far in a short history
            continue
        if off < 0:
            stack[:, -off:, j] = d[:, : T + off]
        else:
            stack[:, : T - off, j] = d[:, off:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neighbourhoods
        ref = np.nanmedian(stack, axis=2)
    count = np.sum(~np.isnan(stack), axis=2)
    mask = (count >= min_neighbours) & (ref > 0) & (d > threshold * ref)
    return mask, ref


def learn_ramp(
    d: np.ndarray, hire_q: np.ndarray, first: int, max_k: int = 4, min_reps: int = 5
) -> pd.DataFrame:
    """Share of full productivity by quarters since hire, learned from past hires.

    For every rep hired inside the history, each of their first ``max_k`` quarters (0 = the
    quarter of hire) is divided by their mature level (median of later quarters, at least two);
    the curve is the median of those ratios across reps, made non-decreasing and capped at 1.
    Buckets with fewer than ``min_reps`` hires fall back to :data:`DEFAULT_RAMP`.
    """
    n, T = d.shape
    k = (first + np.arange(T))[None, :] - hire_q[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mature_vals = np.where(k >= max_k, d, np.nan)
        mature = np.nanmedian(mature_vals, axis=1)
    enough = (np.sum(~np.isnan(mature_vals), axis=1) >= 2) & (mature > 0) & (hire_q >= first)
    rows = []
    for kk in range(max_k):
        col = hire_q - first + kk
        ok = enough & (col >= 0) & (col < T)
        ratios = d[np.flatnonzero(ok), col[ok].astype(int)] / mature[ok]
        ratios = ratios[~np.isnan(ratios)]
        learned = len(ratios) >= min_reps
        default = DEFAULT_RAMP[min(kk, len(DEFAULT_RAMP) - 1)]
        rows.append(
            {
                "quarters_since_hire": kk,
                "share": float(np.median(ratios)) if learned else default,
                "hires": len(ratios),
                "learned": learned,
            }
        )
    curve = pd.DataFrame(rows)
    curve["share"] = np.maximum.accumulate(curve["share"].clip(0.0, 1.0).to_numpy())
    return curve


def ramp_share(curve: pd.DataFrame, quarters_since_hire: np.ndarray) -> np.ndarray:
    """The ramp curve at given tenures: 0 before hire, 1 after the curve ends or if unknown."""
    k = np.asarray(quarters_since_hire, float)
    shares = curve["share"].to_numpy()
    out = np.ones_like(k)
    known = ~np.isnan(k)
    inside = known & (k >= 0) & (k < len(shares))
    out[inside] = shares[k[inside].astype(int)]
    out[known & (k < 0)] = 0.0
    return out

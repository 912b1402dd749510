"""Smoothness, the weakest of a rep's own limits: where it cannot hold with their other limits, it
gives way for that rep just enough.

The limit: ``|quota[t] - quota[t-1]| <= k x annual`` (``k`` = the smoothness share over the
number of quarters). With a hire, a leave, an exit, actuals or a lock, a rep's own quarters may
have to change more than that (a rep with no capacity until Q3 cannot have four equal
quarters); :func:`allowance` finds, per rep, the least money ``e`` to add to the allowance
(``|quota[t] - quota[t-1]| <= k x annual + e``) so that their own limits hold together.

A rep passes without an LP when one of three trial years fits: for a fixed allowance ``d`` the
quarters allowed by the cells and the steps form a lattice (difference constraints), whose
lowest and highest members come from one pass forward and one back along the quarters; the
year ``A`` fits when those members exist and ``sum(lowest) <= A <= sum(highest)``. The others
are settled exactly by one small linear program (HiGHS, through SciPy).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog


def allowance(
    lower: np.ndarray, upper: np.ndarray, lo: np.ndarray, hi: np.ndarray, k: float
) -> np.ndarray:
    """Per rep, the money added to their smoothness allowance (0 where none is needed).

    ``lower``, ``upper``: (n, T) cell bounds; ``lo``, ``hi``: (n,) the year's range (already
    consistent with the cells); ``k``: allowed step as a share of the year.
    """
    n, T = lower.shape
    extra = np.zeros(n)
    if T < 2 or n == 0:
        return extra
    scale = np.maximum(upper.max(axis=1), 1e-300)
    tol = 1e-9 * scale
    a_lo = np.maximum(lo, lower.sum(axis=1))
    a_hi = np.minimum(hi, upper.sum(axis=1))
    ok = np.zeros(n, bool)
    for year in (a_lo, a_hi, 0.5 * (a_lo + a_hi)):
        ok |= _fits(lower, upper, year, k * year, tol)
    bad = np.flatnonzero(~ok)
    if len(bad):
        extra[bad] = _least_extra(lower[bad], upper[bad], lo[bad], hi[bad], k)
        # A hair more than the least, so the plan's rows hold at the solver's tolerances.
        extra[bad] = np.where(extra[bad] > 0, extra[bad] * (1 + 1e-7) + tol[bad], 0.0)
    return extra


def _fits(lower, upper, year, step, tol) -> np.ndarray:
    """Whether quarters within the cells, steps of at most ``step``, can add up to ``year``."""
    low, high = lower.copy(), upper.copy()
    T = lower.shape[1]
    for t in range(1, T):
        low[:, t] = np.maximum(low[:, t], low[:, t - 1] - step)
        high[:, t] = np.minimum(high[:, t], high[:, t - 1] + step)
    for t in range(T - 2, -1, -1):
        low[:, t] = np.maximum(low[:, t], low[:, t + 1] - step)
        high[:, t] = np.minimum(high[:, t], high[:, t + 1] + step)
    T_tol = tol * T
    return (
        (low <= high + tol[:, None]).all(axis=1)
        & (low.sum(axis=1) <= year + T_tol)
        & (year <= high.sum(axis=1) + T_tol)
    )


def _least_extra(lower, upper, lo, hi, k) -> np.ndarray:
    """The least ``e`` per rep, by one block-diagonal LP: minimise sum(e / scale) over every
    rep's quarters and ``e`` (separable, so each rep's ``e`` is its own least)."""
    m, T = lower.shape
    width = T + 1  # the quarters, then e
    col = lambda j, t: j * width + t  # noqa: E731
    rows, cols, vals, rhs = [], [], [], []
    r = 0
    for j in range(m):
        for t in range(1, T):
            for sign in (1.0, -1.0):  # q[t] - q[t-1] and q[t-1] - q[t]
                for s in range(T):
                    c = -k + (sign if s == t else -sign if s == t - 1 else 0.0)
                    rows.append(r)
                    cols.append(col(j, s))
                    vals.append(c)
                rows.append(r)
                cols.append(col(j, T))
                vals.append(-1.0)
                rhs.append(0.0)
                r += 1
        if np.isfinite(hi[j]):
            rows += [r] * T
            cols += [col(j, s) for s in range(T)]
            vals += [1.0] * T
            rhs.append(float(hi[j]))
            r += 1
        rows += [r] * T
        cols += [col(j, s) for s in range(T)]
        vals += [-1.0] * T
        rhs.append(-float(lo[j]))
        r += 1
    a = sparse.csr_matrix((vals, (rows, cols)), shape=(r, m * width))
    scale = np.maximum(upper.max(axis=1), 1e-300)
    cost = np.zeros(m * width)
    cost[T::width] = 1.0 / scale
    bounds = []
    for j in range(m):
        bounds += [(float(lower[j, t]), float(upper[j, t])) for t in range(T)] + [(0.0, None)]
    res = linprog(cost, A_ub=a, b_ub=np.array(rhs), bounds=bounds, method="highs")
    if res.status != 0:  # the widest allowance always fits: any step within the cells
        return upper.max(axis=1)
    return np.maximum(res.x[T::width], 0.0)

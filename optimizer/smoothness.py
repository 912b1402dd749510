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


def year_range(
    lower: np.ndarray,
    upper: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    k: float,
    extra: np.ndarray,
    iterations: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Per rep, the lowest and the highest year their own limits allow: quarters within
    ``[lower, upper]`` (n, T), steps ``|quota[t] - quota[t-1]| <= k x year + extra`` and the year
    within ``[lo, hi]`` (n,; -inf/inf where open). Where no year fits, low > high.

    For a year ``A`` the quarters form a lattice (see the module docstring) whose highest member
    adds up to ``H(A)``, concave and piecewise linear in ``A`` (each quarter is the least of
    ``upper[j] + |t - j| x step``), and whose lowest member's shortfall ``A - sum(lowest)`` and
    gaps ``highest - lowest`` are concave and nondecreasing. So the highest year is the largest
    root of ``H(A) = A`` (or ``hi``), by Newton's method from above, the lowest the first ``A``
    where the others turn nonnegative, by Newton's method from below: each step's tangent lies
    above a concave function, so the steps never pass the root and end on its piece, exact.
    Where the iterations run out the range is left wider than it is, never narrower.
    """
    n, T = lower.shape
    if T < 2:
        s = upper.sum(axis=1), lower.sum(axis=1)
        return np.fmax(lo, s[1]), np.fmin(hi, s[0])
    scale = np.maximum(np.maximum(np.abs(upper).max(axis=1), np.abs(lower).max(axis=1)), 1e-300)
    tol = 1e-12 * T * scale

    def members(A, rows, low=True):
        return _members(lower[rows] if low else None, upper[rows], k * A + extra[rows])

    # The highest year: from min(hi, sum(upper)) down to the largest root of H(A) - A.
    top = np.fmin(hi, upper.sum(axis=1))
    rows = np.arange(n)
    for _ in range(iterations):
        if not len(rows):
            break
        A = top[rows]
        high, du, _, _ = members(A, rows, low=False)
        g = high.sum(axis=1) - A
        slope = k * du.sum(axis=1) - 1.0
        done = g >= -tol[rows]
        stuck = ~done & (slope >= 0)  # H(A) < A for every year below as well: none fits
        top[rows[stuck]] = -np.inf
        go = ~done & ~stuck
        top[rows[go]] = A[go] - g[go] / slope[go]
        rows = rows[go]
    # The lowest year: from the least the cells, the steps and lo allow, up to where the lowest
    # member adds up to at most A and sits under the highest in every quarter.
    start = np.fmax(lo, lower.sum(axis=1))
    if k > 0:
        start = np.fmax(start, -extra / k)  # a negative step fits nothing
    bottom = start
    rows = np.flatnonzero(np.isfinite(top))
    bottom[np.isinf(top)] = np.inf
    for _ in range(iterations):
        if not len(rows):
            break
        A = bottom[rows]
        high, du, low, dl = members(A, rows)
        parts = np.concatenate([(A - low.sum(axis=1))[:, None], high - low], axis=1)
        slopes = np.concatenate([(1.0 + k * dl.sum(axis=1))[:, None], k * (du + dl)], axis=1)
        at = parts.argmin(axis=1)
        G = parts[np.arange(len(rows)), at]
        slope = slopes[np.arange(len(rows)), at]
        done = (G >= -tol[rows]) | (A > top[rows])  # fits, or already above the highest year
        stuck = ~done & (slope <= 0)  # never fits
        bottom[rows[stuck]] = np.inf
        go = ~done & ~stuck
        bottom[rows[go]] = A[go] - G[go] / slope[go]
        rows = rows[go]
    return bottom, top


def _members(lower, upper, step):
    """The highest and lowest quarters within the cells whose steps are at most ``step`` (n,):
    each quarter's value and the distance ``|t - j|`` to the cell ``j`` that bounds it (the
    lowest None where ``lower`` is None)."""
    T = upper.shape[1]
    dist = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :]).astype(float)  # (t, j)
    t = np.arange(T)[None, :]
    d = dist * step[:, None, None]

    def best(values, pick):
        j = pick(values, axis=2)
        return np.take_along_axis(values, j[..., None], 2)[..., 0], dist[t, j]

    high, du = best(upper[:, None, :] + d, np.argmin)
    if lower is None:
        return high, du, None, None
    low, dl = best(lower[:, None, :] - d, np.argmax)
    return high, du, low, dl


def quarters(
    lower: np.ndarray, upper: np.ndarray, k: float, extra: np.ndarray, year: np.ndarray
) -> np.ndarray:
    """Quarters (n, T) within the cells, steps of at most ``k x year + extra``, adding up to
    ``year`` (n,): between the lattice's lowest and highest members, the same share of the way
    (a point of the segment between two members, so within every limit). ``year`` must be one
    that fits (within :func:`year_range`)."""
    high, _, low, _ = _members(lower, upper, k * year + extra)
    top, bottom = high.sum(axis=1), low.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(np.where(top > bottom, (year - bottom) / (top - bottom), 1.0), 0.0, 1.0)
    return low + share[:, None] * (high - low)

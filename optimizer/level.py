"""The common level on the general model: the lowest stretch (or quantile level) at which the
plan fits, as the optimum of a linear program in which the level is a variable.

A policy's level lambda sets each level cell's upper bound to ``max(floor, min(cap, g(lambda)))``,
where ``g`` is the policy's level function (lambda x P50 for equal stretch, the forecast's
lambda-quantile for equal probability); other cells keep their cap. Between two *breakpoints*
(a lambda at which some cell's ``g`` crosses its floor, or a knot where ``g`` changes slope),
every cell's bound is either constant (held at its floor, at its cap, or not a level cell) or
``min(cap, a + b lambda)`` for one line: the cap stays a bound and ``quota - b lambda <= a`` is a
row. On such an interval the lowest feasible lambda is one LP (:func:`declare_level`), exact: it
needs no bisection. The interval holding the answer is found by bisection over the breakpoints,
which in practice is the first interval tried (the top one for equal stretch: floors are below
the level; the one holding the network relaxation's level when there is one).

The level is one column per rep, tied by a chain of equalities ``level[i] = level[i + 1]``: one
column in every level row would make the interior-point factorisation dense.

Solves: the first LP of a search by HiPO's interior point, with crossover to a vertex when a
later LP of the same shape will follow (the marginal cost's: the dual simplex then goes on from
that basis, only bounds moved); without one, the interior point's level raised by
:data:`INTERIOR_SLACK` (crossover was 4.2 of the 5.4 s of the 10,000-rep level LP with
overlapping targets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from scipy import sparse

from .highs import IPM, IPM_VERTEX, SIMPLEX
from .model import _rows, clear_stage

#: An interior point's level, raised by this share: its rows hold to the feasibility tolerance,
#: so its level can be a hair under the exact one, and the plan stage must fit at it (1e-7 was
#: too little at 100,000 reps with overlapping targets: HiPO's QP ran 199 iterations, 113 s,
#: to no answer there, and planned in 12 s at 2e-7).
INTERIOR_SLACK = 5e-7
#: Breakpoints closer than this (relative) are one: a floor that is exactly a quantile of the
#: forecast crosses at that quantile's level, up to rounding.
SNAP = 1e-12


@dataclass(frozen=True)
class Shape:
    """How a policy's level sets the cells' upper bounds (money)."""

    cells: np.ndarray  # (n, T) bool: the cells the level applies to
    floor: np.ndarray  # (n, T)
    cap: np.ndarray  # (n, T)
    g: Callable[[float], np.ndarray]  # (n, T) the level function, affine between knots
    knots: np.ndarray  # levels at which g changes slope

    def upper(self, lam: float) -> np.ndarray:
        return np.where(
            self.cells, np.maximum(np.minimum(self.cap, self.g(lam)), self.floor), self.cap
        )

    def line(self, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        """g on [a, b] (no knot inside) as slope and intercept, read at the knots of its piece
        (or at 0 and 1 without knots): the same numbers for every interval of one piece, so a
        model re-declared on another of them differs only in bounds."""
        k = self.knots
        if len(k) < 2:
            x0, x1 = 0.0, 1.0
        else:
            j = int(np.clip(np.searchsorted(k, 0.5 * (a + b)) - 1, 0, len(k) - 2))
            x0, x1 = float(k[j]), float(k[j + 1])
        g0, g1 = self.g(x0), self.g(x1)
        slope = (g1 - g0) / (x1 - x0)
        return slope, g0 - slope * x0

    def breakpoints(self, lo: float, hi: float) -> np.ndarray:
        """The knots and the floor crossings strictly inside (lo, hi), sorted, near ones merged."""
        points = np.unique(np.r_[lo, self.knots[(self.knots > lo) & (self.knots < hi)], hi])
        f = self.floor[self.cells]
        G = np.stack([self.g(p)[self.cells] for p in points], axis=1)  # nondecreasing along axis 1
        j = (G < f[:, None]).sum(axis=1)  # first point where g >= floor
        inside = (j > 0) & (j < len(points)) & (f > 0)
        jj = j[inside]
        g0, g1 = G[inside, jj - 1], G[inside, jj]
        x0, x1 = points[jj - 1], points[jj]
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = x0 + (f[inside] - g0) / (g1 - g0) * (x1 - x0)
        cross = np.r_[cross[np.isfinite(cross)], points[1:-1]]
        cross = np.sort(cross[(cross > lo) & (cross < hi)])
        return _merge(cross, points[1:-1])


def _merge(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Sorted points with near-equal ones merged (and snapped to a knot when near one)."""
    if not len(x):
        return x
    for k in knots:
        x[np.abs(x - k) <= SNAP * max(abs(k), 1.0)] = k
    keep = np.r_[True, np.diff(x) > SNAP * np.maximum(np.abs(x[1:]), 1.0)]
    return x[keep]


def declare_level(m, shape: Shape, a: float, b: float, lo: float) -> None:
    """The level LP on the interval [a, b] of the level (never below ``lo``): ``m.level`` (one
    per rep, chained equal), the quotas' bounds for the interval, ``m.level_rows`` and the
    objective ``m.level_objective`` (the lowest level)."""
    unit = m.unit
    ga, gb = shape.g(a), shape.g(b)
    cells, floor, cap = shape.cells, shape.floor, shape.cap
    tol = 1e-12 * np.maximum(np.abs(cap), 1e-300)
    slope, intercept = shape.line(a, b)
    held = cells & (gb <= floor + tol)
    capped = cells & ~held & (ga >= cap - tol)
    flat = cells & ~held & ~capped & (slope <= tol)
    row = cells & ~held & ~capped & ~flat
    upper = np.where(held, floor, cap)
    upper = np.where(flat, np.maximum(floor, np.minimum(cap, ga)), upper)
    ub = np.maximum(upper / unit, m.floor_units).ravel()
    for v, x in zip(m.cells, ub.tolist(), strict=True):
        v.setub(x)
    n, T = cells.shape
    clear_stage(m)  # the model may have served another stage
    reps = np.flatnonzero(row.any(axis=1))
    k = max(len(reps), 1)
    m.level = pyo.Var(range(k), dense=True, bounds=(max(a, lo), b))
    lam = tuple(m.level.values())
    x = m.cells + lam
    rep_col = np.full(n, -1)
    rep_col[reps] = np.arange(len(reps))
    i, t = np.nonzero(row)
    r = np.arange(len(i))
    # quota[i, t] - slope x level[i] <= g(a) - slope x a   (model units)
    matrix = sparse.csr_matrix(
        (
            np.r_[np.ones(len(i)), -slope[i, t] / unit],
            (np.r_[r, r], np.r_[i * T + t, n * T + rep_col[i]]),
        ),
        shape=(len(i), n * T + k),
    )
    _rows(m, "level_rows", matrix, -np.inf, intercept[i, t] / unit, x)
    c = np.arange(k - 1)
    chain = sparse.csr_matrix(
        (np.r_[np.ones(k - 1), -np.ones(k - 1)], (np.r_[c, c], np.r_[n * T + c, n * T + c + 1])),
        shape=(k - 1, n * T + k),
    )
    _rows(m, "level_chain", chain, 0.0, 0.0, x)
    m.level_objective = pyo.Objective(expr=m.level[0])


def lowest(
    m, shape: Shape, lo: float, hi: float, solve, guess: float | None = None, vertex: bool = True
) -> float | None:
    """The lowest level in [lo, hi] at which the model ``m`` is feasible with the bounds
    ``shape.upper(level)``; None if not even ``hi`` is. ``solve(algorithm, **options)`` runs
    HiGHS on ``m`` and returns its :class:`optimizer.highs.Result`. ``guess``: a level at or below the
    answer (a relaxation's), where the search starts; else it starts at the top interval.
    ``vertex``: end the first LP at a vertex (crossover: an exact level, and a basis the next
    LPs go on from); without, the interior point's level, to its tolerance (1e-8)."""
    edges = np.r_[lo, shape.breakpoints(lo, hi), hi]
    K = len(edges) - 2  # intervals 0..K
    floor_lo = lo if guess is None else max(lo, guess)
    first = K if guess is None else int(np.clip(np.searchsorted(edges, guess, "right") - 1, 0, K))
    low, high = (0 if guess is None else first), K  # the answer's interval is in [low, high]
    feasible_at = None  # the lowest level shown feasible so far
    k = first
    while True:
        a, b = edges[k], edges[k + 1]
        declare_level(m, shape, a, b, floor_lo)
        # Presolve off: it would fold the chain of level columns back into one dense column;
        # the normal equations then stay sparse (HiPO need not try the augmented system).
        # The first LP by the interior point with crossover (a vertex: the level exact, and a
        # basis); the next ones, where only bounds moved, by the dual simplex from that basis.
        res = solve(
            IPM_VERTEX if vertex else IPM, warm=SIMPLEX, presolve="off", hipo_system="normaleq"
        )
        if res.optimal:
            value = float(pyo.value(m.level[0]))
            exact = vertex or res.algorithm == SIMPLEX.name
            if not exact:  # an interior point's level may sit a hair below the vertex's
                value *= 1 + INTERIOR_SLACK
            feasible_at = value if feasible_at is None else min(feasible_at, value)
            near = (1e-12 if exact else 1e-7) * max(abs(a), 1.0)
            at_left = value <= max(a, floor_lo) + near
            if not at_left or k == low or a <= floor_lo:
                return value
            high = k - 1  # feasible at a: the answer is in an interval below
        else:
            low = k + 1
            if low > high:
                # Numerically at an edge: the next interval was shown feasible at its left end.
                return feasible_at
        if low > high:
            return feasible_at
        k = (low + high) // 2

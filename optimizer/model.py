"""The Pyomo model of a plan: one small ``declare_*`` helper per family of limits.

``build_plan_model`` never solves. The overload cap and the floor are variable bounds; every
other limit is a family of rows. Each family is a Pyomo ``MatrixConstraint`` (Pyomo's component
for rows given as a sparse matrix), built from the limits' arrays in one go: 100,000 reps build
in about a second, and ``optimizer.compile`` hands the rows to HiGHS as they are. The model is an
ordinary Pyomo model otherwise: add your own constraints to it and they are solved with it.

The limits come from ``optimizer.ranges`` after precedence (a rep's own limits never contradict
each other there), so the model is infeasible only when a company-wide limit cannot be met;
``optimizer.diagnose`` then says which and what to change.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.matrix_constraint import MatrixConstraint
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    PowExpression,
    ProductExpression,
    SumExpression,
)
from scipy import sparse

from .compile import SeparableQuadratic
from .inputs import PlanData
from .ranges import ANNUAL, annual_locks, group_targets, phasing_ranges, rep_limits
from .spec import Limits


def build_plan_model(
    data: PlanData, limits: Limits, total: float, unit: float | None = None
) -> pyo.ConcreteModel:
    """The plan's limits as a Pyomo model without an objective (the policy sets it, and moves
    the quotas' upper bounds for its level: :func:`set_upper`).

    Money is modelled in ``unit`` (default: the average quota cell, ``total / cells``), so every
    coefficient is of order 1: raw currency (matrix 1..1e6, right-hand sides 1e8) leaves HiGHS
    declaring wrong optima. Pass the unit of another model to get one whose rows and columns
    match it number for number (a re-solve at another number then starts from its answer)."""
    n, T = data.p50.shape
    m = pyo.ConcreteModel(name="quota_plan")
    m.R = pyo.RangeSet(0, n - 1)
    m.T = pyo.RangeSet(0, T - 1)
    m.unit = unit or total / (n * T)
    m.quota = pyo.Var(m.R, m.T, dense=True)
    #: The quotas in row-major order (rep, quarter): the columns every family's rows refer to.
    m.cells = tuple(m.quota.values())
    declare_limits(m, data, limits, total)
    return m


def declare_limits(m, data: PlanData, limits: Limits, total: float) -> None:
    """Every limit family for the number ``total``, replacing those already on ``m`` (a model
    re-declared at another number keeps its variables)."""
    unit = m.unit
    rl = rep_limits(data, limits, total)
    floor, cap = rl.floor / unit, rl.cap / unit
    m.floor_units, m.cap_units = floor, cap  # for set_upper
    locked = annual_locks(data, limits)
    declare_quota(m, floor, cap)
    declare_company_total(m, total / unit)
    lo, hi = phasing_ranges(data, limits, total)
    declare_phasing(m, lo / unit, hi / unit)
    declare_annual_limits(m, {k: v / unit for k, v in rl.annual.items()})
    declare_group_targets(
        m, [(name, rows, value / unit) for name, rows, value in group_targets(data, limits)]
    )
    declare_annual_locks(m, {i: rl.lo[i] / unit for i in sorted(locked)})
    if limits.smoothness is not None:
        declare_smoothness(m, limits.smoothness, rl.smooth_extra / unit)
    elif hasattr(m, "smoothness"):
        m.del_component("smoothness")


def _rows(m, name: str, matrix: sparse.csr_matrix, lower, upper, x: tuple | None = None) -> None:
    """Declare (or replace) the family ``name``: ``lower <= matrix @ x <= upper`` (``x``: the
    quotas by default; NaN or infinite: no bound on that side)."""
    if hasattr(m, name):
        m.del_component(name)
    matrix = sparse.csr_matrix(matrix)
    matrix.sort_indices()
    k = matrix.shape[0]

    def side(v):  # Pyomo's convention: None where there is no bound
        v = np.broadcast_to(np.asarray(v, dtype=float), (k,))
        out = v.astype(object)
        out[~np.isfinite(v)] = None
        return out

    m.add_component(
        name,
        MatrixConstraint(
            matrix.data, matrix.indices, matrix.indptr, side(lower), side(upper), x or m.cells
        ),
    )


def _by_rep(m, reps: np.ndarray) -> sparse.csr_matrix:
    """One row per rep in ``reps``: the sum of their quarters."""
    T = len(m.T)
    cols = (np.asarray(reps, dtype=np.int64)[:, None] * T + np.arange(T)).ravel()
    rows = np.repeat(np.arange(len(reps)), T)
    return sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(reps), len(m.cells)))


def declare_quota(m, floor: np.ndarray, cap: np.ndarray) -> None:
    """The quotas' bounds: the floor and the cap."""
    for v, lo, hi in zip(m.cells, floor.ravel().tolist(), cap.ravel().tolist(), strict=True):
        v.setlb(lo)
        v.setub(hi)


def declare_company_total(m, total: float) -> None:
    """The quotas add up to the number (with over-assignment)."""
    _rows(m, "company_total", np.ones((1, len(m.cells))), total, total)


def declare_phasing(m, low: np.ndarray, high: np.ndarray) -> None:
    """Each quarter's company total within [low, high] (rows only where a band applies)."""
    n, T = len(m.R), len(m.T)
    quarters = np.flatnonzero(np.isfinite(low))
    m.phased = quarters
    cols = (np.arange(n)[None, :] * T + quarters[:, None]).ravel()
    rows = np.repeat(np.arange(len(quarters)), n)
    a = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(quarters), n * T))
    _rows(m, "phasing", a, low[quarters], high[quarters])


def declare_annual_limits(m, limits: dict[str, np.ndarray]) -> None:
    """Rows ``annual <= bound`` / ``>= bound`` for each annual limit where it applies."""
    for name, (side, _) in ANNUAL.items():
        bound = limits[name]
        reps = np.flatnonzero(np.isfinite(bound))
        lo, hi = (bound[reps], np.inf) if side == "low" else (-np.inf, bound[reps])
        _rows(m, name, _by_rep(m, reps), lo, hi)


def declare_group_targets(m, targets: list) -> None:
    """Each team/region target: its members' quotas add up to it (``targets``: (name, member
    rows, value) in model units)."""
    T = len(m.T)
    cols, rows = [], []
    for g, (_, members, _) in enumerate(targets):
        c = (np.asarray(members, dtype=np.int64)[:, None] * T + np.arange(T)).ravel()
        cols.append(c)
        rows.append(np.full(len(c), g))
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    a = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(targets), len(m.cells)))
    values = np.array([float(v) for *_, v in targets])
    _rows(m, "group_target", a, values, values)
    m.group_names = [name for name, _, _ in targets]


def declare_annual_locks(m, years: dict[int, float]) -> None:
    """A locked rep's year is the lock (after precedence: at least what is already held)."""
    reps = np.array(list(years), dtype=np.int64)
    values = np.array([years[i] for i in reps], dtype=float)
    _rows(m, "annual_lock", _by_rep(m, reps), values, values)


def declare_smoothness(m, share: float, extra: np.ndarray) -> None:
    """Quarter to quarter, a rep's quota moves by at most ``share`` of their average quarter,
    plus ``extra`` where their own limits need more (``optimizer.smoothness``): for each step,
    ``+/-(quota[t] - quota[t-1]) - share / T x annual <= extra`` (both signs in one family)."""
    n, T = len(m.R), len(m.T)
    k = share / T
    reps = np.repeat(np.arange(n), T - 1)
    step = np.tile(np.arange(1, T), n)
    base = reps * T
    rows = []
    for sign in (1.0, -1.0):
        # Each row: -k on every quarter of the rep, plus +/-1 on quarter t and -/+1 on t - 1.
        coef = np.full((len(reps), T), -k)
        at = np.arange(len(reps))
        coef[at, step] += sign
        coef[at, step - 1] -= sign
        cols = base[:, None] + np.arange(T)[None, :]
        rows.append(
            sparse.csr_matrix(
                (coef.ravel(), cols.ravel(), np.arange(0, len(reps) * T + 1, T)),
                shape=(len(reps), n * T),
            )
        )
    a = sparse.vstack(rows, format="csr")
    _rows(m, "smoothness", a, -np.inf, np.tile(extra[reps], 2))
    m.smoothness_terms = (k, np.asarray(extra, dtype=float))


def smoothness_room(m, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``m.smoothness`` (in its order: every rep's steps up, then down), the step
    the quotas ``x`` (n, T, model units) take in the row's direction and the row's allowance
    there (``share / T x annual + extra``): the row holds where step <= allowance."""
    k, extra = m.smoothness_terms
    T = x.shape[1]
    step = np.diff(x, axis=1).ravel()
    allowance = np.repeat(k * x.sum(axis=1) + extra, T - 1)
    return np.r_[step, -step], np.tile(allowance, 2)


def declare_closeness(m, reference: np.ndarray, weight: np.ndarray) -> None:
    """The second stage's objective ``m.closeness``: sum((quota - reference)^2 / (2 weight)),
    money in and weights in the model's units. Strictly convex, so the plan is unique."""
    ref, w = (reference / m.unit).ravel(), (weight / m.unit).ravel()
    half = 0.5 / w
    # (v - r) ** 2 * h, the nodes Pyomo's operators would make, made directly (40% faster).
    terms = [
        ProductExpression((PowExpression((LinearExpression([v, -r]), 2)), h))
        for v, r, h in zip(m.cells, ref.tolist(), half.tolist(), strict=True)
    ]
    expr = SumExpression(terms)
    if hasattr(m, "closeness"):
        m.del_component("closeness")
    m.closeness = pyo.Objective(expr=expr)
    # The same objective as numbers (what optimizer.compile reads while the expression holds).
    m._closeness = SeparableQuadratic(
        m.closeness, expr, m.cells, 1.0 / w, -ref / w, float((ref**2 * half).sum())
    )


def closeness_value(m) -> float:
    """The closeness objective at the quotas' values, in model units (from the numbers it was
    built from: the same as ``pyo.value(m.closeness)``, without walking 400,000 terms)."""
    c = m._closeness
    x = np.array([v.value for v in c.x], dtype=float)
    return float((0.5 * c.diagonal * x**2 + c.linear * x).sum() + c.constant)


def clear_stage(m) -> None:
    """Remove what a policy's stage put on the model (the level LP's variables, rows and
    objective; the plan's objective): the plan's limits stay."""
    for name in ("level", "level_rows", "level_chain", "level_objective", "closeness"):
        if hasattr(m, name):
            m.del_component(name)


def set_upper(m, upper: np.ndarray) -> None:
    """Set every quota's upper bound (money), never below its floor: a policy's level changes
    the bounds of the built model instead of rebuilding it."""
    ub = np.maximum(upper / m.unit, m.floor_units).ravel()
    for v, b in zip(m.cells, ub.tolist(), strict=True):
        v.setub(b)


def quota_values(m, shape) -> np.ndarray:
    """The solved quotas, in money."""
    out = np.array([np.nan if v.value is None else v.value for v in m.cells], dtype=float)
    return out.reshape(shape) * m.unit

"""A Pyomo model as the arrays HiGHS reads (columns and their bounds, rows, objective), in seconds.

The plan's limit families are declared as Pyomo ``MatrixConstraint`` components (Pyomo's own
component for rows given as a sparse matrix, ``optimizer.model``): their rows are taken as they
are, without Pyomo's expression system, so 100,000 reps compile in about a second where a
row-by-row translation takes minutes. Anything else on the model is compiled the general way:
other active constraints (a user's own limits) by Pyomo's ``LinearStandardFormCompiler``, a
linear objective with them, a quadratic one by Pyomo's standard representation. The plan's
closeness objective (``optimizer.model.declare_closeness``) is a genuine Pyomo expression too;
its Hessian is read from the numbers it was built from, as long as the objective still holds that
very expression.

So the model stays an ordinary Pyomo model that users extend; compiling it never solves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.matrix_constraint import MatrixConstraint
from scipy import sparse

INF = np.inf


@dataclass
class Compiled:
    """A model as arrays: ``row_lower <= A @ x <= row_upper``, ``col_lower <= x <= col_upper``,
    minimise ``cost @ x + x' H x / 2 + offset`` (``hessian``: lower triangle, or None)."""

    columns: list  # Pyomo VarData per column
    col_lower: np.ndarray
    col_upper: np.ndarray
    A: sparse.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    cost: np.ndarray
    offset: float = 0.0
    hessian: sparse.csc_matrix | None = None
    sense: int = 1  # 1 minimise, -1 maximise (cost and hessian are for minimising)
    #: Where each MatrixConstraint's rows are: id(component) -> (first row, row count); the
    #: general rows as a list of (ConstraintData, side) per row.
    blocks: dict = field(default_factory=dict)
    general_rows: list = field(default_factory=list)
    general_start: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


class _Columns:
    """The model's variables in column order, each tuple of variables mapped once."""

    def __init__(self):
        self.vars: list = []
        self.index: dict[int, int] = {}
        self.seen: dict[int, tuple] = {}  # id(tuple) -> (tuple, its columns)

    def of(self, x) -> np.ndarray:
        hit = self.seen.get(id(x))
        if hit is not None and hit[0] is x:
            return hit[1]
        if not self.vars:  # the first tuple (the plan's cells): its variables in its order
            index = dict(zip(map(id, x), range(len(x)), strict=True))
            if len(index) == len(x):
                self.vars, self.index = list(x), index
                out = np.arange(len(x), dtype=np.int64)
                self.seen[id(x)] = (x, out)
                return out
        get = self.index.get
        out = np.fromiter((get(id(v), -1) for v in x), dtype=np.int64, count=len(x))
        for k in np.flatnonzero(out < 0):  # variables not seen before: new columns
            v = x[k]
            j = get(id(v))
            if j is None:
                j = self.index[id(v)] = len(self.vars)
                self.vars.append(v)
            out[k] = j
        self.seen[id(x)] = (x, out)
        return out


def compile_model(m: pyo.ConcreteModel) -> Compiled:
    """The model's active rows, columns and objective as arrays (see the module docstring).

    Raises
    ------
    ValueError : more than one active objective, or an objective HiGHS cannot take (beyond
        quadratic); Pyomo's compiler raises its own errors for nonlinear constraints.
    """
    cols = _Columns()
    constraints = list(m.component_objects(pyo.Constraint, active=True, descend_into=True))
    # By name: a family re-declared (deleted and added again) keeps its place among the rows.
    matrix = sorted(
        (c for c in constraints if isinstance(c, MatrixConstraint)), key=lambda c: c.name
    )
    general = [c for c in constraints if not isinstance(c, MatrixConstraint)]
    blocks, parts, lower, upper = {}, [], [], []
    n_rows = 0
    for comp in matrix:
        lo, hi = _bounds(comp._lower, -INF), _bounds(comp._upper, INF)
        keep = np.fromiter((d._active for d in comp._data), dtype=bool, count=len(lo))
        indices = cols.of(comp._x)[np.asarray(comp._A_indices, dtype=np.int64)]
        parts.append((np.asarray(comp._A_data, dtype=float), indices, comp._A_indptr, keep))
        lower.append(lo[keep])
        upper.append(hi[keep])
        blocks[id(comp)] = (n_rows, int(keep.sum()))
        n_rows += int(keep.sum())
    general_rows = []
    if general:
        A, lo, hi, general_rows = _general(m, matrix, cols)
        parts.append((A.data, A.indices, A.indptr, np.ones(A.shape[0], dtype=bool)))
        lower.append(lo)
        upper.append(hi)
    objectives = list(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) > 1:
        raise ValueError(
            f"the model has {len(objectives)} active objectives "
            f"({', '.join(o.name for o in objectives)}); deactivate all but one"
        )
    objective = objectives[0] if objectives else None
    closeness = getattr(m, "_closeness", None)
    known = (
        objective is not None
        and closeness is not None
        and objective is closeness.component
        and objective.expr is closeness.expr
    )
    if objective is None:
        linear, offset, quadratic = [], 0.0, []
    elif known:
        idx = cols.of(closeness.x)
        linear = list(zip(idx, closeness.linear, strict=True))
        offset = closeness.constant
        quadratic = list(zip(idx, idx, closeness.diagonal, strict=True))
    else:
        linear, offset, quadratic = _objective(objective, cols)
    n = len(cols.vars)  # every variable of the rows and the objective, in order
    rows = []
    for data, indices, indptr, keep in parts:
        block = sparse.csr_matrix((data, indices, indptr), shape=(len(keep), n))
        rows.append(block if keep.all() else block[np.flatnonzero(keep)])
    A = sparse.vstack(rows, format="csc") if rows else sparse.csc_matrix((0, n))
    cost = np.zeros(n)
    if linear:
        j, c = (np.asarray(x) for x in zip(*linear, strict=True))
        np.add.at(cost, j.astype(np.int64), c.astype(float))
    hessian = None
    if quadratic:
        r, c, v = (np.asarray(x) for x in zip(*quadratic, strict=True))
        hessian = sparse.csc_matrix((v.astype(float), (r, c)), shape=(n, n))
    sense = 1
    if objective is not None and objective.sense != pyo.minimize:
        sense = -1  # HiGHS is asked to minimise: maximise f as minimise -f
        cost, offset = -cost, -offset
        hessian = -hessian if hessian is not None else None
    col_lower, col_upper = _column_bounds(cols.vars)
    return Compiled(
        columns=cols.vars,
        col_lower=col_lower,
        col_upper=col_upper,
        A=A,
        row_lower=np.concatenate(lower) if lower else np.zeros(0),
        row_upper=np.concatenate(upper) if upper else np.zeros(0),
        cost=cost,
        offset=float(offset),
        hessian=hessian,
        sense=sense,
        blocks=blocks,
        general_rows=general_rows,
        general_start=n_rows,
    )


def _bounds(values, missing: float) -> np.ndarray:
    """A MatrixConstraint's row bounds as floats (None: no bound on that side)."""
    out = np.array(values, dtype=float)  # None -> NaN
    return np.where(np.isnan(out), missing, out)


def _column_bounds(columns: list) -> tuple[np.ndarray, np.ndarray]:
    """Each variable's bounds (a fixed variable at its value), from the Pyomo variables
    themselves, so a bound set on any variable by any caller holds. Plain real variables with
    numeric bounds (all of the plan's) are read directly; others through Pyomo's ``bounds``."""
    n = len(columns)
    reals = pyo.Reals
    try:  # all plain (the plan's own): read in bulk
        plain = all(
            v._domain is reals and not v._fixed and type(v._lb) in _PLAIN and type(v._ub) in _PLAIN
            for v in columns
        )
    except AttributeError:
        plain = False
    if plain:
        lower = np.array([v._lb for v in columns], dtype=float).reshape(n)
        upper = np.array([v._ub for v in columns], dtype=float).reshape(n)
        return np.where(np.isnan(lower), -INF, lower), np.where(np.isnan(upper), INF, upper)
    lower = np.empty(n)
    upper = np.empty(n)
    for k, v in enumerate(columns):
        if v.fixed:
            lower[k] = upper[k] = v.value
            continue
        lb, ub = getattr(v, "_lb", 0j), getattr(v, "_ub", 0j)
        if (
            getattr(v, "_domain", None) is not reals
            or lb.__class__ not in _PLAIN
            or ub.__class__ not in _PLAIN
        ):
            lb, ub = v.bounds
        lower[k] = -INF if lb is None else lb
        upper[k] = INF if ub is None else ub
    return lower, upper


_PLAIN = (float, int, type(None))


def _general(m, matrix, cols: _Columns):
    """Every active constraint that is not one of the plan's matrix families (a user's own),
    compiled by Pyomo's LinearStandardFormCompiler: (A, lower, upper, [(constraint, side)])."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    switched = [c for c in matrix if c.active]
    objectives = list(m.component_objects(pyo.Objective, active=True, descend_into=True))
    for c in switched + objectives:
        c.deactivate()
    try:
        info = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    finally:
        for c in switched + objectives:
            c.activate()
    idx = cols.of(info.columns) if len(info.columns) else np.zeros(0, dtype=np.int64)
    A = sparse.csr_matrix(info.A)
    A = sparse.csr_matrix((A.data, idx[A.indices], A.indptr), shape=(A.shape[0], len(cols.vars)))
    rhs = np.asarray(info.rhs, dtype=float)
    side = np.array([r[1] for r in info.rows], dtype=int)  # 0: ==, 1: <=, -1: >=
    lo = np.where(side == 1, -INF, rhs)
    hi = np.where(side == -1, INF, rhs)
    return A, lo, hi, [(r[0], r[1]) for r in info.rows]


def _objective(objective, cols: _Columns):
    """An objective not built by ``declare_closeness``: (linear terms, constant, quadratic
    terms of the lower triangle), by Pyomo's standard representation."""
    from pyomo.repn.standard_repn import generate_standard_repn

    repn = generate_standard_repn(objective.expr, quadratic=True, compute_values=True)
    if repn.nonlinear_expr is not None:
        raise ValueError(
            f"the objective {objective.name} is not linear or quadratic: HiGHS cannot take it"
        )
    linear = []
    if repn.linear_vars:
        linear = list(zip(cols.of(repn.linear_vars), map(float, repn.linear_coefs), strict=True))
    quadratic = []
    if repn.quadratic_vars:
        a = cols.of(tuple(p[0] for p in repn.quadratic_vars))
        b = cols.of(tuple(p[1] for p in repn.quadratic_vars))
        for i, j, c in zip(a, b, repn.quadratic_coefs, strict=True):
            c = float(c)
            if i == j:  # c x^2 = x (2c) x / 2
                quadratic.append((i, i, 2 * c))
            else:  # c x y: H[i, j] = H[j, i] = c, kept in the lower triangle
                quadratic.append((max(i, j), min(i, j), c))
    return linear, float(repn.constant), quadratic


@dataclass(frozen=True)
class SeparableQuadratic:
    """What ``declare_closeness`` built its objective from: ``sum(d x^2 / 2 + l x) + constant``
    over the variables ``x`` (recognised only while ``component.expr is expr``)."""

    component: object
    expr: object
    x: tuple
    diagonal: np.ndarray
    linear: np.ndarray
    constant: float

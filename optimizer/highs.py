"""The one way a Pyomo model is solved: compiled to arrays (``optimizer.compile``) and passed to
HiGHS in memory (highspy), with the algorithm chosen for each stage.

- **Algorithms.** A stage asks for one of :data:`SIMPLEX` (dual simplex: continues from the last
  basis when only bounds moved), :data:`IPM_VERTEX` (HiPO's interior point, then crossover to a
  vertex: an exact level, and a basis later solves continue from) or :data:`QP` (HiPO's interior
  point for the quadratic plan stage). HiPO needs ``highspy-extras`` of the same version as
  ``highspy``; without it each stage falls back (IPX's interior point for the LP, the active-set
  method for the QP, much slower on large plans) and :class:`Result` says why. One stage runs
  no HiGHS at all: :data:`OWN_POINT`, a plan the caller constructed, checked against the
  model's rows and bounds (:meth:`Solver.verify`).
- **Persistence.** A :class:`Solver` keeps the last model's arrays: a model with the same rows,
  columns and coefficients is sent as its new bounds and costs only, so the simplex goes on
  from where it stopped; one of the same size but other coefficients starts from the last basis.
- **Certificates.** Each result carries HiGHS's status, its primal-dual objective gap and the
  largest violation of a row or a bound by the solution (computed here, from the arrays).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo

from .compile import Compiled, compile_model
from .errors import SolverLimitError

#: Tighter than HiGHS's defaults (1e-7; models are in units of the average quarter), so a level
#: the general model accepts is feasible to the same precision as the fast route's.
TIGHT = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
#: HiGHS's defaults, set explicitly: the retry after a numerical error at the tight ones.
DEFAULT = {"primal_feasibility_tolerance": 1e-7, "dual_feasibility_tolerance": 1e-7}


@dataclass(frozen=True)
class Algorithm:
    """A HiGHS algorithm for one stage: its name in the summary, its options, whether it needs
    HiPO, and what runs instead without HiPO."""

    name: str
    options: dict
    hipo: bool = False
    fallback: Algorithm | None = None


#: HiGHS's interior-point solvers, and the iterations one may take before the exact method of
#: the model's kind (dual simplex, active-set QP) decides instead (they converge in tens).
INTERIOR = ("hipo", "ipx")
IPM_ITERATION_LIMIT = 500

SIMPLEX = Algorithm("dual simplex", {"solver": "simplex", "simplex_strategy": 1})
#: HiPO's fill-reducing ordering: approximate minimum degree. On the plan's models (a block per
#: rep, a few rows over every rep) it factorises faster than METIS, HiPO's choice: the 10,000-rep
#: level LP with smoothness in 3.6-3.8 s against 4.6-5.8 s, the one with overlapping targets
#: in 5.8 s against 9.8 s, their QPs 2.3 s against 2.4 s and 0.6 s against 1.2 s.
ORDERING = {"hipo_ordering": "amd"}
IPM_VERTEX = Algorithm(
    "HiPO interior point, crossover to a vertex",
    {"solver": "hipo", "run_crossover": "on", **ORDERING},
    hipo=True,
    fallback=Algorithm(
        "IPX interior point, crossover to a vertex", {"solver": "ipx", "run_crossover": "on"}
    ),
)
IPM = Algorithm(
    "HiPO interior point",
    {"solver": "hipo", "run_crossover": "off", **ORDERING},
    hipo=True,
    fallback=Algorithm("IPX interior point", {"solver": "ipx", "run_crossover": "off"}),
)
#: Not HiGHS: a plan constructed at the level of the reps' own limits (each rep's quarters
#: alone; ``optimizer.policies``), checked against every row and bound of the model
#: (:meth:`Solver.verify`). Where it holds, that level is the plan's: it is a lower bound too.
OWN_POINT = Algorithm("the reps' own limits' level: a plan constructed there, rows checked", {})
QP = Algorithm(
    "HiPO interior point (QP)",
    # Tighter than HiGHS's 1e-8: the plan's cells, not only its objective, to 1e-6 (the
    # objective's error of e moves a strictly convex optimum by about the root of e).
    {"solver": "hipo", "ipm_optimality_tolerance": 1e-10, **ORDERING},
    hipo=True,
    fallback=Algorithm("active-set QP", {"solver": "qpasm"}),
)


@functools.cache
def hipo() -> tuple[bool, str]:
    """Whether HiGHS's HiPO solver runs here, and if not, why (``highspy-extras`` missing, of
    another version than ``highspy``, or its libraries not loading)."""
    from importlib.metadata import PackageNotFoundError, version

    ours = version("highspy")
    try:
        extras = version("highspy-extras")
    except PackageNotFoundError:
        return False, (
            f"HiPO is unavailable: highspy-extras is not installed (pip install "
            f"'highspy-extras=={ours}', the version of highspy)"
        )
    if extras != ours:
        return False, (
            f"HiPO is unavailable: highspy-extras {extras} does not match highspy {ours} "
            f"(pip install 'highspy-extras=={ours}')"
        )
    # A two-column QP with one row: HiPO runs it, or refuses.
    h = _new()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2, 1
    lp.col_cost_ = np.array([-1.0, -1.0])
    lp.col_lower_, lp.col_upper_ = np.zeros(2), np.full(2, 10.0)
    lp.row_lower_, lp.row_upper_ = np.array([1.0]), np.array([1.0])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([0, 1, 2], dtype=np.int32)
    lp.a_matrix_.index_ = np.array([0, 0], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([1.0, 1.0])
    model = highspy.HighsModel()
    model.lp_ = lp
    hess = highspy.HighsHessian()
    hess.dim_, hess.format_ = 2, highspy.HessianFormat.kTriangular
    hess.start_ = np.array([0, 1, 2], dtype=np.int32)
    hess.index_ = np.array([0, 1], dtype=np.int32)
    hess.value_ = np.array([1.0, 1.0])
    model.hessian_ = hess
    h.passModel(model)
    h.setOptionValue("solver", "hipo")
    h.run()
    if (
        h.getModelStatus() != highspy.HighsModelStatus.kOptimal
        or not h.getInfo().ipm_iteration_count
    ):
        return False, (
            f"HiPO is unavailable: highspy-extras {extras} is installed but HiPO did not run "
            "(its libraries amd, blas, metis and rcm did not load)"
        )
    return True, ""


def _new() -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


@dataclass
class Result:
    """One solve: HiGHS's verdict, the solution (also loaded into the Pyomo variables when
    optimal) and how it was reached."""

    status: str  # "optimal", "infeasible", "unbounded", "time limit" or HiGHS's own words
    algorithm: str  # what ran
    note: str  # why another algorithm ran than asked (HiPO unavailable), else ""
    compiled: Compiled
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    objective: float = float("nan")
    gap: float = float("nan")  # HiGHS's relative primal-dual objective error
    residual: float = float("nan")  # largest row or bound violation (model units)
    iterations: dict = field(default_factory=dict)
    translation_s: float = 0.0  # Pyomo model -> HiGHS (compile and send)
    highs_s: float = 0.0  # HiGHS's own time

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    def dual(self, component) -> np.ndarray:
        """The duals of a MatrixConstraint family's rows (HiGHS's sign convention)."""
        start, count = self.compiled.blocks[id(component)]
        return self.row_dual[start : start + count] * self.compiled.sense


_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible or unbounded",
    highspy.HighsModelStatus.kTimeLimit: "time limit",
    highspy.HighsModelStatus.kModelEmpty: "optimal",  # no rows and no columns: nothing to do
}


class Solver:
    """One HiGHS instance for a sequence of solves of related models (see the module
    docstring). ``time_limit``: seconds per solve (None: no limit)."""

    def __init__(self, time_limit: float | None = None):
        self.time_limit = time_limit
        self.h: highspy.Highs | None = None
        self.sent: Compiled | None = None

    def solve(
        self,
        m: pyo.ConcreteModel,
        algorithm: Algorithm,
        warm: Algorithm | None = None,
        *,
        exact_check: bool = True,
        **options,
    ) -> Result:
        """Compile ``m``, send it (or its changes), run ``algorithm`` and load the solution;
        ``warm``: the algorithm to run instead when HiGHS holds a basis for a model of this
        shape (the dual simplex then goes on from it).

        Solves at tight tolerances, and again at HiGHS's defaults if HiGHS reports a numerical
        error there. ``options``: more HiGHS options for this solve (e.g. ``presolve="off"``).
        ``exact_check``: an interior point's unsure verdict is checked by the exact method of
        the model's kind (False where the caller has a cheaper way on: the active-set QP runs
        for minutes on 100,000 reps).

        Raises
        ------
        SolverLimitError : HiGHS hit the time limit before an answer.
        """
        t0 = time.perf_counter()
        compiled = compile_model(m)
        if warm is not None and self._has_basis(compiled):
            algorithm = warm
        note = ""
        if algorithm.hipo and not hipo()[0]:
            note = hipo()[1]
            algorithm = algorithm.fallback
        h = self._send(compiled, algorithm)
        translation = time.perf_counter() - t0
        highs_s = 0.0
        passes = [(TIGHT, options)]
        exact = {"solver": "qpasm"} if compiled.hessian is not None else SIMPLEX.options
        interior_asked = algorithm.options.get("solver") in INTERIOR and exact_check
        if interior_asked:
            # An interior point that stalls (seen: minutes on a tiny degenerate feasibility
            # LP) or calls the model infeasible is checked by the exact method of the model's
            # kind, at the same tolerances and presolve: at HiGHS's looser defaults with
            # presolve, the dual simplex called a feasible level LP infeasible (diagnosis
            # property, a 6-rep plan with smoothness 0 on the edge of its caps).
            passes.append((TIGHT, {**options, **exact}))
        # A numerical error at the tight tolerances: again at HiGHS's defaults.
        passes.append((DEFAULT, {**options, "presolve": "choose"}))
        if interior_asked:
            passes.append((DEFAULT, {**options, **exact, "presolve": "choose"}))
        for tolerances, more in passes:
            settings = {**algorithm.options, **tolerances, **more}
            interior = settings["solver"] in INTERIOR
            settings["ipm_iteration_limit"] = IPM_ITERATION_LIMIT if interior else 2**31 - 1
            for key, value in settings.items():
                h.setOptionValue(key, value)
            if self.time_limit:
                h.setOptionValue("time_limit", float(self.time_limit))
            t1 = time.perf_counter()
            h.run()
            highs_s += time.perf_counter() - t1
            model_status = h.getModelStatus()
            decided = model_status in _STATUS and not (
                interior and model_status == highspy.HighsModelStatus.kInfeasible
            )
            if decided:
                if settings["solver"] != algorithm.options.get("solver"):
                    algorithm = Algorithm(
                        f"{algorithm.name}, not conclusive; then {settings['solver']}", {}
                    )
                break
        status = _STATUS.get(model_status, h.modelStatusToString(model_status).lower())
        if status == "time limit":
            raise SolverLimitError(
                f"HiGHS hit the time limit ({self.time_limit} s) before an optimal plan; raise the "
                "limit or plan fewer reps at once"
            )
        info = h.getInfo()
        result = Result(
            status=status,
            algorithm=algorithm.name,
            note=note,
            compiled=compiled,
            iterations={
                k: int(getattr(info, f"{k}_iteration_count"))
                for k in ("simplex", "ipm", "crossover", "qp")
                if getattr(info, f"{k}_iteration_count") > 0
            },
            gap=float(info.primal_dual_objective_error),
            translation_s=translation,
            highs_s=highs_s,
        )
        if result.optimal:
            t2 = time.perf_counter()
            sol = h.getSolution()
            x = np.asarray(sol.col_value, dtype=float)
            result.x = x
            result.row_dual = np.asarray(sol.row_dual, dtype=float)
            result.objective = compiled.sense * (float(info.objective_function_value))
            result.residual = residual(compiled, x)
            for v, value in zip(compiled.columns, x.tolist(), strict=True):
                v.set_value(value, skip_validation=True)
            result.translation_s += time.perf_counter() - t2
        return result

    def verify(self, m: pyo.ConcreteModel, algorithm: Algorithm, point: tuple) -> Result:
        """Whether a point the caller constructed satisfies every row and bound of ``m`` (as
        compiled for HiGHS) within HiGHS's tight primal tolerance: "optimal" for a model
        without an objective (its values are then loaded into the Pyomo variables), else "not
        within the rows". ``point``: (variables, values). Nothing is sent to HiGHS."""
        t0 = time.perf_counter()
        compiled = compile_model(m)
        variables, values = point
        where = {id(v): k for k, v in enumerate(variables)}
        at = [where.get(id(v), -1) for v in compiled.columns]
        status, x, worst = "not within the rows", None, float("nan")
        if min(at, default=0) >= 0:
            x = np.asarray(values, dtype=float)[np.asarray(at, dtype=np.int64)]
            worst = residual(compiled, x)
            if worst <= TIGHT["primal_feasibility_tolerance"] and not compiled.cost.any():
                status = "optimal"
                for v, value in zip(compiled.columns, x.tolist(), strict=True):
                    v.set_value(value, skip_validation=True)
        return Result(
            status=status,
            algorithm=algorithm.name,
            note="",
            compiled=compiled,
            x=x,
            objective=0.0,
            gap=0.0 if status == "optimal" else float("nan"),
            residual=worst,
            translation_s=time.perf_counter() - t0,
        )

    def _has_basis(self, c: Compiled) -> bool:
        return (
            self.h is not None
            and self.sent is not None
            and self.sent.shape == c.shape
            and bool(self.h.getInfo().basis_validity)
        )

    def _send(self, c: Compiled, algorithm: Algorithm) -> highspy.Highs:
        """The model to HiGHS: only its bounds and costs when its matrix is the last one's."""
        last, h = self.sent, self.h
        self.sent = c
        if h is not None and last is not None and _same_matrix(last, c):
            cols = np.arange(c.shape[1], dtype=np.int32)
            rows = np.arange(c.shape[0], dtype=np.int32)
            h.changeColsBounds(len(cols), cols, c.col_lower, c.col_upper)
            if len(rows):
                h.changeRowsBounds(len(rows), rows, c.row_lower, c.row_upper)
            h.changeColsCost(len(cols), cols, c.cost)
            h.changeObjectiveOffset(c.offset)
            return h
        basis = None
        if h is not None and last is not None and last.shape == c.shape:
            basis = h.getBasis() if h.getInfo().basis_validity else None
        h = self.h = h or _new()
        h.passModel(_model(c))
        if basis is not None and algorithm.options.get("solver") == "simplex":
            h.setBasis(basis)
        return h


def _same_matrix(a: Compiled, b: Compiled) -> bool:
    if a.shape != b.shape or (a.hessian is None) != (b.hessian is None):
        return False
    pairs = [(a.A, b.A)] + ([(a.hessian, b.hessian)] if a.hessian is not None else [])
    return all(
        x.nnz == y.nnz
        and np.array_equal(x.indptr, y.indptr)
        and np.array_equal(x.indices, y.indices)
        and np.array_equal(x.data, y.data)
        for x, y in pairs
    )


def _model(c: Compiled) -> highspy.HighsModel:
    lp = highspy.HighsLp()
    n_rows, n_cols = c.shape
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = c.cost
    lp.offset_ = c.offset
    lp.col_lower_, lp.col_upper_ = c.col_lower, c.col_upper
    lp.row_lower_, lp.row_upper_ = c.row_lower, c.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = c.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = c.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = c.A.data.astype(float)
    model = highspy.HighsModel()
    model.lp_ = lp
    if c.hessian is not None:
        lower = _lower_triangle(c.hessian)
        hess = highspy.HighsHessian()
        hess.dim_ = n_cols
        hess.format_ = highspy.HessianFormat.kTriangular
        hess.start_ = lower.indptr.astype(np.int32)
        hess.index_ = lower.indices.astype(np.int32)
        hess.value_ = lower.data.astype(float)
        model.hessian_ = hess
    return model


def _lower_triangle(h):
    from scipy import sparse

    lower = sparse.tril(sparse.csc_matrix(h), format="csc")
    lower.sum_duplicates()
    lower.sort_indices()
    return lower


#: Rows with more terms than this have their activity summed exactly (``math.fsum``): a plain
#: sum of 400,000 cells (the company total at 100,000 reps) is off by some 1e-9 in model units
#: by rounding alone, as much as the feasibility tolerance the residual is held to.
LONG_ROW = 64


def residual(c: Compiled, x: np.ndarray) -> float:
    """The largest violation of a row or a bound by ``x`` (model units); long rows' activities
    summed exactly (:data:`LONG_ROW`)."""
    ax = c.A @ x if c.shape[0] else np.zeros(0)
    if c.shape[0]:
        long = np.flatnonzero(np.bincount(c.A.indices, minlength=c.shape[0]) > LONG_ROW)
        if len(long):
            rows = c.A.tocsr()[long]
            for k, r in enumerate(long.tolist()):
                lo, hi = rows.indptr[k], rows.indptr[k + 1]
                ax[r] = math.fsum((rows.data[lo:hi] * x[rows.indices[lo:hi]]).tolist())
    parts = [
        np.max(c.row_lower - ax, initial=0.0),
        np.max(ax - c.row_upper, initial=0.0),
        np.max(c.col_lower - x, initial=0.0),
        np.max(x - c.col_upper, initial=0.0),
    ]
    return float(max(parts))

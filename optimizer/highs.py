"""The one way a Pyomo model is solved: HiGHS in memory, through Pyomo's persistent interface."""

from __future__ import annotations

import time

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from .errors import SolverLimitError

#: Tighter than HiGHS's defaults (1e-7; models are in units of the average quarter), so a level
#: the general model accepts is feasible to the same precision as the fast route's.
TIGHT = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
#: HiGHS's defaults, set explicitly (a persistent solver keeps the options of its last solve).
DEFAULT = {"primal_feasibility_tolerance": 1e-7, "dual_feasibility_tolerance": 1e-7}


def new_solver():
    """A HiGHS instance for repeated solves of one model (it then sends only the changes)."""
    return SolverFactory("highs")


def solve_model(
    m: pyo.ConcreteModel, time_limit: float | None, solver=None
) -> tuple[object, bool, float, float]:
    """Solve ``m`` with HiGHS (no files). Pass the same ``solver`` (:func:`new_solver`) for
    repeated solves of one model: the interface is persistent and then only sends the changes
    (a bisection that moves bounds is not re-translated each step).

    Solves at tight tolerances, and again at HiGHS's defaults if it reports a numerical error
    there. Returns the results, whether optimal, the wall time and HiGHS's own share of it (the
    rest is Pyomo's translation of the model).

    Raises
    ------
    SolverLimitError : HiGHS hit ``time_limit`` before an answer.
    """
    wall = highs = 0.0
    solver = solver or new_solver()
    for options in (TIGHT, DEFAULT):
        kwargs = {
            "load_solutions": False,
            "raise_exception_on_nonoptimal_result": False,
            "solver_options": options,
        }
        if time_limit:
            kwargs["time_limit"] = time_limit
        t0 = time.perf_counter()
        res = solver.solve(m, **kwargs)
        elapsed = time.perf_counter() - t0
        wall += elapsed
        highs += min(float(getattr(res.timing_info, "highs_time", None) or elapsed), elapsed)
        tc = res.termination_condition
        if tc != TerminationCondition.error:
            break
    if tc == TerminationCondition.maxTimeLimit:
        raise SolverLimitError(
            f"HiGHS hit the time limit ({time_limit} s) before an optimal plan; raise the limit or plan fewer reps at once"
        )
    optimal = tc == TerminationCondition.convergenceCriteriaSatisfied
    if optimal:
        res.solution_loader.load_vars()
    return res, optimal, wall, highs

"""The heavy work a request starts: two requests at a time per web worker process, solving in
that worker's planning process, and forecasting in a worker process with a hard time bound
(``QUOTAPLAN_FORECAST_TIME_LIMIT``).

Planning is CPU-bound: two plans in one process only share its interpreter lock. So each web
worker takes the heavy work of :data:`TURNS` (two) requests at a time (:func:`turn`, or
:func:`heavy` around a whole view): once a request's body is read and checked (a bad request is
answered at once, never after the plans ahead of it), it waits for its turn without holding the
lock, then forecasts, solves, stores and writes its answer. Two, not one: while the worker's
planning process solves one plan, the worker prepares the next or stores the last, so two
workers keep both cores busy (with one turn each a worker's own process and its planning
process took turns, and the cores were a fifth idle at 8 clients). Within a worker, one thread
at a time does such CPU-bound Python work (:func:`busy`: parsing a body, preparing a plan,
storing it), and lets go while it waits for another process; the worker's many threads stay
free for quick requests (``/v1/health``, reads) meanwhile. A plan waiting for its turn holds
its body as bytes, validated again when its turn comes
(``api.routes.common.checked_json_body``): the garbage collector then has little to walk
however many plans wait.

A plan's and a re-plan's solve (building the optimizer's model, HiGHS, reading the solution,
and encoding the plan for storage) runs in the web worker's own planning process
(:func:`planned`, ``pebble``, one persistent process per web worker, from a clean
``forkserver``): the web worker's interpreter lock is then free while it solves, for
``/v1/health``, reads and the next plan being prepared. Under ``quotaplan serve`` the planning
process is niced (``QUOTAPLAN_PLANNER_NICE``, see :func:`warm`). The solver bounds itself
(``QUOTAPLAN_SOLVER_TIME_LIMIT``, a 503 as before); a planning process that dies is a 503 too.
Adjustments, tracking and relief still run in the web worker, inside its turn.

Fitting the forecaster is the one kind of work a request starts that nothing else bounds (the
solver stops itself at ``QUOTAPLAN_SOLVER_TIME_LIMIT``; rows and reps are bounded before any
work). So it runs in a separate process (``pebble``, from a clean ``forkserver``): one that
runs past its limit is killed, its CPU given back, and the request answered with a 503 naming
the setting. It also keeps the model's long stretches of compiled code out of the web worker's
interpreter, so the worker's other threads (``/v1/health`` among them) answer meanwhile.

The domain errors (DataValidationError, PlanInfeasibleError with its diagnosis, SolverLimitError,
ForecastError, ...) cross the process boundary intact, and are answered as in-process.
"""

from __future__ import annotations

import atexit
import copyreg
import multiprocessing
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from functools import wraps

from pebble import ProcessExpired, ProcessPool

from datasets import DataValidationError
from models import DEFAULT_QUANTILES
from optimizer import PlanInfeasibleError

from .jobs import report
from .problems import ApiProblem
from .service.forecasts import forecast_tables

copyreg.pickle(DataValidationError, lambda e: (DataValidationError, (e.problems,)))
# Worked out in the planning process (a diagnosis may still be a function there), sent as data.
copyreg.pickle(PlanInfeasibleError, lambda e: (PlanInfeasibleError, (e.diagnosis,)))

_lock = threading.Lock()
_pools: dict[int, ProcessPool] = {}  # by process id: a forked web worker makes its own
_planners: dict[int, ProcessPool] = {}
_turns: dict[int, threading.BoundedSemaphore] = {}


def _this_process(table: dict, make):
    """This process's entry of ``table`` (made by ``make`` the first time): a forked web worker
    gets its own, never its parent's."""
    pid = os.getpid()
    with _lock:
        if pid not in table:
            table[pid] = make()
        return table[pid]


#: How many requests' heavy work a web worker takes at a time: two, so that while its planning
#: process solves one, the worker prepares the next or stores the last (both cores busy with
#: two workers); the rest wait as bytes (:func:`api.routes.common.checked_json_body`).
TURNS = 2


@contextmanager
def turn():
    """One of this process's :data:`TURNS` to plan (forecast, solve). A job that has to wait
    for it says so (queued)."""
    sem = _this_process(_turns, lambda: threading.BoundedSemaphore(TURNS))
    if not sem.acquire(blocking=False):
        report("waiting for the work ahead of it in this worker to finish", state="queued")
        sem.acquire()
    try:
        yield
    finally:
        sem.release()


class _Busy:
    """One thread at a time does a request's CPU-bound Python work in this process (parsing and
    checking a body, preparing a plan's inputs, storing it); a thread that holds it lets go
    while it waits for another process (:meth:`released`: the planning process solving, a
    forecast being fitted). Reentrant: a view that is :func:`busy` may parse its body."""

    def __init__(self):
        self._lock = threading.RLock()
        self._depth = threading.local()

    @contextmanager
    def held(self):
        with self._lock:
            self._depth.n = getattr(self._depth, "n", 0) + 1
            try:
                yield
            finally:
                self._depth.n -= 1

    @contextmanager
    def released(self):
        n = getattr(self._depth, "n", 0)
        for _ in range(n):
            self._lock.release()
        self._depth.n = 0
        try:
            yield
        finally:
            for _ in range(n):
                self._lock.acquire()
            self._depth.n = n


_busy: dict[int, _Busy] = {}


def busy():
    """This process's turn to do CPU-bound Python work for a request (see :class:`_Busy`).

    Without it, each request in flight ran its parsing and preparing beside the others (one
    reading a body, one preparing a plan, one storing one), and every extra busy thread is a
    thread the worker's quick requests (``/v1/health``) wait behind for the interpreter lock.
    With it, a bad request waits only for the work in progress (tens of milliseconds for a
    500-rep plan; longer behind a large upload being checked), never for a solve or a forecast
    (those run in other processes, and the lock is let go meanwhile)."""
    return _this_process(_busy, _Busy).held()


def _waiting():
    """Let go of :func:`busy` while this thread waits for another process."""
    return _this_process(_busy, _Busy).released()


def heavy(view):
    """Decorator: the view plans (forecasts, solves) in one of its process's :func:`turn` s,
    :func:`busy` but while it waits for another process."""

    @wraps(view)
    def inner(*args, **kwargs):
        with turn(), busy():
            return view(*args, **kwargs)

    return inner


def _pool() -> ProcessPool:
    return _this_process(_pools, _new_pool)


def _new_pool(nice: int = 0) -> ProcessPool:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["api.work"])  # the heavy imports, once
    pool = ProcessPool(max_workers=1, context=ctx, initializer=_niced, initargs=(nice,))
    atexit.register(pool.stop)
    return pool


def _niced(nice: int) -> None:
    if nice:
        os.nice(nice)


def _planner(nice: int = 0) -> ProcessPool:
    return _this_process(_planners, lambda: _new_pool(nice))


def _ready() -> None:
    """Import what solving needs (Pyomo, HiGHS) in the planning process."""
    from optimizer import solve_plan  # noqa: F401 (the first use imports the solver's stack)


def warm(nice: int = 0) -> None:
    """Start this web worker's planning process and its imports now (a web worker calls it when
    it starts), so the first plan a worker takes does not wait for them.

    ``nice`` (``QUOTAPLAN_PLANNER_NICE``, 10 under ``quotaplan serve``): the planning process
    yields the cores to the web workers when both want them, so a quick request is answered
    while plans solve, and the planning processes take the time the web workers leave (no
    throughput is lost: measured, 8 clients, ``/v1/health`` at most 53 ms niced against 114 ms
    not). The forecasting process is not niced: on a busy machine a niced forecast starves
    behind everyone else's work and runs into its time limit."""
    _planner(nice).schedule(_ready)


def planned(task, *args):
    """``task(*args)`` (a module-level function: it is sent by name) run in this web worker's
    planning process, its result sent back. The solver bounds itself
    (``QUOTAPLAN_SOLVER_TIME_LIMIT``), so no time limit here; its errors (an impossible plan,
    the solver out of time) cross intact and are answered as in-process."""
    future = _planner().schedule(task, args=args)
    try:
        with _waiting():
            return future.result()
    except ProcessExpired as exc:
        raise ApiProblem(
            503,
            "Planning failed",
            f"the planning process ended unexpectedly ({exc}); it may have run out of "
            "memory: send fewer reps",
        ) from None


def _forecast(history, roster, year, quantiles, seed, fiscal_year_start, partial_quarters):
    return forecast_tables(
        history,
        roster,
        year,
        quantiles=quantiles,
        seed=seed,
        fiscal_year_start=fiscal_year_start,
        partial_quarters=partial_quarters,
    )


def forecast_table(
    history,
    roster,
    year,
    quantiles=DEFAULT_QUANTILES,
    seed: int = 0,
    *,
    fiscal_year_start: int = 1,
    partial_quarters: str = "complete",
    seconds: float,
    at: int = 10,
):
    """Validate the tables and forecast the plan year (in ``fiscal_year_start``'s calendar,
    partial quarters completed or dropped), in a worker process, within ``seconds``; returns
    (forecast table, company). A job reports the stage at ``at`` percent."""
    args = (history, roster, year, tuple(quantiles), seed, fiscal_year_start, partial_quarters)
    report("fitting the forecaster", at)
    future = _pool().schedule(_forecast, args=args, timeout=seconds)
    try:
        with _waiting():
            return future.result()
    except FutureTimeout:
        raise ApiProblem(
            503,
            "Forecast time limit",
            f"forecasting took longer than this server allows ({seconds:g} s, "
            "QUOTAPLAN_FORECAST_TIME_LIMIT) and was stopped; send a shorter history or fewer "
            "reps, plan from a stored forecast, or ask the operator to raise the limit",
            headers={"Retry-After": "60"},
        ) from None
    except ProcessExpired as exc:
        raise ApiProblem(
            503,
            "Forecast failed",
            f"the forecasting process ended unexpectedly ({exc}); it may have run out of "
            "memory: send a shorter history or fewer reps",
        ) from None

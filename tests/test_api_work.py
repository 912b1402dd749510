"""The planning process (api.work.planned): plans solve outside the web worker's interpreter,
and what they raise reaches the route as it was raised."""

from __future__ import annotations

import os
import pickle
import threading
import time

from builders import plan_body, problem

from api import work
from api.work import busy, planned
from optimizer import PlanInfeasibleError


class _Diagnosis:
    def text(self) -> str:
        return "target exceeds realistic capacity by 4.2%"


def _make_diagnosis():
    return _Diagnosis()


def _raise_infeasible():
    raise PlanInfeasibleError(lambda: _Diagnosis())  # a function: worked out when sent


def test_an_impossible_plan_crosses_the_process_boundary_with_its_diagnosis():
    sent = pickle.loads(pickle.dumps(PlanInfeasibleError(_make_diagnosis)))
    assert isinstance(sent.diagnosis, _Diagnosis)
    assert str(sent) == "target exceeds realistic capacity by 4.2%"


def test_planned_runs_in_another_process_and_raises_the_tasks_error():
    assert planned(os.getpid) != os.getpid()
    try:
        planned(_raise_infeasible)
    except PlanInfeasibleError as exc:
        assert str(exc) == "target exceeds realistic capacity by 4.2%"
    else:
        raise AssertionError("the task's error was lost")


def test_a_plans_domain_error_from_the_planning_process_is_its_422(client):
    body = problem(client.post("/v1/plans", json=plan_body(target="50M")), 422)
    assert body["title"] == "Impossible plan" and body["diagnosis"]


def test_health_answers_while_plans_solve(app):
    """Generous: only that it answers while the plans run (bench_api measures how fast)."""
    done, answered = threading.Event(), []

    def plans():
        c = app.test_client()
        for i in range(3):
            assert c.post("/v1/plans", json=plan_body(scenario=f"busy-{i}")).status_code == 201
        done.set()

    worker = threading.Thread(target=plans)
    worker.start()
    health = app.test_client()
    while not done.is_set():
        t0 = time.perf_counter()
        answered.append((health.get("/v1/health").status_code, time.perf_counter() - t0))
        time.sleep(0.05)
    worker.join()
    assert answered and all(s == 200 for s, _ in answered)
    assert max(t for _, t in answered) < 10.0, answered


def test_one_thread_at_a_time_is_busy_and_it_lets_go_while_the_planning_process_works():
    """busy() is held by one thread at a time (reentrant), and let go while its holder waits for
    the planning process, so the next request's parsing goes on meanwhile."""
    holding, other_got_it = threading.Event(), threading.Event()

    def other():
        holding.wait()
        with busy():
            other_got_it.set()

    t = threading.Thread(target=other)
    t.start()
    with busy(), busy():  # reentrant: a busy view parses its body
        holding.set()
        assert not other_got_it.wait(0.3)  # held: the other thread waits
        planned(time.sleep, 1.0)  # waiting for the planning process: let go
        assert other_got_it.is_set()
    t.join(timeout=10)
    with busy():  # given back whole
        pass


def test_the_planning_process_is_niced_as_set():
    pool = work._new_pool(7)
    try:
        assert pool.schedule(os.nice, args=(0,)).result() == os.nice(0) + 7
    finally:
        pool.stop()

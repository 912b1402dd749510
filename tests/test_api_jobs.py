"""Jobs: long work sent with ``Prefer: respond-async`` answered with 202 and polled at
``/v1/jobs/{id}``, through the test client against a real SQLite file (the job runs in a thread
of the app's process, as it does in a gunicorn worker)."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import pandas as pd
import pytest
from builders import history, plan_body, problem

from api import work
from api.app import create_app
from api.auth import digest
from api.storage import JobRecord

ASYNC = {"Prefer": "respond-async"}


def follow(client, resp, headers=None, timeout=120.0):
    """Poll a 202's job until it is done; returns (the last job, every (state, percent,
    message) seen, in order)."""
    assert resp.status_code == 202, resp.get_data(as_text=True)
    assert resp.headers["Location"] == f"/v1/jobs/{resp.get_json()['id']}"
    assert resp.headers["Preference-Applied"] == "respond-async"
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(resp.headers["Location"], headers=headers)
        assert job.status_code == 200, job.get_data(as_text=True)
        job = job.get_json()
        step = (job["state"], job["percent"], job["message"])
        if not seen or seen[-1] != step:
            seen.append(step)
        if job["state"] in ("succeeded", "failed"):
            return job, seen
        time.sleep(0.005)
    raise AssertionError(f"job not done in {timeout} s: {seen}")


@pytest.fixture
def reports(app, monkeypatch):
    """Every update written to a job's row, in order: (state, percent, message). Polling may
    miss a stage that lasts a millisecond; the database sees each."""
    store = app.extensions["quotaplan.store"]
    real, seen = store.update_job, []

    def update(job_id, **fields):
        seen.append((fields.get("state"), fields.get("percent"), fields.get("message")))
        return real(job_id, **fields)

    monkeypatch.setattr(store, "update_job", update)
    return seen


def messages(reports) -> list[str]:
    return [m for _, _, m in reports]


def jobs_stored(app) -> int:
    with app.extensions["quotaplan.store"].reading() as s:
        return s.query(JobRecord).count()


def test_a_plan_as_a_job_reports_its_stages_and_ends_at_the_plan(client, reports):
    resp = client.post("/v1/plans", json=plan_body(), headers=ASYNC)
    first = resp.get_json()
    assert first["kind"] == "plan" and first["state"] in ("queued", "running", "succeeded")
    assert first["created_at"].endswith("Z") and first["updated_at"].endswith("Z")
    job, seen = follow(client, resp)
    assert job["state"] == "succeeded" and job["percent"] == 100 and job["problem"] is None
    assert job["result"].startswith("/v1/plans/")
    # Real stages, in order, percent never going back; the poller saw some of them.
    assert reports == [
        ("running", 10, "checking the tables"),
        ("running", 30, "solving"),
        ("running", 95, "storing the plan"),
        ("succeeded", 100, "done"),
    ]
    assert set(seen) <= set(reports) and seen[-1] == reports[-1]
    plan = client.get(job["result"]).get_json()
    # The same plan the synchronous call makes.
    sync = client.post("/v1/plans", json=plan_body()).get_json()
    assert [q["quota"] for q in plan["quotas"]] == pytest.approx(
        [q["quota"] for q in sync["quotas"]], rel=1e-9
    )
    assert (plan["version"], sync["version"]) == (1, 2)


def test_a_job_waiting_for_the_workers_turn_is_queued(client, reports):
    """With the worker's turns held (other plans running), the job waits as queued, saying
    why; once a turn is free it goes through the plan's stages."""
    sem = work._this_process(work._turns, lambda: threading.BoundedSemaphore(work.TURNS))
    for _ in range(work.TURNS):
        sem.acquire()
    try:
        resp = client.post("/v1/plans", json=plan_body(), headers=ASYNC)
        job = resp.get_json()
        assert (job["state"], job["percent"]) == ("queued", 0)
        assert "waiting for the work ahead of it" in job["message"]
        time.sleep(0.2)
        again = client.get(resp.headers["Location"]).get_json()
        assert again["state"] == "queued"  # still: the turns are held
    finally:
        for _ in range(work.TURNS):
            sem.release()
    job, seen = follow(client, resp)
    assert job["state"] == "succeeded"
    assert reports[0][0] == "queued" and reports[1] == ("running", 10, "checking the tables")


@pytest.mark.slow
def test_a_plan_from_history_goes_through_the_forecast(client):
    rows, roster = history()
    body = {"scenario": "h", "target": "2.4M", "history": rows, "roster": roster, "year": 2026}
    resp = client.post("/v1/plans", json=body, headers=ASYNC)
    job, seen = follow(client, resp)
    assert job["state"] == "succeeded", job
    messages = [m for _, _, m in seen]
    # The forecast runs seconds in the worker process: its stage is always seen.
    assert "fitting the forecaster" in messages
    order = [m for m in messages if m in ("fitting the forecaster", "solving", "storing the plan")]
    assert order == sorted(
        order, key=["fitting the forecaster", "solving", "storing the plan"].index
    )


@pytest.mark.slow
def test_a_forecast_as_a_job_from_uploaded_files(client, reports):
    rows, roster = history()
    files = {
        "history": (io.BytesIO(pd.DataFrame(rows).to_csv(index=False).encode()), "h.csv"),
        "roster": (io.BytesIO(pd.DataFrame(roster).to_csv(index=False).encode()), "r.csv"),
        "year": "2026",
    }
    resp = client.post("/v1/forecasts", data=files, content_type="multipart/form-data",
                       headers=ASYNC)  # fmt: skip
    assert resp.get_json()["kind"] == "forecast"
    job, seen = follow(client, resp)
    assert job["state"] == "succeeded", job
    assert messages(reports) == ["fitting the forecaster", "storing the forecast", "done"]
    fc = client.get(job["result"]).get_json()
    assert {r["rep_id"] for r in fc["rows"]} == {r["rep_id"] for r in roster}


def test_a_replan_as_a_job(client, reports):
    a = client.post("/v1/plans", json=plan_body()).get_json()
    q1 = [{"rep_id": q["rep_id"], "period": q["period"], "revenue": q["quota"] * 0.8}
          for q in a["quotas"] if q["period"] == "2026Q1"]  # fmt: skip
    resp = client.post(f"/v1/plans/{a['id']}/replan", json={"actuals": q1}, headers=ASYNC)
    assert resp.get_json()["kind"] == "replan"
    job, seen = follow(client, resp)
    assert job["state"] == "succeeded", job
    assert messages(reports) == [
        "rebuilding the plan's inputs",
        "checking the tables",
        "solving",
        "storing the re-plan",
        "done",
    ]
    r = client.get(job["result"]).get_json()
    assert (r["kind"], r["parent_id"]) == ("replan", a["id"])


def test_a_failed_job_holds_the_problem_the_synchronous_call_answers(client):
    sync = problem(client.post("/v1/plans", json=plan_body(target="50M")), 422)
    job, _ = follow(client, client.post("/v1/plans", json=plan_body(target="50M"), headers=ASYNC))
    assert job["state"] == "failed" and job["result"] is None
    assert job["problem"] == sync
    assert job["message"] == "failed: Impossible plan"
    # An unknown forecast id is known before any work: answered at once, as synchronously.
    body = {k: v for k, v in plan_body(forecast_id=99).items() if k != "forecast"}
    assert problem(client.post("/v1/plans", json=body, headers=ASYNC), 422)["title"] == (
        "Unknown forecast"
    )


@pytest.mark.parametrize(
    ("send", "status"),
    [
        (dict(data="{not json", content_type="application/json"), 400),
        (dict(data="scenario=x", content_type="text/plain"), 415),
        (dict(json={"scenario": "x"}), 422),
    ],
)
def test_a_request_refused_before_its_work_is_answered_at_once_and_leaves_no_job(
    app, client, send, status
):
    sync = problem(client.post("/v1/plans", **send), status)
    assert problem(client.post("/v1/plans", headers=ASYNC, **send), status) == sync
    assert jobs_stored(app) == 0


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/forecasts"])
def test_a_bad_request_never_waits_for_the_plan_ahead_of_it(app, client, path):
    """With the worker's turn held (another plan running), a request that fails its own checks
    is still answered at once, synchronous or asked as a job, and leaves no job."""
    sem = work._turns.setdefault(os.getpid(), threading.BoundedSemaphore(1))
    with sem:
        answered = []
        for headers in ({}, ASYNC):
            done = threading.Event()

            def send(headers=headers, done=done):
                answered.append(client.post(path, json={"target": -5}, headers=headers))
                done.set()

            threading.Thread(target=send, daemon=True).start()
            assert done.wait(10), "a bad request waited for the worker's turn"
    assert [r.status_code for r in answered] == [422, 422]
    assert jobs_stored(app) == 0


def test_without_the_header_nothing_changes(client):
    resp = client.post("/v1/plans", json=plan_body(), headers={"Prefer": "return=minimal"})
    assert resp.status_code == 201 and "Preference-Applied" not in resp.headers


def test_idempotency_key_with_jobs(app, client):
    key = {"Idempotency-Key": "job-key-1", **ASYNC}
    one = client.post("/v1/plans", json=plan_body(), headers=key)
    job, _ = follow(client, one)
    again = client.post("/v1/plans", json=plan_body(), headers=key)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == job["id"] and again.get_json()["result"] == job["result"]
    # The same key without the preference: the plan the job made, not a second one.
    sync = client.post("/v1/plans", json=plan_body(), headers={"Idempotency-Key": "job-key-1"})
    assert sync.status_code == 201 and sync.headers["Idempotent-Replayed"] == "true"
    assert sync.headers["Location"] == job["result"]
    assert len(client.get("/v1/scenarios/FY26/plans").get_json()["plans"]) == 1
    # ... and with another request: refused, as without jobs.
    other = client.post("/v1/plans", json=plan_body(target="3.4M"), headers=key)
    assert "Idempotency-Key reused" == problem(other, 422)["title"]
    # A key first used synchronously: the job replays that plan.
    made = client.post("/v1/plans", json=plan_body(scenario="B"),
                       headers={"Idempotency-Key": "sync-first"})  # fmt: skip
    job, _ = follow(client, client.post("/v1/plans", json=plan_body(scenario="B"),
                                        headers={"Idempotency-Key": "sync-first", **ASYNC}))  # fmt: skip
    assert job["state"] == "succeeded" and job["result"] == made.headers["Location"]
    assert len(client.get("/v1/scenarios/B/plans").get_json()["plans"]) == 1


def test_a_job_whose_process_stopped_reads_as_failed(tmp_path):
    """A job row left queued or running with no heartbeat (its process was killed: nobody
    beats for it) reads as failed once QUOTAPLAN_JOB_STALE_SECONDS have passed, and stays so."""
    app = create_app({"DATABASE": str(tmp_path / "q.db"), "JOB_STALE_SECONDS": 0.5})
    store = app.extensions["quotaplan.store"]
    job, _ = store.add_job("plan", "anonymous")
    store.update_job(job.id, state="running", percent=30, message="solving")
    c = app.test_client()
    assert c.get(f"/v1/jobs/{job.id}").get_json()["state"] == "running"
    time.sleep(0.7)
    out = c.get(f"/v1/jobs/{job.id}").get_json()
    assert out["state"] == "failed" and out["percent"] == 30
    assert (
        out["problem"]["title"] == "Job lost"
        and "QUOTAPLAN_JOB_STALE_SECONDS" in out["problem"]["detail"]
    )
    assert store.job(job.id).state == "failed"  # stored so: every worker answers the same


@pytest.mark.slow
def test_a_live_job_longer_than_the_stale_window_is_not_lost(tmp_path):
    """The heartbeat keeps a job that runs longer than the window alive (a forecast in the
    worker process, with a window of 0.3 s)."""
    app = create_app({"DATABASE": str(tmp_path / "q.db"), "JOB_STALE_SECONDS": 0.3})
    c = app.test_client()
    rows, roster = history()
    body = {"history": rows, "roster": roster, "year": 2026}
    start = time.monotonic()
    job, seen = follow(c, c.post("/v1/forecasts", json=body, headers=ASYNC))
    assert job["state"] == "succeeded", seen
    assert time.monotonic() - start > 0.3 or pytest.skip("the forecast was quicker than 0.3 s")


def test_jobs_need_the_roles_of_the_synchronous_call(tmp_path):
    (tmp_path / "tokens.txt").write_text(
        f"viewer vera sha256:{digest('v')}\nplanner pat sha256:{digest('p')}\n"
    )
    c = create_app(
        {"DATABASE": str(tmp_path / "q.db"), "TOKENS_FILE": str(tmp_path / "tokens.txt")}
    ).test_client()
    vera, pat = {"Authorization": "Bearer v"}, {"Authorization": "Bearer p"}
    problem(c.post("/v1/plans", json=plan_body(), headers={**ASYNC, **vera}), 403)
    problem(c.post("/v1/plans", json=plan_body(), headers=ASYNC), 401)
    resp = c.post("/v1/plans", json=plan_body(), headers={**ASYNC, **pat})
    job, _ = follow(c, resp, headers=pat)
    assert job["state"] == "succeeded"
    assert c.get(job["result"], headers=pat).get_json()["created_by"] == "pat"
    problem(c.get(resp.headers["Location"], headers=vera), 403)
    problem(c.get(resp.headers["Location"]), 401)
    problem(c.get("/v1/jobs/999", headers=pat), 404)


def test_the_document_declares_the_preference_and_the_202(client):
    doc = client.get("/openapi.json").get_json()
    for path in ("/v1/plans", "/v1/forecasts", "/v1/plans/{plan_id}/replan"):
        op = doc["paths"][path]["post"]
        assert "Prefer" in [p["name"] for p in op["parameters"]]
        assert op["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "JobOut"
        )
    assert "/v1/jobs/{job_id}" in doc["paths"]
    assert json.dumps(doc).count("JobOut") >= 4


@pytest.mark.slow
def test_jobs_on_a_real_server_and_one_whose_server_was_killed(tmp_path):
    """On a real ``quotaplan serve`` (several worker processes) a job runs to its end; one
    killed (SIGKILL, every process) while a job forecasts the sample: the next server, on the
    same database, answers that the job was lost."""
    import urllib.request

    from benchmarks.bench_api import start, stop
    from datasets.bundled import HISTORY_CSV, ROSTER_CSV

    db = tmp_path / "q.db"
    env = {"QUOTAPLAN_JOB_STALE_SECONDS": "2"}
    body = {
        "scenario": "killed",
        "target": "80M",
        "history": pd.read_csv(HISTORY_CSV).to_dict(orient="records"),
        "roster": json.loads(
            pd.read_csv(ROSTER_CSV, usecols=["rep_id", "team", "region"]).to_json(orient="records")
        ),  # fmt: skip
    }

    def get(base, path):
        with urllib.request.urlopen(base + path, timeout=60) as resp:
            return json.loads(resp.read())

    def post(base, body):
        req = urllib.request.Request(base + "/v1/plans", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **ASYNC})  # fmt: skip
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 202
            return resp.headers["Location"]

    proc, base = start(db, env=env)
    try:
        # A job polled to its end: each poll may be answered by either worker process.
        small = post(base, plan_body(scenario="small"))
        end = time.monotonic() + 60
        while (job := get(base, small))["state"] not in ("succeeded", "failed"):
            assert time.monotonic() < end, job
            time.sleep(0.05)
        assert job["state"] == "succeeded" and get(base, job["result"])["scenario"] == "small"
        req = urllib.request.Request(base + "/v1/plans", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **ASYNC})  # fmt: skip
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 202
            location = resp.headers["Location"]
        job = get(base, location)
        assert job["state"] == "running" and job["message"] == "fitting the forecaster", job
    finally:
        stop(proc, kill=True)
    time.sleep(2.5)
    proc, base = start(db, env=env)
    try:
        job = get(base, location)
    finally:
        stop(proc)
    assert job["state"] == "failed" and job["problem"]["title"] == "Job lost", job
    assert job["result"] is None

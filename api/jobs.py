"""Long work as a job: a forecast, a plan or a re-plan asked for with ``Prefer: respond-async``
(RFC 7240) is answered at once with 202, ``Location: /v1/jobs/{id}`` and the job, and done in a
thread of the same worker process; ``GET /v1/jobs/{id}`` says where it stands.

The job is the synchronous request itself, replayed: the same view, body, token and
Idempotency-Key, in a request context of its own, so it does exactly what the synchronous call
would and fails with exactly the problem the synchronous call would have answered. The view
says where the work is as it goes (:func:`report`: "fitting the forecaster", "solving",
"storing"), written to the job's row, so any worker process can answer for it. A request refused
before its work begins (malformed JSON, a body the schema refuses, a file the data layer cannot
read) is answered as the synchronous call answers it, and no job is left behind: the first
report says the request was accepted.

While the job is queued or running its process notes a heartbeat every few seconds; a job whose
heartbeat stopped for ``QUOTAPLAN_JOB_STALE_SECONDS`` (its process was killed, restarted or ran
out of memory) reads as failed, with a problem saying so.
"""

from __future__ import annotations

import io
import logging
import threading
from datetime import UTC, datetime
from functools import wraps

from flask import current_app, g, json, request, url_for

from . import idempotency, schemas

log = logging.getLogger("quotaplan.api")

PREFERENCE = "respond-async"

PARAMETER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": "respond-async: answer at once with 202 and the job (Location: "
    "/v1/jobs/{id}), and do the work in the background; poll the job for its progress and its "
    "result. Other preferences are ignored (RFC 7240).",
    "schema": {"type": "string", "examples": [PREFERENCE]},
}


def wants_async() -> bool:
    """Whether the request prefers ``respond-async`` (among any others it states)."""
    for header in request.headers.getlist("Prefer"):
        for pref in header.split(","):
            if pref.split(";", 1)[0].split("=", 1)[0].strip().lower() == PREFERENCE:
                return True
    return False


def report(message: str, percent: int | None = None, state: str = "running") -> None:
    """Where the work of this request is, for the job it runs as (if any: a synchronous
    request reports to nobody). The first report also says the request was accepted."""
    job = g.get("job")
    if job is not None:
        job.report(message, percent, state)


def asynchronous(kind: str):
    """Decorator (under :func:`api.auth.requires`, above :func:`api.idempotency.idempotent`):
    with ``Prefer: respond-async`` the view runs as a job of ``kind``."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            if not wants_async():
                return view(*args, **kwargs)
            return _start(kind, view, args, kwargs)

        spec = getattr(inner, "openapi", None)
        if spec is not None:
            spec["job"] = True
            spec["params"] = (*spec["params"], PARAMETER)
        return inner

    return wrap


def _store():
    return current_app.extensions["quotaplan.store"]


def _start(kind: str, view, args, kwargs):
    key = idempotency.request_key()
    body = request.get_data(cache=True)  # read now: the job replays it
    made = idempotency.fingerprint() if key is not None else None
    job, new = _store().add_job(kind, g.user, key, made)
    if not new:  # a retry of a request that is (or was) a job
        if job.fingerprint != made:
            raise idempotency.reused(key, f"job {job.id}")
        return accepted(job, {"Idempotent-Replayed": "true"})
    environ = {**request.environ, "wsgi.input": io.BytesIO(body)}
    environ["CONTENT_LENGTH"] = str(len(body))
    who = {k: g.get(k) for k in ("user", "role", "scope", "open_mode")}
    runner = Runner(current_app._get_current_object(), job.id, view, args, kwargs, environ, who)
    runner.start()
    runner.accepted.wait()
    if runner.refusal is not None:  # refused before any work: as the synchronous call
        _store().drop_job(job.id)
        return runner.refusal
    return accepted(_store().job(job.id))


def accepted(job, headers: dict | None = None):
    """The 202 answer: the job, where to poll it, and that the preference was applied."""
    location = url_for("jobs.get_job", job_id=job.id)
    out = {"Location": location, "Preference-Applied": PREFERENCE, **(headers or {})}
    return job_out(job), 202, out


def job_out(job) -> dict:
    return schemas.JobOut.model_validate(job, from_attributes=True).model_dump(mode="json")


def lost_problem(silent_for: float) -> dict:
    return {
        "type": "about:blank",
        "title": "Job lost",
        "status": 503,
        "detail": f"the worker process doing this job stopped (no sign of life for "
        f"{silent_for:g} s, QUOTAPLAN_JOB_STALE_SECONDS): it was restarted, killed or ran out "
        "of memory, and nothing was stored; send the request again (with the same "
        "Idempotency-Key, if it had one)",
    }


def current(job):
    """The job as it stands: one still queued or running whose process stopped beating is
    failed (and stored so), with a problem saying so."""
    if job.state not in ("queued", "running"):
        return job
    stale = current_app.config["JOB_STALE_SECONDS"]
    if (datetime.now(UTC) - job.heartbeat_at).total_seconds() <= stale:
        return job
    _store().lose_job(job.id, stale, lost_problem(stale))
    return _store().job(job.id)


class Runner(threading.Thread):
    """One job: the view run again in a request context of its own, with a heartbeat."""

    def __init__(self, app, job_id: int, view, args, kwargs, environ: dict, who: dict):
        super().__init__(name=f"quotaplan-job-{job_id}", daemon=True)
        self.app, self.job_id, self.view = app, job_id, view
        self.args, self.kwargs, self.environ, self.who = args, kwargs, environ, who
        self.store = app.extensions["quotaplan.store"]
        self.accepted = threading.Event()  # set at the first report, or when done
        self.refusal = None  # the response, when refused before the first report
        self.done = threading.Event()
        self.percent = 0

    def report(self, message: str, percent: int | None, state: str) -> None:
        if percent is not None:
            self.percent = max(self.percent, min(100, int(percent)))
        self.store.update_job(self.job_id, state=state, percent=self.percent, message=message)
        self.accepted.set()

    def run(self) -> None:
        beat = threading.Thread(target=self._beat, name=f"{self.name}-beat", daemon=True)
        beat.start()
        try:
            with self.app.request_context(self.environ):
                for k, v in self.who.items():
                    if v is not None:
                        setattr(g, k, v)
                g.job = self
                try:
                    resp = self.app.make_response(self.view(*self.args, **self.kwargs))
                except Exception as exc:  # answered as the synchronous call answers it
                    resp = self.app.make_response(self.app.handle_user_exception(exc))
                self._finish(resp)
        except Exception:  # the job machinery itself: never leave the job running
            log.exception("job %s: unexpected error", self.job_id)
            self._fail(
                {
                    "type": "about:blank",
                    "title": "Internal error",
                    "status": 500,
                    "detail": "quotaplan hit an unexpected error; it is logged on the server.",
                }
            )
        finally:
            self.done.set()
            self.accepted.set()

    def _finish(self, resp) -> None:
        if resp.status_code < 400:
            location = resp.headers.get("Location")
            self.store.update_job(
                self.job_id, state="succeeded", percent=100, message="done", result=location
            )
        elif not self.accepted.is_set():
            self.refusal = resp
        else:
            self._fail(json.loads(resp.get_data()))

    def _fail(self, problem: dict) -> None:
        title = problem.get("title", "failed")
        self.store.update_job(
            self.job_id, state="failed", message=f"failed: {title}"[:200], problem=problem
        )

    def _beat(self) -> None:
        every = max(0.05, self.app.config["JOB_STALE_SECONDS"] / 6)
        while not self.done.wait(every):
            try:
                self.store.beat(self.job_id)
            except Exception:  # the database is busy or gone: the next beat tries again
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)

"""Jobs: where long work asked for with ``Prefer: respond-async`` stands (see ``api.jobs``)."""

from __future__ import annotations

from flask import Blueprint

from .. import schemas
from ..auth import requires
from ..jobs import current, job_out
from ..openapi import operation
from .common import ID, store

bp = Blueprint("jobs", __name__, url_prefix="/v1")


@bp.get(f"/jobs/<{ID}:job_id>")
@requires("planner")
@operation(
    "A job (a forecast, plan or re-plan sent with 'Prefer: respond-async'): its state, how far "
    "it is and the stage in words, then the URL of what it made or the problem it met.",
    response=schemas.JobOut,
    errors=("401", "403", "404"),
)
def get_job(job_id: int):
    """Poll it (every few hundred milliseconds is fine): ``state`` goes queued -> running ->
    succeeded (``result``: the URL of the plan or forecast) or failed (``problem``: what the
    synchronous call would have answered). A job whose worker process stopped reads as failed
    with the problem "Job lost"."""
    return job_out(current(store().job(job_id)))

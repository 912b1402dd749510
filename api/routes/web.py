"""The planner's page at ``/`` (plain HTML and JavaScript shipped with the package: no CDN) and
the bundled sample it can load."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from datasets.bundled import HISTORY_CSV, ROSTER_CSV

from ..auth import requires
from ..openapi import operation
from ..problems import ApiProblem

WEB = Path(__file__).resolve().parents[1] / "web"
SAMPLE = {"history": HISTORY_CSV, "roster": ROSTER_CSV}

bp = Blueprint("web", __name__)


@bp.get("/")
def page():
    """The page itself holds no data; everything it shows comes from the API with the token
    the planner types in."""
    return send_from_directory(WEB, "index.html")


@bp.get("/web/<path:name>")
def asset(name: str):
    return send_from_directory(WEB, name, max_age=300)


@bp.get("/v1/sample/<name>.csv")
@requires("viewer")
@operation(
    "The bundled sample company's history or roster CSV (for trying the page).",
    errors=("401", "403", "404"),
    csv=True,
)
def sample(name: str):
    if name not in SAMPLE:
        raise ApiProblem(404, "Not found", f"no sample table {name!r}; there are history, roster")
    return Response(Path(SAMPLE[name]).read_text(), mimetype="text/csv")

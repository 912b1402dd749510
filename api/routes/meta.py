"""Health and scenarios: what is running and what is stored."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, g, jsonify

from .. import schemas
from ..auth import open_mode, requires
from ..openapi import operation
from ..problems import ApiProblem
from .common import store

bp = Blueprint("meta", __name__, url_prefix="/v1")


def package_version() -> str:
    try:
        return version("quotaplan")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


@bp.get("/health")
@operation("Is the API up and its database reachable?", response=schemas.Health, errors=("503",))
def health():
    """No token needed; answers 503 if the database does not answer."""
    try:
        store().ping()
    except Exception as exc:  # any database failure is the same answer
        raise ApiProblem(
            503, "Database unavailable", f"the database does not answer: {exc}"
        ) from exc
    return jsonify(
        schemas.Health(status="ok", database="ok", version=package_version()).model_dump()
    )


@bp.get("/scenarios")
@requires("viewer")
@operation(
    "Every scenario with its number of plans.", response=schemas.ScenarioList, errors=("401", "403")
)
def scenarios():
    """Each scenario's name, how many plan versions it holds, and when the latest was made."""
    rows = [schemas.ScenarioOut(name=n, plans=c, latest_at=t) for n, c, t in store().scenarios()]
    return schemas.ScenarioList(scenarios=rows).model_dump(mode="json")


@bp.get("/me")
@requires("rep")
@operation(
    "Who the token is: its name, role and approver scope (open: no tokens are configured).",
    response=schemas.Me,
    errors=("401",),
)
def me():
    """Any active token may ask. On an open server (no tokens) the caller is ``anonymous``, an
    approver at company level who may do everything."""
    return schemas.Me(name=g.user, role=g.role, scope=g.get("scope"), open=open_mode()).model_dump()

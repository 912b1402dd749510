"""The operator's limits on what one request may ask (bytes are limited by Flask itself)."""

from __future__ import annotations

from flask import current_app

from ..problems import ApiProblem


def check_reps(roster) -> None:
    """At most ``MAX_REPS`` reps per request (413 otherwise); ``roster`` a DataFrame or a
    ``datasets.tables.Table``."""
    roster = getattr(roster, "frame", roster)
    limit = current_app.config["MAX_REPS"]
    n = roster["rep_id"].nunique() if "rep_id" in roster else len(roster)
    if n > limit:
        raise ApiProblem(
            413,
            "Too many reps",
            f"the roster has {n:,} reps; this server plans at most {limit:,} per request "
            "(QUOTAPLAN_MAX_REPS); plan by region, or ask the operator to raise the limit",
        )


def time_limit() -> float:
    return current_app.config["SOLVER_TIME_LIMIT"]

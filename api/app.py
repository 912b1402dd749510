"""The Flask application factory: ``create_app(config)`` with defaults from the environment.

Settings (environment variable, or the same key without the prefix in ``config``):

- ``QUOTAPLAN_DATABASE_URL``: any SQLAlchemy URL; default a SQLite file ``quotaplan.db`` in the
  working directory (``QUOTAPLAN_DATABASE`` sets just that file's path).
- ``QUOTAPLAN_TOKENS_FILE``: a tokens file of an earlier release, imported into the database
  (see ``api.auth``); tokens are made with ``quotaplan token new``. None ever: open API.
- Bounds on the work one request may start (over a bound: 413 or 503 naming the setting):
  ``QUOTAPLAN_MAX_REQUEST_BYTES`` (32 MB), ``QUOTAPLAN_MAX_REPS`` (20,000 reps, counted over
  every table of the request), ``QUOTAPLAN_MAX_ROWS`` (1,000,000 rows per table),
  ``QUOTAPLAN_MAX_VALUE`` (1e15, any amount per rep and period), ``QUOTAPLAN_FORECAST_TIME_LIMIT``
  (seconds, 300) and ``QUOTAPLAN_SOLVER_TIME_LIMIT`` (seconds, 60).
- ``QUOTAPLAN_PLANNER_NICE`` (10, from 0 to 19): how far ``quotaplan serve``'s planning
  processes give way to its web workers on a busy core (``api.work.warm``); 0 on a machine
  shared with other heavy work, so plans are not slowed by it.
- ``QUOTAPLAN_JOB_STALE_SECONDS`` (30): a job (``Prefer: respond-async``) whose worker process
  gave no sign of life for this long reads as failed (``api.jobs``).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify

from . import fastjson, problems, security
from .auth import read_tokens
from .openapi import document
from .routes.common import register_lookups
from .storage import Store

DEFAULTS = {
    "DATABASE_URL": None,
    "DATABASE": "quotaplan.db",
    "TOKENS_FILE": None,
    "MAX_REQUEST_BYTES": 32 * 1024 * 1024,
    "MAX_REPS": 20_000,
    "MAX_ROWS": 1_000_000,
    "MAX_VALUE": 1e15,
    "FORECAST_TIME_LIMIT": 300.0,
    "SOLVER_TIME_LIMIT": 60.0,
    "JOB_STALE_SECONDS": 30.0,
    "PLANNER_NICE": 10,
}
INTEGERS = ("MAX_REQUEST_BYTES", "MAX_REPS", "MAX_ROWS", "PLANNER_NICE")
NUMBERS = ("MAX_VALUE", "FORECAST_TIME_LIMIT", "SOLVER_TIME_LIMIT", "JOB_STALE_SECONDS")


def settings(config: dict | None = None) -> dict:
    """The settings: ``config`` over ``QUOTAPLAN_*`` environment variables over the defaults."""
    out = {}
    for key, default in DEFAULTS.items():
        value = (config or {}).get(key, os.environ.get(f"QUOTAPLAN_{key}", default))
        if value is not None and key in INTEGERS + NUMBERS:
            try:
                value = int(float(value)) if key in INTEGERS else float(value)
            except ValueError:
                raise ValueError(f"QUOTAPLAN_{key} must be a number, got {value!r}") from None
            if key == "PLANNER_NICE" and not 0 <= value <= 19:
                raise ValueError(f"QUOTAPLAN_{key} must be from 0 to 19, got {value!r}")
            if key != "PLANNER_NICE" and not value > 0:
                raise ValueError(f"QUOTAPLAN_{key} must be above 0, got {value!r}")
        out[key] = value
    if not out["DATABASE_URL"]:
        out["DATABASE_URL"] = f"sqlite:///{Path(out['DATABASE']).resolve()}"
    return out


def create_app(config: dict | None = None) -> Flask:
    """The quotaplan HTTP API. ``config`` overrides the settings (tests pass a temporary
    database, and ``TOKENS``: :class:`api.auth.Token` s to add); a store can be passed
    ready-made as ``STORE``."""
    app = Flask(__name__)
    app.json = fastjson.JSONProvider(app)
    s = settings(config)
    app.config.update(
        MAX_CONTENT_LENGTH=s["MAX_REQUEST_BYTES"],
        MAX_FORM_MEMORY_SIZE=s["MAX_REQUEST_BYTES"],
        **{k: s[k] for k in ("MAX_REPS", "MAX_ROWS", "MAX_VALUE")},
        **{k: s[k] for k in ("FORECAST_TIME_LIMIT", "SOLVER_TIME_LIMIT", "JOB_STALE_SECONDS")},
        PLANNER_NICE=s["PLANNER_NICE"],
        DATABASE_URL=s["DATABASE_URL"],
    )
    store = (config or {}).get("STORE") or Store(s["DATABASE_URL"])
    app.extensions["quotaplan.store"] = store
    if s["TOKENS_FILE"]:
        app.config["TOKENS_IMPORTED"] = store.import_tokens(
            read_tokens(s["TOKENS_FILE"]), source=Path(s["TOKENS_FILE"]).name
        )
    if config and "TOKENS" in config:
        store.import_tokens(config["TOKENS"], source="config")
    problems.register(app)
    security.register(app)
    register_lookups(app)

    from .routes import docs, forecasts, jobs, lifecycle, meta, plans, tracking, web

    for module in (meta, forecasts, plans, jobs, tracking, lifecycle, web, docs):
        app.register_blueprint(module.bp)

    @app.get("/openapi.json")
    def openapi_json():
        return jsonify(document(app))

    return app

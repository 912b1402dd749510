"""The Flask application factory: ``create_app(config)`` with defaults from the environment.

Settings (environment variable, or the same key without the prefix in ``config``):

- ``QUOTAPLAN_DATABASE_URL``: any SQLAlchemy URL; default a SQLite file ``quotaplan.db`` in the
  working directory (``QUOTAPLAN_DATABASE`` sets just that file's path).
- ``QUOTAPLAN_TOKENS_FILE``: bearer tokens with roles (see ``api.auth``); none: open API.
- ``QUOTAPLAN_MAX_REQUEST_BYTES`` (default 32 MB), ``QUOTAPLAN_MAX_REPS`` (20,000),
  ``QUOTAPLAN_SOLVER_TIME_LIMIT`` (seconds, 60).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify

from . import problems
from .auth import read_tokens
from .openapi import document
from .storage import Store

DEFAULTS = {
    "DATABASE_URL": None,
    "DATABASE": "quotaplan.db",
    "TOKENS_FILE": None,
    "MAX_REQUEST_BYTES": 32 * 1024 * 1024,
    "MAX_REPS": 20_000,
    "SOLVER_TIME_LIMIT": 60.0,
}


def settings(config: dict | None = None) -> dict:
    """The settings: ``config`` over ``QUOTAPLAN_*`` environment variables over the defaults."""
    out = {}
    for key, default in DEFAULTS.items():
        value = (config or {}).get(key, os.environ.get(f"QUOTAPLAN_{key}", default))
        if key in ("MAX_REQUEST_BYTES", "MAX_REPS") and value is not None:
            value = int(value)
        if key == "SOLVER_TIME_LIMIT" and value is not None:
            value = float(value)
        out[key] = value
    if not out["DATABASE_URL"]:
        out["DATABASE_URL"] = f"sqlite:///{Path(out['DATABASE']).resolve()}"
    return out


def create_app(config: dict | None = None) -> Flask:
    """The quotaplan HTTP API. ``config`` overrides the settings (tests pass a temporary
    database); a store can be passed ready-made as ``STORE``."""
    app = Flask(__name__)
    s = settings(config)
    tokens = read_tokens(s["TOKENS_FILE"]) if s["TOKENS_FILE"] else ()
    if config and "TOKENS" in config:
        tokens = tuple(config["TOKENS"])
    app.config.update(
        MAX_CONTENT_LENGTH=s["MAX_REQUEST_BYTES"],
        MAX_FORM_MEMORY_SIZE=s["MAX_REQUEST_BYTES"],
        MAX_REPS=s["MAX_REPS"],
        SOLVER_TIME_LIMIT=s["SOLVER_TIME_LIMIT"],
        TOKENS=tokens,
        DATABASE_URL=s["DATABASE_URL"],
    )
    app.extensions["quotaplan.store"] = (config or {}).get("STORE") or Store(s["DATABASE_URL"])
    app.json.sort_keys = False
    problems.register(app)

    from .routes import forecasts, lifecycle, meta, plans, tracking, web

    app.register_blueprint(meta.bp)
    app.register_blueprint(forecasts.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(tracking.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(web.bp)

    @app.get("/openapi.json")
    def openapi_json():
        return jsonify(document(app))

    return app

"""Interactive API docs at ``/docs``: Swagger UI, from the assets the ``flask-swagger-ui``
package ships (no CDN, nothing fetched at run time), reading ``/openapi.json``. The page and its
start-up script are our own files, so the Content-Security-Policy needs no inline script."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, send_from_directory

from .web import WEB

SWAGGER_UI = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")

bp = Blueprint("docs", __name__)


@bp.get("/docs")
def page():
    return send_from_directory(WEB, "docs.html")


@bp.get("/docs/assets/<name>")
def asset(name: str):
    if name not in ASSETS:
        return send_from_directory(SWAGGER_UI, "missing-asset")  # a 404 problem
    return send_from_directory(SWAGGER_UI, name, max_age=3600)

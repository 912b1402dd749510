"""``quotaplan serve``: the HTTP API on a production server."""

from __future__ import annotations

from pathlib import Path

import click

from .options import database_option


@click.command(
    "serve",
    short_help="Run the HTTP API on a production server (gunicorn, several workers).",
    epilog="""\b
Examples:
  quotaplan serve                                  # http://127.0.0.1:8000, SQLite quotaplan.db
  QUOTAPLAN_DATABASE_URL=postgresql+psycopg://u:p@db/quotaplan quotaplan serve --port 9000
  quotaplan token new --role planner --name pat && quotaplan serve --host 0.0.0.0
""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes (default: one per core, at least 2).",
)
@click.option(
    "--threads", default=32, show_default=True, type=click.IntRange(1, 256), help="Per worker."
)
@database_option
@click.option(
    "--tokens",
    "tokens_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A tokens file of an earlier release, imported into the database; or "
    "QUOTAPLAN_TOKENS_FILE.",
)
def serve_command(host, port, workers, threads, database, tokens_file):
    """Serve the HTTP API (see the README's API reference, /openapi.json and /docs).

    Without tokens the API is open, so it only listens on localhost and answers only loopback
    host names and its own page's writes; with tokens (quotaplan token new), each request needs
    one. Bounds: QUOTAPLAN_MAX_REQUEST_BYTES, QUOTAPLAN_MAX_REPS, QUOTAPLAN_MAX_ROWS,
    QUOTAPLAN_MAX_VALUE, QUOTAPLAN_FORECAST_TIME_LIMIT, QUOTAPLAN_SOLVER_TIME_LIMIT. Each worker
    solves in a planning process niced by QUOTAPLAN_PLANNER_NICE (10: quick requests first; 0
    on a machine shared with other heavy work).
    """
    from api.app import create_app
    from api.serve import check_binding, default_workers, run

    config = {}
    if database:
        config["DATABASE"] = database
    if tokens_file:
        config["TOKENS_FILE"] = str(tokens_file)
    workers = workers or default_workers()
    try:
        app = create_app(config)
        check_binding(app, host)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    store = app.extensions["quotaplan.store"]
    active = sum(t.status() == "active" for t in store.tokens())
    auth = f"{active} active token(s)" if store.has_tokens() else "no tokens (open)"
    if app.config.get("TOKENS_IMPORTED"):
        auth += (
            f", {app.config['TOKENS_IMPORTED']} imported from {tokens_file or 'the tokens file'}"
        )

    def banner(bound: int) -> str:
        return (
            f"quotaplan API on http://{host}:{bound} ({workers} workers x {threads} threads; "
            f"{auth}; database {app.config['DATABASE_URL']}); Ctrl-C stops"
        )

    try:
        run(app, host, port, workers, threads, banner)
    except OSError as exc:
        raise click.ClickException(str(exc)) from exc

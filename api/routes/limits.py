"""The operator's bounds on the work one request may start (bytes are bounded by Flask itself).

Over a bound the answer is a 413 problem naming the bound and its setting, before any work:
rows per table (``QUOTAPLAN_MAX_ROWS``) and reps counted over every table of the request, the
roster, the history (leavers included) and the forecast alike (``QUOTAPLAN_MAX_REPS``). Time is
bounded where it is spent: the forecast (``QUOTAPLAN_FORECAST_TIME_LIMIT``, ``api.work``) and the
solver (``QUOTAPLAN_SOLVER_TIME_LIMIT``); amounts per rep and period by the request schemas
(``QUOTAPLAN_MAX_VALUE``).
"""

from __future__ import annotations

import pandas as pd
from flask import current_app

from ..problems import ApiProblem


def _rows_and_reps(table) -> tuple[int, set]:
    frame = getattr(table, "frame", table)
    if isinstance(frame, pd.DataFrame):
        reps = set(frame["rep_id"].astype(str)) if "rep_id" in frame else set()
        return len(frame), reps
    reps = {str(r["rep_id"]) for r in frame if isinstance(r, dict) and "rep_id" in r}
    return len(frame), reps


def check_tables(tables: dict) -> None:
    """``tables``: name -> rows (JSON list) or a DataFrame / ``datasets.tables.Table``."""
    max_rows, max_reps = current_app.config["MAX_ROWS"], current_app.config["MAX_REPS"]
    reps: set = set()
    for name, table in tables.items():
        if table is None:
            continue
        n, theirs = _rows_and_reps(table)
        if n > max_rows:
            raise ApiProblem(
                413,
                "Too many rows",
                f"{name} has {n:,} rows; this server takes at most {max_rows:,} per table "
                "(QUOTAPLAN_MAX_ROWS); send quarters rather than days or deals, plan by region, "
                "or ask the operator to raise the limit",
            )
        reps |= theirs
    if len(reps) > max_reps:
        raise ApiProblem(
            413,
            "Too many reps",
            f"the request names {len(reps):,} reps ({', '.join(n for n in tables)} together, "
            f"leavers in the history included); this server plans at most {max_reps:,} per "
            "request (QUOTAPLAN_MAX_REPS); plan by region, drop long-gone reps from the history, "
            "or ask the operator to raise the limit",
        )


def time_limit() -> float:
    return current_app.config["SOLVER_TIME_LIMIT"]

"""Where a forecast came from: the ``basis`` column of a forecast table, in the planner's words,
and what a plan made from the table should say about it.

Every row of a forecast says how its number was made: ``own history``; ``first quarters since
the start on 2025-10-03 (40%) blended with the team median x ramp 93%`` (a hire with a little
history: 40% of the level is theirs); ``own history (80%) blended with the team median`` (a
rep of longer standing whose quarters vary too much to stand alone); ``no history: team median
x ramp 39% (starts 2026-01-15)``; ``before the start on 2026-05-01``; or, for a roster rep with no history and no
hire date, :data:`NO_START` (the stated rule: zero until a date is given).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datasets import DataValidationError, Problem
from datasets.company import unknown_start_warning

#: The rule for a roster rep with no history and no hire date, as the basis column says it.
NO_START = "no history, no hire date: zero until a hire date is given (rule)"


def basis_words(has_history, hire_date, inferred, own_share, exposure, recent=None) -> np.ndarray:
    """Per rep and target quarter (``exposure`` is reps x quarters), where the number came from.

    ``recent`` (per rep; default all): the rep started within the history's last year. A rep
    blended with the team median who started before that is blended for a noisy history, not
    for being new: their basis says ``own history (80%) blended with the team median``."""
    n, T = exposure.shape
    recent = np.ones(n, dtype=bool) if recent is None else np.asarray(recent, dtype=bool)
    out = np.empty((n, T), dtype=object)
    for i in range(n):
        date = pd.Timestamp(hire_date[i]) if not pd.isna(hire_date[i]) else None
        since = f" since the start on {date:%Y-%m-%d}" if date is not None else ""
        for j in range(T):
            e = exposure[i, j]
            ramp = f" x ramp {e:.0%}" if e < 0.995 else ""
            if not has_history[i] and date is None:
                out[i, j] = NO_START
            elif e <= 0:
                out[i, j] = f"before the start on {date:%Y-%m-%d}" if date else "no capacity"
            elif not has_history[i]:
                out[i, j] = f"no history: team median{ramp} (starts {date:%Y-%m-%d})"
            elif own_share[i] < 0.9 and not recent[i]:
                out[i, j] = f"own history ({own_share[i]:.0%}) blended with the team median{ramp}"
            elif own_share[i] < 0.9:
                start = " (start taken as the first booking)" if inferred[i] else since
                out[i, j] = (
                    f"first quarters{start} ({own_share[i]:.0%}) blended with the team median{ramp}"
                )
            else:
                out[i, j] = f"own history{since}{ramp}" if ramp else "own history"
    return out


def forecast_warnings(forecast: pd.DataFrame) -> list[str]:
    """What a plan made from a forecast table should warn about: reps the forecast planned at
    zero for want of a hire date (the ``basis`` column; none if the table has no such column)."""
    if "basis" not in forecast.columns:
        return []
    reps = sorted(
        forecast.loc[forecast["basis"].astype(str) == NO_START, "rep_id"].astype(str).unique()
    )
    return [unknown_start_warning(reps)] if reps else []


def forecast_fiscal_year_start(forecast: pd.DataFrame) -> int:
    """The fiscal calendar a forecast table was made in (its ``fiscal_year_start`` column; 1,
    calendar years, for a table without one or with it empty)."""
    if "fiscal_year_start" not in forecast.columns or forecast["fiscal_year_start"].isna().all():
        return 1
    values = pd.to_numeric(forecast["fiscal_year_start"], errors="coerce").dropna().unique()
    if len(values) != 1 or values[0] not in range(1, 13):
        raise DataValidationError(
            [
                Problem(
                    "forecast",
                    ("fiscal_year_start",),
                    f"the fiscal year start must be one month number 1-12 for the whole table, "
                    f"found {sorted(values.tolist())}",
                    "Forecast again with quotaplan forecast --fiscal-year-start.",
                )
            ]
        )
    return int(values[0])

"""The forecast table a plan is made from: ``rep_id``, ``period`` and one column per quantile
level (``q10``, ``q50``, ``q90``, ...), as ``quotaplan forecast`` writes it (with ``basis`` and
``fiscal_year_start``, which it may carry)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem
from .schema import is_quantile_column
from .tables import PathOrFrame, Table, read_table

QUANTILE_HEADER = re.compile(r"^q\d+_\d+$")


def level_columns(columns) -> list[str]:
    """The quantile columns (``q10``, ``q97.5``, ...) in ascending order of level."""
    cols = [c for c in columns if isinstance(c, str) and is_quantile_column(c)]
    return sorted(cols, key=lambda c: float(c[1:]))


def validate_forecast(source: PathOrFrame | Table) -> pd.DataFrame:
    """Check a forecast table on its own (columns, numbers, crossing quantiles, one row per rep
    and quarter); its rows are named as the file's lines, or the DataFrame's index.

    Raises
    ------
    DataValidationError : every problem found, each with the rows at fault and the fix.
    """
    if isinstance(source, pd.DataFrame):
        table = Table("forecast", source, from_file=False)
    else:
        table = read_table(source, "forecast")
        # Headers are normalised on reading (dots to underscores): q97_5 is the level q97.5.
        renamed = {c: c.replace("_", ".") for c in table.frame.columns if QUANTILE_HEADER.match(c)}
        table = replace(table, frame=table.frame.rename(columns=renamed))
    f = table.frame
    missing = [c for c in ("rep_id", "period", "q50") if c not in f.columns]
    if missing:
        raise DataValidationError(
            [
                table.problem(
                    missing,
                    "required column is missing",
                    "Give the forecast table of `quotaplan forecast`: rep_id, period, q10, q50, q90.",
                )
            ]
        )
    problems: list[Problem] = []
    level_cols = level_columns(f.columns)
    if len(level_cols) < 2:
        problems.append(
            table.problem(
                level_cols,
                "needs at least two quantile levels",
                "Forecast with --quantiles 0.1,0.5,0.9.",
            )
        )
    values = f[level_cols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = (~np.isfinite(values) | (values < 0)).any(axis=1)
    if bad.any():
        problems.append(
            table.problem(
                level_cols,
                "negative, blank or infinite forecast values",
                "Forecasts must be numbers >= 0.",
                bad,
            )
        )
    else:
        crossed = (np.diff(values, axis=1) < 0).any(axis=1)
        if crossed.any():
            problems.append(
                table.problem(
                    level_cols,
                    "quantiles cross (a lower level above a higher one)",
                    "Sort each row's quantiles.",
                    crossed,
                )
            )
    dup = f.duplicated(["rep_id", "period"], keep=False).to_numpy()
    if dup.any():
        problems.append(
            table.problem(
                ["rep_id", "period"],
                "more than one row for a rep and quarter",
                "Keep one row per rep and quarter.",
                dup,
            )
        )
    if problems:
        raise DataValidationError(problems)
    return f.assign(**{c: values[:, j] for j, c in enumerate(level_cols)})

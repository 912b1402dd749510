"""In-year actuals: the bookings so far, read and checked in one place.

A row is a month's total (``period`` such as ``2026-04``), a closed quarter's total (``period``
such as ``2026Q1``) or a dated booking (``date``); several rows may fall in the same month (a
deal each). Amounts are read as the history table reads them (``"$1,200"``, ``"1 200"`` and
``"USD 1200"`` are 1200; see :func:`datasets.tables.to_number`), rep ids as its ids
(``" 007 "`` is ``"007"``). A CSV, .xlsx or Parquet file names its lines (a sheet its rows) in errors, a DataFrame its
index labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem
from .periods import parse_periods, quarter_end
from .tables import PathOrFrame, Table, clean_ids, normalise_header, read_table, to_dates, to_number


@dataclass(frozen=True)
class Actuals:
    """Bookings as read: ``rows`` (``rep_id``, ``date``, ``revenue``: a month's total dated its
    last day, a quarter's total its quarter's last day), ``quarterly`` (which rows are a
    quarter's total) and ``table`` (the source, to name its rows in messages)."""

    rows: pd.DataFrame
    quarterly: np.ndarray
    table: Table

    @property
    def last(self) -> pd.Timestamp:
        """The latest day the bookings cover (NaT for none)."""
        return self.rows["date"].max()


def read_actuals(
    source: PathOrFrame | Table,
    *,
    fiscal_year_start: int = 1,
    plan_reps=None,
    plan_year: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> Actuals:
    """Read and check the bookings so far.

    Parameters
    ----------
    source : a CSV, .xlsx or Parquet path, a DataFrame (named ``actuals`` in messages) or a
        :class:`datasets.tables.Table` already read; columns ``rep_id``, ``revenue`` and
        ``period`` or ``date`` (both: the date where given, else the period).
    fiscal_year_start : the month the fiscal year starts in (where quarter labels fall).
    plan_reps : the reps the bookings may name (a plan's); others are refused.
    plan_year : the first and last day the bookings may fall on (a plan's year).

    Raises
    ------
    DataValidationError : every problem found, each naming the rows at fault and the fix.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.rename(columns=normalise_header)
        table = Table("actuals", frame, from_file=False)
    else:
        table = read_table(source, "actuals")
    a = table.frame.reset_index(drop=True)
    name = table.name
    missing = [c for c in ("rep_id", "revenue") if c not in a.columns]
    whens = [c for c in ("date", "period") if c in a.columns]
    if not whens:
        missing.append("period (a month such as 2026-04, or a closed quarter) or date")
    if missing:
        raise DataValidationError(
            [
                Problem(
                    name,
                    tuple(missing),
                    f"missing column(s): {', '.join(missing)}",
                    "Give rep_id, revenue and either period (a month, or a closed quarter's "
                    "total) or date (of the booking).",
                )
            ]
        )
    problems = []
    revenue, unreadable = to_number(a["revenue"])
    bad = (unreadable | revenue.isna() | ~np.isfinite(revenue) | (revenue < 0)).to_numpy()
    if bad.any():
        problems.append(
            Problem(
                name,
                ("revenue",),
                "revenue must be a number >= 0",
                "Fix or remove these rows (a month with no bookings is 0).",
                *table.rows(bad),
            )
        )
    rep = clean_ids(a["rep_id"])
    blank = rep.isna().to_numpy()
    if blank.any():
        problems.append(
            Problem(
                name,
                ("rep_id",),
                "blank rep id",
                "Fill in the rep for every row, or delete the row.",
                *table.rows(blank),
            )
        )
    if plan_reps is not None:
        unknown = sorted(set(rep.dropna()) - {str(r) for r in plan_reps})
        if unknown:
            problems.append(
                Problem(
                    name,
                    ("rep_id",),
                    f"reps not in the plan: {', '.join(unknown[:10])}",
                    "Track reps the plan covers; plan new reps first (re-plan with them on the "
                    "roster).",
                )
            )
    dates, quarterly = _dates(a, fiscal_year_start)
    undated = dates.isna().to_numpy()
    if undated.any():
        problems.append(
            Problem(
                name,
                tuple(whens),
                "unreadable period or date: give a month such as 2026-04, a closed quarter "
                "such as 2026Q1, or a date",
                "Fix these rows.",
                *table.rows(undated),
            )
        )
    if plan_year is not None:
        first, last = plan_year
        outside = (~undated & ((dates < first) | (dates > last))).to_numpy()
        if outside.any():
            problems.append(
                Problem(
                    name,
                    ("date" if whens == ["date"] else "period",),
                    f"bookings outside the plan's year ({first:%Y-%m-%d} to {last:%Y-%m-%d})",
                    "Track one plan year at a time.",
                    *table.rows(outside),
                )
            )
    if problems:
        raise DataValidationError(problems)
    rows = pd.DataFrame(
        {
            "rep_id": rep.astype(str).to_numpy(),
            "date": dates.dt.normalize().to_numpy(),
            "revenue": revenue.to_numpy(float),
        }
    )
    return Actuals(rows, quarterly, table)


def _dates(a: pd.DataFrame, fiscal_year_start: int) -> tuple[pd.Series, np.ndarray]:
    """Each row's day (a month's last day, a quarter's last day, or the booking's date; NaT
    where unreadable) and which rows are a quarter's total."""
    dates = pd.Series(pd.NaT, index=a.index, dtype="datetime64[ns]")
    if "date" in a.columns:
        dates = to_dates(a["date"]).astype("datetime64[ns]")
    quarterly = np.zeros(len(a), dtype=bool)
    if "period" in a.columns:
        use = dates.isna() & a["period"].notna()
        p = parse_periods(a.loc[use, "period"], fiscal_year_start)
        monthly = p["grain"].eq("M")
        months = pd.PeriodIndex(p.loc[monthly, "month"], freq="M")
        dates.loc[p.index[monthly]] = months.end_time.normalize()
        whole = p["grain"].eq("Q")
        ends = [quarter_end(q, fiscal_year_start) for q in p.loc[whole, "quarter"]]
        dates.loc[p.index[whole]] = pd.DatetimeIndex(ends)
        quarterly[p.index[whole]] = True
    return dates, quarterly

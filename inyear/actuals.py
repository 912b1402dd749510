"""The bookings so far against a plan: read and checked by the data layer
(:func:`datasets.actuals.read_actuals`, the one reader of actuals), in the plan's fiscal
calendar, reps and year; a quarter's total only once that quarter has closed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from datasets.actuals import Actuals, read_actuals
from datasets.errors import DataValidationError, Problem
from datasets.periods import quarter_end, quarter_freq
from optimizer.errors import SpecError
from optimizer.inputs import PlanData
from optimizer.spec import PlanSpec


def plan_calendar(spec: PlanSpec, fiscal_year_start: int | None) -> int:
    """The plan's fiscal year start; a different one asked for is refused (the bookings would
    fall in other quarters than the plan's)."""
    if fiscal_year_start is None or fiscal_year_start == spec.fiscal_year_start:
        return spec.fiscal_year_start
    raise SpecError(
        f"the plan's quarters are in fiscal years starting in month {spec.fiscal_year_start}; "
        f"tracking in month {fiscal_year_start} would put bookings in other quarters: leave "
        "fiscal_year_start out (the plan's is used) or give the plan's"
    )


def plan_actuals(actuals, data: PlanData, fiscal_year_start: int) -> Actuals:
    """``actuals`` (a path, a DataFrame or a Table read from a file) read for the plan of
    ``data``: only its reps, only within its year."""
    first = pd.Period(data.periods[0], freq=quarter_freq(fiscal_year_start)).start_time
    last = quarter_end(data.periods[-1], fiscal_year_start)
    return read_actuals(
        actuals,
        fiscal_year_start=fiscal_year_start,
        plan_reps=data.reps,
        plan_year=(first.normalize(), last),
    )


def as_of_day(as_of, actuals: Actuals) -> pd.Timestamp:
    """The day tracked to: ``as_of`` if given, else the last day the bookings cover (NaT for
    no bookings)."""
    return pd.Timestamp(as_of).normalize() if as_of is not None else actuals.last


def check_quarter_totals(actuals: Actuals, as_of: pd.Timestamp) -> None:
    """A quarter's total is only known once the quarter has closed: refuse one for a quarter
    that ends after ``as_of``."""
    rows = actuals.rows
    early = actuals.quarterly & (rows["date"].to_numpy() > as_of)
    if early.any():
        raise DataValidationError(
            [
                Problem(
                    actuals.table.name,
                    ("period",),
                    f"a quarter's total for a quarter still open on {as_of:%Y-%m-%d} (it ends "
                    f"{rows['date'][early].min():%Y-%m-%d})",
                    "Give an open quarter's bookings by month (2026-04) or as dated rows; a "
                    "quarter's total counts once the quarter has closed.",
                    *actuals.table.rows(early),
                )
            ]
        )


def by_quarter(rows: pd.DataFrame, quarter_of: pd.Series, reps) -> np.ndarray:
    """The bookings summed per rep and quarter (reps x quarters; ``quarter_of``: each day's
    quarter index, a Series by date)."""
    out = np.zeros((len(reps), int(quarter_of.max()) + 1))
    where = (pd.Index(reps).get_indexer(rows["rep_id"]), quarter_of.loc[rows["date"]].to_numpy())
    np.add.at(out, where, rows["revenue"])
    return out

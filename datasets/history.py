"""The history table: booked revenue per rep and quarter."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem
from .periods import ACCEPTED_FORMS, parse_periods
from .schema import HISTORY
from .tables import (
    PathOrFrame,
    Table,
    check_columns,
    clean_ids,
    is_blank,
    numeric_column,
    read_table,
    sample_values,
    to_number,
)

COLUMNS = [c.name for c in HISTORY]


def load_history(
    source: PathOrFrame, *, fiscal_year_start: int = 1
) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate a history table.

    Parameters
    ----------
    source : CSV or Parquet path, or a DataFrame, with columns ``rep_id``, ``period``, ``revenue``.
    fiscal_year_start : month in which the fiscal year starts; monthly rows are rolled up into
        the quarters of that calendar.

    Returns
    -------
    The canonical history (one row per rep and quarter, sorted) and notes for the planner
    (ignored columns, partial quarters).

    Raises
    ------
    DataValidationError : every problem found, each with the rows at fault and the fix.
    """
    return validate_history(read_table(source, "history"), fiscal_year_start=fiscal_year_start)


def validate_history(table: Table, *, fiscal_year_start: int = 1) -> tuple[pd.DataFrame, list[str]]:
    problems, ignored = check_columns(table, HISTORY)
    notes = [f"{table.name}: ignored column(s) {', '.join(map(repr, ignored))}"] if ignored else []
    if problems:
        raise DataValidationError(problems)
    df = table.frame
    if df.empty:
        raise DataValidationError(
            [table.problem([], "has no rows", "Give at least one rep's revenue for one period.")]
        )

    rep = clean_ids(df["rep_id"])
    blank_rep = rep.isna()
    if blank_rep.any():
        problems.append(
            table.problem(
                ["rep_id"],
                "blank rep id",
                "Fill in the rep for every row, or delete the row.",
                blank_rep,
            )
        )

    revenue, unreadable = numeric_column(
        table, "revenue", "Write revenue as a plain number such as 12500.50.", problems
    )
    missing = revenue.isna() & ~unreadable
    if missing.any():
        problems.append(
            table.problem(
                ["revenue"],
                "blank or NaN revenue",
                "Enter 0 where the rep booked nothing, or delete the row.",
                missing,
            )
        )
    infinite = np.isinf(revenue.to_numpy())
    if infinite.any():
        problems.append(
            table.problem(
                ["revenue"], "infinite revenue", "Replace it with the amount booked.", infinite
            )
        )
    negative = (revenue < 0).to_numpy()
    if negative.any():
        problems.append(
            table.problem(
                ["revenue"],
                f"negative revenue ({sample_values(revenue, negative)})",
                "Revenue is the amount booked in the period and must be >= 0: net refunds and clawbacks into the period's bookings.",
                negative,
            )
        )

    periods = parse_periods(df["period"], fiscal_year_start)
    unparsed = periods["grain"].isna().to_numpy()
    if unparsed.any():
        problems.append(
            table.problem(
                ["period"],
                f"unreadable period ({sample_values(df['period'].astype(object).fillna('<blank>'), unparsed)})",
                f"Write periods as {ACCEPTED_FORMS}.",
                unparsed,
            )
        )
    grains = set(periods["grain"].dropna())
    if len(grains) > 1:
        problems.append(
            table.problem(
                ["period"],
                "mixes quarterly and monthly rows",
                "Use one granularity for the whole file: all quarters (2024Q3) or all months (2024-07).",
                (periods["grain"] == "Q").to_numpy()
                if (periods["grain"] == "Q").sum() < (periods["grain"] == "M").sum()
                else (periods["grain"] == "M").to_numpy(),
            )
        )
    monthly = grains == {"M"}
    key = periods["month"] if monthly else periods["quarter"]
    valid_key = ~blank_rep & key.notna()
    dup = (
        (pd.DataFrame({"r": rep, "p": key})[valid_key].duplicated(keep=False))
        .reindex(df.index, fill_value=False)
        .to_numpy()
    )
    if dup.any():
        first = np.flatnonzero(dup)[0]
        problems.append(
            table.problem(
                ["rep_id", "period"],
                f"more than one row for the same rep and {'month' if monthly else 'period'} (e.g. rep {rep.iloc[first]!r}, {key.iloc[first]})",
                "Keep one row per rep and period. For deal-level data, sum the deals first: quotaplan data bookings (or datasets.bookings_to_history()).",
                dup,
            )
        )
    if problems:
        raise DataValidationError(problems)

    out = pd.DataFrame(
        {
            "rep_id": rep.astype("str"),
            "period": periods["quarter"].astype("str"),
            "revenue": revenue.astype(float),
        }
    )
    if monthly:
        notes += _partial_quarters(periods)
        out = out.groupby(["rep_id", "period"], as_index=False, sort=False)["revenue"].sum()
    out = out.sort_values(["rep_id", "period"], kind="stable").reset_index(drop=True)
    return out, notes


def _partial_quarters(periods: pd.DataFrame) -> list[str]:
    """Notes for quarters that the monthly data covers only in part (at the edges, usually)."""
    months = periods.drop_duplicates(["quarter", "month"]).groupby("quarter")["month"].nunique()
    partial = months[months < 3]
    return [
        f"quarter {q} has data for {n} of its 3 months only; its revenue is lower than a full quarter's"
        for q, n in partial.items()
    ]


def bookings_to_history(
    bookings: pd.DataFrame,
    *,
    rep: str = "rep_id",
    date: str = "date",
    amount: str = "amount",
    fiscal_year_start: int = 1,
) -> pd.DataFrame:
    """Sum deal-level bookings (one row per deal) into the history table.

    Bookings with no rep (house accounts, online orders) are dropped. The result still goes
    through :func:`load_history` for validation.
    """
    missing = [c for c in (rep, date, amount) if c not in bookings.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    "bookings",
                    tuple(missing),
                    "column missing",
                    f"Name the rep, date and amount columns (rep=, date=, amount=); found {list(bookings.columns)}.",
                )
            ]
        )
    keep = ~is_blank(bookings[rep].astype(object))
    b = bookings.loc[keep, [rep, date, amount]]
    dates = pd.to_datetime(b[date], errors="coerce")
    bad = dates.isna()
    if bad.any():
        table = Table("bookings", b.reset_index(drop=True), from_file=False)
        raise DataValidationError(
            [
                table.problem(
                    [date], "unreadable date", "Use ISO dates such as 2024-07-15.", bad.to_numpy()
                )
            ]
        )
    values, unreadable = to_number(b[amount])
    bad = unreadable | values.isna()
    if bad.any():
        table = Table("bookings", b.reset_index(drop=True), from_file=False)
        raise DataValidationError(
            [
                table.problem(
                    [amount],
                    "blank or unreadable amount",
                    "Give every deal a numeric amount.",
                    bad.to_numpy(),
                )
            ]
        )
    out = pd.DataFrame(
        {
            "rep_id": clean_ids(b[rep]),
            "period": dates.dt.to_period("M").astype(str),
            "revenue": values,
        }
    )
    return out.groupby(["rep_id", "period"], as_index=False)["revenue"].sum()

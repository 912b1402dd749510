"""The roster table: one row per rep with the attributes planning needs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .errors import DataValidationError
from .periods import ACCEPTED_FORMS, parse_periods
from .schema import FTE_QUARTER_PREFIX, ROSTER, UNASSIGNED
from .tables import (
    PathOrFrame,
    Table,
    checked_frame,
    clean_ids,
    is_blank,
    numeric_column,
    read_table,
    sample_values,
    to_dates,
)

COLUMNS = [c.name for c in ROSTER]

_TRUE = {"true", "t", "yes", "y", "1", "active", "current"}
_FALSE = {"false", "f", "no", "n", "0", "inactive", "left", "terminated"}


def _is_fte_quarter(col: str) -> bool:
    return col.startswith(FTE_QUARTER_PREFIX) and col != "fte"


def load_roster(source: PathOrFrame) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate a roster.

    Parameters
    ----------
    source : CSV, .xlsx or Parquet path, or a DataFrame, with at least a ``rep_id`` column; see
        :data:`datasets.schema.ROSTER` for the optional columns. Per-quarter capacity goes in
        columns named ``fte_2026Q1``, ``fte_2026Q2``, ...

    Returns
    -------
    The canonical roster (every schema column present, defaults filled, sorted by rep) and notes.

    Raises
    ------
    DataValidationError : every problem found, each with the rows at fault and the fix.
    """
    return validate_roster(read_table(source, "roster"))


def validate_roster(table: Table) -> tuple[pd.DataFrame, list[str]]:
    df, notes = checked_frame(
        table, ROSTER, "List every rep on the team, one per row.", extra_ok=_is_fte_quarter
    )
    problems = []
    n = len(df)
    out = pd.DataFrame(index=df.index)

    rep = clean_ids(df["rep_id"])
    blank = rep.isna()
    if blank.any():
        problems.append(
            table.problem(
                ["rep_id"], "blank rep id", "Give every rep an id, or delete the empty rows.", blank
            )
        )
    dup = rep.duplicated(keep=False) & ~blank
    if dup.any():
        problems.append(
            table.problem(
                ["rep_id"],
                f"duplicate rep id ({sample_values(rep, dup)})",
                "Keep one row per rep; give different reps different ids.",
                dup,
            )
        )
    out["rep_id"] = rep

    for col in ("team", "region", "manager_id"):
        values = (
            clean_ids(df[col]) if col in df else pd.Series([None] * n, index=df.index, dtype=object)
        )
        out[col] = (values.fillna(UNASSIGNED) if col != "manager_id" else values).astype("str")

    for col in ("hire_date", "leave_date"):
        out[col] = _dates(table, col, problems)
    late = (out["leave_date"] < out["hire_date"]).to_numpy()
    if late.any():
        problems.append(
            table.problem(
                ["hire_date", "leave_date"],
                f"leave date before the hire date ({sample_values(out['rep_id'], late)})",
                "Correct one of the dates (day, month or year swapped?).",
                late,
            )
        )

    fte_cols = ["fte"] + sorted(c for c in df.columns if _is_fte_quarter(c))
    for col in fte_cols:
        if col not in df:
            out[col] = 1.0
            continue
        if col != "fte":
            label = col[len(FTE_QUARTER_PREFIX) :]
            parsed = parse_periods(pd.Series([label]))
            if parsed["grain"].iloc[0] != "Q":
                problems.append(
                    table.problem(
                        [col],
                        f"per-quarter capacity column names no quarter ('{label}')",
                        f"Name it fte_ followed by a quarter, e.g. fte_2026Q1 ({ACCEPTED_FORMS.split(';')[0]}).",
                    ),
                )
                continue
            col_out = FTE_QUARTER_PREFIX + parsed["quarter"].iloc[0]
        else:
            col_out = "fte"
        values, _ = numeric_column(
            table, col, "Write capacity as a number from 0 to 1 (0.5 = half time).", problems
        )
        out_of_range = ((values < 0) | (values > 1)).to_numpy()
        if out_of_range.any():
            hint = (
                " Percentages must be written as fractions (80% -> 0.8)."
                if (values > 1).any() and (values <= 100).all()
                else ""
            )
            problems.append(
                table.problem(
                    [col],
                    f"fte outside 0..1 ({sample_values(values, out_of_range)})",
                    "fte is the share of a full-time rep's capacity, from 0 (on leave) to 1 (full time)."
                    + hint,
                    out_of_range,
                )
            )
        if col != "fte":
            # A blank per-quarter cell means "same as the rep's fte".
            out[col_out] = values
        else:
            out["fte"] = values.fillna(1.0)

    if "last_year_quota_months" in df:
        months, _ = numeric_column(
            table,
            "last_year_quota_months",
            "Write the months of last year the quota covered, from 0 to 12.",
            problems,
        )
        bad = ((months < 0) | (months > 12)).to_numpy()
        if bad.any():
            problems.append(
                table.problem(
                    ["last_year_quota_months"],
                    f"months outside 0..12 ({sample_values(months, bad)})",
                    "Write the months of last year the quota covered, from 0 to 12 (blank: 12, "
                    "or from the hire date).",
                    bad,
                )
            )
        out["last_year_quota_months"] = months
    else:
        out["last_year_quota_months"] = np.nan
    for col, strictly_positive in (("last_year_quota", False), ("ote", True)):
        if col not in df:
            out[col] = np.nan
            continue
        values, _ = numeric_column(
            table, col, "Write it as a plain number such as 850000.", problems
        )
        bad = ((values <= 0) if strictly_positive else (values < 0)) | np.isinf(values)
        if bad.any():
            problems.append(
                table.problem(
                    [col],
                    f"must be {'> 0' if strictly_positive else '>= 0'} and finite ({sample_values(values, bad)})",
                    "Correct the value, or leave the cell blank if it is not known.",
                    bad,
                )
            )
        out[col] = values

    if "active" in df:
        raw = df["active"]
        if pd.api.types.is_bool_dtype(raw.dtype):
            active = raw.astype(bool)
        else:
            text = (
                raw.astype(object)
                .where(~is_blank(raw.astype(object)), None)
                .map(lambda v: str(v).strip().lower(), na_action="ignore")
            )
            bad = text.notna() & ~text.isin(_TRUE | _FALSE)
            if bad.any():
                problems.append(
                    table.problem(
                        ["active"],
                        f"not true/false ({sample_values(raw, bad)})",
                        "Write true or false (yes/no and 1/0 are read too).",
                        bad,
                    )
                )
            active = ~text.isin(_FALSE)
        out["active"] = active.astype(bool)
    else:
        out["active"] = True

    if problems:
        raise DataValidationError(problems)
    notes += _teams_across_regions(out)
    out["rep_id"] = out["rep_id"].astype("str")
    ordered = COLUMNS + sorted(c for c in out.columns if c not in COLUMNS)
    out = out[ordered].sort_values("rep_id", kind="stable").reset_index(drop=True)
    return out, notes


#: The dates a roster may hold: a hire before 1900 is a typo; after 2262-04-11 pandas cannot
#: hold it (a date after the plan year is named by the cross-check).
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp.max.normalize())


def _teams_across_regions(roster: pd.DataFrame) -> list[str]:
    """A note for each team whose reps sit in more than one region: legitimate (a sales
    management team), but its team target then cuts across the regions' targets."""
    known = roster[(roster["team"] != UNASSIGNED) & (roster["region"] != UNASSIGNED)]
    pairs = known[["team", "region"]].drop_duplicates()
    across = pairs[pairs["team"].duplicated(keep=False)]  # teams seen with two regions or more
    if across.empty:
        return []
    return [
        f"roster: team {team!r} has reps in {len(r)} regions ({', '.join(sorted(r))}): a target "
        "on the team does not nest in its regions' targets, so a plan with both is solved by the "
        "general model (slower on large plans)"
        for team, r in sorted(across.groupby("team")["region"].agg(list).items())
    ]


def _dates(table: Table, col: str, problems: list) -> pd.Series:
    """A date column (blank: NaT); unreadable dates are a problem naming their lines."""
    df = table.frame
    if col not in df:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    blank = is_blank(df[col].astype(object))
    dates = to_dates(df[col].where(~blank, None))
    sane = dates.between(*DATE_RANGE)  # and within what a nanosecond timestamp holds
    bad = ~sane & ~blank
    if bad.any():
        problems.append(
            table.problem(
                [col],
                f"unreadable date ({sample_values(df[col], bad)})",
                f"Write dates as ISO dates such as 2024-03-01, years {DATE_RANGE[0].year} to "
                f"{DATE_RANGE[1].year}.",
                bad,
            )
        )
    return dates.where(sane).dt.normalize().astype("datetime64[ns]")


def fte_quarter_columns(roster: pd.DataFrame) -> dict[str, str]:
    """Map quarter label -> per-quarter capacity column (``{"2026Q1": "fte_2026Q1"}``)."""
    rx = re.compile(rf"^{FTE_QUARTER_PREFIX}(\d{{4}}Q[1-4])$")
    return {m[1]: c for c in roster.columns if (m := rx.match(c))}

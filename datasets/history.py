"""The history table: booked revenue per rep and quarter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem, more
from .periods import ACCEPTED_FORMS, parse_periods, quarter_freq
from .schema import HISTORY, PARTIAL_QUARTERS
from .tables import (
    PathOrFrame,
    Table,
    checked_frame,
    clean_ids,
    is_blank,
    normalise_header,
    numeric_column,
    read_table,
    sample_values,
    to_dates,
    to_number,
)

COLUMNS = [c.name for c in HISTORY]

#: Months 1-3 of a quarter where no monthly history says otherwise: deals close late in the
#: quarter (the "hockey stick"; DOMAIN.md).
DEFAULT_MONTH_SHAPE = (0.15, 0.25, 0.60)


def load_history(
    source: PathOrFrame, *, fiscal_year_start: int = 1, partial_quarters: str = "complete"
) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate a history table.

    Parameters
    ----------
    source : CSV, .xlsx or Parquet path, or a DataFrame, with columns ``rep_id``, ``period``, ``revenue``.
    fiscal_year_start : month in which the fiscal year starts; monthly rows are rolled up into
        the quarters of that calendar.
    partial_quarters : ``"complete"`` or ``"drop"`` a quarter that monthly rows cover only in
        part (see :data:`datasets.schema.PARTIAL_QUARTERS`); the note says which was done.

    Returns
    -------
    The canonical history (one row per rep and quarter, sorted) and notes for the planner
    (ignored columns, partial quarters).

    Raises
    ------
    DataValidationError : every problem found, each with the rows at fault and the fix.
    """
    return validate_history(
        read_table(source, "history"),
        fiscal_year_start=fiscal_year_start,
        partial_quarters=partial_quarters,
    )


def validate_history(
    table: Table, *, fiscal_year_start: int = 1, partial_quarters: str = "complete"
) -> tuple[pd.DataFrame, list[str]]:
    if partial_quarters not in PARTIAL_QUARTERS:
        raise ValueError(
            f"partial_quarters must be one of {', '.join(PARTIAL_QUARTERS)}, got {partial_quarters!r}"
        )
    df, notes = checked_frame(table, HISTORY, "Give at least one rep's revenue for one period.")
    problems = []

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
        out, partial_notes = _partial_quarters(
            out, periods["month"], fiscal_year_start, partial_quarters
        )
        notes += partial_notes
        out = out.groupby(["rep_id", "period"], as_index=False, sort=False)["revenue"].sum()
    out = out.sort_values(["rep_id", "period"], kind="stable").reset_index(drop=True)
    return out, notes


def _month_position(months: pd.Series, fiscal_year_start: int) -> tuple[pd.Series, np.ndarray]:
    """The quarter label and the position (0, 1, 2) inside it of each month label."""
    per = pd.PeriodIndex(months.astype(str), freq="M")
    quarters = per.asfreq(quarter_freq(fiscal_year_start))
    position = np.asarray((per - quarters.asfreq("M", how="start")).map(lambda d: d.n), int)
    return pd.Series(quarters.astype(str), index=months.index), position


def learn_month_shape(
    months: pd.Series, revenue: pd.Series, fiscal_year_start: int = 1
) -> tuple[np.ndarray, int]:
    """Each month's share of its quarter (3 numbers adding to 1) over the quarters whose three
    months are all there, and how many quarters that was (0: the default hockey stick)."""
    quarter, position = _month_position(months, fiscal_year_start)
    df = pd.DataFrame(
        {"q": quarter.to_numpy(), "pos": position, "revenue": revenue.to_numpy(float)}
    )
    by = df.groupby(["q", "pos"])["revenue"].sum().unstack().reindex(columns=[0, 1, 2])
    full = by[by.notna().all(axis=1) & (by.sum(axis=1) > 0)]
    if full.empty:
        return np.array(DEFAULT_MONTH_SHAPE), 0
    shape = full.sum().to_numpy(float)
    return shape / shape.sum(), len(full)


def month_shape(history: pd.DataFrame, fiscal_year_start: int = 1) -> np.ndarray:
    """Each month's share of its quarter, learned from monthly history rows (``period`` a
    month, ``revenue``) over the quarters whose three months are all there; the default hockey
    stick (:data:`DEFAULT_MONTH_SHAPE`) where the rows hold no complete monthly quarter."""
    p = parse_periods(history["period"], fiscal_year_start)
    monthly = p["grain"].eq("M")
    if not monthly.any():
        return np.array(DEFAULT_MONTH_SHAPE)
    revenue = to_number(history.loc[monthly, "revenue"])[0].fillna(0.0)
    return learn_month_shape(p.loc[monthly, "month"], revenue, fiscal_year_start)[0]


def _partial_quarters(
    out: pd.DataFrame, months: pd.Series, fiscal_year_start: int, how: str
) -> tuple[pd.DataFrame, list[str]]:
    """Quarters that the monthly data covers only in part (no row at all for one of their
    months, for any rep): completed from the within-quarter shape or dropped, and the notes
    that say so."""
    quarter, position = _month_position(months, fiscal_year_start)
    present = pd.DataFrame({"q": quarter.to_numpy(), "pos": position}).drop_duplicates()
    count = present.groupby("q")["pos"].nunique()
    partial = count[count < 3].index
    if partial.empty:
        return out, []
    shape, n_learned = learn_month_shape(months, out["revenue"], fiscal_year_start)
    source = (
        f"learned from {n_learned} complete quarter(s) of monthly data"
        if n_learned
        else "the usual 15/25/60 shape: no complete quarter to learn from"
    )
    notes = []
    scale = pd.Series(1.0, index=out.index)
    drop = pd.Series(False, index=out.index)
    in_q = pd.Series(quarter.to_numpy(), index=out.index)
    for q in partial:
        pos = sorted(present.loc[present["q"] == q, "pos"])
        names = ", ".join(sorted(months[in_q == q].astype(str).unique()))
        share = float(shape[pos].sum())
        head = f"quarter {q} has data for {len(pos)} of its 3 months ({names})"
        if how == "complete":
            scale[in_q == q] = 1.0 / share
            notes.append(
                f"{head}: completed from the within-quarter shape (those months hold "
                f"{share:.0%} of a quarter, {source}), i.e. its revenue x{1 / share:.2f}; "
                f"--partial-quarters drop leaves it out instead"
            )
        else:
            drop[in_q == q] = True
            notes.append(
                f"{head}: left out (levels and forecasts use complete quarters only); "
                f"--partial-quarters complete estimates it from the within-quarter shape instead"
            )
    out = out.assign(revenue=out["revenue"] * scale)[~drop.to_numpy()]
    return out, notes


@dataclass(frozen=True)
class Bookings:
    """Deal-level bookings summed into the monthly history table.

    Attributes
    ----------
    history : ``rep_id``, ``period`` (a month such as ``2025-07``), ``revenue``.
    deals : deals in the source; ``kept``: those the filter kept; ``summed``: those with a rep,
        summed into ``history``.
    notes : what the planner should know (the filter, deals with no rep, a last month that
        looks partial).
    """

    history: pd.DataFrame
    deals: int
    kept: int
    summed: int
    notes: tuple[str, ...]


def parse_filter(text: str) -> tuple[str, bool, tuple[str, ...]]:
    """``"deal_stage=Won"`` -> (column, keep, values); ``"stage!=Lost,Open"`` drops those
    values. The column name is normalised like a header; values are compared without case."""
    col, sep, values = text.partition("!=") if "!=" in text else text.partition("=")
    if not sep or not col.strip() or not values.strip():
        raise ValueError(
            f"write a filter as COLUMN=VALUE (keep) or COLUMN!=VALUE (drop), several values "
            f"separated by commas, e.g. deal_stage=Won; got {text!r}"
        )
    vals = tuple(v.strip() for v in values.split(",") if v.strip())
    return normalise_header(col), sep == "=", vals


def read_bookings(
    source: PathOrFrame | Table,
    *,
    rep: str = "rep_id",
    date: str = "date",
    amount: str = "amount",
    where: Sequence[str | tuple[str, bool, Sequence[str]]] = (),
) -> Bookings:
    """Sum deal-level bookings (one row per deal) into the history table, one row per rep and
    month.

    Parameters
    ----------
    source : a CSV, .xlsx or Parquet path, a DataFrame, or a :class:`datasets.tables.Table` already read.
    rep, date, amount : the columns holding the rep, the booking (close) date and the amount.
    where : filters applied before anything is validated, each ``"column=value[,value]"``
        (keep rows with one of the values, case aside) or ``"column!=value"`` (drop them), or
        its parsed form; e.g. ``["deal_stage=Won"]`` keeps won deals and ignores the open
        deals' blank close dates.

    Deals with no rep (house accounts, online orders) are left out and counted in the notes.
    Errors name the file's lines (a file) or the index labels (a DataFrame). The result still
    goes through :func:`load_history` for validation.
    """
    table = read_table(source, "bookings")
    frame = table.frame
    total = len(frame)
    rep, date, amount = (normalise_header(c) for c in (rep, date, amount))
    filters = [parse_filter(f) if isinstance(f, str) else f for f in where]
    names = [c for c, _, _ in filters] + [rep, date, amount]
    missing = [c for c in dict.fromkeys(names) if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    table.name,
                    tuple(missing),
                    f"column{'s' if len(missing) > 1 else ''} not found; columns found: "
                    + more([repr(c) for c in frame.columns], shown=12),
                    "Name the rep, date and amount columns (--rep, --date, --amount), and filter "
                    "on a column the file has.",
                )
            ]
        )
    notes = []
    keep = np.ones(total, dtype=bool)
    for col, wanted, values in filters:
        cells = (
            frame[col]
            .astype(object)
            .map(lambda v: str(v).strip().casefold() if not pd.isna(v) else "", na_action=None)
        )
        match = cells.isin({v.casefold() for v in values}).to_numpy()
        found = set(cells[cells != ""])
        unknown = [v for v in values if v.casefold() not in found]
        if unknown:
            seen = frame[col].dropna().astype(str).str.strip().value_counts().index
            raise DataValidationError(
                [
                    Problem(
                        table.name,
                        (col,),
                        f"no row has {col} {more([repr(v) for v in unknown])}",
                        f"Filter on values the column holds: {more([repr(v) for v in seen], shown=10)}.",
                    )
                ]
            )
        keep &= match if wanted else ~match
        notes.append(
            f"{'kept' if wanted else 'dropped'} the deals with {col} "
            f"{' or '.join(repr(v) for v in values)}"
        )
    if filters:
        notes.append(f"{int(keep.sum()):,} of {total:,} deals kept by the filter")
    table = table.subset(keep)
    frame = table.frame
    no_rep = is_blank(frame[rep].astype(object)).to_numpy()
    if no_rep.any():
        notes.append(f"{int(no_rep.sum()):,} deal(s) with no {rep} left out (house accounts?)")
    problems = []
    with_rep = table.subset(~no_rep)
    b = with_rep.frame
    dates = to_dates(b[date])
    bad = dates.isna().to_numpy()
    if bad.any():
        blank = is_blank(b[date].astype(object)).to_numpy()
        hint = (
            " Open deals have no close date: keep only closed deals with a filter, e.g. "
            "--where deal_stage=Won (datasets.read_bookings(where=...))."
            if blank[bad].all()
            else ""
        )
        what = "blank date" if blank[bad].all() else "unreadable date"
        if not blank[bad].all():
            what += f" ({sample_values(b[date].astype(object).fillna('<blank>'), bad)})"
        problems.append(
            with_rep.problem([date], what, "Use ISO dates such as 2024-07-15." + hint, bad)
        )
    values, unreadable = to_number(b[amount])
    bad_amount = (unreadable | values.isna()).to_numpy()
    if bad_amount.any():
        problems.append(
            with_rep.problem(
                [amount],
                "blank or unreadable amount",
                "Give every deal a numeric amount.",
                bad_amount,
            )
        )
    if problems:
        raise DataValidationError(problems)
    months = dates.dt.to_period("M")
    out = pd.DataFrame(
        {"rep_id": clean_ids(b[rep]), "period": months.astype(str), "revenue": values}
    )
    out = out.groupby(["rep_id", "period"], as_index=False)["revenue"].sum()
    if len(dates):
        last = dates.max()
        month_end = last.to_period("M").end_time.normalize()
        if (month_end - last.normalize()).days >= 3:
            notes.append(
                f"the last deal is dated {last:%Y-%m-%d}, {(month_end - last.normalize()).days} "
                f"days before the end of its month: {last:%Y-%m} may be only partly there"
            )
    return Bookings(out, total, int(keep.sum()), len(b), tuple(notes))


def bookings_to_history(
    bookings: PathOrFrame | Table,
    *,
    rep: str = "rep_id",
    date: str = "date",
    amount: str = "amount",
    where: Sequence[str] = (),
) -> pd.DataFrame:
    """The monthly history of :func:`read_bookings` (the table alone)."""
    return read_bookings(bookings, rep=rep, date=date, amount=amount, where=where).history

"""A validated company: history and roster checked against each other, and its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem, more
from .history import DEFAULT_MONTH_SHAPE, month_shape, validate_history
from .periods import parse_periods, quarter_end, quarter_freq, quarter_index
from .roster import validate_roster
from .tables import PathOrFrame, read_table

#: Complete years of history quotaplan needs to learn seasonality and growth and to calibrate
#: its intervals on a held-out year; below this it warns and widens its intervals.
MIN_COMPLETE_YEARS = 2
#: Complete years a backtest needs: two years to learn from before a complete test year.
BACKTEST_YEARS = 3


@dataclass(frozen=True)
class Company:
    """Validated inputs for planning.

    Attributes
    ----------
    history : canonical history, one row per rep and quarter (``rep_id``, ``period``, ``revenue``).
    roster : canonical roster, one row per rep (see :data:`datasets.schema.ROSTER`).
    notes : things the planner should know that are not errors (ignored columns, partial quarters).
    fiscal_year_start : month (1-12) in which the fiscal year starts.
    month_shape : each month's share of a quarter (learned from monthly history rows, else the
        usual 15/25/60): how a hire's start date within a quarter weighs.
    warnings : what limits the plan (a short history, roster reps with no history and no hire
        date): printed by ``data check``, ``forecast`` and ``plan`` and returned by the API.
    """

    history: pd.DataFrame
    roster: pd.DataFrame
    notes: tuple[str, ...] = field(default=())
    fiscal_year_start: int = 1
    month_shape: tuple[float, float, float] = DEFAULT_MONTH_SHAPE
    warnings: tuple[str, ...] = field(default=())

    @property
    def periods(self) -> list[str]:
        """Every quarter from the first to the last in the history, gaps included."""
        freq = quarter_freq(self.fiscal_year_start)
        first, last = self.history["period"].min(), self.history["period"].max()
        return [
            str(p)
            for p in pd.period_range(pd.Period(first, freq), pd.Period(last, freq), freq=freq)
        ]

    @cached_property
    def leavers(self) -> list[str]:
        """Reps with history who are not on the roster, or are on it as inactive."""
        active = self.roster.loc[self.roster["active"], "rep_id"]
        return pd.Index(self.history["rep_id"].unique()).difference(pd.Index(active)).tolist()

    @cached_property
    def new_hires(self) -> list[str]:
        """Active roster reps with no history yet."""
        active = self.roster.loc[self.roster["active"], "rep_id"]
        return pd.Index(active).difference(pd.Index(self.history["rep_id"].unique())).tolist()

    @cached_property
    def unknown_start(self) -> list[str]:
        """Active roster reps with no history and no hire date: nothing says when they start."""
        r = self.roster.set_index("rep_id")
        return [rep for rep in self.new_hires if pd.isna(r.at[rep, "hire_date"])]

    @cached_property
    def complete_years(self) -> list[int]:
        """(Fiscal) years whose four quarters are all in the history."""
        return complete_years(self.history)

    def plan_year(self) -> tuple[int, str]:
        """The default year to forecast and plan, and why: the year after the last complete
        year of the history (the year after the history's last year when it has none)."""
        last = self.history["period"].max()
        years = self.complete_years
        if not years:
            year = int(last[:4]) + 1
            return (
                year,
                f"the history holds no complete year; {year} is the year after its last quarter ({last})",
            )
        year = years[-1] + 1
        why = f"{year} is the year after the last complete year of the history ({years[-1]})"
        if last[:4] == str(year):
            why += f"; the history already holds {year} up to {last}, so the forecast covers the rest of it"
        return year, why


def load_company(
    history: PathOrFrame,
    roster: PathOrFrame,
    *,
    fiscal_year_start: int = 1,
    partial_quarters: str = "complete",
) -> Company:
    """Load, validate and cross-check a history and a roster.

    Problems in both tables are reported together in one :class:`DataValidationError`.
    Reps with history but no roster row are leavers: kept (their history still teaches the
    forecaster) and noted. Roster reps with no history are new hires. Quarters that monthly
    rows cover only in part are completed from the within-quarter shape or dropped
    (``partial_quarters``, see :data:`datasets.schema.PARTIAL_QUARTERS`).
    """
    problems: list[Problem] = []
    results = {}
    tables = {}

    def check_history(t):
        return validate_history(
            t, fiscal_year_start=fiscal_year_start, partial_quarters=partial_quarters
        )

    for name, source, validate in (
        ("history", history, check_history),
        ("roster", roster, validate_roster),
    ):
        try:
            table = read_table(source, name)
            tables[name] = table
            results[name] = validate(table)
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataValidationError(problems)
    (hist, hist_notes), (rost, rost_notes) = results["history"], results["roster"]
    if hist.empty:  # every quarter the monthly rows touch was partial, and dropped
        raise DataValidationError(
            [
                tables["history"].problem(
                    ["period"],
                    "no complete quarter: every quarter the monthly rows touch is partial, "
                    "and partial quarters are dropped",
                    "Give all three months of at least one quarter, or complete partial "
                    'quarters from the within-quarter shape (partial_quarters "complete"; on '
                    "the command line --partial-quarters complete).",
                )
            ]
        )
    cross = cross_check(hist, rost, tables["roster"].name, fiscal_year_start)
    if cross:
        raise DataValidationError(cross)
    rost = off_the_team(rost, quarter_end(hist["period"].max(), fiscal_year_start))
    raw = tables["history"].frame
    monthly = parse_periods(raw["period"], fiscal_year_start)["grain"].eq("M").any()
    shape = month_shape(raw, fiscal_year_start) if monthly else DEFAULT_MONTH_SHAPE
    return with_notes(
        Company(hist, rost, (*hist_notes, *rost_notes), fiscal_year_start, tuple(shape))
    )


def with_notes(company: Company) -> Company:
    """The company with its notes (leavers, new hires, early revenue) and warnings filled in."""
    notes = (*company.notes, *company_notes(company))
    return Company(
        company.history,
        company.roster,
        notes,
        company.fiscal_year_start,
        tuple(float(x) for x in company.month_shape),
        tuple(company_warnings(company)),
    )


def complete_years(history: pd.DataFrame) -> list[int]:
    """(Fiscal) years whose four quarters are all in a canonical history."""
    q = pd.Series(quarter_index(history["period"].unique()))
    per_year = q.groupby(q // 4).nunique()
    return sorted(int(y) for y, n in per_year.items() if n == 4)


def history_warnings(history: pd.DataFrame) -> list[str]:
    """A warning if the history is shorter than :data:`MIN_COMPLETE_YEARS` complete years."""
    years = complete_years(history)
    if len(years) >= MIN_COMPLETE_YEARS:
        return []
    n_q = history["period"].nunique()
    held = (
        f"{len(years)} complete year(s) ({', '.join(map(str, years))})"
        if years
        else "no complete year"
    )
    return [
        f"short history: {held}, {n_q} quarter(s) in all; quotaplan needs "
        f"{MIN_COMPLETE_YEARS} complete years to learn seasonality and growth and to check its "
        "intervals on a held-out year. The forecast's P10-P90 intervals are widened to what "
        f"the data supports, and a backtest needs {BACKTEST_YEARS} complete years"
    ]


def company_warnings(company: Company) -> list[str]:
    """What limits what quotaplan can say about a company: too short a history, roster reps
    with no history and no hire date."""
    out = history_warnings(company.history)
    if company.unknown_start:
        out.append(unknown_start_warning(company.unknown_start))
    return out


def unknown_start_warning(reps: list[str]) -> str:
    """The warning for roster reps with no history and no hire date, and the rule applied."""
    return (
        f"{len(reps)} roster rep(s) have no history and no hire date: {more(reps)}. They are "
        "planned at zero (nothing says when they start); give their hire_date to plan them "
        "from that day (team median level x ramp), or mark them inactive"
    )


def require_years(company: Company, n: int, what: str) -> None:
    """Raise :class:`DataValidationError` unless the history holds ``n`` complete years."""
    years = company.complete_years
    if len(years) >= n:
        return
    held = f"{len(years)} ({', '.join(map(str, years))})" if years else "none"
    span = f"{company.history['period'].min()}..{company.history['period'].max()}"
    raise DataValidationError(
        [
            Problem(
                "history",
                ("period",),
                f"too short for {what}: {what} needs {n} complete years; the history "
                f"({span}) holds {held}",
                f"Give {n} complete years of history, or forecast without it.",
            )
        ]
    )


def off_the_team(roster: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    """The roster with reps who left by the end of the data marked inactive (a ``leave_date``
    on or before ``data_end``): they are leavers, whatever the ``active`` column says."""
    gone = (roster["leave_date"] <= data_end).to_numpy()
    if not gone.any():
        return roster
    return roster.assign(active=roster["active"] & ~gone)


def company_notes(company: Company) -> list[str]:
    """What a planner should know about a company's reps: leavers, new hires, early revenue."""
    notes = []
    if company.leavers:
        notes.append(
            f"{len(company.leavers)} rep(s) with history are not active on the roster (leavers; their history is kept for forecasting): {_some(company.leavers)}"
        )
    dated = [rep for rep in company.new_hires if rep not in set(company.unknown_start)]
    if dated:  # the undated ones have a warning of their own (unknown_start_warning)
        notes.append(
            f"{len(dated)} roster rep(s) have no history yet (new hires; planned from their hire date: the team's median level x the ramp): {_some(dated)}"
        )
    early = _revenue_before_hire(company.history, company.roster, company.fiscal_year_start)
    if early:
        notes.append(
            f"{len(early)} rep(s) booked revenue before their hire date (rehires or transfers?): {_some(early)}"
        )
    return notes


def cross_check(
    history: pd.DataFrame, roster: pd.DataFrame, roster_name: str, fiscal_year_start: int = 1
) -> list[Problem]:
    """Problems that only show with both tables: hire dates after the data ends.

    A hire date may fall in the plan year that follows the history (a planned hire), but not
    beyond it: such a date is a typo or a rep who does not belong in this plan.
    """
    last = history["period"].max()
    data_end = quarter_end(last, fiscal_year_start)
    horizon = data_end + pd.DateOffset(years=1)
    late = (roster["hire_date"] > horizon).to_numpy()
    if not late.any():
        return []
    reps = roster.loc[late, "rep_id"].tolist()
    dates = roster.loc[late, "hire_date"].dt.strftime("%Y-%m-%d").tolist()
    shown = ", ".join(f"{r} ({d})" for r, d in list(zip(reps, dates, strict=True))[:5])
    return [
        Problem(
            roster_name,
            ("hire_date",),
            f"hire date after the data ends ({last}, {data_end:%Y-%m-%d}) and beyond the next plan year ({horizon:%Y-%m-%d}) for {shown}",
            "Correct the date (a typo in the year?) or leave the rep out until the plan that covers their start.",
            tuple(f"rep {r!r}" for r in reps[:5]),
            len(reps),
        )
    ]


def _revenue_before_hire(
    history: pd.DataFrame, roster: pd.DataFrame, fiscal_year_start: int
) -> list[str]:
    hired = roster.dropna(subset=["hire_date"]).set_index("rep_id")["hire_date"]
    if hired.empty:
        return []
    freq = quarter_freq(fiscal_year_start)
    first = history[history["revenue"] > 0].groupby("rep_id")["period"].min()
    hire_q = hired.reindex(first.index).dt.to_period(freq)
    known = hire_q.notna()
    early = first[known].to_numpy() < hire_q[known].astype(str).to_numpy()
    return sorted(first.index[known][early])


def _some(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def summarise(company: Company) -> dict:
    """Headline figures of a company's data: reps, periods, revenue by year and by team."""
    h, r = company.history, company.roster
    freq = quarter_freq(company.fiscal_year_start)
    years = pd.PeriodIndex(h["period"], freq=freq).qyear
    by_year = h.groupby(years)["revenue"].sum()
    quarters_per_year = h.assign(y=years).groupby("y")["period"].nunique()
    team = r.set_index("rep_id")["team"]
    last_year = int(years.max())
    recent = h[years == last_year]
    by_team = recent.groupby(recent["rep_id"].map(team).fillna("(not on roster)"))["revenue"].agg(
        ["sum", "count"]
    )
    heads = r[r["active"]].groupby("team").size()
    return {
        "reps_in_history": int(h["rep_id"].nunique()),
        "reps_on_roster": int(r["active"].sum()),
        "inactive_on_roster": int((~r["active"]).sum()),
        "new_hires": len(company.new_hires),
        "leavers": len(company.leavers),
        "first_period": h["period"].min(),
        "last_period": h["period"].max(),
        "n_periods": int(h["period"].nunique()),
        "rows": len(h),
        "total_revenue": float(h["revenue"].sum()),
        "revenue_by_year": [
            {
                "year": int(y),
                "quarters": int(quarters_per_year[y]),
                "reps": int(h.loc[years == y, "rep_id"].nunique()),
                "revenue": float(by_year[y]),
            }
            for y in by_year.index
        ],
        "teams": [
            {
                "team": t,
                "active_reps": int(heads.get(t, 0)),
                f"revenue_{last_year}": float(by_team["sum"].get(t, 0.0)),
            }
            for t in sorted(set(heads.index) | set(by_team.index))
        ],
        "zero_quarters_share": float(np.mean(h["revenue"].to_numpy() == 0)),
        "complete_years": company.complete_years,
        "warnings": list(company.warnings),
        "notes": list(company.notes),
    }


def summarise_history(history: pd.DataFrame, notes: list[str]) -> dict:
    """The figures of :func:`summarise` that a history checked alone has (a canonical history
    and the notes its validation made)."""
    return {
        "reps_in_history": int(history["rep_id"].nunique()),
        "first_period": history["period"].min(),
        "last_period": history["period"].max(),
        "n_periods": int(history["period"].nunique()),
        "rows": len(history),
        "total_revenue": float(history["revenue"].sum()),
        "complete_years": complete_years(history),
        "warnings": history_warnings(history),
        "notes": notes,
    }


def summarise_roster(roster: pd.DataFrame, notes: list[str]) -> dict:
    """The figures of :func:`summarise` that a roster checked alone has."""
    return {
        "reps_on_roster": int(roster["active"].sum()),
        "inactive_on_roster": int((~roster["active"]).sum()),
        "teams": [
            {"team": t, "active_reps": int(n)}
            for t, n in roster[roster["active"]].groupby("team").size().items()
        ],
        "notes": notes,
    }

"""A validated company: history and roster checked against each other, and its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem
from .history import validate_history
from .periods import quarter_end, quarter_freq
from .roster import validate_roster
from .tables import PathOrFrame, read_table


@dataclass(frozen=True)
class Company:
    """Validated inputs for planning.

    Attributes
    ----------
    history : canonical history, one row per rep and quarter (``rep_id``, ``period``, ``revenue``).
    roster : canonical roster, one row per rep (see :data:`datasets.schema.ROSTER`).
    notes : things the planner should know that are not errors (ignored columns, partial quarters).
    fiscal_year_start : month (1-12) in which the fiscal year starts.
    """

    history: pd.DataFrame
    roster: pd.DataFrame
    notes: tuple[str, ...] = field(default=())
    fiscal_year_start: int = 1

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


def load_company(
    history: PathOrFrame, roster: PathOrFrame, *, fiscal_year_start: int = 1
) -> Company:
    """Load, validate and cross-check a history and a roster.

    Problems in both tables are reported together in one :class:`DataValidationError`.
    Reps with history but no roster row are leavers: kept (their history still teaches the
    forecaster) and noted. Roster reps with no history are new hires.
    """
    problems: list[Problem] = []
    results = {}
    names = {}
    for name, source, validate in (
        ("history", history, lambda t: validate_history(t, fiscal_year_start=fiscal_year_start)),
        ("roster", roster, validate_roster),
    ):
        try:
            table = read_table(source, name)
            names[name] = table.name
            results[name] = validate(table)
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataValidationError(problems)
    (hist, hist_notes), (rost, rost_notes) = results["history"], results["roster"]
    cross = cross_check(hist, rost, names["roster"], fiscal_year_start)
    if cross:
        raise DataValidationError(cross)
    rost = off_the_team(rost, quarter_end(hist["period"].max(), fiscal_year_start))
    company = Company(hist, rost, (), fiscal_year_start)
    return Company(
        hist, rost, (*hist_notes, *rost_notes, *company_notes(company)), fiscal_year_start
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
    if company.new_hires:
        notes.append(
            f"{len(company.new_hires)} roster rep(s) have no history yet (new hires; they are planned from the ramp curve): {_some(company.new_hires)}"
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
        "notes": list(company.notes),
    }

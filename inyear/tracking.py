"""In-year tracking: how each rep and team stands against the plan.

``track(spec, quotas, actuals, as_of=...)`` takes the plan's specification (its forecast
quantiles), its quarterly quotas and the bookings so far, and reports per rep and per team the
pacing and projection of :mod:`inyear.pacing` and the flags of :mod:`inyear.flags`, and the
phased quota per rep and month (or week).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from datasets.history import DEFAULT_MONTH_SHAPE
from optimizer.errors import SpecError
from optimizer.inputs import prepare
from optimizer.spec import PlanSpec

from .actuals import as_of_day, by_quarter, check_quarter_totals, plan_actuals, plan_calendar
from .flags import FLAGS, Flag, Thresholds, per_rep, raise_flags
from .pacing import elapsed, month_shares, phased, plan_days, quota_matrix, ratio_of, standing


@dataclass(frozen=True)
class ProgressSummary:
    """The company's figures on the day tracked to: the quarter in progress and those closed,
    the share of the year's forecast gone, the month shape used, the quotas, what was due and
    booked, the pace and the projected year-end, how many reps, and how many of them each flag
    names (``flagged``: kind -> reps)."""

    as_of: str
    current_quarter: str
    closed_quarters: tuple[str, ...]
    share_of_year_gone: float
    month_shape: tuple[float, float, float]
    annual_quota: float
    due_to_date: float
    actual_to_date: float
    pace: float
    projected_year_end: float
    reps: int
    flagged: dict[str, int]

    def to_dict(self) -> dict:
        """The JSON the API stores and returns (flag counts as ``reps_<kind>``)."""
        return {
            "as_of": self.as_of,
            "current_quarter": self.current_quarter,
            "closed_quarters": list(self.closed_quarters),
            "share_of_year_gone": self.share_of_year_gone,
            "month_shape": list(self.month_shape),
            "annual_quota": self.annual_quota,
            "due_to_date": self.due_to_date,
            "actual_to_date": self.actual_to_date,
            "pace": self.pace,
            "projected_year_end": self.projected_year_end,
            "reps": self.reps,
            **{f"reps_{k}": self.flagged[k] for k in FLAGS},
        }


@dataclass(frozen=True)
class Progress:
    """``reps``: a row per rep; ``teams``: a row per team; ``phased``: the quota and the
    bookings per rep and month (or week); ``summary``: the company's figures; ``flags``: every
    flag raised, as records (the rep table's flag columns and reasons come from them)."""

    reps: pd.DataFrame
    teams: pd.DataFrame
    phased: pd.DataFrame
    summary: ProgressSummary
    flags: tuple[Flag, ...] = ()


def track(
    spec: PlanSpec,
    quotas: pd.DataFrame,
    actuals,
    *,
    as_of=None,
    fiscal_year_start: int | None = None,
    shape=DEFAULT_MONTH_SHAPE,
    thresholds: Thresholds | None = None,
    grain: str = "month",
) -> Progress:
    """Where each rep and team stands on ``as_of`` (default: the last day the actuals cover).

    Parameters
    ----------
    spec : the plan's specification (its forecast quantiles and cap quantile are used).
    quotas : the plan's quotas, ``rep_id, period, quota`` (every rep and quarter).
    actuals : bookings so far, ``rep_id, revenue`` and ``period`` (a month, or a closed
        quarter's total) or ``date``; a rep with no row booked nothing. A path, a DataFrame,
        or a :class:`datasets.tables.Table` read from a file (its lines are named in errors);
        read by :func:`datasets.actuals.read_actuals`.
    shape : each month's share of its quarter (see :func:`datasets.history.month_shape`).
    grain : "month" or "week" for the ``phased`` table.
    """
    th = thresholds or Thresholds()
    fiscal_year_start = plan_calendar(spec, fiscal_year_start)
    if grain not in ("month", "week"):
        raise SpecError(f"grain must be 'month' or 'week', got {grain!r}")
    shape = month_shares(shape)
    data = prepare(replace(spec, actuals=None, attainment=None, target=spec.target or 1.0))
    n, T = len(data.reps), len(data.periods)
    Q = quota_matrix(quotas, data)
    booked = plan_actuals(actuals, data, fiscal_year_start)
    as_of = as_of_day(as_of, booked)
    if pd.isna(as_of):
        raise SpecError("no actuals and no as_of date: say which day to track to")
    check_quarter_totals(booked, as_of)

    days = plan_days(data.periods, fiscal_year_start, shape)
    rows = booked.rows[booked.rows["date"] <= as_of]
    A = by_quarter(rows, days.set_index("date")["t"], data.reps)
    s = standing(data, Q, A, elapsed(days, as_of, T), spec.limits.cap_quantile)
    flags = raise_flags(s, data.reps, data.periods, data.levels, spec.limits.cap_quantile, th)
    raised = per_rep(flags, n)

    reps = pd.DataFrame(
        {
            "rep_id": data.reps,
            "team": data.team,
            "region": data.region,
            "annual_quota": s.annual,
            "due_to_date": s.due,
            "actual_to_date": s.booked,
            "attainment_to_date": ratio_of(s.booked, s.annual),
            "pace": s.pace,
            "projected_year_end": s.projected,
            "p_attain_year": s.p_year,
            "current_quarter_quota": Q[:, s.current],
            "current_quarter_actual": A[:, s.current],
            "p_attain_quarter": s.p_quarter,
            **{k: raised[k].to_numpy() for k in (*FLAGS, "flags")},
        }
    )
    label = [str(p) for p in data.periods]
    due, sold = s.due.sum(), s.booked.sum()
    summary = ProgressSummary(
        as_of=as_of.strftime("%Y-%m-%d"),
        current_quarter=label[s.current],
        closed_quarters=tuple(label[t] for t in range(T) if s.closed[t]),
        share_of_year_gone=s.gone,
        month_shape=tuple(float(x) for x in shape),
        annual_quota=float(s.annual.sum()),
        due_to_date=float(due),
        actual_to_date=float(sold),
        pace=float(sold / due) if due > 0 else float("nan"),
        projected_year_end=float(s.projected.sum()),
        reps=n,
        flagged={k: int(reps[k].sum()) for k in FLAGS},
    )
    return Progress(reps, _teams(reps), phased(Q, days, data, rows, grain), summary, flags)


def _teams(reps: pd.DataFrame) -> pd.DataFrame:
    g = reps.groupby("team", sort=True)
    teams = g[["annual_quota", "due_to_date", "actual_to_date", "projected_year_end"]].sum()
    teams["pace"] = teams["actual_to_date"] / teams["due_to_date"].where(teams["due_to_date"] > 0)
    teams["attainment_to_date"] = teams["actual_to_date"] / teams["annual_quota"].where(
        teams["annual_quota"] > 0
    )
    teams["reps"] = g.size()
    teams["reps_flagged"] = g["flags"].agg(lambda f: int((f != "").sum()))
    for k in FLAGS:
        teams[f"reps_{k}"] = g[k].sum().astype(int)
    return teams.reset_index()

"""In-year tracking: how each rep and team stands against the plan, and quota relief.

``track(spec, quotas, actuals, as_of=...)`` takes the plan's specification (its forecast
quantiles), its quarterly quotas and the bookings so far (monthly or dated rows), and reports per
rep and per team:

- **pacing**: the quota due by ``as_of``, phased inside each quarter by the within-quarter shape
  (months in the proportions learned from monthly history by
  :func:`datasets.history.month_shape`, or the common
  15/25/60 hockey stick; days within a month evenly), never flat;
- **projection**: the forecast of what remains, scaled by the rep's pace against their own
  forecast so far, trusted in proportion to the share of the year gone (credibility weighting),
  plus what has been booked;
- the chance of reaching the annual and the current quarter's quota under that projection;
- **flags**, each with its reason in words: at risk, out of reach, missed quarters in a row,
  pull-forward, overload. A rep on or ahead of their phased quota is never flagged at risk, out
  of reach or overloaded: the plan expected exactly what they did.

``relief(spec, actuals, as_of=...)`` proposes new quotas for the rest of the year with the
optimizer's mid-year re-plan (closed quarters become the actuals) and says where capacity cannot
keep the company number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from datasets.errors import DataValidationError, Problem
from datasets.history import DEFAULT_MONTH_SHAPE
from datasets.periods import parse_periods, quarter_end, quarter_freq
from datasets.tables import Table

from .errors import PlanInfeasibleError, SpecError
from .explain import attain_probability
from .inputs import PlanData, prepare, quantile_at
from .replanning import replan
from .results import Plan
from .spec import AT_RISK_BELOW, PlanSpec
from .wording import money


@dataclass(frozen=True)
class Thresholds:
    """When a flag is raised.

    at_risk_below : chance of reaching the annual quota under which a rep behind pace is at risk.
    missed_quarters : consecutive closed quarters under quota that raise the flag.
    pull_forward_above : a closed quarter this far above its quota (0.25: 125%) ...
    shortfall_after : ... followed by a quarter projected this far under its quota (0.10: 90%).
    """

    at_risk_below: float = AT_RISK_BELOW
    missed_quarters: int = 2
    pull_forward_above: float = 0.25
    shortfall_after: float = 0.10

    def __post_init__(self):
        if not 0 < self.at_risk_below < 1:
            raise SpecError(f"at_risk_below is a chance between 0 and 1, got {self.at_risk_below}")
        if self.missed_quarters < 1:
            raise SpecError(f"missed_quarters must be at least 1, got {self.missed_quarters}")
        if self.pull_forward_above <= 0 or not 0 < self.shortfall_after < 1:
            raise SpecError("pull_forward_above must be > 0 and shortfall_after in (0, 1)")


@dataclass(frozen=True)
class Progress:
    """``reps``: a row per rep; ``teams``: a row per team; ``phased``: the quota and the
    bookings per rep and month (or week); ``summary``: the company's figures."""

    reps: pd.DataFrame
    teams: pd.DataFrame
    phased: pd.DataFrame
    summary: dict


def _days(periods, fiscal_year_start: int, shape=None) -> pd.DataFrame:
    """Every day of the plan's quarters: ``date``, quarter index ``t`` and, given the month
    ``shape``, ``weight``: the day's share of its quarter (its month's share spread evenly over
    the month's days)."""
    freq = quarter_freq(fiscal_year_start)
    frames = []
    for t, label in enumerate(periods):
        q = pd.Period(label, freq=freq)
        start, end = q.start_time.normalize(), q.end_time.normalize()
        days = pd.date_range(start, end, freq="D")
        frames.append(pd.DataFrame({"date": days, "t": t}))
    days = pd.concat(frames, ignore_index=True)
    if shape is not None:
        month_of = days["date"].dt.to_period("M")
        q_start = days.groupby("t")["date"].transform("min").dt.to_period("M")
        pos = np.asarray((month_of - q_start).map(lambda d: d.n), int)
        per_month = days.groupby([days["t"], pos])["date"].transform("count").to_numpy()
        days["weight"] = shape[pos] / per_month
    return days


def _read_actuals(
    actuals: pd.DataFrame, data: PlanData, fiscal_year_start: int
) -> tuple[pd.DataFrame, pd.Timestamp, pd.Series]:
    """Bookings as ``rep_id, date, revenue`` (a month's row dated its last day, a quarter's
    total its quarter's last day), the latest date they cover, and which rows were quarters'
    totals. Raises DataValidationError naming rows, reps and fixes."""
    table = actuals if isinstance(actuals, Table) else Table("actuals", actuals, from_file=False)
    actuals = table.frame.reset_index(drop=True)
    problems = []
    name = table.name
    missing = [c for c in ("rep_id", "revenue") if c not in actuals.columns]
    whens = [c for c in ("date", "period") if c in actuals.columns]
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
    a = actuals
    revenue = pd.to_numeric(a["revenue"], errors="coerce")
    bad = revenue.isna() | (revenue < 0)
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
    rep = a["rep_id"].astype(str)
    unknown = sorted(set(rep) - set(data.reps))
    if unknown:
        problems.append(
            Problem(
                name,
                ("rep_id",),
                f"reps not in the plan: {', '.join(unknown[:10])}",
                "Track reps the plan covers; plan new reps first (re-plan with them on the roster).",
            )
        )
    dates = pd.Series(pd.NaT, index=a.index, dtype="datetime64[ns]")
    if "date" in a.columns:
        dates = pd.to_datetime(a["date"], errors="coerce")
    quarterly = pd.Series(False, index=a.index)
    if "period" in a.columns:
        use = dates.isna() & a["period"].notna()
        p = parse_periods(a.loc[use, "period"], fiscal_year_start)
        monthly = p["grain"].eq("M")
        months = pd.PeriodIndex(p.loc[monthly, "month"], freq="M")
        dates.loc[p.index[monthly]] = months.end_time.normalize()
        whole = p["grain"].eq("Q")
        ends = [quarter_end(q, fiscal_year_start) for q in p.loc[whole, "quarter"]]
        dates.loc[p.index[whole]] = pd.DatetimeIndex(ends)
        quarterly.loc[p.index[whole]] = True
    undated = dates.isna()
    when = "date" if whens == ["date"] else "period"
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
    days = _days(data.periods, fiscal_year_start)
    first, last = days["date"].min(), days["date"].max()
    outside = ~undated & ((dates < first) | (dates > last))
    if outside.any():
        problems.append(
            Problem(
                name,
                (when,),
                f"bookings outside the plan's year ({first:%Y-%m-%d} to {last:%Y-%m-%d})",
                "Track one plan year at a time.",
                *table.rows(outside),
            )
        )
    if problems:
        raise DataValidationError(problems)
    out = pd.DataFrame(
        {"rep_id": rep.to_numpy(), "date": dates.dt.normalize().to_numpy(), "revenue": revenue}
    )
    return out, out["date"].max(), quarterly


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


def _check_quarter_totals(
    book: pd.DataFrame, quarterly: pd.Series, as_of: pd.Timestamp, name: str
) -> None:
    """A quarter's total is only known once the quarter has closed: refuse one for a quarter
    that ends after ``as_of``."""
    early = quarterly.to_numpy() & (book["date"].to_numpy() > as_of)
    if early.any():
        raise DataValidationError(
            [
                Problem(
                    name,
                    ("period",),
                    f"a quarter's total for a quarter still open on {as_of:%Y-%m-%d} (it ends "
                    f"{book['date'][early].min():%Y-%m-%d})",
                    "Give an open quarter's bookings by month (2026-04) or as dated rows; a "
                    "quarter's total counts once the quarter has closed.",
                    *Table(name, book, from_file=False).rows(early),
                )
            ]
        )


def track(
    spec: PlanSpec,
    quotas: pd.DataFrame,
    actuals: pd.DataFrame,
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
    actuals : bookings so far, ``rep_id, revenue`` and ``period`` (a month) or ``date``; a rep
        with no row booked nothing (a :class:`datasets.tables.Table` read from a file names
        its lines in errors).
    shape : each month's share of its quarter (see :func:`datasets.history.month_shape`).
    grain : "month" or "week" for the ``phased`` table.
    """
    th = thresholds or Thresholds()
    fiscal_year_start = plan_calendar(spec, fiscal_year_start)
    if grain not in ("month", "week"):
        raise SpecError(f"grain must be 'month' or 'week', got {grain!r}")
    shape = np.asarray(shape, float)
    if shape.shape != (3,) or (shape < 0).any() or not np.isclose(shape.sum(), 1):
        raise SpecError(f"shape must be three month shares adding to 1, got {shape}")
    data = prepare(replace(spec, actuals=None, attainment=None, target=spec.target or 1.0))
    n, T = len(data.reps), len(data.periods)
    Q = _quota_matrix(quotas, data)
    book, last, quarterly = _read_actuals(actuals, data, fiscal_year_start)
    as_of = pd.Timestamp(as_of).normalize() if as_of is not None else last
    if pd.isna(as_of):
        raise SpecError("no actuals and no as_of date: say which day to track to")
    _check_quarter_totals(book, quarterly, as_of, getattr(actuals, "name", "actuals"))

    days = _days(data.periods, fiscal_year_start, shape)
    elapsed = days[days["date"] <= as_of].groupby("t")["weight"].sum().reindex(range(T))
    e = np.clip(elapsed.fillna(0.0).to_numpy(), 0.0, 1.0)  # share of each quarter gone
    closed = e >= 1 - 1e-12
    current = int(np.argmax(e < 1 - 1e-12)) if (~closed).any() else T - 1

    rows = book[book["date"] <= as_of]
    t_of = days.set_index("date")["t"]
    A = np.zeros((n, T))
    idx = pd.Index(data.reps)
    np.add.at(
        A, (idx.get_indexer(rows["rep_id"]), t_of.loc[rows["date"]].to_numpy()), rows["revenue"]
    )

    levels, quant = data.levels, data.quantiles  # (n, T, L)
    p50 = data.p50
    due = Q @ e  # phased quota to date
    booked = A.sum(axis=1)
    annual = Q.sum(axis=1)
    pace = _ratio(booked, due)
    ratio = np.nan_to_num(_ratio(booked, p50 @ e), nan=1.0)
    # Credibility: the pace against the rep's own forecast counts as much as the year is gone.
    gone = float((p50.sum(axis=0) * e).sum() / max(p50.sum(), 1e-300))
    factor = np.maximum(1 + gone * (ratio - 1), 0.0)
    rest = quant * (1 - e)[None, :, None] * factor[:, None, None]  # (n, T, L) still to come
    rest_year = rest.sum(axis=1)  # comonotone quarters: quantiles add up
    projected = booked + quantile_at(levels, rest_year, 0.5)
    need = annual - booked
    p_year = attain_probability(need, levels, rest_year)
    need_q = Q[:, current] - A[:, current]
    p_quarter = attain_probability(need_q, levels, rest[:, current, :])
    cap_rest = data.quantile(spec.limits.cap_quantile)[:, current] * (1 - e[current])

    behind = booked < due * (1 - 1e-9)
    top = rest_year[:, -1]
    # Per flag, per rep: the reasons it was raised (empty: not raised).
    why: dict[str, list[list[str]]] = {k: [[] for _ in range(n)] for k in FLAGS}
    label = [str(p) for p in data.periods]
    for i in range(n):
        if behind[i] and p_year[i] < th.at_risk_below:
            why["at_risk"][i].append(
                f"at risk: {p_year[i]:.0%} chance of reaching the annual quota "
                f"(under {th.at_risk_below:.0%}); {money(booked[i])} booked of "
                f"{money(due[i])} due so far"
            )
        if behind[i] and need[i] > top[i] * (1 + 1e-9) and need[i] > 0:
            why["out_of_reach"][i].append(
                f"out of reach: needs {money(need[i])} more; even at P{levels[-1] * 100:g} the "
                f"rest of the year brings {money(top[i])}"
            )
        missed = 0
        for t in range(T - 1, -1, -1):
            if not closed[t]:
                continue
            if A[i, t] < Q[i, t] * (1 - 1e-9):
                missed += 1
            else:
                break
        if missed >= th.missed_quarters:
            last_missed = [t for t in range(T) if closed[t]][-missed:]
            detail = ", ".join(f"{label[t]} at {A[i, t] / Q[i, t]:.0%}" for t in last_missed)
            why["missed_quarters"][i].append(f"missed {missed} quarters in a row ({detail})")
        for t in range(T - 1):
            if not closed[t] or Q[i, t] <= 0 or A[i, t] < Q[i, t] * (1 + th.pull_forward_above):
                continue
            nxt = A[i, t + 1] + float(quantile_at(levels, rest[i, t + 1], 0.5))
            if Q[i, t + 1] > 0 and nxt < Q[i, t + 1] * (1 - th.shortfall_after):
                why["pull_forward"][i].append(
                    f"pull-forward: {label[t]} at {A[i, t] / Q[i, t]:.0%} of quota, then "
                    f"{label[t + 1]} projected at {nxt / Q[i, t + 1]:.0%}"
                )
        if behind[i] and e[current] < 1 and need_q[i] > cap_rest[i] * (1 + 1e-9):
            why["overload"][i].append(
                f"overload: needs {money(need_q[i])} in the rest of {label[current]}, more than "
                f"the cap (P{spec.limits.cap_quantile * 100:g}) of what remains: "
                f"{money(cap_rest[i])}"
            )

    reps = pd.DataFrame(
        {
            "rep_id": data.reps,
            "team": data.team,
            "region": data.region,
            "annual_quota": annual,
            "due_to_date": due,
            "actual_to_date": booked,
            "attainment_to_date": _ratio(booked, annual),
            "pace": pace,
            "projected_year_end": projected,
            "p_attain_year": p_year,
            "current_quarter_quota": Q[:, current],
            "current_quarter_actual": A[:, current],
            "p_attain_quarter": p_quarter,
            **{k: [bool(r) for r in why[k]] for k in FLAGS},
            "flags": ["; ".join(r for k in FLAGS for r in why[k][i]) for i in range(n)],
        }
    )
    teams = _teams(reps)
    phased = _phased(Q, days, data, book[book["date"] <= as_of], grain)
    summary = {
        "as_of": as_of.strftime("%Y-%m-%d"),
        "current_quarter": label[current],
        "closed_quarters": [label[t] for t in range(T) if closed[t]],
        "share_of_year_gone": gone,
        "month_shape": [float(s) for s in shape],
        "annual_quota": float(annual.sum()),
        "due_to_date": float(due.sum()),
        "actual_to_date": float(booked.sum()),
        "pace": float(booked.sum() / due.sum()) if due.sum() > 0 else float("nan"),
        "projected_year_end": float(projected.sum()),
        "reps": n,
        **{f"reps_{k}": int(reps[k].sum()) for k in FLAGS},
    }
    return Progress(reps, teams, phased, summary)


#: The flags, as columns of the rep table.
FLAGS = ("at_risk", "out_of_reach", "missed_quarters", "pull_forward", "overload")


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b where b > 0, NaN elsewhere."""
    return np.divide(a, b, out=np.full(np.shape(a), np.nan), where=np.asarray(b) > 0)


def _quota_matrix(quotas: pd.DataFrame, data: PlanData) -> np.ndarray:
    need = {"rep_id", "period", "quota"} - set(quotas.columns)
    if need:
        raise SpecError(f"the plan's quotas lack column(s) {', '.join(sorted(need))}")
    m = quotas.assign(rep_id=quotas["rep_id"].astype(str)).pivot_table(
        index="rep_id", columns="period", values="quota", aggfunc="sum"
    )
    m = m.reindex(index=data.reps, columns=data.periods)
    if m.isna().any().any():
        holes = m.isna().stack()
        where = [f"{r} {p}" for (r, p), v in holes.items() if v][:5]
        raise SpecError(
            f"the plan has no quota for {', '.join(where)}: track the plan made from this forecast"
        )
    return m.to_numpy(float)


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


def _phased(Q, days: pd.DataFrame, data: PlanData, booked: pd.DataFrame, grain: str):
    """Per rep and month (or week): the phased quota and what was booked in it."""
    freq = "M" if grain == "month" else "W-SUN"
    bucket = days["date"].dt.to_period(freq).astype(str)
    w = days.assign(bucket=bucket).groupby(["t", "bucket"])["weight"].sum().reset_index()
    rows = []
    for t, g in w.groupby("t"):
        part = np.outer(Q[:, t], g["weight"].to_numpy())  # (n, buckets)
        rows.append(
            pd.DataFrame(
                {
                    "rep_id": np.repeat(data.reps, len(g)),
                    "period": data.periods[t],
                    grain: np.tile(g["bucket"].to_numpy(), len(data.reps)),
                    "quota": part.ravel(),
                }
            )
        )
    # A week across a quarter's end is split: a row in each quarter.
    phased = pd.concat(rows).sort_values(["rep_id", "period", grain], kind="stable")
    t_of = days.set_index("date")["t"]
    b = booked.assign(
        period=data.periods[t_of.loc[booked["date"]].to_numpy()],
        **{grain: booked["date"].dt.to_period(freq).astype(str)},
    )
    sold = b.groupby(["rep_id", "period", grain])["revenue"].sum().rename("actual")
    return phased.join(sold, on=["rep_id", "period", grain]).reset_index(drop=True)


@dataclass(frozen=True)
class Relief:
    """A proposal: ``plan`` (the re-planned year; None when even the reachable number cannot be
    planned), ``reps`` (per rep: annual quota before and after, the change), ``kept_number``
    (whether the company number still holds), ``number`` (what the proposal adds up to) and
    ``message`` (what happened, in words), ``closed_actuals`` (the closed quarters' bookings the
    proposal started from: a re-plan with them adopts it)."""

    plan: Plan | None
    reps: pd.DataFrame
    kept_number: bool
    number: float
    message: str
    closed_actuals: pd.DataFrame  # rep_id, period, revenue: what the proposal re-planned from


def relief(
    spec: PlanSpec,
    quotas: pd.DataFrame,
    actuals: pd.DataFrame,
    *,
    as_of=None,
    fiscal_year_start: int | None = None,
    previous: Plan | None = None,
) -> Relief:
    """Re-allocate the rest of the year given the bookings of the quarters closed by ``as_of``
    (the optimizer's mid-year re-plan, same limits: nobody goes above their cap). Reps out of
    reach get the relief capacity allows; where capacity cannot carry the company number, the
    proposal keeps the most it can, and says by how much it falls short and why.

    ``previous`` is the plan being relieved (solved again from ``spec`` if not given).
    """
    fiscal_year_start = plan_calendar(spec, fiscal_year_start)
    data = prepare(replace(spec, actuals=None))
    book, last, quarterly = _read_actuals(actuals, data, fiscal_year_start)
    as_of = pd.Timestamp(as_of).normalize() if as_of is not None else last
    _check_quarter_totals(book, quarterly, as_of, getattr(actuals, "name", "actuals"))
    days = _days(data.periods, fiscal_year_start)
    ends = days.groupby("t")["date"].max()
    closed = [data.periods[t] for t, end in ends.items() if end <= as_of]
    before = _quota_matrix(quotas, data).sum(axis=1)
    if not closed:
        raise SpecError(
            f"no quarter has closed by {as_of:%Y-%m-%d}: relief re-plans from a closed quarter on"
        )
    t_of = days.set_index("date")["t"]
    rows = book[book["date"] <= ends.iloc[len(closed) - 1]]
    sold = (
        rows.assign(period=data.periods[t_of.loc[rows["date"]].to_numpy()])
        .groupby(["rep_id", "period"])["revenue"]
        .sum()
    )
    grid = pd.MultiIndex.from_product([data.reps, closed], names=["rep_id", "period"])
    closed_actuals = sold.reindex(grid, fill_value=0.0).rename("revenue").reset_index()
    number = spec.target
    try:
        plan = replan(spec, closed_actuals, previous=previous)
        message = f"the company number {money(number)} holds"
        kept = True
    except PlanInfeasibleError as exc:
        reasons = "; ".join(f.message for f in exc.diagnosis.findings)
        lower = [
            x.changes["target"]
            for x in exc.diagnosis.fixes
            if set(x.changes) == {"target"} and x.changes["target"] < spec.target
        ]
        if not lower:
            return Relief(
                None, _changes(before, None, data), False, number, reasons, closed_actuals
            )
        number = lower[0]
        try:
            # A plan at the lower number (its own level), not the previous plan's number.
            plan = replan(replace(spec, target=number), closed_actuals)
        except PlanInfeasibleError as again:
            return Relief(
                None, _changes(before, None, data), False, number, str(again), closed_actuals
            )
        kept = False
        message = (
            f"capacity cannot keep the company number: the proposal reaches {money(number)}, "
            f"{money(spec.target - number)} short ({reasons})"
        )
    return Relief(plan, _changes(before, plan, data), kept, number, message, closed_actuals)


def _changes(before: np.ndarray, plan: Plan | None, data: PlanData) -> pd.DataFrame:
    out = pd.DataFrame({"rep_id": data.reps, "team": data.team, "annual_quota_before": before})
    if plan is None:
        return out
    after = plan.reps.set_index("rep_id")["annual_quota"].reindex(data.reps).to_numpy()
    return out.assign(annual_quota_after=after, change=after - before)

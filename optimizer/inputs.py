"""The forecast and roster as aligned arrays (reps x quarters) for the optimizer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets import DataValidationError, Problem
from datasets.forecasts import level_columns, validate_forecast
from datasets.history import validate_history
from datasets.periods import quarter_freq
from datasets.tables import Table

from .spec import PlanSpec


@dataclass(frozen=True, eq=False)  # compared by identity: results are cached per object
class PlanData:
    reps: np.ndarray  # rep ids
    periods: np.ndarray  # quarter labels, in order
    levels: np.ndarray  # forecast quantile levels, ascending
    quantiles: np.ndarray  # (reps, periods, levels)
    team: np.ndarray
    region: np.ndarray
    last_year_quota: np.ndarray  # annualised (see last_year_terms); NaN where unknown or skipped
    ote: np.ndarray  # NaN where unknown
    actual: np.ndarray | None = None  # (reps, periods): revenue in closed quarters, NaN if open
    #: Last year's quota as given, and the share of last year it covered (1: a full year).
    last_year_given: np.ndarray | None = None
    last_year_share: np.ndarray | None = None
    #: (reps, periods): where each forecast came from (the forecast's ``basis`` column), or None.
    basis: np.ndarray | None = None

    def __post_init__(self):
        if self.actual is None:
            object.__setattr__(self, "actual", np.full(self.quantiles.shape[:2], np.nan))
        if self.last_year_given is None:
            object.__setattr__(self, "last_year_given", self.last_year_quota)
        if self.last_year_share is None:
            share = np.where(np.isfinite(self.last_year_quota), 1.0, np.nan)
            object.__setattr__(self, "last_year_share", share)

    @property
    def closed(self) -> np.ndarray:
        """Per quarter: closed (its actuals are in) or still to plan."""
        return np.isfinite(self.actual).any(axis=0)

    @property
    def actual_to_date(self) -> np.ndarray:
        """Per rep: revenue in the closed quarters."""
        return np.nansum(self.actual, axis=1)

    def rep_basis(self) -> np.ndarray:
        """Per rep, where the forecast came from, over the plan's quarters in one line ('' if
        the forecast does not say)."""
        if self.basis is None:
            return np.full(len(self.reps), "", dtype=object)
        return np.array([rep_basis(self.periods, row) for row in self.basis], dtype=object)

    @property
    def p50(self) -> np.ndarray:
        return self.quantile(0.5)

    def quantile(self, level: float) -> np.ndarray:
        """The forecast at any level, interpolating linearly between the forecast's levels."""
        return quantile_at(self.levels, self.quantiles, level)


def rep_basis(periods, texts) -> str:
    """One rep's basis over the plan's quarters in one line: the text where every quarter
    agrees, else each run of quarters with its text (``2026Q1: before the start on ...;
    2026Q2-2026Q4: no history: team median ...``)."""
    periods, texts = list(periods), ["" if pd.isna(t) else str(t) for t in texts]
    if not texts or len(set(texts)) == 1:
        return texts[0] if texts else ""
    runs, start = [], 0
    for k in range(1, len(texts) + 1):
        if k == len(texts) or texts[k] != texts[start]:
            span = periods[start] if k - 1 == start else f"{periods[start]}-{periods[k - 1]}"
            runs.append(f"{span}: {texts[start]}")
            start = k
    return "; ".join(runs)


def quantile_at(levels: np.ndarray, quantiles: np.ndarray, level, clip: bool = True) -> np.ndarray:
    """Quantile function through the knots (level, value), linear between them and in the tails
    (extending the first and last segments), clipped at zero (``clip=False``: the lines as they
    are, below zero too)."""
    lv = np.asarray(levels, float)
    j = np.clip(np.searchsorted(lv, level) - 1, 0, len(lv) - 2)
    lo, hi = quantiles[..., j], quantiles[..., j + 1]
    w = (level - lv[j]) / (lv[j + 1] - lv[j])
    value = lo + w * (hi - lo)
    return np.maximum(value, 0.0) if clip else value


def prepare(spec: PlanSpec) -> PlanData:
    """Check the forecast table against the roster and align it into arrays."""
    f, roster = validate_forecast(spec.forecast), spec.roster
    problems = []
    level_cols = level_columns(f.columns)
    levels = np.array([float(c[1:]) / 100 for c in level_cols])
    values = f[level_cols].to_numpy(float)
    if "fiscal_year_start" in f.columns:
        made_in = pd.to_numeric(f["fiscal_year_start"], errors="coerce").dropna().unique()
        if len(made_in) and set(made_in) != {spec.fiscal_year_start}:
            problems.append(
                Problem(
                    "forecast",
                    ("fiscal_year_start",),
                    f"the forecast was made with fiscal years starting in month "
                    f"{', '.join(str(int(m)) for m in made_in)}, the plan's start in month "
                    f"{spec.fiscal_year_start}: hire dates and leave would fall in other quarters",
                    f"Plan in the forecast's calendar (--fiscal-year-start "
                    f"{int(made_in[0])}, or fiscal_year_start in the request), or forecast again "
                    "in the plan's.",
                )
            )
    active = roster.loc[roster["active"], "rep_id"].astype(str)
    unknown = sorted(set(f["rep_id"].astype(str)) - set(active))
    if unknown:
        problems.append(
            Problem(
                "forecast",
                ("rep_id",),
                f"reps not active on the roster: {', '.join(unknown[:5])}"
                + (" ..." if len(unknown) > 5 else ""),
                "Add them to the roster or drop them from the forecast.",
            )
        )
    if problems:
        raise DataValidationError(problems)
    reps = np.array(sorted(f["rep_id"].astype(str).unique()), dtype=object)
    periods = np.array(sorted(f["period"].astype(str).unique()), dtype=object)
    r = pd.Index(reps).get_indexer(f["rep_id"].astype(str))
    t = pd.Index(periods).get_indexer(f["period"].astype(str))
    q = np.zeros((len(reps), len(periods), len(levels)))  # a quarter with no row: no capacity
    q[r, t, :] = values
    basis = None
    if "basis" in f.columns:
        basis = np.full((len(reps), len(periods)), "no forecast row: no capacity", dtype=object)
        basis[r, t] = f["basis"].astype(str).to_numpy()
    info = roster.set_index(roster["rep_id"].astype(str)).reindex(reps)
    actual = align_actuals(spec.actuals, reps, periods) if spec.actuals is not None else None
    given, share, annualised = last_year_terms(info, periods, spec.fiscal_year_start)
    return PlanData(
        reps=reps,
        periods=periods,
        levels=levels,
        quantiles=q,
        team=info["team"].fillna("unassigned").to_numpy(dtype=object),
        region=info["region"].fillna("unassigned").to_numpy(dtype=object),
        last_year_quota=annualised,
        ote=info["ote"].to_numpy(float) if "ote" in info else np.full(len(reps), np.nan),
        actual=actual,
        last_year_given=given,
        last_year_share=share,
        basis=basis,
    )


#: A last-year quota that covered less than this share of the year (under three months) is too
#: little to compare a full year with: the growth limits skip the rep.
MIN_LAST_YEAR_SHARE = 0.25


def last_year_terms(info: pd.DataFrame, periods, fiscal_year_start: int = 1):
    """Per rep: last year's quota as given, the share of last year it covered, and the quota
    annualised (given / share), on which the growth limits (anti-ratchet, minimum increase) act.

    "Last year" is the four quarters before the plan's first quarter. The share is
    ``last_year_quota_months / 12`` where the roster gives it, else the part of last year after
    the hire date (a hire during the year had a quota for the rest of it), else 1. Under
    :data:`MIN_LAST_YEAR_SHARE` the annualised quota is NaN: the growth limits skip the rep.
    """
    n = len(info)
    given = (
        info["last_year_quota"].to_numpy(float) if "last_year_quota" in info else np.full(n, np.nan)
    )
    share = np.ones(n)
    if "hire_date" in info and len(periods):
        first = pd.Period(str(periods[0]), freq=quarter_freq(fiscal_year_start))
        start, end = (first - 4).start_time.normalize(), first.start_time.normalize()
        hire = pd.to_datetime(info["hire_date"]).to_numpy("datetime64[ns]")
        covered = (np.datetime64(end) - np.maximum(hire, np.datetime64(start))) / (
            np.datetime64(end) - np.datetime64(start)
        )
        share = np.where(np.isnat(hire), 1.0, np.clip(covered, 0.0, 1.0))
    if "last_year_quota_months" in info:
        months = info["last_year_quota_months"].to_numpy(float)
        share = np.where(np.isfinite(months), np.clip(months / 12, 0.0, 1.0), share)
    share = np.where(np.isfinite(given), share, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        annualised = np.where(share >= MIN_LAST_YEAR_SHARE, given / share, np.nan)
    return given, share, annualised


def align_actuals(actuals: pd.DataFrame, reps: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Closed quarters' revenue per rep (``rep_id, period, revenue``, the history format, so
    months roll up into quarters) as a (reps, periods) array, NaN in open quarters. A closed
    quarter needs a row for every rep in the plan (0 if they sold nothing), and at least one
    quarter must stay open."""
    a, notes = validate_history(Table("actuals", actuals, from_file=False))
    revenue = a["revenue"].to_numpy(float)
    problems = [
        Problem(
            "actuals",
            ("period",),
            f"a closed quarter must be complete: {note}",
            "Give actuals for closed quarters only (all three months).",
        )
        for note in notes
        if note.startswith("quarter ")
    ]
    unknown_p = sorted(set(a["period"]) - set(periods))
    if unknown_p:
        problems.append(
            Problem(
                "actuals",
                ("period",),
                f"quarters not in the plan: {', '.join(unknown_p[:5])}",
                f"Give actuals for the plan's quarters only ({', '.join(periods)}).",
            )
        )
    unknown_r = sorted(set(a["rep_id"]) - set(reps))
    if unknown_r:
        problems.append(
            Problem(
                "actuals",
                ("rep_id",),
                f"reps not in the plan: {', '.join(unknown_r[:5])}"
                + (" ..." if len(unknown_r) > 5 else ""),
                "Drop them, or add them to the roster and forecast.",
            )
        )
    if problems:
        raise DataValidationError(problems)
    out = np.full((len(reps), len(periods)), np.nan)
    r = pd.Index(reps).get_indexer(a["rep_id"])
    t = pd.Index(periods).get_indexer(a["period"])
    out[r, t] = revenue
    closed = np.isfinite(out).any(axis=0)
    holes = ~np.isfinite(out) & closed[None, :]
    gaps = [(str(reps[i]), str(periods[k])) for i, k in zip(*np.nonzero(holes), strict=True)]
    if gaps:
        problems.append(
            Problem(
                "actuals",
                ("rep_id", "period"),
                f"closed quarters without a row for every rep: {', '.join(f'{r} {p}' for r, p in gaps[:5])}"
                + (" ..." if len(gaps) > 5 else ""),
                "Add a row with revenue 0 for each rep who sold nothing in a closed quarter.",
                (),
                len(gaps),
            )
        )
    if closed.all():
        problems.append(
            Problem(
                "actuals",
                ("period",),
                "every quarter of the plan is closed: nothing is left to re-plan",
                "Give actuals for the closed quarters only.",
            )
        )
    if problems:
        raise DataValidationError(problems)
    return out

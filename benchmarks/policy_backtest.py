"""Replay history: set year Y's quotas with each policy from what was known before Y, and score
them against what the reps really sold in Y (``benchmarks.policy_metrics``).

Every policy gets the same company number (by default what the company really sold in Y, times
``ambition``) and the same forecast, fitted on the years before Y only: the actual Y enters
nowhere but the scoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from datasets import Company
from models import QuantileForecaster
from models.backtest import split_at_year
from optimizer import POLICIES, Limits, PlanInfeasibleError, PlanSpec, solve_plan
from optimizer.inputs import prepare
from optimizer.ranges import bounds

from .policy_metrics import score


@dataclass(frozen=True)
class PolicyBacktest:
    """``metrics``: one row per policy; ``quotas``: every policy's plan (``policy, rep_id,
    period, quota``) next to what was sold (``revenue``); ``caps``: each planned rep-quarter's
    realistic cap (``rep_id, period, cap``)."""

    metrics: pd.DataFrame
    quotas: pd.DataFrame
    caps: pd.DataFrame


def backtest_policies(
    company: Company,
    year: int,
    *,
    policies=POLICIES,
    ambition: float = 1.0,
    target: float | None = None,
    limits: Limits | None = None,
    forecaster=None,
    reference: pd.DataFrame | None = None,
) -> PolicyBacktest:
    """Metrics per policy for plan year ``year``, and the quotas they set.

    Parameters
    ----------
    company : the whole history (the test year included) and roster.
    ambition : the company number as a multiple of what was really sold in ``year`` (ignored
        when ``target`` is given).
    limits : the optimizer's limits (defaults as the CLI's).
    forecaster : an unfitted forecaster (default ``QuantileForecaster()``), fitted on the years
        before ``year``.
    reference : quotas someone really set for ``year`` (``rep_id, period, quota``), scored
        alongside as the policy ``REFERENCE``: then only the reps it gives a quota in every
        quarter of the year are planned, and the company number is its total (unless
        ``target`` is given), so every policy splits the same number among the same reps.
    """
    past, actual = split_at_year(company, year)
    past = on_the_team(past, company.roster)
    if actual.empty:
        raise ValueError(f"no actuals in {year} to score against")
    model = clone(forecaster) if forecaster is not None else QuantileForecaster()
    forecast = model.fit(past).predict(year)
    if reference is not None:
        reference = full_year(reference, forecast["period"].unique())
        forecast = forecast[forecast["rep_id"].isin(reference["rep_id"])]
        reference = reference[reference["rep_id"].isin(forecast["rep_id"])]
        if reference.empty:
            raise ValueError(f"no rep has both a forecast and a quota in every quarter of {year}")
        if target is None:
            target = float(reference["quota"].sum())
    planned = forecast["rep_id"].unique()
    actual = actual[actual["rep_id"].isin(planned)]
    number = target if target is not None else ambition * float(actual["revenue"].sum())
    limits = limits or Limits()
    roster = past.roster[past.roster["rep_id"].isin(planned)]
    fiscal = company.fiscal_year_start
    caps = _caps(
        PlanSpec(forecast, roster, number, "equal-stretch", limits, fiscal_year_start=fiscal)
    )
    lyq = roster.set_index("rep_id")["last_year_quota"] if "last_year_quota" in roster else None
    rows, plans = [], []
    for policy in (*policies, *([REFERENCE] if reference is not None else [])):
        row = {"year": year, "policy": policy, "target": number}
        if policy == REFERENCE:
            q = reference[["rep_id", "period", "quota"]]
        else:
            try:
                spec = PlanSpec(forecast, roster, number, policy, limits, fiscal_year_start=fiscal)
                q = solve_plan(spec).quotas
            except PlanInfeasibleError as exc:
                rows.append({**row, "status": "infeasible", "detail": str(exc).splitlines()[1]})
                continue
        m = score(q, actual, caps=caps, last_year_quota=lyq, max_increase=limits.max_increase)
        rows.append({**row, "status": "ok", **m})
        plans.append(q[["rep_id", "period", "quota"]].assign(policy=policy))
    quotas = pd.concat(plans, ignore_index=True) if plans else pd.DataFrame()
    if len(quotas):
        quotas = quotas.merge(actual, on=["rep_id", "period"], how="left").fillna({"revenue": 0.0})
    return PolicyBacktest(pd.DataFrame(rows), quotas, caps)


#: The policy name under which quotas a company really set are scored.
REFERENCE = "company's real quotas"


def full_year(quotas: pd.DataFrame, periods) -> pd.DataFrame:
    """The quotas of the reps who have one in every quarter of ``periods`` (those quarters
    only)."""
    q = quotas[quotas["period"].isin(periods)]
    counts = q.groupby("rep_id")["period"].nunique()
    return q[q["rep_id"].isin(counts.index[counts == len(set(periods))])].reset_index(drop=True)


def on_the_team(past: Company, roster: pd.DataFrame) -> Company:
    """The roster as a planner sees it at the start of the plan year. Reps whose status the
    company's ``roster`` gives (active, or a leave date) are on the team unless it says they left
    before the year (see :func:`models.backtest.backtest_roster`), whatever they booked late in
    the year before. Other reps are judged by their bookings: on the team if they booked in the
    last quarter of the history; hires with no history yet are on it. Reps who will leave during
    the year are not known yet, and keep their quota."""
    h = past.history
    recent = h.loc[h["period"] == h["period"].max(), "rep_id"]
    rep = past.roster["rep_id"]
    told = roster.loc[roster["active"] | roster["leave_date"].notna(), "rep_id"]
    known = rep.isin(pd.Index(told))
    roster = past.roster.assign(
        active=np.where(
            known, past.roster["active"], rep.isin(recent) | ~rep.isin(h["rep_id"])
        ).astype(bool)
    )
    return Company(h, roster, past.notes, past.fiscal_year_start)


def _caps(spec: PlanSpec) -> pd.DataFrame:
    """Each rep-quarter's realistic cap, as the optimizer computes it (``rep_id, period, cap``)."""
    data = prepare(spec)
    _, cap = bounds(data, spec.limits)
    return pd.DataFrame(
        {
            "rep_id": np.repeat(data.reps, len(data.periods)),
            "period": np.tile(data.periods, len(data.reps)),
            "cap": cap.ravel(),
        }
    )

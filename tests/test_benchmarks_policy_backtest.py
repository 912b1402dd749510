"""The policy backtest harness: every policy scored on the same year, and no peeking at it."""

import pandas as pd
import pytest

from benchmarks.policy_backtest import backtest_policies
from datasets import Company, make_company
from models import QuantileForecaster
from models.backtest import split_at_year

#: A lighter fit than the default (the harness, not the forecaster, is under test here).
FAST = QuantileForecaster(n_origins=3, max_iter=60)


@pytest.fixture(scope="module")
def synth():
    return make_company(30, 4, start_year=2022, random_state=11)


def test_every_policy_is_scored_at_the_same_number(synth):
    result = backtest_policies(synth.company, 2025, ambition=1.05, forecaster=FAST)
    m = result.metrics.set_index("policy")
    assert set(m.index) == {
        "equal-stretch",
        "equal-probability",
        "equal-split",
        "last-year-plus-growth",
        "forecast-proportional",
    }
    assert (m["status"] == "ok").all()
    assert m["target"].nunique() == 1
    sold = split_at_year(synth.company, 2025)[1]["revenue"].sum()
    assert m["target"].iloc[0] == pytest.approx(1.05 * sold, rel=1e-9)
    assert m["company_attainment"].to_numpy() == pytest.approx(1 / 1.05, rel=1e-6)
    # The optimizer respects the caps; the rule of thumb equal split does not.
    assert m.loc["equal-stretch", "reps_over_cap"] == 0
    assert m.loc["equal-probability", "reps_over_cap"] == 0
    totals = result.quotas.groupby("policy")["quota"].sum()
    assert totals.to_numpy() == pytest.approx(m["target"].iloc[0], rel=1e-6)


def test_the_test_year_never_sets_its_own_quotas(synth):
    """Triple every sale of the plan year: with the same company number, not one quota moves
    (the harness fits and plans on the years before it only); only the scores change."""
    c = synth.company
    h = c.history.copy()
    in_year = h["period"].str.startswith("2025")
    h.loc[in_year, "revenue"] *= 3
    boosted = Company(h, c.roster, c.notes, c.fiscal_year_start)
    policies = ("equal-stretch", "last-year-plus-growth")
    number = split_at_year(c, 2025)[1]["revenue"].sum()
    a = backtest_policies(c, 2025, policies=policies, target=number, forecaster=FAST)
    b = backtest_policies(boosted, 2025, policies=policies, target=number, forecaster=FAST)
    assert (a.metrics["status"] == "ok").all()
    key = ["policy", "rep_id", "period"]
    qa, qb = a.quotas.sort_values(key), b.quotas.sort_values(key)
    assert qa["quota"].to_numpy() == pytest.approx(qb["quota"].to_numpy(), rel=1e-12)
    assert qb["revenue"].sum() == pytest.approx(3 * qa["revenue"].sum())


def test_only_reps_the_roster_has_on_the_team_are_planned(synth):
    """A rep the roster says left in the last weeks before the plan year is not planned, though
    they booked in its last quarter; one leaving during the plan year was not known to be
    leaving at its start, and is."""
    from benchmarks.policy_backtest import on_the_team

    c = synth.company
    h = c.history
    booked_q4 = set(h.loc[h["period"] == "2024Q4", "rep_id"])
    roster = c.roster.copy()
    active = roster["active"] & roster["rep_id"].isin(booked_q4)
    early, late = roster.loc[active, "rep_id"].iloc[:2]
    roster.loc[roster["rep_id"] == early, ["active", "leave_date"]] = [False, "2024-12-12"]
    roster.loc[roster["rep_id"] == late, ["active", "leave_date"]] = [False, "2025-08-31"]
    roster["leave_date"] = pd.to_datetime(roster["leave_date"])
    company = Company(h, roster, c.notes, c.fiscal_year_start)
    past, _ = split_at_year(company, 2025)
    team = on_the_team(past, company.roster)
    on = set(team.roster.loc[team.roster["active"], "rep_id"])
    assert early not in on and late in on
    result = backtest_policies(company, 2025, policies=("equal-stretch",), forecaster=FAST)
    planned = set(result.quotas["rep_id"])
    assert early not in planned and late in planned

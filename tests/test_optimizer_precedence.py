"""A rep's own limits never make the company's plan impossible: where they contradict each other
they give way in the documented order, and every give-way is reported."""

import numpy as np
import pandas as pd
import pytest
from builders import inputs

from optimizer import Limits, PlanSpec, plan, solve_plan
from optimizer.inputs import MIN_LAST_YEAR_SHARE, prepare
from optimizer.ranges import PRECEDENCE


def gave(p):
    return {(g.rep_id, g.limit, g.gave_way_to) for g in p.summary.limits_gave_way}


def test_the_order_is_the_documented_one():
    assert PRECEDENCE == (
        "actual", "lock", "capacity", "cap", "ratchet", "growth-floor", "floor", "ote",
        "smoothness",
    )  # fmt: skip


def test_floors_above_the_anti_ratchet_limit_give_way_and_the_plan_goes_ahead():
    # r0's floors (P10) add up to 400 x 0.5 = 200 a year; last year's quota 100 (+25%: 125).
    f, r = inputs([[100] * 4, [100] * 4], last_year_quota=[100, np.nan])
    p = plan(f, r, target=700, phasing_band=None)
    annual = p.reps.set_index("rep_id")["annual_quota"]
    assert annual["r0"] == pytest.approx(125)  # held at the anti-ratchet limit
    assert annual.sum() == pytest.approx(700)
    assert gave(p) == {("r0", "floor", "ratchet")}
    g = p.summary.limits_gave_way[0]
    assert g.amount == pytest.approx(75) and "scaled to 62.5%" in g.why
    assert p.reps.set_index("rep_id").loc["r0", "gave_way"].startswith("floor (to ratchet")


def test_a_lock_outside_the_floor_and_cap_holds_and_the_rest_rebalance():
    f, r = inputs([[100] * 4, [100] * 4, [100] * 4])
    locks = {("r0", "2026Q1"): 400.0, ("r1", None): 20.0}  # above r0's cap, below r1's floors
    p = plan(f, r, target=1200, locks=locks, phasing_band=None, max_increase=None)
    q = p.quotas.pivot(index="rep_id", columns="period", values="quota")
    assert q.loc["r0", "2026Q1"] == pytest.approx(400)
    assert q.loc["r1"].sum() == pytest.approx(20)
    assert q.to_numpy().sum() == pytest.approx(1200)


def test_an_ote_band_beyond_capacity_gives_way_to_it():
    # r0 can carry at most 4 x 150 = 600; the band asks for at least 4 x OTE 200 = 800.
    f, r = inputs([[100] * 4, [100] * 4], ote=[200, np.nan])
    p = plan(f, r, target=900, ote_band=(4, 6), phasing_band=None)
    assert p.reps.set_index("rep_id")["annual_quota"]["r0"] == pytest.approx(600)
    assert ("r0", "ote", "capacity") in gave(p)


def test_no_capacity_with_a_minimum_increase_gives_way_to_capacity():
    # r1 is on leave all year (fte 0 in every quarter: the forecast is 0); last year's 400 +5%.
    f, r = inputs([[100] * 4, [0] * 4], last_year_quota=[np.nan, 400])
    p = plan(f, r, target=400, min_increase=0.05, phasing_band=None)
    assert p.reps.set_index("rep_id")["annual_quota"]["r1"] == pytest.approx(0)
    assert gave(p) == {("r1", "growth-floor", "capacity")}


def test_an_annual_lock_below_its_locked_quarters_gives_way_to_them():
    f, r = inputs([[100] * 4, [100] * 4])
    locks = {("r0", None): 100.0, ("r0", "2026Q2"): 150.0}
    p = plan(f, r, target=700, locks=locks, phasing_band=None, floor_quantile=None)
    assert p.reps.set_index("rep_id")["annual_quota"]["r0"] == pytest.approx(150)
    assert ("r0", "lock", "lock") in gave(p)


def test_smoothness_gives_way_for_a_rep_hired_mid_year():
    # r1 starts in Q3: no capacity before. With 10% smoothness their quarters cannot step up.
    f, r = inputs([[100] * 4, [0, 0, 100, 100], [100] * 4])
    p = plan(f, r, target=900, smoothness=0.1, phasing_band=None)
    q = p.quotas.pivot(index="rep_id", columns="period", values="quota")
    assert q.loc["r1", ["2026Q1", "2026Q2"]].sum() == pytest.approx(0, abs=1e-9)
    assert q.loc["r1", ["2026Q3", "2026Q4"]].sum() > 50
    assert ("r1", "smoothness", "capacity") in gave(p)
    steps = np.abs(np.diff(q.loc[["r0", "r2"]].to_numpy(), axis=1))
    assert (steps <= 0.1 / 4 * q.loc[["r0", "r2"]].sum(axis=1).to_numpy()[:, None] + 1e-6).all()


@pytest.mark.parametrize(
    ("hired", "share", "annualised"),
    [
        ("2025-07-01", 184 / 365, 100 / (184 / 365)),  # half a year: annualised
        ("2025-11-15", 47 / 365, None),  # six weeks: too little to compare, skipped
        (None, 1.0, 100.0),  # a full year
    ],
)
def test_last_years_quota_is_annualised_over_the_part_of_the_year_it_covered(
    hired, share, annualised
):
    f, r = inputs([[100] * 4], last_year_quota=[100], hire_date=[pd.Timestamp(hired)])
    data = prepare(PlanSpec(f, r, 400))
    assert data.last_year_share[0] == pytest.approx(share)
    if annualised is None:
        assert share < MIN_LAST_YEAR_SHARE and np.isnan(data.last_year_quota[0])
    else:
        assert data.last_year_quota[0] == pytest.approx(annualised)


def test_the_months_column_overrides_the_hire_date():
    f, r = inputs(
        [[100] * 4], last_year_quota=[100], hire_date=[pd.NaT], last_year_quota_months=[6]
    )
    assert prepare(PlanSpec(f, r, 400)).last_year_quota[0] == pytest.approx(200)


def test_the_issue_case_a_hire_in_the_second_half_plans_at_default_limits():
    """The case that sank whole plans: a partial-year quota with +25% on it is below the rep's
    full-year P10. Annualised, nothing contradicts; the plan goes ahead at the defaults."""
    f, r = inputs(
        [[100] * 4] * 3,
        spread=0.3,
        last_year_quota=[100, 400, 400],  # r0 hired in October: a quarter's quota
        hire_date=[pd.Timestamp("2025-10-01"), pd.NaT, pd.NaT],
    )
    p = solve_plan(PlanSpec(f, r, 1100, "equal-stretch", Limits()))
    assert p.summary.solver_status == "optimal"
    reps = p.reps.set_index("rep_id")
    assert reps.loc["r0", "last_year_annualised"] == pytest.approx(100 / (92 / 365))
    assert not p.summary.limits_gave_way

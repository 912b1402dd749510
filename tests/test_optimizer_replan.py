"""Mid-year re-planning on small instances worked by hand."""

import numpy as np
import pandas as pd
import pytest
from builders import QUARTERS, actuals, make_inputs, quotas

from datasets import DataValidationError
from optimizer import Limits, PlanInfeasibleError, PlanSpec, replan, solve_plan

FREE = Limits(floor_quantile=None, phasing_band=None, max_increase=None)


def test_a_shortfall_is_spread_over_the_open_quarters_and_the_year_still_adds_up():
    f, r = make_inputs([[100] * 4, [100] * 4])
    spec = PlanSpec(f, r, 800, "equal-stretch", FREE)  # 100 per cell, stretch 1.0
    p = replan(spec, actuals([[40], [100]]))  # r0 sold 40 of a 100 quota
    q = quotas(p)
    np.testing.assert_allclose(q[:, 0], [40, 100])  # closed: what they sold
    # 660 left over 6 open cells of P50 100: every open cell at stretch 1.1.
    np.testing.assert_allclose(q[:, 1:], 110, rtol=1e-7)
    assert q.sum() == pytest.approx(800)
    assert p.summary.closed_quarters == ("2026Q1",)
    assert p.summary.actual_to_date == pytest.approx(140)
    assert p.summary.remaining_quota == pytest.approx(660)
    assert p.summary.replan.level == pytest.approx(1.1)
    reps = p.reps.set_index("rep_id")
    assert reps.loc["r0", "change"] == pytest.approx(40 + 330 - 400)
    assert reps.loc["r0", "actual_to_date"] == pytest.approx(40)
    assert reps.loc["r1", "remaining_quota"] == pytest.approx(330)
    assert (p.quotas.loc[p.quotas["period"] == "2026Q1", "binding"] == "actual").all()
    assert (p.quotas.loc[p.quotas["period"] == "2026Q1", "p_attain"] == 1.0).all()


def test_a_company_ahead_of_its_number_keeps_the_plans_level():
    f, r = make_inputs([[100] * 4, [100] * 4])
    spec = PlanSpec(f, r, 800, "equal-stretch", FREE)
    p = replan(spec, actuals([[160], [100]]))  # 60 ahead after Q1
    q = quotas(p)
    assert q.sum() == pytest.approx(800)
    assert q[:, 1:].max() <= 100 * (1 + 1e-7)  # nobody's remaining quota goes up
    np.testing.assert_allclose(q[:, 1:], 540 / 6, rtol=1e-7)  # the windfall eases everyone
    assert p.summary.replan.level == pytest.approx(1.0)  # the plan's level, kept


def test_reps_unlikely_to_reach_the_year_they_were_given_are_flagged_at_risk():
    f, r = make_inputs([[100] * 4, [100] * 4, [100] * 4], spread=0.3)
    lim = Limits(floor_quantile=0.1, phasing_band=None, max_increase=None)
    spec = PlanSpec(f, r, 1200, "equal-stretch", lim)  # 400 a year each
    p = replan(spec, actuals([[0], [100], [150]]))  # r0 sold nothing in Q1
    reps = p.reps.set_index("rep_id")
    # r0 needs 400 from three quarters of P50 100 and P90 130 (annual P90 390): far out.
    assert reps.loc["r0", "p_attain_previous"] < 0.1
    assert reps.loc["r1", "p_attain_previous"] == pytest.approx(0.5)  # on plan
    assert reps.loc["r2", "p_attain_previous"] > 0.5  # ahead
    assert reps["at_risk"].tolist() == [True, False, False]
    assert p.summary.replan.reps_at_risk == 1
    # The re-plan spreads the 50 short over the open quarters, never above the cap (P90 130).
    assert quotas(p)[:, 1:].max() <= 130 * (1 + 1e-7)
    assert quotas(p).sum() == pytest.approx(1200)


def test_actuals_above_a_reps_annual_limit_do_not_make_the_replan_impossible():
    # r0's anti-ratchet cap is 440 for the year; they sold 500 in Q1 alone.
    f, r = make_inputs([[100] * 4, [100] * 4], last_year=[400, np.nan])
    lim = Limits(floor_quantile=0.1, phasing_band=None, max_increase=0.1)
    p = replan(PlanSpec(f, r, 1000, "equal-stretch", lim), actuals([[500], [100]]))
    q = quotas(p)
    assert q.sum() == pytest.approx(1000)
    # The anti-ratchet limit gives way to what r0 sold (500), and r0's floors to the
    # anti-ratchet limit (the documented order): nothing more is asked of r0 this year.
    np.testing.assert_allclose(q[0, 1:], 0, atol=1e-9)
    np.testing.assert_allclose(q[1, 1:], 400 / 3, rtol=1e-6)
    gave = {(g.rep_id, g.limit, g.gave_way_to) for g in p.summary.limits_gave_way}
    assert gave == {("r0", "ratchet", "actual"), ("r0", "floor", "ratchet")}


def test_the_phasing_band_gives_way_to_what_the_actuals_leave():
    # Band +/-2% around 200 a quarter; the company sold 300 in Q1, so the three open quarters
    # carry 500, less than their lower edges (3 x 196): the edges give way in proportion.
    f, r = make_inputs([[100] * 4, [100] * 4])
    lim = Limits(floor_quantile=None, phasing_band=0.02, max_increase=None)
    p = replan(PlanSpec(f, r, 800, "equal-stretch", lim), actuals([[150], [150]]))
    q = quotas(p)
    assert q.sum() == pytest.approx(800)
    np.testing.assert_allclose(q[:, 1:].sum(axis=0), 500 / 3, rtol=1e-7)
    # Actuals exactly on plan leave the band where it was: still +/-2% around 200.
    on_plan = replan(PlanSpec(f, r, 800, "equal-stretch", lim), actuals([[98], [98]]))
    np.testing.assert_allclose(quotas(on_plan)[:, 1:].sum(axis=0), 604 / 3, rtol=1e-7)


def test_a_shortfall_beyond_capacity_is_diagnosed():
    f, r = make_inputs([[100] * 4, [100] * 4], spread=0.1)  # cap 110 per cell
    spec = PlanSpec(f, r, 800, "equal-stretch", FREE)
    with pytest.raises(PlanInfeasibleError, match="capacity"):
        replan(spec, actuals([[0], [0]]))  # 800 left, 660 of capacity


def test_both_routes_replan_alike():
    f, r = make_inputs([[100, 120, 80, 100], [50, 60, 70, 80], [10, 200, 10, 10]])
    lim = Limits(phasing_band=0.1, max_increase=None)
    spec = PlanSpec(f, r, 800, "equal-probability", lim)
    a = actuals([[90, 100], [40, 70], [5, 150]], QUARTERS[:2])
    fast, general = replan(spec, a, route="network"), replan(spec, a, route="pyomo")
    assert fast.summary.route.startswith("network")
    np.testing.assert_allclose(quotas(fast), quotas(general), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "bad, message",
    [
        (actuals([[40]]), "closed quarters without a row for every rep: r1 2026Q1"),
        (actuals([[40], [-1]]), "negative"),
        (actuals([[40], [10]]).assign(period="2025Q4"), "quarters not in the plan"),
        (actuals([[40], [10], [5]]), "reps not in the plan: r2"),
        (pd.concat([actuals([[40], [10]])] * 2), "more than one row"),
        (actuals([[1] * 4, [1] * 4], QUARTERS), "nothing is left to re-plan"),
        (actuals([[40], [10]]).drop(columns="revenue"), "missing"),
    ],
)
def test_bad_actuals_are_named(bad, message):
    f, r = make_inputs([[100] * 4, [100] * 4])
    with pytest.raises(DataValidationError, match=message):
        replan(PlanSpec(f, r, 800, "equal-stretch", FREE), bad)


def test_rule_of_thumb_policies_cannot_be_replanned():
    f, r = make_inputs([[100] * 4, [100] * 4])
    with pytest.raises(ValueError, match="equal-stretch or equal-probability"):
        replan(PlanSpec(f, r, 800, "equal-split", FREE), actuals([[40], [10]]))


def test_a_lock_on_a_closed_quarter_is_refused():
    f, r = make_inputs([[100] * 4, [100] * 4])
    lim = Limits(floor_quantile=None, max_increase=None, locks={("r0", "2026Q1"): 50.0})
    spec = PlanSpec(f, r, 800, "equal-stretch", lim)
    previous = solve_plan(spec)
    with pytest.raises(ValueError, match="closed quarter"):
        replan(spec, actuals([[40], [10]]), previous=previous)


def test_a_plan_set_by_an_attainment_goal_is_replanned_at_its_number():
    f, r = make_inputs([[100] * 4, [120] * 4, [80] * 4], spread=0.3)
    spec = PlanSpec(f, r, None, "equal-stretch", FREE, attainment=0.6)
    before = solve_plan(spec)
    first = before.quotas[before.quotas["period"] == "2026Q1"]
    on_quota = first.rename(columns={"quota": "revenue"})[["rep_id", "period", "revenue"]]
    after = replan(spec, on_quota, previous=before)
    assert after.summary.company_target == pytest.approx(before.summary.company_target)
    np.testing.assert_allclose(quotas(after), quotas(before), rtol=1e-6)


def test_monthly_actuals_roll_up_and_a_partial_quarter_is_refused():
    f, r = make_inputs([[100] * 4, [100] * 4])
    spec = PlanSpec(f, r, 800, "equal-stretch", FREE)
    months = pd.DataFrame(
        {
            "rep_id": ["r0"] * 3 + ["r1"] * 3,
            "period": ["2026-01", "2026-02", "2026-03"] * 2,
            "revenue": [10, 10, 20, 30, 30, 40],
        }
    )
    np.testing.assert_allclose(quotas(replan(spec, months))[:, 0], [40, 100])
    with pytest.raises(DataValidationError, match="a closed quarter must be complete"):
        replan(spec, months[months["period"] != "2026-03"])


def test_a_team_ahead_of_its_own_target_replans_with_its_floors_given_way():
    f, r = make_inputs([[100] * 4] * 4, team=["A", "A", "B", "B"])
    lim = Limits(phasing_band=None, max_increase=None, group_targets={("team", "A"): 800})
    # Team A sold 700 of its 800 in Q1: its open floors (6 x 50) do not fit the 100 left.
    p = replan(PlanSpec(f, r, 1600, "equal-stretch", lim), actuals([[350], [350], [100], [100]]))
    q = quotas(p)
    assert q[:2].sum() == pytest.approx(800) and q.sum() == pytest.approx(1600)
    ahead = [g for g in p.summary.limits_gave_way if g.rep_id is None]
    assert len(ahead) == 1 and ahead[0].why.startswith("team A is ahead of plan")


def test_annual_changes_cover_reps_in_either_plan():
    """The one per-rep comparison (optimizer.changes): reps only in one plan have NaN on the
    other side, a rep at zero before has no relative change."""
    from optimizer.changes import annual_changes

    before = pd.DataFrame({"rep_id": ["B", "A", "Z"], "annual_quota": [100.0, 0.0, 50.0]})
    after = pd.DataFrame({"rep_id": ["A", "B", "N"], "annual_quota": [10.0, 150.0, 7.0]})
    ch = annual_changes(before, after)
    assert list(ch.index) == ["A", "B", "N", "Z"]
    assert ch.loc["B", "change"] == 50.0 and ch.loc["B", "relative"] == 0.5
    assert ch.loc["A", "change"] == 10.0 and np.isnan(ch.loc["A", "relative"])
    assert np.isnan(ch.loc["N", "before"]) and np.isnan(ch.loc["Z", "after"])


def test_a_replans_annual_p50_and_stretch_count_the_closed_quarters_as_sold():
    # r0 sold 40 of a P50 of 100 in Q1: the year can now be expected at 40 + 300, not 400.
    f, r = make_inputs([[100] * 4, [100] * 4])
    p = replan(PlanSpec(f, r, 800, "equal-stretch", FREE), actuals([[40], [100]]))
    reps = p.reps.set_index("rep_id")
    assert reps.loc["r0", "annual_p50"] == pytest.approx(340)
    assert reps.loc["r1", "annual_p50"] == pytest.approx(400)
    assert reps.loc["r0", "stretch"] == pytest.approx((40 + 330) / 340)
    low, high = reps.loc["r0", "annual_low"], reps.loc["r0", "annual_high"]
    assert low < reps.loc["r0", "annual_p50"] < high  # inside the year's band, as the band is

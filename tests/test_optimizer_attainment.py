"""The attainment distribution as a planning input."""

import numpy as np
import pytest
from builders import make_inputs

from optimizer import PlanInfeasibleError, PlanSpec, plan, solve_plan
from optimizer.attainment import SHARE_TOL


@pytest.fixture(scope="module")
def company():
    rng = np.random.default_rng(3)
    return make_inputs(
        rng.uniform(50, 200, (30, 4)), spread=0.4, last_year=rng.uniform(300, 900, 30)
    )


@pytest.mark.parametrize("policy", ["equal-stretch", "equal-probability"])
def test_the_plan_gives_the_requested_share_and_a_higher_share_means_a_lower_number(
    company, policy
):
    f, r = company
    targets = []
    for share in (0.55, 0.65, 0.75):
        p = plan(f, r, attainment=share, policy=policy)
        assert p.summary.expected_share_attaining == pytest.approx(share, abs=SHARE_TOL)
        assert p.summary.attainment_goal == share
        assert p.summary.total_quota == pytest.approx(p.summary.company_target)
        targets.append(p.summary.company_target)
        # The same number given as a target gives the same plan.
        again = plan(f, r, target=p.summary.company_target, policy=policy)
        np.testing.assert_allclose(again.quotas["quota"], p.quotas["quota"], rtol=1e-6)
    assert targets[0] > targets[1] > targets[2]


def test_half_the_reps_attain_at_the_p50_number_when_nothing_binds(company):
    f, r = company
    p = plan(f, r, attainment=0.5, floor_quantile=None, phasing_band=None, max_increase=None)
    assert p.summary.company_target == pytest.approx(f["q50"].sum(), rel=1e-3)


def test_an_unreachable_share_says_what_is_reachable(company):
    f, r = company
    with pytest.raises(
        PlanInfeasibleError, match=r"99% of reps attaining is out of reach: even at the lowest"
    ):
        plan(f, r, attainment=0.99)
    with pytest.raises(
        PlanInfeasibleError, match=r"1% of reps attaining is out of reach: even at the highest"
    ):
        plan(f, r, attainment=0.01)


def test_over_assignment_applies_on_top_of_the_number_found(company):
    f, r = company
    p = plan(f, r, attainment=0.6, over_assignment=0.1)
    assert p.summary.total_quota == pytest.approx(p.summary.company_target * 1.1)
    assert p.summary.expected_share_attaining == pytest.approx(0.6, abs=SHARE_TOL)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(target=1000, attainment=0.6), "not both or neither"),
        (dict(target=None), "not both or neither"),
        (dict(target=None, attainment=65), "such as 0.65"),
        (dict(target=None, attainment=0.6, policy="equal-split"), "optimising policy"),
    ],
)
def test_bad_goals_are_named(company, kwargs, message):
    f, r = company
    with pytest.raises(ValueError, match=message):
        solve_plan(PlanSpec(f, r, **kwargs))

"""Diagnoses name the family of limits that really binds, and the fix they propose works: for each
family a case where only it makes the plan impossible; and on random impossible plans, the
first fix always plans (hypothesis)."""

import numpy as np
import pandas as pd
import pytest
from builders import FREE, inputs
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer import Limits, PlanInfeasibleError, PlanSpec, solve_plan
from optimizer.diagnose import group_reach
from optimizer.inputs import prepare
from optimizer.wording import money


def impossible(spec: PlanSpec):
    with pytest.raises(PlanInfeasibleError) as e:
        solve_plan(spec)
    return e.value.diagnosis


def plans_with_each_fix(spec, diagnosis):
    assert diagnosis.fixes, diagnosis.text()
    for fix in diagnosis.fixes:
        solve_plan(fix.apply(spec))  # raises if the fix does not work


def test_capacity():
    f, r = inputs([[100] * 4, [200] * 4])
    spec = PlanSpec(f, r, 2000, limits=Limits(**FREE))  # caps add up to 1.5 x 1200 = 1800
    d = impossible(spec)
    assert d.findings[0].limit == "capacity"
    assert d.findings[0].amount == pytest.approx(200, rel=1e-3)
    assert d.fixes[0].changes == {"target": pytest.approx(1800, rel=1e-3)}
    plans_with_each_fix(spec, d)
    assert solve_plan(PlanSpec(f, r, 1700, limits=Limits(**FREE)))  # only the number


def test_phasing():
    # Q4 has no upside (P90 = P50), the others plenty: the number fits the caps, but the band
    # asks Q4 for more than its caps hold.
    p50 = np.array([[100] * 4, [100] * 4])
    q90 = np.where(np.arange(4) == 3, 1.0, 3.0) * p50
    f, r = inputs(p50, q90=q90)
    spec = PlanSpec(f, r, 1000, limits=Limits(floor_quantile=None, max_increase=None))
    d = impossible(spec)
    assert d.findings[0].limit == "phasing"
    assert d.fixes[0].changes["phasing_band"] > 0.1
    plans_with_each_fix(spec, d)
    assert solve_plan(PlanSpec(f, r, 1000, limits=Limits(**FREE)))  # without the band it plans


def test_smoothness():
    # Seasonal P50 (Q4 twice Q1) and a +/-5% band: flat quarters (smoothness 0) cannot follow.
    p50 = np.array([[60, 80, 100, 160]] * 3, float)
    f, r = inputs(p50)
    lim = dict(floor_quantile=None, max_increase=None)
    spec = PlanSpec(f, r, 1200, limits=Limits(**lim, phasing_band=0.05, smoothness=0.0))
    d = impossible(spec)
    assert d.findings[0].limit == "smoothness", d.text()
    assert "smoothness" in d.fixes[0].changes
    plans_with_each_fix(spec, d)
    assert solve_plan(PlanSpec(f, r, 1200, limits=Limits(**lim, phasing_band=0.05)))


@pytest.mark.parametrize("level", ["team", "region"])
def test_team_or_region_targets(level):
    # Group A (r0, r1) can carry at most 4 x 150 x 2 = 1200; its target is 1500.
    f, r = inputs([[100] * 4] * 4, team=["A", "A", "B", "B"], region=["A", "A", "B", "B"])
    spec = PlanSpec(f, r, 2000, limits=Limits(**FREE, group_targets={(level, "A"): 1500}))
    d = impossible(spec)
    assert d.findings[0].limit == level
    assert f"{level} A's target (1.50k) is 300 beyond what its reps can carry" in d.text()
    new = d.fixes[0].changes["group_targets"][(level, "A")]
    assert new == pytest.approx(1200, rel=1e-3)
    plans_with_each_fix(spec, d)
    assert solve_plan(PlanSpec(f, r, 2000, limits=Limits(**FREE)))


def test_locks():
    f, r = inputs([[100] * 4] * 3)
    locks = {("r0", None): 1300.0}
    spec = PlanSpec(f, r, 1200, limits=Limits(**FREE, locks=locks))  # r0 locked above it all
    d = impossible(spec)
    assert d.findings[0].limit == "lock"
    assert d.fixes[0].changes == {"locks": {}}
    plans_with_each_fix(spec, d)


def test_growth_floors():
    # Last year 400 each, at least +20%: 1440 at least, against a number of 1300.
    f, r = inputs([[100] * 4] * 3, last_year_quota=[400, 400, 400])
    spec = PlanSpec(f, r, 1300, limits=Limits(**{**FREE, "max_increase": 0.5}, min_increase=0.2))
    d = impossible(spec)
    assert d.findings[0].limit == "growth-floor", d.text()
    assert d.fixes[0].changes["min_increase"] == pytest.approx(1300 / 1200 - 1, abs=2e-3)
    plans_with_each_fix(spec, d)
    assert solve_plan(PlanSpec(f, r, 1300, limits=Limits(**{**FREE, "max_increase": 0.5})))


def test_an_impossible_replan_names_the_shortfall_not_being_ahead():
    f, r = inputs([[100] * 4] * 2)
    actuals = pd.DataFrame({"rep_id": ["r0", "r1"], "period": "2026Q1", "revenue": [10.0, 10.0]})
    spec = PlanSpec(f, r, 1000, limits=Limits(**FREE), actuals=actuals)
    d = impossible(spec)  # the open quarters can carry 900, the number leaves 980
    assert d.findings[0].limit == "capacity"
    plans_with_each_fix(spec, d)


# --- random impossible plans ------------------------------------------------------------------


@st.composite
def impossible_instances(draw):
    n = draw(st.integers(2, 6))
    p50 = np.array(
        draw(st.lists(st.lists(st.floats(10, 500), min_size=4, max_size=4), min_size=n, max_size=n))
    )
    spread = np.array(draw(st.lists(st.floats(0.1, 0.7), min_size=n, max_size=n)))[:, None]
    reps = [f"r{i}" for i in range(n)]
    team = draw(st.lists(st.sampled_from(["A", "B"]), min_size=n, max_size=n))
    has_ly = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    ly = np.where(has_ly, p50.sum(axis=1) * draw(st.floats(0.5, 1.5)), np.nan)
    f, r = inputs(p50, q10=p50 * (1 - spread), q90=p50 * (1 + spread), last_year_quota=ly)
    r["team"] = team
    limits = {
        "floor_quantile": draw(st.sampled_from([None, 0.1, 0.3])),
        "phasing_band": draw(st.sampled_from([None, 0.02, 0.1])),
        "max_increase": draw(st.sampled_from([None, 0.0, 0.25])),
        "min_increase": draw(st.sampled_from([None, 0.0, 0.1])),
    }
    if limits["max_increase"] is not None and limits["min_increase"] is not None:
        limits["min_increase"] = min(limits["min_increase"], limits["max_increase"])
    if draw(st.booleans()):
        share = draw(st.floats(0.2, 1.6))
        members = p50[np.array(team) == "A"].sum()
        if members > 0:
            limits["group_targets"] = {("team", "A"): float(members * share)}
    if draw(st.booleans()):
        rep = draw(st.sampled_from(reps))
        # A lock at zero (a rep on leave) or at a real share of the rep's year: HiGHS's QP
        # cannot hold a lock a millionth of the rest's scale (it ends in a solve error).
        share = draw(st.just(0.0) | st.floats(0.01, 3))
        limits["locks"] = {(rep, None): float(p50[reps.index(rep)].sum() * share)}
    if draw(st.integers(0, 3)) == 0:  # the general model: slower, so a quarter of the cases
        limits["smoothness"] = draw(st.sampled_from([0.0, 0.1, 0.5]))
    target = float(p50.sum() * draw(st.floats(0.3, 1.8)))
    return PlanSpec(f, r, target, "equal-stretch", Limits(**limits))


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(impossible_instances())
def test_the_first_fix_of_an_impossible_plan_makes_it_possible(spec):
    try:
        solve_plan(spec)
    except PlanInfeasibleError as e:
        d = e.diagnosis
    else:
        assume(False)
    assert d.fixes, d.text()
    assert d.findings and d.findings[0].limit != "unknown", d.text()
    solve_plan(d.fixes[0].apply(spec))


@pytest.mark.slow
def test_a_generated_companys_team_targets_name_the_team_that_cannot_carry_its_own():
    """``make_company`` hands out team targets with one team asked for more than it can carry:
    the diagnosis names that team (not the company's capacity), and its fix plans."""
    from datasets import make_company
    from models import TrailingMean

    synth = make_company(120, 4, random_state=5)
    company = synth.company
    f = TrailingMean().fit(company).predict(2025)
    over = [t for t, v in synth.team_targets.items() if v > 1.5 * company.history.loc[
        company.history["period"].str.startswith("2024")
        & company.history["rep_id"].isin(company.roster.loc[company.roster["team"] == t, "rep_id"]),
        "revenue"].sum()]  # fmt: skip
    assert len(over) == 1
    targets = {("team", t): v for t, v in synth.team_targets.items()}
    number = sum(synth.team_targets.values())
    limits = Limits(group_targets=targets, floor_quantile=None, phasing_band=None)
    spec = PlanSpec(f, company.roster, number, limits=limits)
    d = impossible(spec)
    assert d.findings[0].limit == "team", d.text()
    assert f"team {over[0]}'s target" in d.findings[0].message
    # The amount said is the gap to what the team can carry, whatever the fix must move.
    hi = group_reach(spec, prepare(spec))[("team", over[0])][1]
    t = targets[("team", over[0])]
    assert f"({money(t)}) is {money(t - hi)} beyond what its reps can carry" in d.text()
    fix = d.fixes[0].changes["group_targets"]
    cut = {name: targets[("team", name)] - fix[("team", name)] for _, name in fix}
    assert max(cut, key=cut.get) == over[0]  # the overreaching team is cut the most
    solve_plan(d.fixes[0].apply(spec))


def test_a_number_fix_at_an_edge_that_is_not_round_is_rounded_on_the_safe_side():
    """The nearest possible number is the caps' exact sum (1804.1472 here): the fix says four
    significant figures below it, not the edge's every digit (it said 103.9352066M)."""
    f, r = inputs([[100.1234] * 4, [200.5678] * 4])
    spec = PlanSpec(f, r, 2000, limits=Limits(**FREE))
    d = impossible(spec)
    assert d.fixes[0].changes == {"target": pytest.approx(1804.0)}, d.text()
    # The finding quotes the exact edge: the shortfall is against 1804.1472, not the fix.
    assert d.findings[0].amount == pytest.approx(2000 - 1804.1472, rel=1e-6)
    plans_with_each_fix(spec, d)


def test_every_fix_plans_when_its_words_are_typed_back_in():
    """A planner retypes the fix, not its hidden value: each amount in a fix's words, read back
    as the CLI reads it, must plan. Team targets covering every rep with a number that is not
    their sum (the number must then move with them: it was said as "1.11B" for 1.1145B)."""
    import re

    from datasets import make_company
    from models import TrailingMean
    from optimizer.spec import parse_amount

    synth = make_company(120, 4, random_state=5)
    company = synth.company
    f = TrailingMean().fit(company).predict(2025)
    targets = {("team", t): v for t, v in synth.team_targets.items()}
    number = 1.1 * sum(synth.team_targets.values())
    limits = Limits(group_targets=targets, floor_quantile=None, phasing_band=None)
    spec = PlanSpec(f, company.roster, number, limits=limits)
    d = impossible(spec)
    assert d.fixes, d.text()
    for fix in d.fixes:
        typed, total = dict(targets), number
        for level, name, amount in re.findall(
            r"(team|region) (\S+)'s target to (\S+?)(?:[,;]|$)", fix.message
        ):
            typed[(level, name)] = parse_amount(amount)
        said = re.search(r"number(?: with it)? to (\S+?)(?:[,;]|$)", fix.message)
        if said:
            total = parse_amount(said.group(1))
        assert typed != targets or total != number, fix.message
        solve_plan(
            PlanSpec(
                f, company.roster, total, limits=Limits(**{**vars(limits), "group_targets": typed})
            )
        )


def test_a_number_below_what_smoothness_lifts_the_floors_to_names_smoothness_too():
    # Floors (P10) add up to 960, but with 10% smoothness each rep's Q1-Q3 must come close to
    # their Q4 floor of 240: the quotas cannot add up to less than 1.38k.
    p50 = np.array([[100.0, 100, 100, 300]] * 2)
    f, r = inputs(p50, q10=p50 * 0.8, q90=p50 * 1.5)
    limits = Limits(**{**FREE, "floor_quantile": 0.1, "smoothness": 0.1})
    d = impossible(PlanSpec(f, r, 1000, limits=limits))
    words = next(x.message for x in d.findings if x.message.startswith("the number"))
    assert "below what the floors (P10) with smoothness (10%) require" in words
    assert "(without smoothness they add up to 960)" in words
    plans_with_each_fix(PlanSpec(f, r, 1000, limits=limits), d)

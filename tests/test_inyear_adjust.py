"""inyear.adjust: the record of what an adjustment moves, and what it refuses."""

import numpy as np
import pandas as pd
import pytest
from builders import FREE, QUARTERS, inputs

from inyear.adjust import AdjustmentRefused, QuotaChange, adjust, changes
from optimizer import Limits, PlanSpec, solve_plan


def test_a_stored_change_reads_back_as_the_change_it_was():
    before = pd.DataFrame({"rep_id": ["a", "b", "c"], "annual_quota": [100.0, 200.0, 300.0]})
    after = before.assign(annual_quota=[120.0, 180.0, 300.0], team="T1")
    moved = changes(before, after)
    assert [c.rep_id for c in moved] == ["a", "b"]  # c did not move
    assert moved[1].delta == -20.0 and moved[1].team == "T1"
    assert tuple(QuotaChange.from_dict(c.to_dict()) for c in moved) == moved
    # what an older adjustment stored: rep, before and after only
    old = QuotaChange.from_dict({"rep_id": "a", "before": 100, "after": 120})
    assert old.delta == 20.0 and old.team is None and old.binding is None


def _plan_of_two_teams():
    """r0 alone in team A; r1 (room to spare) and r2 (capped 10% above its P50) in team B."""
    p50 = np.full((3, 4), 100.0)
    q90 = np.array([[150.0] * 4, [300.0] * 4, [110.0] * 4])
    f, r = inputs(p50, q10=p50 * 0.5, q90=q90, team=["A", "B", "B"])
    spec = PlanSpec(f, r, 1200, limits=Limits(**FREE))
    return spec, solve_plan(spec).quotas[["rep_id", "period", "quota"]]


def test_a_team_that_cannot_absorb_the_change_is_refused_in_the_teams_words():
    spec, q = _plan_of_two_teams()  # everyone at 400 a year
    # r1 down to 240 asks r2 to take on 160 more: 560, above its caps (440).
    with pytest.raises(AdjustmentRefused) as e:
        adjust(spec, q, "r1", 240.0)
    words = str(e.value)
    assert "the rest of team B (r2) to take on 160," in words
    assert "lock" not in words and "the number" not in words  # not the internal diagnosis
    assert adjust(spec, q, "r1", 380.0).reps.set_index("rep_id")["annual_quota"]["r2"] == (
        pytest.approx(420.0)
    )


def test_the_only_rep_of_a_team_cannot_be_adjusted_and_is_told_why():
    spec, q = _plan_of_two_teams()
    with pytest.raises(AdjustmentRefused, match="r0 is the only rep of team A"):
        adjust(spec, q, "r0", 420.0)


def test_a_change_that_breaks_the_reps_own_limits_says_what_the_year_can_be_set_to():
    spec, q = _plan_of_two_teams()  # r1: P50 100 a quarter, no floor, cap 300; 400 a year
    with pytest.raises(AdjustmentRefused) as e:
        adjust(spec, q, "r1", 1300.0)  # 325 a quarter, over the cap
    assert "r1's year can be set between 0 and 1.200k" in str(e.value)
    # r2 at its cap in one quarter and its floor in another cannot move at all.
    p50 = np.full((2, 4), 100.0)
    f, r = inputs(p50, q10=p50 * 0.5, q90=p50 * 1.5)
    spec = PlanSpec(f, r, 800, limits=Limits(**{**FREE, "floor_quantile": 0.1}))
    pinned = pd.DataFrame({"rep_id": ["r0"] * 4 + ["r1"] * 4, "period": QUARTERS * 2,
                           "quota": [150.0, 50.0, 100.0, 100.0] + [100.0] * 4})  # fmt: skip
    with pytest.raises(AdjustmentRefused, match="r0's year cannot move from 400: a quarter is at"):
        adjust(spec, pinned, "r0", 410.0)

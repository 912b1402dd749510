"""In-year tracking and quota relief on small cases worked by hand."""

import numpy as np
import pandas as pd
import pytest
from builders import LIMITS, QUARTERS, instances, make_inputs
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from datasets import DataValidationError
from datasets.history import month_shape
from inyear.relief import relief
from inyear.tracking import track
from optimizer import Limits, PlanInfeasibleError, PlanSpec, solve_plan

FREE = Limits(floor_quantile=None, phasing_band=None, max_increase=None)


def flat_plan(n=1, quota=100.0):
    f, r = make_inputs([[quota] * 4] * n)
    spec = PlanSpec(f, r, 4 * quota * n, "equal-stretch", FREE)
    q = pd.DataFrame(
        [{"rep_id": f"r{i}", "period": p, "quota": quota} for i in range(n) for p in QUARTERS]
    )
    return spec, q


def months(rows):
    """{rep: {month: revenue}} -> actuals rows."""
    return pd.DataFrame(
        [{"rep_id": r, "period": m, "revenue": v} for r, by in rows.items() for m, v in by.items()]
    )


def test_pacing_follows_the_month_shape_not_a_flat_line():
    spec, q = flat_plan()
    p = track(spec, q, months({"r0": {"2026-01": 10, "2026-02": 30}}))
    rep = p.reps.iloc[0]
    # End of February: 15% + 25% of Q1's 100 are due, and 40 were booked.
    assert p.summary.as_of == "2026-02-28"
    assert rep["due_to_date"] == pytest.approx(40)
    assert rep["pace"] == pytest.approx(1.0)
    assert rep["attainment_to_date"] == pytest.approx(0.1)
    # Halfway through March (15 of 31 days): 40 + 60 x 15/31.
    mid = track(spec, q, months({"r0": {"2026-01": 10}}), as_of="2026-03-15")
    assert mid.reps["due_to_date"].iloc[0] == pytest.approx(40 + 60 * 15 / 31)
    assert mid.reps["pace"].iloc[0] == pytest.approx(10 / (40 + 60 * 15 / 31))
    # Q2 closed, a month into Q3: 100 + 100 + 15.
    late = track(spec, q, months({"r0": {"2026-01": 0}}), as_of="2026-07-31")
    assert late.reps["due_to_date"].iloc[0] == pytest.approx(215)
    assert late.summary.closed_quarters == ("2026Q1", "2026Q2")
    assert late.summary.current_quarter == "2026Q3"


def test_the_phased_quota_by_month_and_week_adds_up_to_the_quarter():
    spec, q = flat_plan()
    p = track(spec, q, months({"r0": {"2026-01": 10, "2026-02": 30}}))
    m = p.phased.set_index("month")
    assert m.loc["2026-01", "quota"] == pytest.approx(15)
    assert m.loc["2026-03", "quota"] == pytest.approx(60)
    assert m.loc["2026-02", "actual"] == 30 and np.isnan(m.loc["2026-03", "actual"])
    w = track(spec, q, months({"r0": {"2026-01": 10}}), grain="week").phased
    assert w.groupby("period")["quota"].sum().to_numpy() == pytest.approx([100] * 4)
    assert len(w) >= 52


def test_the_month_shape_is_learned_from_monthly_history():
    h = months({"a": {"2025-01": 20, "2025-02": 30, "2025-03": 50, "2025-04": 10}})
    np.testing.assert_allclose(month_shape(h), [0.2, 0.3, 0.5])  # 2025Q2 is incomplete
    quarterly = pd.DataFrame({"rep_id": ["a"], "period": ["2025Q1"], "revenue": [1.0]})
    np.testing.assert_allclose(month_shape(quarterly), [0.15, 0.25, 0.60])


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(10, 1000), min_size=4, max_size=4),
    st.integers(1, 11),
    st.floats(0.2, 0.9),
)
def test_a_rep_exactly_on_plan_is_never_flagged(quota, month, stretch):
    # r0 books exactly the phased quota every month; the plan is stretched against the forecast.
    f, r = make_inputs([[v / (1 + stretch) for v in quota], [100] * 4])
    spec = PlanSpec(f, r, 1000, "equal-stretch", FREE)
    q = pd.DataFrame(
        [{"rep_id": "r0", "period": p, "quota": v} for p, v in zip(QUARTERS, quota, strict=True)]
        + [{"rep_id": "r1", "period": p, "quota": 100} for p in QUARTERS]
    )
    shape = [0.15, 0.25, 0.60]
    booked = {
        f"2026-{m:02d}": quota[(m - 1) // 3] * shape[(m - 1) % 3] for m in range(1, month + 1)
    }
    p = track(spec, q, months({"r0": booked}))
    rep = p.reps.set_index("rep_id").loc["r0"]
    assert rep["pace"] == pytest.approx(1.0)
    assert rep["flags"] == "", rep["flags"]


def test_a_pulled_forward_quarter_is_flagged():
    # Q1 closed at 150%, and Q2 has started slowly: 2 booked in April and May, against a
    # forecast of 100 for the quarter.
    spec, q = flat_plan()
    a = months({"r0": {"2026-01": 30, "2026-02": 40, "2026-03": 80, "2026-04": 1, "2026-05": 1}})
    p = track(spec, q, a)
    rep = p.reps.iloc[0]
    assert rep["pull_forward"]
    assert "pull-forward: 2026Q1 at 150% of quota, then 2026Q2 projected at" in rep["flags"]


def test_behind_reps_are_flagged_with_reasons_and_teams_add_up():
    f, r = make_inputs([[100] * 4] * 3, spread=0.2, team=["A", "A", "B"])
    spec = PlanSpec(f, r, 1200, "equal-stretch", FREE)
    q = pd.DataFrame(
        [{"rep_id": f"r{i}", "period": p, "quota": 100.0} for i in range(3) for p in QUARTERS]
    )
    a = months(
        {
            "r0": {"2026-01": 0, "2026-02": 0, "2026-03": 0, "2026-04": 0, "2026-05": 0},
            "r1": {"2026-01": 15, "2026-02": 25, "2026-03": 60, "2026-04": 15, "2026-05": 25},
            "r2": {"2026-01": 10, "2026-02": 20, "2026-03": 50, "2026-04": 15, "2026-05": 25},
        }
    )
    p = track(spec, q, a)
    reps = p.reps.set_index("rep_id")
    r0 = reps.loc["r0"]
    assert r0["at_risk"] and r0["out_of_reach"] and r0["overload"]
    # r0 needs 400 in 7 months; even at P90 (120 a quarter, trusted at the pace 0) nothing.
    assert "out of reach: needs 400 more" in r0["flags"]
    assert "overload: needs 100 in the rest of 2026Q2" in r0["flags"]
    assert reps.loc["r1", "flags"] == ""
    assert "missed 1" not in reps.loc["r2", "flags"]  # one missed quarter is not a streak
    teams = p.teams.set_index("team")
    assert teams.loc["A", "actual_to_date"] == pytest.approx(140)
    assert teams.loc["A", "due_to_date"] == pytest.approx(280)
    assert teams.loc["A", "reps_out_of_reach"] == 1 and teams.loc["B", "reps"] == 1
    assert teams.loc["A", "reps_flagged"] == 1  # r0, with three flags
    assert p.summary.flagged["out_of_reach"] == 1


def test_consecutive_missed_quarters_are_flagged():
    spec, q = flat_plan()
    a = months({"r0": {"2026-03": 90, "2026-06": 95, "2026-07": 15}})
    p = track(spec, q, a, as_of="2026-07-31")
    assert "missed 2 quarters in a row (2026Q1 at 90%, 2026Q2 at 95%)" in p.reps["flags"].iloc[0]


def test_relief_never_raises_anyone_above_their_cap():
    f, r = make_inputs([[100] * 4, [100] * 4, [100] * 4], spread=0.5)
    spec = PlanSpec(f, r, 1200, "equal-stretch", Limits(floor_quantile=None, phasing_band=None))
    plan = solve_plan(spec)
    a = months(
        {"r0": {"2026-03": 0, "2026-06": 0}, "r1": {"2026-03": 100, "2026-06": 100},
         "r2": {"2026-03": 100, "2026-06": 100}}
    )  # fmt: skip
    out = relief(spec, plan.quotas, a, as_of="2026-06-30", previous=plan)
    assert out.kept_number
    quotas = out.plan.quotas.set_index(["rep_id", "period"])["quota"]
    cap = f.set_index(["rep_id", "period"])["q90"]
    open_ = quotas.index.get_level_values("period").isin(["2026Q3", "2026Q4"])
    assert (quotas[open_] <= cap.reindex(quotas[open_].index) * (1 + 1e-9)).all()
    assert quotas.sum() == pytest.approx(1200)
    changes = out.reps.set_index("rep_id")
    assert changes.loc["r0", "change"] < 0  # r0 relieved: 0 sold, at most 300 to come


def test_relief_says_when_capacity_cannot_keep_the_number():
    f, r = make_inputs([[100] * 4, [100] * 4], spread=0.1)  # cap 110 a quarter
    spec = PlanSpec(f, r, 800, "equal-stretch", FREE)
    plan = solve_plan(spec)
    a = months({"r0": {"2026-03": 0}, "r1": {"2026-03": 0}})
    out = relief(spec, plan.quotas, a, as_of="2026-03-31", previous=plan)
    assert not out.kept_number
    assert out.number == pytest.approx(660, rel=1e-6)  # 6 open quarters x 110
    assert "short" in out.message and "capacity" in out.message
    assert (out.plan.quotas["quota"] <= 110 * (1 + 1e-9)).all()


@pytest.mark.parametrize(
    "rows, message",
    [
        ({"rep_id": ["zz"], "period": ["2026-01"], "revenue": [1.0]}, "reps not in the plan: zz"),
        ({"rep_id": ["r0"], "period": ["2026-01"], "revenue": [-1.0]}, "revenue must be"),
        ({"rep_id": ["r0"], "period": ["spring"], "revenue": [1.0]}, "unreadable period"),
        ({"rep_id": ["r0"], "period": ["2027-01"], "revenue": [1.0]}, "outside the plan's year"),
        ({"rep_id": ["r0"], "revenue": [1.0]}, "missing column(s): period"),
    ],
)
def test_bad_actuals_are_named(rows, message):
    spec, q = flat_plan()
    with pytest.raises(DataValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        track(spec, q, pd.DataFrame(rows))


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    instances(),
    st.lists(st.floats(0.0, 2.0), min_size=7, max_size=7),
    st.sampled_from(["2026-03-31", "2026-06-30", "2026-09-30"]),
)
def test_relief_never_raises_anyone_above_their_cap_property(inst, pace, as_of):
    """Random companies, random bookings (each rep a pace against their P50) up to the end of
    Q1, Q2 or Q3: every proposed open quota is within its cap, or there is no proposal and the
    message says why."""
    f, r, target = inst
    spec = PlanSpec(f, r, target, "equal-stretch", Limits(**LIMITS))
    try:
        plan = solve_plan(spec)
    except PlanInfeasibleError:
        assume(False)
    p50 = f.set_index(["rep_id", "period"])["q50"]
    reps = list(r["rep_id"])
    rows = [
        {"rep_id": rep, "period": f"2026-{m:02d}",
         "revenue": p50[(rep, f"2026Q{(m - 1) // 3 + 1}")] / 3 * pace[i]}
        for i, rep in enumerate(reps) for m in range(1, int(as_of[5:7]) + 1)
    ]  # fmt: skip
    out = relief(spec, plan.quotas, pd.DataFrame(rows), previous=plan)
    if out.plan is None:
        assert not out.kept_number and out.message
        return
    q = out.plan.quotas
    open_ = q[q["binding"] != "actual"].set_index(["rep_id", "period"])["quota"]
    cap = f.set_index(["rep_id", "period"])["q90"].reindex(open_.index)
    assert (open_ <= cap * (1 + 1e-7) + 1e-9).all()
    expected = spec.target if out.kept_number else out.number
    assert q["quota"].sum() == pytest.approx(expected, rel=1e-6)


def test_a_closed_quarters_total_counts_as_its_actuals_an_open_ones_does_not():
    spec, quotas = flat_plan(n=2)
    quarter = pd.DataFrame(
        {"rep_id": ["r0", "r1"], "period": ["2026Q1"] * 2, "revenue": [100.0, 50.0]}
    )
    april = pd.DataFrame({"rep_id": ["r0"], "period": ["2026-04"], "revenue": [20.0]})
    p = track(spec, quotas, pd.concat([quarter, april]))
    assert p.summary.as_of == "2026-04-30" and p.summary.closed_quarters == ("2026Q1",)
    reps = p.reps.set_index("rep_id")
    assert reps.loc["r0", "actual_to_date"] == 120.0 and reps.loc["r1", "actual_to_date"] == 50.0
    with pytest.raises(DataValidationError, match="a quarter's total for a quarter still open"):
        track(spec, quotas, quarter.assign(period="2026Q2"), as_of="2026-05-15")
    with pytest.raises(ValueError, match="fiscal years starting in month 1"):
        track(spec, quotas, quarter, fiscal_year_start=7)

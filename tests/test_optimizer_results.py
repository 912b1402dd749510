"""The optimizer's results: a plan's summary is typed and frozen, its JSON keeps the keys (and
their order) the CLI and the API have always written, and a stored one reads back the same."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from builders import FREE, actuals, make_inputs

from api.routes.common import plain
from optimizer import Limits, PlanInfeasibleError, PlanSpec, replan, solve_plan
from optimizer.results import (
    Diagnosis,
    Finding,
    Fix,
    PlanSummary,
    SolverRecord,
    SolveStatus,
    StageRecord,
)
from optimizer.wording import headline

HEAD = [
    "policy",
    "fiscal_year_start",
    "company_target",
    "over_assignment",
    "total_quota",
    "reps",
    "band_levels",
    "expected_share_attaining",
    "max_stretch",
    "reps_over_cap",
]
SOLVED = ["objective", "marginal", "solver_status", "route", "certificate"]


def keys(summary: PlanSummary) -> list[str]:
    """The summary's JSON keys, the timings (which vary by route) as one ``<timings>``."""
    out = []
    for k in summary.to_dict():
        k = "<timings>" if k.endswith("_s") else k
        if not out or out[-1] != k:
            out.append(k)
    return out


def spec(**over):
    f, r = make_inputs([[100] * 4, [200] * 4, [300] * 4], spread=0.5)
    return PlanSpec(f, r, over.pop("target", 1200), over.pop("policy", "equal-stretch"),
                    Limits(**{**FREE, **over}))  # fmt: skip


def test_the_json_keys_come_in_the_order_they_always_had():
    s = solve_plan(spec()).summary
    assert keys(s) == [*HEAD, *SOLVED, "limits_gave_way", "<timings>", "level"]
    timings = [k for k in s.to_dict() if k.endswith("_s")]
    assert timings[0] == "prepare_s" and timings[-1] == "total_s"
    general = solve_plan(spec(smoothness=0.3)).summary  # HiGHS ran: what it ran is said
    assert keys(general) == [*HEAD, *SOLVED, "solver", "limits_gave_way", "<timings>", "level"]
    rule = solve_plan(spec(policy="equal-split")).summary
    assert keys(rule) == [*HEAD, "solver_status", "objective", "marginal", "limits_gave_way",
                          "<timings>"]  # fmt: skip
    assert (
        rule.to_dict()["objective"] is None and rule.solver_status == "not needed (rule of thumb)"
    )
    goal = solve_plan(dataclasses.replace(spec(), target=None, attainment=0.5)).summary
    assert keys(goal)[-2:] == ["attainment_goal", "plans_solved"]
    again = replan(spec(), actuals([[100], [200], [300]])).summary
    assert keys(again)[-5:] == ["level", "closed_quarters", "actual_to_date", "remaining_quota",
                                "replan"]  # fmt: skip


def test_the_solver_status_is_an_enum_written_as_its_words():
    s = solve_plan(spec()).summary
    assert s.solver_status is SolveStatus.OPTIMAL and s.to_dict()["solver_status"] == "optimal"
    assert solve_plan(spec(policy="equal-split")).summary.solver_status is (
        SolveStatus.RULE_OF_THUMB
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: solve_plan(spec()),
        lambda: solve_plan(spec(policy="equal-probability")),
        lambda: solve_plan(spec(smoothness=0.3)),
        lambda: solve_plan(spec(policy="last-year-plus-growth")),
        lambda: solve_plan(dataclasses.replace(spec(), target=None, attainment=0.5)),
        lambda: replan(spec(), actuals([[50], [200], [300]])).with_warnings(["short"]),
    ],
)
def test_a_stored_summary_reads_back_as_the_same_summary(make):
    stored = plain(make().summary.to_dict())  # as the API stores it (NaN as null)
    assert PlanSummary.from_dict(stored).to_dict() == stored


#: A summary's ``solver`` as stored (the shape the CLI and the API have always written): the
#: stages by name in the order they ran, then ``notes``; a stored stage's keys may come in
#: another order than today's (the level check's point wrote no iterations before its gap).
STORED_SOLVER = {
    "level check": {
        "algorithms": {"own point": 1, "HiPO interior point": 1},
        "status": "optimal",
        "duality_gap": 0.0,
        "max_residual": 1e-12,
        "iterations": {"ipm": 9},
    },
    "plan": {
        "algorithms": {"active-set QP": 2},
        "status": "optimal",
        "iterations": {"qp": 14},
        "note": "HiPO is unavailable",
        "duality_gap": 1e-10,
        "max_residual": 2e-9,
    },
    "marginal": {"algorithms": {"dual simplex": 1}, "status": "infeasible"},
    "notes": ["HiPO is unavailable; ran active-set QP instead (slower on large plans)"],
}


def test_a_solved_plans_solver_record_is_typed_and_reads_back_the_same():
    s = solve_plan(spec(smoothness=0.3)).summary  # HiGHS runs for the level and the plan
    assert isinstance(s.solver, SolverRecord) and s.solver.stages
    assert all(isinstance(st, StageRecord) for st in s.solver.stages.values())
    plan = s.solver.stages["plan"]
    assert plan.status == "optimal" and sum(plan.algorithms.values()) >= 1
    assert plan.duality_gap is not None and plan.max_residual is not None and plan.iterations
    written = s.to_dict()["solver"]
    assert list(written) == list(s.solver.stages)  # no notes: HiPO ran
    again = PlanSummary.from_dict(plain(s.to_dict())).solver  # as the API stores it
    assert again == s.solver and json.dumps(again.to_dict()) == json.dumps(written)
    written["plan"]["algorithms"]["x"] = 1  # the JSON is a copy
    assert "x" not in s.solver.stages["plan"].algorithms


def test_the_solver_record_is_written_in_its_stored_shape():
    record = SolverRecord.from_dict(STORED_SOLVER)
    assert record.notes == tuple(STORED_SOLVER["notes"])
    assert record.stages["plan"] == StageRecord(
        {"active-set QP": 2}, "optimal", {"qp": 14}, 1e-10, 2e-9, "HiPO is unavailable"
    )
    marginal = record.stages["marginal"]  # a failed solve: no iterations, gap or note
    assert marginal.iterations == {} and marginal.duality_gap is None and marginal.note is None
    assert record.to_dict() == STORED_SOLVER  # the same keys and values
    assert list(record.to_dict()) == list(STORED_SOLVER)  # stages in the order they ran
    built = SolverRecord(  # as optimizer.solve builds one
        {"plan": StageRecord({"HiPO interior point (QP)": 1}, "optimal", {"ipm": 7}, 1e-9, 0.0)}
    )
    assert json.dumps(built.to_dict()) == json.dumps(
        {
            "plan": {
                "algorithms": {"HiPO interior point (QP)": 1},
                "status": "optimal",
                "iterations": {"ipm": 7},
                "duality_gap": 1e-9,
                "max_residual": 0.0,
            }
        }
    )


def test_a_plan_and_its_summary_cannot_be_changed_after_they_are_built():
    p = solve_plan(spec())
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.summary.total_quota = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.summary = None
    written = p.summary.to_dict()
    written["level"]["held_above"]["x"] = 1  # the JSON is a copy
    written["limits_gave_way"].append("x")
    assert "x" not in p.summary.to_dict()["level"]["held_above"]
    warned = p.with_warnings(["a short history"])
    assert warned.summary.warnings == ("a short history",) and p.summary.warnings == ()
    assert warned.summary.to_dict()["warnings"] == ["a short history"]
    assert "warnings" not in p.summary.to_dict() and p.with_warnings([]) is p


def test_the_attainment_search_and_a_replan_build_new_summaries():
    goal = solve_plan(dataclasses.replace(spec(), target=None, attainment=0.5)).summary
    assert goal.attainment_goal == 0.5 and goal.plans_solved >= 1
    assert goal.total_s >= goal.timings["prepare_s"]
    before = solve_plan(spec())
    after = replan(spec(), actuals([[50], [200], [300]]), previous=before)
    assert before.summary.replan is None and before.summary.closed_quarters is None
    assert after.summary.replan.previous_level == before.summary.objective.level
    assert after.summary.closed_quarters == ("2026Q1",)


def test_the_diagnosis_is_typed_and_its_json_is_its_findings_and_fixes():
    with pytest.raises(PlanInfeasibleError) as e:
        solve_plan(spec(target=1e6))
    d = e.value.diagnosis
    assert isinstance(d, Diagnosis)
    assert all(isinstance(f, Finding) for f in d.findings) and d.fixes
    assert all(isinstance(x, Fix) for x in d.fixes)
    out = d.to_dict()
    assert list(out) == ["diagnosis", "fixes"]
    assert out["diagnosis"][0] == {
        "limit": d.findings[0].limit,
        "amount": d.findings[0].amount,
        "share_of_target": d.findings[0].share_of_target,
        "message": d.findings[0].message,
    }
    assert out["fixes"][0]["message"] == d.fixes[0].message
    fixed = solve_plan(d.fixes[0].apply(spec(target=1e6)))
    assert np.isfinite(fixed.summary.total_quota)


def test_a_number_at_the_edge_of_capacity_says_1pct_more_is_impossible_never_nan():
    # P90 caps add up to 3600 (150 + 300 + 450 a quarter): 1% more cannot be planned.
    f, r = make_inputs([[100] * 4, [200] * 4, [300] * 4])
    s = solve_plan(PlanSpec(f, r, 3600, limits=Limits(**FREE))).summary
    assert np.isnan(s.marginal.max_stretch_per_1pct_more)  # in memory: NaN, as documented
    written = json.dumps(s.to_dict(), allow_nan=False)  # the .summary.json is valid JSON
    marginal = json.loads(written)["marginal"]
    assert marginal["max_stretch_at_plus_1pct"] is None
    assert marginal["max_stretch_per_1pct_more"] is None
    lines = "\n".join(headline(s))
    assert "nan" not in lines
    assert "Raising the number by 1% is beyond what the limits allow" in lines

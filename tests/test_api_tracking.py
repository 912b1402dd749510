"""Tracking and relief through the HTTP API (Flask's test client, a real SQLite file)."""

from __future__ import annotations

import json

import pytest
from test_api import plan_body, problem

from api.app import create_app

SHAPE = (0.15, 0.25, 0.60)


@pytest.fixture
def client(tmp_path):
    return create_app({"DATABASE": str(tmp_path / "quotaplan.db")}).test_client()


def bookings(plan, months, slow=None, factor=0.0):
    """Monthly rows exactly on each rep's phased quota for ``months`` (1..12); ``slow`` books
    ``factor`` of it."""
    q = {(x["rep_id"], x["period"]): x["quota"] for x in plan["quotas"]}
    reps = sorted({x["rep_id"] for x in plan["quotas"]})
    return [
        {
            "rep_id": r,
            "period": f"2026-{m:02d}",
            "revenue": q[(r, f"2026Q{(m - 1) // 3 + 1}")]
            * SHAPE[(m - 1) % 3]
            * (factor if r == slow else 1.0),
        }
        for r in reps
        for m in months
    ]


def test_progress_is_stored_week_by_week_and_on_plan_reps_are_not_flagged(client):
    plan = client.post("/v1/plans", json=plan_body()).get_json()
    pid = plan["id"]
    first = client.post(
        f"/v1/plans/{pid}/progress", json={"actuals": bookings(plan, [1, 2], slow="R000")}
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    snap = first.get_json()
    assert first.headers["Location"].endswith(f"/v1/plans/{pid}/progress/{snap['id']}")
    reps = {r["rep_id"]: r for r in snap["reps"]}
    assert snap["summary"]["as_of"] == "2026-02-28"
    assert reps["R001"]["pace"] == pytest.approx(1.0) and reps["R001"]["flags"] == ""
    assert reps["R000"]["actual_to_date"] == 0 and reps["R000"]["pace"] == 0
    assert {t["team"] for t in snap["teams"]} == {"A", "B"}
    assert len(snap["phased"]) == 6 * 12  # reps x months
    later = client.post(
        f"/v1/plans/{pid}/progress",
        json={"actuals": bookings(plan, [1, 2, 3, 4, 5], slow="R000"), "grain": "week"},
    )
    assert later.status_code == 201, later.get_data(as_text=True)
    history = client.get(f"/v1/plans/{pid}/progress").get_json()
    assert [s["as_of"] for s in history["snapshots"]] == ["2026-02-28", "2026-05-31"]
    assert history["snapshots"][1]["summary"]["reps_out_of_reach"] >= 1
    one = client.get(f"/v1/plans/{pid}/progress/{snap['id']}").get_json()
    assert one["reps"] == snap["reps"]
    problem(client.get(f"/v1/plans/{pid}/progress/999"), 404)


def test_relief_proposes_quotas_within_caps_and_can_be_adopted(client):
    plan = client.post("/v1/plans", json=plan_body()).get_json()
    pid = plan["id"]
    body = {"actuals": bookings(plan, range(1, 7), slow="R000"), "as_of": "2026-06-30"}
    resp = client.post(f"/v1/plans/{pid}/relief", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    r = resp.get_json()
    assert r["kept_number"] and "holds" in r["message"]
    change = {x["rep_id"]: x["change"] for x in r["reps"]}
    assert change["R000"] < 0  # relieved
    forecast = {(f["rep_id"], f["period"]): f["q90"] for f in plan_body()["forecast"]}
    for q in r["quotas"]:
        if q["period"] in ("2026Q3", "2026Q4"):
            assert q["quota"] <= forecast[(q["rep_id"], q["period"])] * (1 + 1e-9)
    # Adopt it: the closed quarters' actuals re-plan the stored plan to the same quotas.
    adopted = client.post(f"/v1/plans/{pid}/replan", json={"actuals": r["closed_actuals"]})
    assert adopted.status_code == 201, adopted.get_data(as_text=True)
    got = {(q["rep_id"], q["period"]): q["quota"] for q in adopted.get_json()["quotas"]}
    for q in r["quotas"]:
        assert got[(q["rep_id"], q["period"])] == pytest.approx(q["quota"], rel=1e-6)


@pytest.mark.parametrize(
    "actuals, words",
    [
        ([{"rep_id": "ZZ", "period": "2026-01", "revenue": 1}], "reps not in the plan: ZZ"),
        ([{"rep_id": "R000", "period": "2026-01", "revenue": -5}], "actuals.0.revenue"),
        ([{"rep_id": "R000", "revenue": 1}], "either period"),
        ([{"rep_id": "R000", "date": "2031-01-05", "revenue": 1}], "outside the plan's year"),
    ],
)
def test_bad_bookings_are_named_and_nothing_is_stored(client, actuals, words):
    plan = client.post("/v1/plans", json=plan_body()).get_json()
    body = problem(client.post(f"/v1/plans/{plan['id']}/progress", json={"actuals": actuals}), 422)
    assert words in json.dumps(body)
    assert client.get(f"/v1/plans/{plan['id']}/progress").get_json()["snapshots"] == []


def test_relief_before_any_quarter_closed_is_a_422(client):
    plan = client.post("/v1/plans", json=plan_body()).get_json()
    body = {"actuals": bookings(plan, [1])}
    problem(client.post(f"/v1/plans/{plan['id']}/relief", json=body), 422)
    problem(client.post("/v1/plans/999/relief", json=body), 404)


def test_a_plan_made_from_monthly_history_phases_by_its_month_shape(client):
    forecast_rows = plan_body()["forecast"]
    reps = sorted({f["rep_id"] for f in forecast_rows})
    # Two years of monthly history, every quarter booked 20/30/50 across its months.
    history = [
        {"rep_id": r, "period": f"{y}-{m:02d}", "revenue": 1000.0 * (0.2, 0.3, 0.5)[(m - 1) % 3]}
        for r in reps
        for y in (2024, 2025)
        for m in range(1, 13)
    ]
    body = plan_body(history=history, year=2026, target=24000)
    del body["forecast"]
    made = client.post("/v1/plans", json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    plan = made.get_json()
    resp = client.post(
        f"/v1/plans/{plan['id']}/progress",
        json={"actuals": [{"rep_id": reps[0], "period": "2026-01", "revenue": 1.0}]},
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["summary"]["month_shape"] == pytest.approx([0.2, 0.3, 0.5])

"""Tracking and relief through the HTTP API (Flask's test client, a real SQLite file)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from builders import plan_body, problem
from click.testing import CliRunner

from api.app import create_app
from api.cli import main

SHAPE = (0.15, 0.25, 0.60)


@pytest.fixture
def client(tmp_path):
    return create_app({"DATABASE": str(tmp_path / "quotaplan.db")}).test_client()


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


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
        ([{"rep_id": "R000", "period": "2026-01", "revenue": -5}], "actuals[].revenue"),
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


#: Bookings as a spreadsheet exports them: headers in words, amounts with currency and
#: thousands separators, a month's total, a dated deal and a closed quarter's total.
SPREADSHEET = """Rep ID,Period,Date,Revenue
R000,2026Q1,,"$120,000.00"
R001,2026-01,,"$1,200"
R001,,2026-02-17,USD 30000
R002,2026-04,,1 500.50
"""


def test_the_cli_and_the_api_read_the_same_bookings_file(client, tmp_path):
    """One file, two doors: ``quotaplan track --actuals`` and an upload to the tracking route
    read it alike (the data layer's reader), amounts such as "$1,200" included, and refuse a
    bad one with the same problem, naming the same line."""
    body = plan_body()
    pd.DataFrame(body["forecast"]).to_csv(tmp_path / "f.csv", index=False)
    pd.DataFrame(body["roster"]).to_csv(tmp_path / "r.csv", index=False)
    base = ["--forecast", tmp_path / "f.csv", "--roster", tmp_path / "r.csv"]
    made = cli("plan", *base, "--target", body["target"], "--out", tmp_path / "plan.csv")
    assert made.exit_code == 0, made.output
    pid = client.post("/v1/plans", json=body).get_json()["id"]

    def both(text: str):
        (tmp_path / "b.csv").write_text(text)
        args = ["--plan", tmp_path / "plan.csv", "--actuals", tmp_path / "b.csv"]
        out = cli("track", *base, *args, "--out", tmp_path / "progress.csv")
        upload = {"actuals": (io.BytesIO(text.encode()), "b.csv")}
        resp = client.post(
            f"/v1/plans/{pid}/progress", data=upload, content_type="multipart/form-data"
        )
        return out, resp

    out, resp = both(SPREADSHEET)
    assert out.exit_code == 0, out.output
    assert resp.status_code == 201, resp.get_data(as_text=True)
    by_cli = pd.read_csv(tmp_path / "progress.csv", keep_default_na=False).set_index("rep_id")
    by_api = pd.DataFrame(resp.get_json()["reps"]).set_index("rep_id").loc[by_cli.index]
    booked = {"R000": 120_000.0, "R001": 31_200.0, "R002": 1_500.5}
    for rep, amount in booked.items():
        assert by_cli.loc[rep, "actual_to_date"] == pytest.approx(amount)
        assert by_api.loc[rep, "actual_to_date"] == pytest.approx(amount)
    np.testing.assert_allclose(by_cli["due_to_date"], by_api["due_to_date"], rtol=1e-6)
    assert by_cli["flags"].tolist() == by_api["flags"].tolist()
    assert resp.get_json()["summary"]["as_of"] == "2026-04-30"
    # The snapshot keeps the bookings as read: amounts as numbers.
    snap = resp.get_json()["id"]
    with client.application.app_context():
        kept = client.application.extensions["quotaplan.store"].progress_snapshot(snap).request
    assert [r["revenue"] for r in kept["actuals"]] == [120_000.0, 1_200.0, 30_000.0, 1_500.5]
    assert kept["actuals"][1] == {"rep_id": "R001", "period": "2026-01", "date": None,
                                  "revenue": 1_200.0}  # fmt: skip

    out, resp = both(SPREADSHEET + "R003,2026-04,twelve\n")
    assert out.exit_code == 1
    said = "b.csv column 'revenue': revenue must be a number >= 0 at line 6"
    assert said in out.output
    assert said in problem(resp, 422)["detail"]


def test_uploaded_bookings_take_their_settings_as_json(client):
    plan = client.post("/v1/plans", json=plan_body()).get_json()
    rows = pd.DataFrame(bookings(plan, range(1, 7), slow="R000"))
    upload = {
        "actuals": (io.BytesIO(rows.to_csv(index=False).encode()), "b.csv"),
        "settings": json.dumps({"as_of": "2026-06-30", "grain": "week"}),
    }
    resp = client.post(
        f"/v1/plans/{plan['id']}/progress", data=upload, content_type="multipart/form-data"
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["summary"]["as_of"] == "2026-06-30"
    assert "week" in resp.get_json()["phased"][0]
    upload = {"actuals": (io.BytesIO(rows.to_csv(index=False).encode()), "b.csv")}
    relief = client.post(
        f"/v1/plans/{plan['id']}/relief", data=upload, content_type="multipart/form-data"
    )
    assert relief.status_code == 200, relief.get_data(as_text=True)
    assert relief.get_json()["kept_number"]
    bad = {"actuals": (io.BytesIO(b"rep_id,period,revenue\n"), "b.csv"), "settings": "[1]"}
    problem(client.post(f"/v1/plans/{plan['id']}/relief", data=bad,
                        content_type="multipart/form-data"), 422)  # fmt: skip
    wrong = {"actuals": (io.BytesIO(b"rep_id,period,revenue\n"), "b.csv"),
             "settings": json.dumps({"grain": "day"})}  # fmt: skip
    problem(client.post(f"/v1/plans/{plan['id']}/progress", data=wrong,
                        content_type="multipart/form-data"), 422)  # fmt: skip

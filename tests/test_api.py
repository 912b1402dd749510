"""The HTTP API through Flask's test client, against a real SQLite file."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from builders import plan_body, problem, tables

from api.app import create_app
from api.auth import digest, read_tokens


def test_health(client):
    resp = client.get("/v1/health")
    assert resp.status_code == 200
    assert resp.get_json()["database"] == "ok"


def test_plans_are_versioned_listed_and_read_back(client):
    first = client.post("/v1/plans", json=plan_body())
    assert first.status_code == 201, first.get_data(as_text=True)
    one = first.get_json()
    assert one["version"] == 1 and one["kind"] == "plan"
    assert first.headers["Location"].endswith(f"/v1/plans/{one['id']}")
    assert one["total_quota"] == pytest.approx(plan_body()["target"], rel=1e-6)
    assert len(one["quotas"]) == 24 and len(one["reps"]) == 6
    second = client.post(
        "/v1/plans", json=plan_body(target=plan_body()["target"] * 0.97)
    ).get_json()
    assert second["version"] == 2
    listed = client.get("/v1/scenarios/FY26/plans").get_json()
    assert [p["version"] for p in listed["plans"]] == [1, 2]
    again = client.get(f"/v1/plans/{one['id']}").get_json()
    assert again["quotas"] == one["quotas"]  # never overwritten by version 2
    scenarios = client.get("/v1/scenarios").get_json()["scenarios"]
    assert scenarios[0]["name"] == "FY26" and scenarios[0]["plans"] == 2


def test_plan_as_csv_is_safe_for_spreadsheets(client):
    forecast, roster, total = tables(names=["=HYPERLINK(1)", "+SUM(A1)", "R3", "@cmd"])
    body = {"scenario": "csv", "target": total, "forecast": forecast, "roster": roster}
    plan_id = client.post("/v1/plans", json=body).get_json()["id"]
    resp = client.get(f"/v1/plans/{plan_id}", headers={"Accept": "text/csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    table = pd.read_csv(io.StringIO(resp.get_data(as_text=True)))
    assert set(table["rep_id"]) == {"'=HYPERLINK(1)", "'+SUM(A1)", "R3", "'@cmd"}
    assert table["quota"].sum() == pytest.approx(total, rel=1e-6)


def test_an_impossible_number_is_a_422_with_the_diagnosis_and_nothing_is_stored(client):
    assert client.post("/v1/plans", json=plan_body()).status_code == 201
    body = problem(client.post("/v1/plans", json=plan_body(target="50M")), 422)
    assert "exceeds realistic capacity" in body["detail"]
    assert body["diagnosis"][0]["limit"] == "capacity"
    assert body["fixes"][0]["changes"]["target"] < 50e6
    assert len(client.get("/v1/scenarios/FY26/plans").get_json()["plans"]) == 1


def test_a_problem_is_valid_json_even_without_an_amount(app):
    """A diagnosis with no amount (the number and a team's target that cannot both hold: no
    single change is enough) says so with null: NaN is not JSON, and a browser's parser
    refuses the whole answer."""
    from api.problems import problem as answer

    with app.app_context():
        resp = answer(422, "Impossible plan", "...", diagnosis=[{"amount": float("nan")}],
                      fixes=[{"changes": {"target": float("inf")}}])  # fmt: skip

    def refuse(name):
        raise AssertionError(f"{name} in the JSON: {resp.get_data(as_text=True)}")

    out = json.loads(resp.get_data(as_text=True), parse_constant=refuse)
    assert out["diagnosis"] == [{"amount": None}] and out["fixes"][0]["changes"]["target"] is None


@pytest.mark.parametrize(
    ("send", "status", "words"),
    [
        (dict(data="{not json", content_type="application/json"), 400, "not valid JSON"),
        (dict(data="scenario=x", content_type="text/plain"), 415, "Content-Type"),
        (dict(json={"scenario": "x"}), 422, "roster"),
        # An amount is refused in words, once (not as a number's and a pattern's errors).
        (dict(json=plan_body(target="twelve")), 422, "target: cannot read the amount 'twelve'"),
        (
            dict(json=plan_body(limits={"team_targets": {"T": -5}})),
            422,
            "limits.team_targets.T: the amount must be a positive number, got -5",
        ),
        (dict(json=plan_body(policy="ask-the-cfo")), 422, "policy"),
        (dict(json={k: v for k, v in plan_body().items() if k != "target"}), 422, "either"),
        (dict(json=plan_body(target=None)), 422, "target"),
        (dict(json={**plan_body(), "history": []}), 422, "history"),
        (dict(json=plan_body(limits={"cap_quantile": 1.5})), 422, "limits.cap_quantile"),
        (
            dict(
                data=json.dumps(plan_body()).replace('"q50": 1', '"q50": NaN, "x": 1', 1),
                content_type="application/json",
            ),
            422,
            "q50",
        ),
        (dict(json=plan_body(limits={"locks": [{"rep_id": "NOBODY", "quota": 5}]})), 422, "NOBODY"),
    ],
)
def test_bad_requests_get_a_problem_naming_the_field(client, send, status, words):
    body = problem(client.post("/v1/plans", **send), status)
    assert words in body["detail"]


def test_invalid_rows_are_reported_by_the_data_layer(client):
    forecast, roster, total = tables()
    roster.append(dict(roster[0]))  # a duplicate rep
    body = problem(
        client.post(
            "/v1/plans",
            json={"scenario": "x", "target": total, "forecast": forecast, "roster": roster},
        ),
        422,
    )
    assert "R000" in body["detail"] and body["problems"]


def test_unknown_things_are_404_problems(client):
    problem(client.get("/v1/plans/999"), 404)
    problem(client.get("/v1/scenarios/nope/plans"), 404)
    problem(client.get("/v1/nothing-here"), 404)
    problem(client.delete("/v1/plans/1"), 404)  # no plan 1: the id is unknown whatever the method
    client.post("/v1/plans", json=plan_body())
    problem(client.delete("/v1/plans/1"), 405)


def test_request_and_roster_limits(tmp_path):
    small = create_app({"DATABASE": str(tmp_path / "a.db"), "MAX_REQUEST_BYTES": 2000})
    body = problem(small.test_client().post("/v1/plans", json=plan_body()), 413)
    assert "QUOTAPLAN_MAX_REQUEST_BYTES" in body["detail"]
    few = create_app({"DATABASE": str(tmp_path / "b.db"), "MAX_REPS": 5})
    body = problem(few.test_client().post("/v1/plans", json=plan_body()), 413)
    assert "6 reps" in body["detail"] and "QUOTAPLAN_MAX_REPS" in body["detail"]


def test_base_version_conflict_is_409(client):
    client.post("/v1/plans", json=plan_body())
    assert client.post("/v1/plans", json=plan_body(base_version=1)).status_code == 201
    body = problem(client.post("/v1/plans", json=plan_body(base_version=1)), 409)
    assert body["latest_version"] == 2


def test_compare_two_plans(client):
    a = client.post("/v1/plans", json=plan_body()).get_json()
    b = client.post("/v1/plans", json=plan_body(target=plan_body()["target"] * 1.05)).get_json()
    cmp = client.get(f"/v1/plans/{a['id']}/compare/{b['id']}").get_json()
    assert cmp["total_difference"] == pytest.approx(b["total_quota"] - a["total_quota"], rel=1e-6)
    by_rep = {r["rep_id"]: r for r in cmp["reps"]}
    assert len(by_rep) == 6
    ra = {r["rep_id"]: r["annual_quota"] for r in a["reps"]}
    assert by_rep["R000"]["annual_a"] == pytest.approx(ra["R000"])
    assert all(r["difference"] >= -1e-6 for r in cmp["reps"])  # a bigger number lowers no one


def test_replan_stores_a_new_version(client):
    a = client.post("/v1/plans", json=plan_body()).get_json()
    q1 = [
        {"rep_id": q["rep_id"], "period": q["period"], "revenue": q["quota"] * 0.8}
        for q in a["quotas"]
        if q["period"] == "2026Q1"
    ]
    resp = client.post(f"/v1/plans/{a['id']}/replan", json={"actuals": q1, "at_risk_below": 0.4})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    r = resp.get_json()
    assert (r["kind"], r["parent_id"], r["version"]) == ("replan", a["id"], 2)
    assert r["total_quota"] == pytest.approx(a["total_quota"], rel=1e-6)
    assert "at_risk" in r["reps"][0]
    problem(client.post(f"/v1/plans/{a['id']}/replan", json={"actuals": []}), 422)


def test_a_replan_can_change_the_limits_and_later_steps_keep_them(client):
    """A fix a diagnosis offers (a higher cap...) can be applied mid-year: the re-plan takes
    the limits whole, stores them, and a re-plan of that re-plan keeps them."""
    a = client.post("/v1/plans", json=plan_body()).get_json()
    q1 = [
        {"rep_id": q["rep_id"], "period": q["period"], "revenue": q["quota"]}
        for q in a["quotas"]
        if q["period"] == "2026Q1"
    ]
    wider = {"cap_quantile": 0.95, "max_increase": None, "phasing_band": 0.5}
    r = client.post(f"/v1/plans/{a['id']}/replan", json={"actuals": q1, "limits": wider})
    assert r.status_code == 201, r.get_data(as_text=True)
    b = r.get_json()
    stored = client.get(f"/v1/plans/{b['id']}/inputs").get_json()["limits"]
    assert (stored["cap_quantile"], stored["max_increase"], stored["phasing_band"]) == (
        0.95, None, 0.5,
    )  # fmt: skip
    own = client.get(f"/v1/plans/{a['id']}/inputs").get_json().get("limits", {})
    assert own.get("cap_quantile", 0.9) == 0.9  # the plan revised keeps its own
    c = client.post(f"/v1/plans/{b['id']}/replan", json={"actuals": q1}).get_json()
    assert client.get(f"/v1/plans/{c['id']}/inputs").get_json()["limits"]["cap_quantile"] == 0.95
    bad = problem(
        client.post(f"/v1/plans/{a['id']}/replan", json={"actuals": q1, "limits": {"cap": 1}}),
        422,
    )
    assert "cap" in json.dumps(bad)
    # The solve uses them: a cap at P20 cannot carry the number.
    tight = {"cap_quantile": 0.2, "floor_quantile": None}
    low = client.post(f"/v1/plans/{a['id']}/replan", json={"actuals": q1, "limits": tight})
    assert problem(low, 422)["title"] == "Impossible plan"


def test_plan_from_uploaded_csv_files(client, tmp_path):
    forecast, roster, total = tables()
    files = {
        "forecast": (io.BytesIO(pd.DataFrame(forecast).to_csv(index=False).encode()), "f.csv"),
        "roster": (io.BytesIO(pd.DataFrame(roster).to_csv(index=False).encode()), "r.csv"),
        "settings": json.dumps({"scenario": "upload", "target": f"{total / 1e6:.6f}M"}),
    }
    resp = client.post("/v1/plans", data=files, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    stored = resp.get_json()
    # The stored request holds the uploaded rows, so the plan can be re-planned from it.
    q1 = [
        {"rep_id": q["rep_id"], "period": q["period"], "revenue": q["quota"]}
        for q in stored["quotas"]
        if q["period"] == "2026Q1"
    ]
    assert client.post(f"/v1/plans/{stored['id']}/replan", json={"actuals": q1}).status_code == 201
    bad = {"roster": (io.BytesIO(b"rep_id,team\nR1,A\n"), "r.csv"), "settings": "{oops"}
    problem(client.post("/v1/plans", data=bad, content_type="multipart/form-data"), 400)


def test_tokens_roles_and_hashes(tmp_path):
    (tmp_path / "tokens.txt").write_text(
        f"viewer vera sha256:{digest('v-secret')}\nplanner pat sha256:{digest('p-secret')}\n"
    )
    tokens = read_tokens(tmp_path / "tokens.txt")
    assert "v-secret" not in (tmp_path / "tokens.txt").read_text()
    client = create_app(
        {"DATABASE": str(tmp_path / "q.db"), "TOKENS_FILE": str(tmp_path / "tokens.txt")}
    ).test_client()
    assert len(tokens) == 2
    problem(client.post("/v1/plans", json=plan_body()), 401)
    problem(
        client.post("/v1/plans", json=plan_body(), headers={"Authorization": "Bearer nope"}), 401
    )
    body = problem(
        client.post("/v1/plans", json=plan_body(), headers={"Authorization": "Bearer v-secret"}),
        403,
    )
    assert "planner" in body["detail"]
    ok = client.post("/v1/plans", json=plan_body(), headers={"Authorization": "Bearer p-secret"})
    assert ok.status_code == 201 and ok.get_json()["created_by"] == "pat"
    got = client.get("/v1/plans/1", headers={"Authorization": "Bearer v-secret"})
    assert got.status_code == 200
    assert client.get("/v1/health").status_code == 200  # health needs no token


def test_openapi_document_lists_every_endpoint(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/v1/plans",
        "/v1/plans/{plan_id}",
        "/v1/plans/{plan_id}/replan",
        "/v1/plans/{plan_id}/compare/{other_id}",
        "/v1/scenarios/{name}/plans",
        "/v1/forecasts",
        "/v1/health",
    } <= set(doc["paths"])
    post = doc["paths"]["/v1/plans"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PlanRequest"
    )
    assert "PlanRequest" in doc["components"]["schemas"]


def test_the_api_reference_is_up_to_date():
    from pathlib import Path

    from api.reference import render

    path = Path(__file__).resolve().parent.parent / "docs" / "api.md"
    assert path.read_text() == render(), "regenerate: python -m api.reference > docs/api.md"


def test_the_api_reference_shows_the_fields_of_nested_bodies():
    """A body's limits and rows are documented field by field, not only named (the plan's
    PlanLimits had no table: a planner could not find smoothness or locks)."""
    from api.reference import render

    plan = render().split("## POST /v1/plans\n", 1)[1].split("\n## ", 1)[0]
    assert "| `limits` | PlanLimits |" in plan and "`PlanLimits`:" in plan
    for field in ("smoothness", "team_targets", "locks", "cap_quantile"):
        assert f"| `{field}` |" in plan, field
    assert "| `forecast` | array of ForecastRow |" in plan and "`Lock`:" in plan


def forecast_from_sample(client, roster_csv: bytes, **form) -> dict:
    """The forecast (its JSON) from the bundled sample's history and ``roster_csv``, uploaded
    as files with the ``form`` fields."""
    from datasets.bundled import HISTORY_CSV

    files = {
        "history": (io.BytesIO(HISTORY_CSV.read_bytes()), "history.csv"),
        "roster": (io.BytesIO(roster_csv), "roster.csv"),
        **form,
    }
    resp = client.post("/v1/forecasts", data=files, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def plan_from_forecast(client, scenario: str, forecast: dict, roster: pd.DataFrame):
    """The plan request for 80M from the forecast's id and ``roster`` (as JSON rows), and the
    plan made (its JSON)."""
    body = {
        "scenario": scenario,
        "target": "80M",
        "forecast_id": forecast["id"],
        "roster": json.loads(roster.to_json(orient="records")),
    }
    plan = client.post("/v1/plans", json=body)
    assert plan.status_code == 201, plan.get_data(as_text=True)
    return body, plan.get_json()


@pytest.mark.slow
def test_forecast_from_the_sample_then_plan_from_its_id(client):
    from datasets.bundled import ROSTER_CSV

    fc = forecast_from_sample(client, ROSTER_CSV.read_bytes())
    assert {"rep_id", "period", "q10", "q50", "q90"} <= set(fc["rows"][0])
    assert client.get(f"/v1/forecasts/{fc['id']}").get_json()["rows"] == fc["rows"]
    body, plan = plan_from_forecast(client, "from-forecast", fc, pd.read_csv(ROSTER_CSV))
    assert plan["total_quota"] == pytest.approx(80e6, rel=1e-6)
    body = problem(client.post("/v1/plans", json={**body, "forecast_id": 999}), 422)
    assert "no forecast 999" in body["detail"]


def test_a_solver_time_limit_is_a_503(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "q.db"), "SOLVER_TIME_LIMIT": 1e-9})
    # Smoothness takes the general model, where HiGHS's time limit applies.
    resp = app.test_client().post("/v1/plans", json=plan_body(limits={"smoothness": 0.5}))
    body = problem(resp, 503)
    assert "time limit" in body["detail"] and resp.headers["Retry-After"]


def test_a_stored_plan_is_reproduced_from_its_inputs(client):
    forecast, roster, total = tables()
    files = {
        "forecast": (io.BytesIO(pd.DataFrame(forecast).to_csv(index=False).encode()), "f.csv"),
        "roster": (io.BytesIO(pd.DataFrame(roster).to_csv(index=False).encode()), "r.csv"),
        "settings": json.dumps({"scenario": "repro", "target": total * 0.98}),
    }
    first = client.post("/v1/plans", data=files, content_type="multipart/form-data").get_json()
    inputs = client.get(f"/v1/plans/{first['id']}/inputs").get_json()
    assert inputs["scenario"] == "repro" and len(inputs["forecast"]) == 24
    again = client.post("/v1/plans", json=inputs).get_json()
    assert again["version"] == 2
    a = pd.DataFrame(first["quotas"]).set_index(["rep_id", "period"])["quota"]
    b = pd.DataFrame(again["quotas"]).set_index(["rep_id", "period"])["quota"]
    pd.testing.assert_series_equal(a, b, rtol=1e-9)


def _deals_export(n: int = 2000) -> bytes:
    """A CRM pipeline export used as a history by mistake: thousands of open deals with blank
    close dates and extra columns."""
    rows = ["sales_agent,deal_stage,period,revenue,account"]
    rows += [
        f"A{i % 30},{'Won' if i % 3 == 0 else 'Engaging'},{'2025-03' if i % 3 == 0 else ''},{'5' if i % 3 == 0 else ''},acme"
        for i in range(n)
    ]
    return ("\n".join(rows) + "\n").encode()


def test_uploaded_file_errors_are_a_few_lines_naming_file_lines(client):
    _, roster, _ = tables()
    files = {
        "history": (io.BytesIO(_deals_export()), "pipeline.csv"),
        "roster": (io.BytesIO(pd.DataFrame(roster).to_csv(index=False).encode()), "r.csv"),
        "settings": json.dumps({"scenario": "crm", "target": "10M"}),
    }
    resp = client.post("/v1/plans", data=files, content_type="multipart/form-data")
    body = problem(resp, 422)
    assert len(resp.get_data()) < 5000  # a few lines, not one entry per row
    assert len(body["problems"]) <= 5
    text = body["detail"]
    assert "'sales_agent'" in text and "rep_id" in text  # the column to rename, by name
    # The data layer reads the file first: after the rename, rows are named by file line.
    fixed = _deals_export().replace(b"sales_agent", b"rep_id")
    files["history"] = (io.BytesIO(fixed), "pipeline.csv")
    files["roster"] = (io.BytesIO(pd.DataFrame(roster).to_csv(index=False).encode()), "r.csv")
    resp = client.post("/v1/plans", data=files, content_type="multipart/form-data")
    body = problem(resp, 422)
    assert len(resp.get_data()) < 5000
    assert (
        "unreadable period ('<blank>') at line 3, line 4, line 6, line 7, line 9 and"
        in (body["detail"])
    )
    assert all(len(p["rows"]) <= 5 and p["n_rows"] >= len(p["rows"]) for p in body["problems"])


def test_json_row_errors_are_grouped_not_listed_one_per_row(client):
    forecast, roster, total = tables()
    history = [{"rep_id": "R000", "period": "2025Q1", "revenue": "lots"} for _ in range(500)]
    resp = client.post(
        "/v1/plans",
        json={"scenario": "x", "target": total, "history": history, "roster": roster},
    )
    body = problem(resp, 422)
    assert len(body["errors"]) == 1 and body["errors"][0]["n_rows"] == 500
    assert body["errors"][0]["rows"] == ["row 0", "row 1", "row 2", "row 3", "row 4"]
    assert "history[].revenue" in body["detail"] and "and 495 more" in body["detail"]


def test_the_fiscal_calendar_is_stored_with_the_plan_and_used_by_replan_and_tracking(client):
    forecast, roster, total = tables()
    for row in forecast:
        row["fiscal_year_start"] = 12  # as quotaplan forecast --fiscal-year-start 12 writes it
    made = client.post(
        "/v1/plans",
        json={"scenario": "aw", "target": total, "forecast": forecast, "roster": roster},
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    plan = made.get_json()
    assert plan["summary"]["fiscal_year_start"] == 12
    inputs = client.get(f"/v1/plans/{plan['id']}/inputs").get_json()
    assert inputs["fiscal_year_start"] == 12
    other = problem(
        client.post(
            "/v1/plans",
            json={
                "scenario": "aw",
                "target": total,
                "forecast": forecast,
                "roster": roster,
                "fiscal_year_start": 1,
            },
        ),
        422,
    )
    assert "made with fiscal years starting in month 12" in other["detail"]
    q1 = [
        {"rep_id": q["rep_id"], "period": q["period"], "revenue": q["quota"]}
        for q in plan["quotas"]
        if q["period"] == "2026Q1"
    ]
    re = client.post(f"/v1/plans/{plan['id']}/replan", json={"actuals": q1})
    assert re.status_code == 201 and re.get_json()["summary"]["fiscal_year_start"] == 12
    # December 2025 is the first month of fiscal 2026Q1; a closed quarter's total is taken.
    months = [{"rep_id": r["rep_id"], "period": "2025-12", "revenue": 1000.0} for r in roster]
    progress = client.post(f"/v1/plans/{plan['id']}/progress", json={"actuals": months})
    assert progress.status_code == 201, progress.get_data(as_text=True)
    assert progress.get_json()["summary"]["as_of"] == "2025-12-31"
    totals = client.post(f"/v1/plans/{plan['id']}/progress", json={"actuals": q1})
    assert totals.status_code == 201, totals.get_data(as_text=True)
    assert totals.get_json()["summary"]["closed_quarters"] == ["2026Q1"]
    wrong = problem(
        client.post(
            f"/v1/plans/{plan['id']}/progress", json={"actuals": months, "fiscal_year_start": 1}
        ),
        422,
    )
    assert "fiscal years starting in month 12" in wrong["detail"]


@pytest.mark.slow
def test_forecast_and_plan_warn_about_reps_with_no_history_and_no_hire_date(client):
    from datasets.bundled import ROSTER_CSV

    roster = pd.read_csv(ROSTER_CSV)
    extra = pd.DataFrame({"rep_id": ["NEW1"], "team": [roster["team"].iloc[0]]})
    roster = pd.concat([roster, extra], ignore_index=True)
    out = forecast_from_sample(client, roster.to_csv(index=False).encode(), fiscal_year_start="1")
    assert any("no history and no hire date: NEW1" in w for w in out["warnings"])
    new = [r for r in out["rows"] if r["rep_id"] == "NEW1"]
    assert new and all(r["q50"] == 0 and "zero until a hire date" in r["basis"] for r in new)
    _, p = plan_from_forecast(client, "warned", out, roster)
    assert any("NEW1" in w for w in p["summary"]["warnings"])
    rep = {r["rep_id"]: r for r in p["reps"]}["NEW1"]
    assert rep["annual_quota"] == 0 and "zero until a hire date" in rep["basis"]
    explained = client.get(f"/v1/plans/{p['id']}/reps/NEW1").get_json()["explanation"]
    assert any("no history, no hire date" in line for line in explained)


def test_a_plan_says_which_reps_limits_gave_way(client):
    """R000's floors (P10) add up to more than +25% on last year's quota: the plan goes ahead,
    and the response says whose limit gave way, to what and why."""
    forecast, roster, total = tables()
    roster[0]["last_year_quota"] = 100_000.0
    resp = client.post("/v1/plans", json=plan_body(roster=roster, target=total * 0.95))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    gave = body["summary"]["limits_gave_way"]
    assert [(g["rep_id"], g["limit"], g["gave_way_to"]) for g in gave] == [
        ("R000", "floor", "ratchet")
    ]
    assert "anti-ratchet limit of 125.00k" in gave[0]["why"]
    r000 = next(r for r in body["reps"] if r["rep_id"] == "R000")
    assert r000["annual_quota"] == pytest.approx(125_000) and r000["gave_way"]
    assert body["summary"]["level"]["kind"] == "stretch"


def test_me_says_who_the_token_is(tmp_path):
    assert create_app({"DATABASE": str(tmp_path / "open.db")}).test_client().get(
        "/v1/me"
    ).get_json() == {"name": "anonymous", "role": "approver", "scope": "company", "open": True}
    (tmp_path / "tokens.txt").write_text(
        f"viewer vera sha256:{digest('v-secret')}\n"
        f"approver tina sha256:{digest('a-secret')} team:A\n"
    )
    app = create_app(
        {"DATABASE": str(tmp_path / "q.db"), "TOKENS_FILE": str(tmp_path / "tokens.txt")}
    )
    client = app.test_client()
    problem(client.get("/v1/me"), 401)
    me = client.get("/v1/me", headers={"Authorization": "Bearer v-secret"}).get_json()
    assert me == {"name": "vera", "role": "viewer", "scope": None, "open": False}
    me = client.get("/v1/me", headers={"Authorization": "Bearer a-secret"}).get_json()
    assert me == {"name": "tina", "role": "approver", "scope": "team:A", "open": False}
    doc = client.get("/openapi.json").get_json()
    assert doc["paths"]["/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]


def _multipart_files(history: bytes, roster: bytes) -> dict:
    return {
        "history": (io.BytesIO(history), "history.csv"),
        "roster": (io.BytesIO(roster), "roster.csv"),
    }


@pytest.mark.slow
def test_an_uploaded_plan_can_use_a_stored_forecast(client):
    from datasets.bundled import HISTORY_CSV, ROSTER_CSV

    made = client.post(
        "/v1/forecasts",
        data=_multipart_files(HISTORY_CSV.read_bytes(), ROSTER_CSV.read_bytes()),
        content_type="multipart/form-data",
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    fid = made.get_json()["id"]
    settings = {"scenario": "web", "target": "80M", "forecast_id": fid}
    files = {
        "settings": json.dumps(settings),
        "roster": (io.BytesIO(ROSTER_CSV.read_bytes()), "r.csv"),
    }
    resp = client.post("/v1/plans", data=files, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    plan = resp.get_json()
    assert plan["total_quota"] == pytest.approx(80e6, rel=1e-6)
    assert client.get(f"/v1/plans/{plan['id']}/inputs").get_json()["forecast_id"] == fid
    # An unknown forecast is named as the field; two sources at once are refused.
    files = {"settings": json.dumps({**settings, "forecast_id": fid + 99}),
             "roster": (io.BytesIO(ROSTER_CSV.read_bytes()), "r.csv")}  # fmt: skip
    body = problem(client.post("/v1/plans", data=files, content_type="multipart/form-data"), 422)
    assert body["detail"].startswith("forecast_id: there is no forecast")
    files = {"settings": json.dumps(settings),
             "roster": (io.BytesIO(ROSTER_CSV.read_bytes()), "r.csv"),
             "history": (io.BytesIO(HISTORY_CSV.read_bytes()), "h.csv")}  # fmt: skip
    body = problem(client.post("/v1/plans", data=files, content_type="multipart/form-data"), 422)
    assert "exactly one of forecast" in body["detail"]


@pytest.mark.parametrize(
    "history, roster",
    [
        ("sample", b"rep,team\nR00001,EMEA-1\n"),  # a renamed column
        ("negative", "sample"),  # a cell the data layer refuses
        (b"rep_id,period\nR00001,2022Q1\n", "sample"),  # a missing column
        (b"rep_id,period,revenue\n", "sample"),  # no rows
    ],
)
def test_upload_problems_are_worded_the_same_for_forecasts_and_plans(client, history, roster):
    from datasets.bundled import HISTORY_CSV, ROSTER_CSV

    h = HISTORY_CSV.read_bytes()
    history = {"sample": h, "negative": h.replace(b"322252.60", b"-5")}.get(history, history)
    roster = ROSTER_CSV.read_bytes() if roster == "sample" else roster
    forecast = client.post(
        "/v1/forecasts", data=_multipart_files(history, roster), content_type="multipart/form-data"
    )
    files = {
        **_multipart_files(history, roster),
        "settings": json.dumps({"scenario": "x", "target": "80M"}),
    }
    plan = client.post("/v1/plans", data=files, content_type="multipart/form-data")
    a, b = problem(forecast, 422), problem(plan, 422)
    assert a["title"] == b["title"] == "Invalid input data"
    assert a["detail"] == b["detail"] and a["problems"] == b["problems"]

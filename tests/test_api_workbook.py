"""The plan's Excel export, read back with openpyxl: the rep x quarter sheet (team subtotals,
the company total, money formatted, the header frozen, columns sized), the notes sheet (the
plan's settings, no solver timings), and ids and team names kept as text."""

from __future__ import annotations

import io

import openpyxl
import pytest
from builders import plan_body, tables

from api.app import create_app
from api.workbook import MONEY, SHARE
from optimizer.wording import money

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(tmp_path):
    return create_app({"DATABASE": str(tmp_path / "q.db")}).test_client()


def export(client, plan_id):
    resp = client.get(f"/v1/plans/{plan_id}", headers={"Accept": XLSX})
    assert resp.status_code == 200 and resp.mimetype == XLSX
    assert f"plan-{plan_id}-v" in resp.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(resp.data))


def notes(book) -> dict:
    rows = list(book["notes"].iter_rows(values_only=True))
    assert rows[0] == ("Setting", "Value")
    out = {}
    for label, value in rows[1:]:
        out.setdefault(label, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def test_the_rep_by_quarter_sheet_adds_up_by_team_and_company(client):
    forecast, roster, total = tables(8)
    roster[7]["team"] = "C"
    body = plan_body(forecast=forecast, roster=roster, target=total,
                     limits={"over_assignment": 0.05})  # fmt: skip
    plan = client.post("/v1/plans", json=body).get_json()
    book = export(client, plan["id"])
    assert book.sheetnames == ["plan", "notes", "quotas", "reps"]
    ws = book["plan"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Rep", "Team", "Region", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "Annual")
    annual = {r["rep_id"]: r["annual_quota"] for r in plan["reps"]}
    quarterly = {(q["rep_id"], q["period"]): q["quota"] for q in plan["quotas"]}
    reps_seen, teams = [], {}
    team_rows = []
    for row in rows[1:-1]:
        rep, team, region, *money = row
        assert money[-1] == pytest.approx(sum(money[:-1]), rel=1e-12)
        if rep == "Subtotal":
            teams[team] = money
            mine = [r for r in team_rows if r[1] == team]
            assert mine, team  # a team's subtotal follows its reps
            for j in range(5):
                assert money[j] == pytest.approx(sum(r[3 + j] for r in mine), rel=1e-12)
            team_rows = []
        else:
            reps_seen.append(rep)
            team_rows.append(row)
            assert money[-1] == pytest.approx(annual[rep], rel=1e-9)
            assert money[0] == pytest.approx(quarterly[(rep, "2026Q1")], rel=1e-12)
    assert sorted(reps_seen) == sorted(annual) and sorted(teams) == ["A", "B", "C"]
    company = rows[-1]
    assert company[0] == "Company total"
    assert company[-1] == pytest.approx(plan["total_quota"], rel=1e-9)
    for j in range(5):
        assert company[3 + j] == pytest.approx(sum(t[j] for t in teams.values()), rel=1e-12)
    # Formats: money on every amount, the header frozen, columns as wide as their cells.
    for row in ws.iter_rows(min_row=2, min_col=4, max_col=8):
        assert {c.number_format for c in row} == {MONEY}
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    assert ws[ws.max_row][0].font.b  # the company total stands out
    assert ws.column_dimensions["A"].width >= len("Company total")
    assert ws.column_dimensions["H"].width >= len(f"{company[-1]:,.0f}")
    assert book["quotas"].freeze_panes == "A2"


def test_the_notes_hold_the_settings_and_no_timings(client):
    forecast, roster, total = tables()
    fc = client.post("/v1/forecasts", json={"history": [
        {"rep_id": f["rep_id"], "period": p, "revenue": 1000.0 + i}
        for i, f in enumerate(roster) for p in ("2025Q1", "2025Q2", "2025Q3", "2025Q4")
    ], "roster": roster, "year": 2026})  # fmt: skip
    assert fc.status_code == 201, fc.get_data(as_text=True)
    p50 = {}
    for r in fc.get_json()["rows"]:
        p50[r["rep_id"]] = p50.get(r["rep_id"], 0.0) + r["q50"]
    # The number, team A's target and R001's lock at the forecast's P50s: a plan the narrow
    # bands of this flat history can hold.
    team_a = sum(v for k, v in p50.items() if k in ("R001", "R003", "R005"))
    number, lock = sum(p50.values()), p50["R001"]
    body = {
        "scenario": "notes",
        "target": number,
        "forecast_id": fc.get_json()["id"],
        "roster": roster,
        "policy": "equal-probability",
        "limits": {"over_assignment": 0.0, "team_targets": {"A": team_a}, "max_increase": None,
                   "locks": [{"rep_id": "R001", "period": None, "quota": lock}]},
    }  # fmt: skip
    plan = client.post("/v1/plans", json=body)
    assert plan.status_code == 201, plan.get_data(as_text=True)
    plan = plan.get_json()
    book = export(client, plan["id"])
    n = notes(book)
    assert n["Plan"] == plan["id"] and n["Scenario"] == "notes" and n["Version"] == 1
    assert n["Policy"] == "equal-probability"
    assert n["Company number"] == pytest.approx(number)
    assert n["Over-assignment"] == 0
    assert n["Sum of quotas"] == pytest.approx(plan["total_quota"])
    assert n["Forecast"].startswith(f"stored forecast {fc.get_json()['id']}, made 20")
    assert n["Team targets"] == f"A: {money(team_a)}"
    assert n["Locks"] == f"R001 year: {money(lock)}"
    assert n["Largest increase on last year's quota"] == "none"
    assert n["Cap"] == "P90 of the forecast" and n["Plan year"] == "2026Q1 to 2026Q4"
    assert n["Created"] == plan["created_at"] and n["Exported"].endswith("Z")
    ws = book["notes"]
    formats = {ws.cell(r, 1).value: ws.cell(r, 2).number_format for r in range(2, ws.max_row + 1)}
    assert formats["Company number"] == MONEY and formats["Over-assignment"] == SHARE
    # No solver timings (the summary has them: prepare_s, plan_s, total_s...).
    assert "total_s" in plan["summary"]
    timings = {v for k, v in plan["summary"].items() if k.endswith("_s")}
    cells = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert not timings & set(cells)
    assert not [c for c in cells if isinstance(c, str) and ("second" in c or c.endswith("_s"))]
    # A re-plan says what it revised and which quarters were closed.
    q1 = [{"rep_id": q["rep_id"], "period": q["period"], "revenue": q["quota"]}
          for q in plan["quotas"] if q["period"] == "2026Q1"]  # fmt: skip
    re = client.post(f"/v1/plans/{plan['id']}/replan", json={"actuals": q1}).get_json()
    n = notes(export(client, re["id"]))
    assert n["Re-plan of plan"] == plan["id"] and n["Made from plan"] == plan["id"]
    assert n["Closed quarters (actuals)"] == "2026Q1" and n["Kind"] == "replan"


def test_ids_and_team_names_stay_text(client):
    forecast, roster, total = tables(names=["007", "1e3", "=1+1", "R4", "-5", "@x"])
    roster[0]["team"] = "=SUM(A1)"
    roster[1]["team"] = "0042"
    plan = client.post("/v1/plans", json=plan_body(forecast=forecast, roster=roster,
                                                   target=total)).get_json()  # fmt: skip
    book = export(client, plan["id"])
    ws = book["plan"]
    ids, teams = set(), set()
    for row in ws.iter_rows(min_row=2, max_col=2):
        for cell in row:
            assert cell.data_type in ("s", "n") and cell.data_type != "f"
            if cell.value is not None:
                assert cell.data_type == "s", (cell.coordinate, cell.value)
        ids.add(row[0].value)
        teams.add(row[1].value)
    assert {"007", "1e3", "'=1+1", "'-5", "'@x"} <= ids
    assert {"'=SUM(A1)", "0042"} <= teams
    for sheet in book:
        for row in sheet.iter_rows():
            assert all(c.data_type != "f" for c in row), sheet.title

"""Adjustments before and after they are proposed: the preview (the rebalance an adjustment
would make, nothing stored, refused as the real call is) and the approver's queue (what each
approver may decide now), through the test client against a real SQLite file with tokens."""

from __future__ import annotations

import pytest
from builders import app_with_people, bearer, plan_body, problem

from api.app import create_app
from api.auth import digest

PEOPLE = {
    "pat": ("planner", None),
    "paula": ("planner", None),
    "vera": ("viewer", None),
    "tina": ("approver", "team:A"),
    "tom": ("approver", "team:B"),
    "rex": ("approver", "region:EU"),
    "cleo": ("approver", "company"),
}


@pytest.fixture
def app(tmp_path):
    return app_with_people(tmp_path, PEOPLE)


as_ = bearer


@pytest.fixture
def plan(app):
    resp = app.test_client().post(
        "/v1/plans", json=plan_body(limits={"over_assignment": 0.05}), headers=as_("pat")
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def annual(plan, rep):
    return next(r["annual_quota"] for r in plan["reps"] if r["rep_id"] == rep)


def test_a_preview_shows_the_rebalance_and_stores_nothing(app, plan):
    c = app.test_client()
    pid = plan["id"]
    body = {"rep_id": "R001", "annual_quota": annual(plan, "R001") * 1.05, "reason": "territory"}
    audit_before = c.get(f"/v1/plans/{pid}/audit", headers=as_("vera")).get_json()["entries"]
    resp = c.post(f"/v1/plans/{pid}/adjustments/preview", json=body, headers=as_("pat"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    out = resp.get_json()
    assert (out["plan_id"], out["rep_id"], out["team"]) == (pid, "R001", "A")
    assert out["annual_quota_before"] == pytest.approx(annual(plan, "R001"))
    assert out["annual_quota_after"] == pytest.approx(body["annual_quota"])
    moved = {ch["rep_id"]: ch for ch in out["changes"]}
    assert moved["R001"]["binding"] == "adjustment"
    assert set(moved) <= {"R001", "R003", "R005"} and len(moved) > 1  # team A only
    for ch in out["changes"]:
        assert ch["team"] == "A" and ch["before"] == pytest.approx(annual(plan, ch["rep_id"]))
        assert ch["delta"] == pytest.approx(ch["after"] - ch["before"])
        assert ch["binding"]
    assert out["team_total_after"] == pytest.approx(out["team_total_before"], rel=1e-9)
    team_a = sum(r["annual_quota"] for r in plan["reps"] if r["team"] == "A")
    assert out["team_total_before"] == pytest.approx(team_a)
    # Nothing stored: no adjustment, no audit entry, the plan as it was.
    assert (
        c.get(f"/v1/plans/{pid}/adjustments", headers=as_("vera")).get_json()["adjustments"] == []
    )
    assert c.get(f"/v1/plans/{pid}/audit", headers=as_("vera")).get_json()["entries"] == (
        audit_before
    )
    assert c.get(f"/v1/plans/{pid}", headers=as_("vera")).get_json()["reps"] == plan["reps"]
    # The real call then stores exactly what the preview showed.
    real = c.post(f"/v1/plans/{pid}/adjustments", json=body, headers=as_("pat"))
    assert real.status_code == 201, real.get_data(as_text=True)
    assert real.get_json()["changes"] == out["changes"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda q: q * 3, "over the cap"),
        (lambda q: q, "nothing to adjust"),
        (None, "not in this plan"),
    ],
)
def test_a_preview_is_refused_as_the_real_call_is(app, plan, change, words):
    c = app.test_client()
    rep = "R002" if change else "NOBODY"
    amount = change(annual(plan, "R002")) if change else 1000.0
    body = {"rep_id": rep, "annual_quota": amount, "reason": "stretch goal"}
    url = f"/v1/plans/{plan['id']}/adjustments"
    previewed = problem(c.post(url + "/preview", json=body, headers=as_("pat")), 422)
    real = problem(c.post(url, json=body, headers=as_("pat")), 422)
    assert previewed == real and words in real["detail"]


def test_a_preview_needs_the_role_of_the_real_call(app, plan):
    c = app.test_client()
    body = {"rep_id": "R001", "annual_quota": 1.0, "reason": "why not"}
    problem(c.post(f"/v1/plans/{plan['id']}/adjustments/preview", json=body,
                   headers=as_("vera")), 403)  # fmt: skip
    problem(c.post("/v1/plans/999/adjustments/preview", json=body, headers=as_("pat")), 404)


def test_the_approvers_queue_lists_what_each_may_decide(app, plan):
    c = app.test_client()
    pid = plan["id"]

    def propose(rep, factor, who="pat"):
        body = {"rep_id": rep, "annual_quota": annual(plan, rep) * factor, "reason": f"{rep} up"}
        resp = c.post(f"/v1/plans/{pid}/adjustments", json=body, headers=as_(who))
        assert resp.status_code == 201, resp.get_data(as_text=True)
        return resp.get_json()

    a = propose("R001", 1.03)  # team A
    b = propose("R000", 1.02, who="paula")  # team B

    def queue(who, **query):
        resp = c.get("/v1/adjustments", query_string=query, headers=as_(who))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()

    tina = queue("tina", state="pending")
    assert tina["state"] == "pending" and tina["plan_id"] is None
    assert [x["id"] for x in tina["adjustments"]] == [a["id"]]
    item = tina["adjustments"][0]
    assert (item["plan_id"], item["scenario"], item["plan_version"]) == (pid, "FY26", 1)
    assert (item["rep_id"], item["team"], item["proposed_by"]) == ("R001", "A", "pat")
    assert item["reason"] == "R001 up" and item["level"] == "team:A" and not item["stale"]
    assert item["annual_quota_before"] == pytest.approx(annual(plan, "R001"))
    assert item["annual_quota_after"] == pytest.approx(annual(plan, "R001") * 1.03)
    assert item["created_at"].endswith("Z")
    assert [x["id"] for x in queue("tom")["adjustments"]] == [b["id"]]
    assert queue("rex")["adjustments"] == [] and queue("cleo")["adjustments"] == []
    # Once team A approved, it waits for the region.
    ok = c.post(f"/v1/adjustments/{a['id']}/decision",
                json={"decision": "approve", "comment": "fine"}, headers=as_("tina"))  # fmt: skip
    assert ok.status_code == 200
    assert queue("tina")["adjustments"] == []
    rex = queue("rex")["adjustments"]
    assert [(x["id"], x["level"]) for x in rex] == [(a["id"], "region:EU")]
    assert [d["who"] for d in rex[0]["decisions"]] == ["tina"]
    assert rex[0]["decisions"][0]["at"].endswith("Z")  # like every timestamp, with its Z
    # The plan changed since b was proposed (a applied in place): b would be set aside.
    c.post(f"/v1/adjustments/{a['id']}/decision",
           json={"decision": "approve", "comment": "agreed"}, headers=as_("rex"))  # fmt: skip
    assert [x["stale"] for x in queue("tom")["adjustments"]] == [True]
    # One plan's only; an unknown plan; a state there is no queue of; roles.
    other = c.post("/v1/plans", json=plan_body(scenario="other"), headers=as_("pat")).get_json()
    assert queue("tom", plan_id=other["id"])["adjustments"] == []
    assert len(queue("tom", plan_id=pid)["adjustments"]) == 1
    problem(c.get("/v1/adjustments", query_string={"plan_id": 999}, headers=as_("tom")), 404)
    problem(c.get("/v1/adjustments", query_string={"state": "approved"}, headers=as_("tom")), 422)
    problem(c.get("/v1/adjustments", query_string={"plan_id": "x"}, headers=as_("tom")), 422)
    problem(c.get("/v1/adjustments", headers=as_("pat")), 403)


def test_four_eyes_an_approver_does_not_see_their_own_proposal(tmp_path):
    (tmp_path / "t.txt").write_text(
        f"approver tina sha256:{digest('t')} team:A\napprover tara sha256:{digest('u')} team:A\n"
    )
    app = create_app({"DATABASE": str(tmp_path / "q.db"), "TOKENS_FILE": str(tmp_path / "t.txt")})
    c = app.test_client()
    tina, tara = {"Authorization": "Bearer t"}, {"Authorization": "Bearer u"}
    plan = c.post("/v1/plans", json=plan_body(), headers=tina).get_json()
    body = {"rep_id": "R001", "annual_quota": annual(plan, "R001") * 1.02, "reason": "mine"}
    adj = c.post(f"/v1/plans/{plan['id']}/adjustments", json=body, headers=tina).get_json()
    assert c.get("/v1/adjustments", headers=tina).get_json()["adjustments"] == []
    assert [x["id"] for x in c.get("/v1/adjustments", headers=tara).get_json()["adjustments"]] == [
        adj["id"]
    ]

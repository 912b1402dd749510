"""A plan's whole life through the HTTP API, against a real SQLite file: states, adjustments
approved up the hierarchy, one set of books, the audit log, roles and concurrent approvals."""

from __future__ import annotations

import threading

import pytest
from builders import app_with_people, bearer, plan_body, problem

PEOPLE = {
    "pat": ("planner", None),
    "vera": ("viewer", None),
    "tina": ("approver", "team:A"),
    "tom": ("approver", "team:B"),
    "rex": ("approver", "region:EU"),
    "cleo": ("approver", "company"),
    "R001": ("rep", None),
}


@pytest.fixture
def app(tmp_path):
    return app_with_people(tmp_path, PEOPLE)


as_ = bearer


def approve_all(c, adjustment_id, comment="ok"):
    """Team A's approver, then the region's; returns the last answer."""
    for who in ("tina", "rex"):
        out = c.post(f"/v1/adjustments/{adjustment_id}/decision",
                     json={"decision": "approve", "comment": comment}, headers=as_(who))  # fmt: skip
    return out


def annual(plan, rep):
    return next(r["annual_quota"] for r in plan["reps"] if r["rep_id"] == rep)


@pytest.mark.slow
def test_a_full_cycle(app):
    c = app.test_client()
    plan = c.post("/v1/plans", json=plan_body(limits={"over_assignment": 0.05}), headers=as_("pat"))
    assert plan.status_code == 201, plan.get_data(as_text=True)
    plan = plan.get_json()
    pid = plan["id"]
    assert plan["state"] == "draft"
    before = {r["rep_id"]: r["annual_quota"] for r in plan["reps"]}

    # One set of books: the company number, the quotas' sum, and the uplift between them.
    books = c.get(f"/v1/plans/{pid}/books", headers=as_("vera")).get_json()["levels"]
    company = next(b for b in books if b["level"] == "company")
    assert company["uplift_share"] == pytest.approx(0.05, rel=1e-6)
    assert {b["name"] for b in books if b["level"] == "team"} == {"A", "B"}

    # A manager raises R001 (team A) by 5%: team A is rebalanced, team B untouched.
    new = before["R001"] * 1.05
    body = {"rep_id": "R001", "annual_quota": new, "reason": "won the ACME territory"}
    adj = c.post(f"/v1/plans/{pid}/adjustments", json=body, headers=as_("pat"))
    assert adj.status_code == 201, adj.get_data(as_text=True)
    adj = adj.get_json()
    assert adj["levels"] == ["team:A", "region:EU"] and adj["next_level"] == "team:A"
    moved = {x["rep_id"]: x for x in adj["changes"]}
    assert moved["R001"]["after"] == pytest.approx(new)
    assert set(moved) <= {"R001", "R003", "R005"}  # team A only
    assert sum(x["after"] - x["before"] for x in moved.values()) == pytest.approx(0, abs=1e-3)

    # Approval flows up: team B's approver cannot; team A's, then the region's can.
    problem(c.post(f"/v1/adjustments/{adj['id']}/decision",
                   json={"decision": "approve", "comment": "ok"}, headers=as_("tom")), 403)  # fmt: skip
    problem(c.post(f"/v1/adjustments/{adj['id']}/decision",
                   json={"decision": "approve", "comment": "ok"}, headers=as_("pat")), 403)  # fmt: skip
    one = c.post(f"/v1/adjustments/{adj['id']}/decision",
                 json={"decision": "approve", "comment": "fair"}, headers=as_("tina"))  # fmt: skip
    assert one.status_code == 200 and one.get_json()["plan"] is None
    assert one.get_json()["adjustment"]["next_level"] == "region:EU"
    two = c.post(f"/v1/adjustments/{adj['id']}/decision",
                 json={"decision": "approve", "comment": "agreed"}, headers=as_("rex")).get_json()  # fmt: skip
    assert two["adjustment"]["status"] == "approved" and two["plan"]["id"] == pid  # in place
    draft = c.get(f"/v1/plans/{pid}", headers=as_("vera")).get_json()
    assert annual(draft, "R001") == pytest.approx(new)
    assert annual(draft, "R002") == pytest.approx(before["R002"])
    assert draft["total_quota"] == pytest.approx(plan["total_quota"])

    # An adjustment that breaks a limit is refused with the reason, and nothing is stored.
    bad = {"rep_id": "R002", "annual_quota": before["R002"] * 3, "reason": "stretch goal"}
    refused = problem(c.post(f"/v1/plans/{pid}/adjustments", json=bad, headers=as_("pat")), 422)
    assert "over the cap" in refused["detail"]
    assert (
        len(c.get(f"/v1/plans/{pid}/adjustments", headers=as_("vera")).get_json()["adjustments"])
        == 1
    )

    # States: only forward, each by its role.
    problem(c.post(f"/v1/plans/{pid}/state", json={"to": "approved"}, headers=as_("cleo")), 409)
    assert c.post(f"/v1/plans/{pid}/state", json={"to": "in_review", "comment": "ready"},
                  headers=as_("pat")).status_code == 200  # fmt: skip
    problem(c.post(f"/v1/plans/{pid}/state", json={"to": "approved"}, headers=as_("tina")), 403)
    for to in ("approved", "published"):
        moved_ = c.post(f"/v1/plans/{pid}/state", json={"to": to}, headers=as_("cleo"))
        assert moved_.status_code == 200 and moved_.get_json()["state"] == to

    # Published: an approved adjustment makes a new version; the original stays as it was.
    body = {"rep_id": "R003", "annual_quota": annual(draft, "R003") * 0.97, "reason": "leave"}
    adj2 = c.post(f"/v1/plans/{pid}/adjustments", json=body, headers=as_("pat")).get_json()
    rev = approve_all(c, adj2["id"]).get_json()["plan"]
    assert rev["kind"] == "revision" and rev["parent_id"] == pid and rev["state"] == "published"
    original = c.get(f"/v1/plans/{pid}", headers=as_("vera")).get_json()
    revision = c.get(f"/v1/plans/{rev['id']}", headers=as_("vera")).get_json()
    assert annual(original, "R003") == pytest.approx(annual(draft, "R003"))
    assert annual(revision, "R003") == pytest.approx(annual(draft, "R003") * 0.97)

    # The audit log: every change, who, before, after, why; a rep's history through versions.
    log = c.get(f"/v1/plans/{rev['id']}/audit", headers=as_("vera")).get_json()["entries"]
    actions = [e["action"] for e in log]
    for a in ("plan:plan", "adjustment:proposed", "adjustment:approve", "quota:changed",
              "state:in_review", "state:approved", "state:published"):  # fmt: skip
        assert a in actions
    r001 = c.get(f"/v1/plans/{rev['id']}/audit?rep_id=R001", headers=as_("vera")).get_json()
    changed = [e for e in r001["entries"] if e["action"] == "quota:changed"]
    assert changed[0]["who"] == "rex" and changed[0]["why"] == "won the ACME territory"
    assert changed[0]["before"]["annual_quota"] == pytest.approx(before["R001"])

    # A rep sees only their own quota, explained in words.
    mine = c.get(f"/v1/plans/{rev['id']}/reps/R001", headers=as_("R001"))
    assert mine.status_code == 200, mine.get_data(as_text=True)
    words = " ".join(mine.get_json()["explanation"])
    assert "The forecast says R001 can realistically sell" in words
    assert "by rex (adjustment" in words and "won the ACME territory" in words
    problem(c.get(f"/v1/plans/{rev['id']}/reps/R002", headers=as_("R001")), 403)
    problem(c.get(f"/v1/plans/{rev['id']}", headers=as_("R001")), 403)


def test_concurrent_approvals_cannot_both_win(app):
    c = app.test_client()
    pid = c.post("/v1/plans", json=plan_body(), headers=as_("pat")).get_json()["id"]
    c.post(f"/v1/plans/{pid}/state", json={"to": "in_review"}, headers=as_("pat"))
    barrier, results = threading.Barrier(4), []

    def approve():
        client = app.test_client()
        barrier.wait()
        r = client.post(f"/v1/plans/{pid}/state", json={"to": "approved"}, headers=as_("cleo"))
        results.append(r.status_code)

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409, 409]
    log = c.get(f"/v1/plans/{pid}/audit", headers=as_("vera")).get_json()["entries"]
    assert [e["action"] for e in log].count("state:approved") == 1


def test_the_cli_lists_a_reps_history_and_explains_it(app, tmp_path):
    from click.testing import CliRunner

    from api.cli import main

    c = app.test_client()
    plan = c.post("/v1/plans", json=plan_body(), headers=as_("pat")).get_json()
    body = {"rep_id": "R001", "annual_quota": annual(plan, "R001") * 1.02, "reason": "new logo"}
    adj = c.post(f"/v1/plans/{plan['id']}/adjustments", json=body, headers=as_("pat")).get_json()
    approve_all(c, adj["id"], "agreed")
    db = str(tmp_path / "q.db")
    out = CliRunner().invoke(main, ["history", "--plan", str(plan["id"]), "--database", db])
    assert out.exit_code == 0, out.output
    assert "plan:plan by pat" in out.output and "adjustment:approve by rex" in out.output
    one = CliRunner().invoke(
        main, ["history", "--plan", str(plan["id"]), "--rep", "R001", "--database", db]
    )
    assert one.exit_code == 0, one.output
    assert "The forecast says R001 can realistically sell" in one.output
    assert "by rex (adjustment 1): new logo" in one.output
    missing = CliRunner().invoke(main, ["history", "--plan", "99", "--database", db])
    assert missing.exit_code == 1 and "no plan 99" in missing.output
    args = ["history", "--plan", str(plan["id"]), "--rep", "NOBODY", "--database", db]
    nobody = CliRunner().invoke(main, args)
    assert nobody.exit_code == 1 and "rep 'NOBODY' is not in plan" in nobody.output
    assert "Traceback" not in nobody.output


@pytest.mark.slow
def test_an_adjustment_proposed_before_another_was_applied_is_set_aside(app):
    c = app.test_client()
    plan = c.post("/v1/plans", json=plan_body(), headers=as_("pat")).get_json()
    pid = plan["id"]
    ids = []
    for rep, factor in (("R001", 1.02), ("R003", 0.98)):  # both in team A
        body = {"rep_id": rep, "annual_quota": annual(plan, rep) * factor, "reason": "change"}
        ids.append(
            c.post(f"/v1/plans/{pid}/adjustments", json=body, headers=as_("pat")).get_json()["id"]
        )
    approve_all(c, ids[0])
    after_first = c.get(f"/v1/plans/{pid}", headers=as_("vera")).get_json()
    c.post(f"/v1/adjustments/{ids[1]}/decision",
           json={"decision": "approve", "comment": "ok"}, headers=as_("tina"))  # fmt: skip
    stale = problem(c.post(f"/v1/adjustments/{ids[1]}/decision",
                           json={"decision": "approve", "comment": "ok"}, headers=as_("rex")), 409)  # fmt: skip
    assert "propose it again" in stale["detail"]
    now = c.get(f"/v1/plans/{pid}", headers=as_("vera")).get_json()
    assert now["reps"] == after_first["reps"]  # the first change stands, nothing undone
    listed = c.get(f"/v1/plans/{pid}/adjustments", headers=as_("vera")).get_json()["adjustments"]
    assert [a["status"] for a in listed] == ["approved", "stale"]


def test_an_adjustment_leaves_other_teams_rows_as_they_were(app):
    c = app.test_client()
    plan = c.post("/v1/plans", json=plan_body(), headers=as_("pat")).get_json()
    body = {"rep_id": "R001", "annual_quota": annual(plan, "R001") * 1.02, "reason": "more"}
    adj = c.post(f"/v1/plans/{plan['id']}/adjustments", json=body, headers=as_("pat")).get_json()
    approve_all(c, adj["id"])
    now = c.get(f"/v1/plans/{plan['id']}", headers=as_("vera")).get_json()
    was = {r["rep_id"]: r for r in plan["reps"]}
    for r in now["reps"]:
        if r["team"] == "B":
            assert r == was[r["rep_id"]]  # binding and all, not 'lock'
    assert next(r for r in now["reps"] if r["rep_id"] == "R001")["binding"] == "adjustment"
    words = c.get(f"/v1/plans/{plan['id']}/reps/R001", headers=as_("R001")).get_json()
    assert "set by an approved adjustment" in " ".join(words["explanation"])


def _publish(c, pid):
    r = c.post(f"/v1/plans/{pid}/state", json={"to": "in_review"}, headers=as_("pat"))
    assert r.status_code == 200, r.get_data(as_text=True)
    for to in ("approved", "published"):
        r = c.post(f"/v1/plans/{pid}/state", json={"to": to}, headers=as_("cleo"))
        assert r.status_code == 200, r.get_data(as_text=True)


def _q1(plan, factor=None):
    """The plan's Q1 quotas as actuals (each rep's times ``factor[rep]``, default 1)."""
    factor = factor or {}
    return [
        {"rep_id": q["rep_id"], "period": "2026Q1",
         "revenue": round(q["quota"] * factor.get(q["rep_id"], 1.0), 2)}
        for q in plan["quotas"] if q["period"] == "2026Q1"
    ]  # fmt: skip


@pytest.mark.slow
def test_published_then_replanned_then_adjusted_keeps_every_decision(app):
    """Publish -> adjust (approved, a new version) -> re-plan -> adjust again: the approved
    adjustment survives the re-plan as a lock (unless asked otherwise), and no step moves a
    closed quarter away from its actuals."""
    c = app.test_client()
    plan = c.post("/v1/plans", json=plan_body(), headers=as_("pat")).get_json()
    _publish(c, plan["id"])
    decided = annual(plan, "R001") * 1.04
    body = {"rep_id": "R001", "annual_quota": decided, "reason": "new territory"}
    adj = c.post(f"/v1/plans/{plan['id']}/adjustments", json=body, headers=as_("pat")).get_json()
    rev = approve_all(c, adj["id"]).get_json()["plan"]
    revision = c.get(f"/v1/plans/{rev['id']}", headers=as_("vera")).get_json()
    assert annual(revision, "R001") == pytest.approx(decided)

    # Q1 closes: team B 10% behind its quotas, team A on them.
    actuals = _q1(revision, {r: 0.9 for r in ("R000", "R002", "R004")})
    sold = {a["rep_id"]: a["revenue"] for a in actuals}
    out = c.post(f"/v1/plans/{rev['id']}/replan", json={"actuals": actuals}, headers=as_("pat"))
    assert out.status_code == 201, out.get_data(as_text=True)
    replanned = out.get_json()
    assert annual(replanned, "R001") == pytest.approx(decided, rel=1e-9)  # kept, as a lock
    r001 = next(r for r in replanned["reps"] if r["rep_id"] == "R001")
    assert r001["binding"] == "lock"
    q1 = {q["rep_id"]: q["quota"] for q in replanned["quotas"] if q["period"] == "2026Q1"}
    assert q1 == pytest.approx(sold)
    assert replanned["total_quota"] == pytest.approx(plan["total_quota"], rel=1e-9)

    # Asked not to, the re-plan sets R001 by the policy again.
    free = c.post(f"/v1/plans/{rev['id']}/replan",
                  json={"actuals": actuals, "keep_adjustments": False}, headers=as_("pat"))  # fmt: skip
    assert free.status_code == 201
    assert annual(free.get_json(), "R001") != pytest.approx(decided, rel=1e-6)

    # An adjustment on the re-plan: R003 (team A) down 2%. Team A is rebalanced around it in the
    # open quarters only; R001's decided year holds; every closed cell is still the actual.
    body = {"rep_id": "R003", "annual_quota": annual(replanned, "R003") * 0.98, "reason": "leave"}
    adj2 = c.post(f"/v1/plans/{replanned['id']}/adjustments", json=body, headers=as_("pat"))
    assert adj2.status_code == 201, adj2.get_data(as_text=True)
    approve_all(c, adj2.get_json()["id"])
    final = c.get(f"/v1/plans/{replanned['id']}", headers=as_("vera")).get_json()
    q1 = {q["rep_id"]: q["quota"] for q in final["quotas"] if q["period"] == "2026Q1"}
    assert q1 == pytest.approx(sold, rel=1e-9)
    assert annual(final, "R001") == pytest.approx(decided, rel=1e-9)
    assert annual(final, "R003") == pytest.approx(annual(replanned, "R003") * 0.98, rel=1e-9)
    assert final["total_quota"] == pytest.approx(plan["total_quota"], rel=1e-9)

    # Below what R003 already sold in Q1 is refused, naming it.
    low = {"rep_id": "R003", "annual_quota": sold["R003"] * 0.5, "reason": "typo"}
    refused = problem(c.post(f"/v1/plans/{replanned['id']}/adjustments", json=low,
                             headers=as_("pat")), 422)  # fmt: skip
    assert "already sold" in refused["detail"]


@pytest.mark.slow
def test_a_company_ahead_of_plan_replans_and_gets_relief(app):
    """Q1 far above plan: the open quarters' floors give way (said in the summary), never a
    refusal for being ahead; relief for it too."""
    c = app.test_client()
    plan = c.post("/v1/plans", json=plan_body(), headers=as_("pat")).get_json()
    actuals = _q1(plan, {q["rep_id"]: 3.0 for q in plan["quotas"]})
    out = c.post(f"/v1/plans/{plan['id']}/replan", json={"actuals": actuals}, headers=as_("pat"))
    assert out.status_code == 201, out.get_data(as_text=True)
    s = out.get_json()["summary"]
    ahead = [g for g in s["limits_gave_way"] if g["rep_id"] is None]
    assert ahead and "ahead of plan" in ahead[0]["why"]
    assert out.get_json()["total_quota"] == pytest.approx(plan["total_quota"], rel=1e-9)
    bookings = [
        {"rep_id": a["rep_id"], "period": m, "revenue": round(a["revenue"] / 3, 2)}
        for a in actuals for m in ("2026-01", "2026-02", "2026-03")
    ]  # fmt: skip
    relief = c.post(f"/v1/plans/{plan['id']}/relief",
                    json={"actuals": bookings, "as_of": "2026-03-31"}, headers=as_("pat"))  # fmt: skip
    assert relief.status_code == 200, relief.get_data(as_text=True)
    assert relief.get_json()["kept_number"] is True

"""The plan lifecycle's rules on their own (api.lifecycle); tests/test_api_lifecycle.py runs
them through HTTP and a real database."""

import pytest

from api.lifecycle import (
    MOVES,
    STATES,
    Actor,
    NotAllowed,
    WrongState,
    applies_as_revision,
    approval_levels,
    check_decision,
    check_move,
    is_stale,
    may_propose,
    status_after,
)

PLANNER = Actor("pat", "planner")
COMPANY = Actor("ana", "approver", "company")
TEAM = Actor("tom", "approver", "team:EMEA-1")
OPEN = Actor("anonymous", "approver", "company", open=True)


def test_every_move_joins_two_states_and_the_forward_path_reaches_published():
    assert all(m.frm in STATES and m.to in STATES for m in MOVES.values())
    state, path = "draft", ["draft"]
    for to in ("in_review", "approved", "published"):
        state = check_move(1, state, to, PLANNER if to == "in_review" else COMPANY).to
        path.append(state)
    assert path == list(STATES)


@pytest.mark.parametrize(
    "state, to, actor, error",
    [
        ("draft", "approved", COMPANY, WrongState),  # no skipping review
        ("published", "draft", COMPANY, WrongState),  # a published plan is never sent back
        ("in_review", "approved", PLANNER, NotAllowed),
        ("in_review", "approved", TEAM, NotAllowed),  # a team approver is not company-wide
        ("approved", "published", TEAM, NotAllowed),
    ],
)
def test_refused_moves(state, to, actor, error):
    with pytest.raises(error, match=to):
        check_move(7, state, to, actor)


def test_open_mode_lifts_who_may_act_but_not_the_order_of_states():
    assert check_move(1, "in_review", "approved", Actor("x", "viewer", open=True)).to == "approved"
    with pytest.raises(WrongState):
        check_move(1, "draft", "published", OPEN)


def test_adjustments_wait_for_the_team_then_the_region():
    levels = approval_levels("EMEA-1", "EMEA")
    assert levels == ["team:EMEA-1", "region:EMEA"]
    assert status_after("approve", 0, levels) == "pending"
    assert status_after("approve", 1, levels) == "approved"
    assert status_after("reject", 0, levels) == "rejected"


def test_four_eyes_and_the_level_a_token_approves_at():
    assert check_decision(3, "pending", "team:EMEA-1", "pat", TEAM) == "team:EMEA-1"
    with pytest.raises(NotAllowed, match="four eyes"):
        check_decision(3, "pending", "team:EMEA-1", "tom", TEAM)
    with pytest.raises(NotAllowed, match="waits for region:EMEA"):
        check_decision(3, "pending", "region:EMEA", "pat", TEAM)
    with pytest.raises(WrongState, match="approved"):
        check_decision(3, "approved", None, "pat", TEAM)
    assert check_decision(3, "pending", "region:EMEA", "anonymous", OPEN) == "region:EMEA"


def test_what_changed_meanwhile_makes_an_adjustment_stale_or_unproposable():
    assert may_propose("draft", content_rev=2, version=1, computed_rev=2, latest=5)
    assert not may_propose("draft", content_rev=3, version=1, computed_rev=2, latest=1)
    assert not may_propose("published", content_rev=0, version=1, computed_rev=0, latest=2)
    assert not is_stale(content_rev=1, computed_rev=1, latest=4, computed_version=4)
    assert is_stale(content_rev=2, computed_rev=1, latest=4, computed_version=4)
    assert is_stale(content_rev=1, computed_rev=1, latest=5, computed_version=4)
    assert applies_as_revision("published") and not applies_as_revision("approved")

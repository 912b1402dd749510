"""A plan's life as one state machine: its states, the moves between them, who may make each,
the approval levels of an adjustment and when an approved one is stale.

Pure rules, no Flask and no database, applied by the service (``api.service.states`` and
``api.service.adjustments``, which the HTTP API and the CLI call): :func:`check_move` and
:func:`check_decision` before it acts, :func:`may_propose`, :func:`status_after`,
:func:`is_stale` and :func:`applies_as_revision` inside one write transaction
(``api.storage.Store.writes``: rows and the audit log, no rules). A refusal is a :class:`NotAllowed` (answered 403) or a
:class:`WrongState` (409), each mapped once in ``api.problems``.

States: ``draft -> in_review -> approved -> published`` (``in_review -> draft`` sends a plan
back). A plan changes in place until it is published; after that only through a new version of
its scenario (a revision), so what reps were told is never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("draft", "in_review", "approved", "published")


@dataclass(frozen=True)
class Move:
    """One move: from which state, and the role (and approver scope) it needs."""

    frm: str
    to: str
    role: str
    scope: str | None = None  # an approver's scope the move needs ("company"), None: any


#: Every move, by the state it leads to.
MOVES = {
    "in_review": Move("draft", "in_review", "planner"),
    "approved": Move("in_review", "approved", "approver", "company"),
    "published": Move("approved", "published", "approver", "company"),
    "draft": Move("in_review", "draft", "approver", "company"),  # sent back
}


@dataclass(frozen=True)
class Actor:
    """Who acts: their name, role and scope (``company``, ``team:X``, ``region:Y``). In open
    mode (no tokens, loopback only) every rule on who acts is off."""

    user: str
    role: str
    scope: str | None = None
    open: bool = False


class NotAllowed(Exception):
    """The actor may not do this (403)."""


class WrongState(Exception):
    """The plan or adjustment is not in a state that allows this (409)."""


def check_move(plan_id: int, state: str, to: str, actor: Actor) -> Move:
    """The move from ``state`` to ``to``, if ``actor`` may make it."""
    move = MOVES[to]
    if move.role == "approver" and not actor.open:
        if actor.role != "approver" or (move.scope and actor.scope != move.scope):
            raise NotAllowed(f"moving a plan to {to} needs a {move.scope} approver")
    if state != move.frm:
        raise WrongState(f"plan {plan_id} is {state}; only a plan {move.frm} can move to {to}")
    return move


def approval_levels(team: str, region: str) -> list[str]:
    """The levels an adjustment of a rep waits for, in order: their team, then their region."""
    return [f"team:{team}", f"region:{region}"]


def may_propose(state: str, content_rev: int, version: int, computed_rev: int, latest: int):
    """An adjustment computed against revision ``computed_rev`` of a plan may be stored only if
    the plan has not changed since, and (published) is still its scenario's latest version."""
    return content_rev == computed_rev and (state != "published" or version == latest)


def check_decision(adjustment_id: int, status: str, level: str, proposer: str, actor: Actor):
    """The level ``actor`` decides at, if they may decide the adjustment now: it is pending,
    they did not propose it (four eyes) and their scope is the level it waits for."""
    if status != "pending":
        raise WrongState(f"adjustment {adjustment_id} is {status}")
    if actor.open:
        return level
    if actor.user == proposer:
        raise NotAllowed(
            f"adjustment {adjustment_id} was proposed by '{proposer}', who cannot also decide "
            "it (four eyes): another approver at that level decides"
        )
    if actor.scope != level:
        raise NotAllowed(
            f"adjustment {adjustment_id} waits for {level}; your token approves at {actor.scope}"
        )
    return level


def status_after(decision: str, step: int, levels: list[str]) -> str:
    """An adjustment's status once level ``step`` decided: a rejection ends it, the last
    level's approval approves it, any other approval passes it up."""
    if decision == "reject":
        return "rejected"
    return "approved" if step + 1 == len(levels) else "pending"


def is_stale(content_rev: int, computed_rev: int, latest: int, computed_version: int) -> bool:
    """An approved adjustment computed against a plan that changed since (or a published plan
    with a newer version) is set aside, not applied: applying it would undo the other change
    for the teammates both moved."""
    return content_rev != computed_rev or latest != computed_version


def applies_as_revision(state: str) -> bool:
    """A published plan is never changed in place: an approved adjustment becomes the
    scenario's next version (a revision, itself published)."""
    return state == "published"

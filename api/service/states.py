"""Moving a plan through its states (draft -> in review -> approved -> published, or back to
draft), for ``POST /v1/plans/{id}/state``: the rules are :mod:`api.lifecycle`'s, the row and
its audit entry the store's."""

from __future__ import annotations

from ..lifecycle import Actor, check_move
from .history import plan_record


def move_plan(store, plan_id: int, to: str, actor: Actor, comment: str):
    """Plan ``plan_id`` moved to state ``to`` by ``actor``, if they may; two moves of the same
    plan at once: one wins, the other is a :class:`api.storage.StateConflict` (409)."""
    rec = plan_record(store, plan_id)
    move = check_move(plan_id, rec.state, to, actor)
    return store.move(plan_id, move.frm, move.to, actor.user, comment)

"""A rep's quota explained in words: the forecast behind it, the stretch, the chance of reaching
it, the limit that held it, and every adjustment and approval since (from the audit log)."""

from __future__ import annotations

from types import SimpleNamespace

from optimizer.wording import money

_FIELDS = ("id", "at", "who", "plan_id", "action", "rep_id", "before", "after", "why")


def own_story(history, rep_id: str) -> list:
    """A rep's audit entries (``history``: the log filtered to the rep) as told to that rep: the
    reasons of their own adjustments, and for a change made to rebalance a teammate's
    adjustment only that it was one (a teammate's reason is not theirs to read)."""
    own = {
        (e.after or {}).get("adjustment")
        for e in history
        if e.rep_id == rep_id and e.action.startswith("adjustment:")
    }
    out = []
    for e in history:
        entry = SimpleNamespace(**{f: getattr(e, f) for f in _FIELDS})
        adjustment = (e.after or {}).get("adjustment")
        if e.action == "quota:changed" and adjustment is not None and adjustment not in own:
            entry.why = f"rebalanced for adjustment {adjustment} (a teammate's quota)"
        out.append(entry)
    return out


def rep_explanation(rec, r, history) -> list[str]:
    """Sentences for plan ``rec``'s rep row ``r`` (a Series of the plan's rep table, named by its
    rep_id) and the audit ``history`` of the plan's lineage."""
    rep_id = r.name
    words = [
        f"{rep_id}'s annual quota is {money(r['annual_quota'])} in plan {rec.id} "
        f"(version {rec.version} of {rec.scenario_name}, {rec.state}).",
        f"The forecast says {rep_id} can realistically sell {money(r['annual_p50'])} (P50): the "
        f"quota asks {r['stretch']:.2f}x that, with a {r['p_attain']:.0%} chance of reaching it.",
        _binding_words(r["binding"]),
    ]
    for e in history:
        if e.rep_id != rep_id:
            continue
        if e.action == "quota:changed":
            words.append(
                f"{e.at:%Y-%m-%d}: changed from {money(e.before['annual_quota'])} to "
                f"{money(e.after['annual_quota'])} by {e.who} (adjustment "
                f"{e.after['adjustment']}): {e.why}"
            )
        elif e.action.startswith("adjustment:"):
            level = (e.after or {}).get("level")
            what = e.action.split(":", 1)[1]
            by = f" at {level}" if level else ""
            words.append(f"{e.at:%Y-%m-%d}: adjustment {what}{by} by {e.who}: {e.why}")
    return words


def _binding_words(binding: str) -> str:
    say = {
        "none": "No limit held it: it is the policy's common stretch.",
        "cap": "It is held at the cap: more would overload (above the high forecast quantile).",
        "floor": "It is held at the floor (the low forecast quantile).",
        "ratchet": "It is held by the anti-ratchet limit on last year's quota.",
        "growth-floor": "It is held up by the minimum growth on last year's quota.",
        "ote": "It is held by the quota-to-OTE band.",
        "phasing": "The quarterly phasing band shaped it.",
        "lock": "A planner held it at this value.",
        "adjustment": "It was set by an approved adjustment (below); the rest of the team was "
        "rebalanced around it.",
        "team": "The team's or region's target shaped it.",
    }
    return say.get(binding, f"Bound by: {binding}.")

"""How a plan's figures are written: money and shares, the same everywhere (CLI, API, errors)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import PlanSummary


def money(x: float, places: int = 2) -> str:
    """``1234567`` -> ``"1.23M"``; ``980`` -> ``"980"``; more ``places`` where two would hide a
    difference that matters."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:,.{places}f}{unit}"
    return f"{x:,.0f}"


def exact_money(x: float) -> str:
    """A figure a planner will type back in (a fix's new number or target): as short as
    :func:`money` where that is exact to the cent, with as many more places as it takes
    otherwise (``1114512000`` -> ``"1.114512B"``, where ``money`` says ``"1.11B"``)."""
    for places in range(2, 13):
        text = money(x, places)
        unit = {"B": 1e9, "M": 1e6, "k": 1e3}.get(text[-1], 1.0)
        if abs(float(text.rstrip("BMk").replace(",", "")) * unit - x) < 0.005:
            return text
    return f"{x:,.2f}"


def share(x: float) -> str:
    """A share as a percentage, with a decimal only where it matters: ``0.0042`` -> ``"0.42%"``,
    ``0.196`` -> ``"19.6%"``."""
    return f"{x:.2%}" if abs(x) < 0.01 else f"{x:.1%}"


#: Limit names as a planner reads them (what ``binding`` and the give-way reports say).
LIMIT_WORDS = {
    "actual": "the actuals",
    "lock": "a lock",
    "capacity": "their capacity (fte, ramp, hire or leave)",
    "cap": "the cap",
    "ratchet": "the anti-ratchet limit",
    "growth-floor": "the minimum growth",
    "floor": "the floor",
    "ote": "the quota-to-OTE band",
    "smoothness": "smoothness",
    "phasing": "the phasing band",
}


def headline(summary: PlanSummary, max_gave_way: int = 5) -> list[str]:
    """The lines that say what a plan is: the common level the policy set (apart from the
    cells a floor or a lock holds above it), what 1% more of the number costs in that level,
    and the reps whose own limits gave way."""
    s = summary
    lines = [
        f"Plan ({s.policy}): company number {money(s.company_target)}, over-assignment "
        f"{s.over_assignment:.1%}, quotas total {money(s.total_quota)} over {s.reps} reps",
    ]
    level = s.level
    if level:
        if level.kind == "stretch":
            what = f"Common stretch (quota / P50): {level.value:.2f}"
        else:
            what = (
                f"Common chance of attaining each quarter's quota: {level.chance:.0%} "
                f"(quantile level {level.value:.3f})"
            )
        if level.held_above:
            parts = [
                f"{h.cells} rep-quarter(s) of {h.reps} rep(s) held above it by "
                f"{LIMIT_WORDS.get(name, name)} (stretch up to {h.highest_stretch:.2f})"
                for name, h in level.held_above.items()
            ]
            what += "; " + "; ".join(parts)
        few = level.reps_at_level
        if few is not None and few < s.reps / 2:
            # A level few reps are at is no company-wide figure: the rest sit at their limits.
            what += (
                f" (at it: {few} of {s.reps} reps; the others are held above or below it by "
                "their limits, see 'bound by')"
            )
        lines.append(what)
    lines.append(
        f"Expected share of reps attaining their annual quota: "
        f"{s.expected_share_attaining:.0%}   highest stretch of any quarter: "
        f"{s.max_stretch:.2f}   reps over their cap: {s.reps_over_cap}"
    )
    lines.append(
        f"Solver: {s.solver_status}"
        + (f" ({s.route})" if s.route else "")
        + f"; {s.total_s:.2f} s in all"
    )
    lines += [f"  ({note})" for note in (s.solver.notes if s.solver is not None else ())]
    marginal = s.marginal
    beyond = (
        "Raising the number by 1% is beyond what the limits allow (the plan is impossible there)"
    )
    stretch_cost = marginal.max_stretch_per_1pct_more if marginal is not None else None
    if stretch_cost is not None and level:
        lines.append(
            f"Raising the number by 1% raises the common stretch by {stretch_cost:.3f} (to "
            f"{marginal.max_stretch_at_plus_1pct:.3f})"
            if math.isfinite(stretch_cost)
            else beyond
        )
    chance_cost = marginal.common_chance_per_1pct_more if marginal is not None else None
    if chance_cost is not None:
        lines.append(
            f"Raising the number by 1% lowers the common chance by {-chance_cost * 100:.1f} points"
            if math.isfinite(chance_cost)
            else beyond
        )
    gave = s.limits_gave_way
    if gave:
        reps = {g.rep_id for g in gave if g.rep_id}
        lines.append(
            f"Limits that gave way ({len(reps)} rep(s) whose own limits contradicted each other"
            + (", and groups ahead of plan" if any(g.rep_id is None for g in gave) else "")
            + "; stronger limits win: actuals > locks > capacity > cap > anti-ratchet > "
            "minimum growth > floor > OTE band > smoothness):"
        )
        for g in gave[:max_gave_way]:
            who = g.rep_id or "company"
            lines.append(
                f"  {who}: {LIMIT_WORDS.get(g.limit, g.limit)} gave way to "
                f"{LIMIT_WORDS.get(g.gave_way_to, g.gave_way_to)} by {money(g.amount)}: "
                f"{g.why}"
            )
        if len(gave) > max_gave_way:
            lines.append(
                f"  ... and {len(gave) - max_gave_way} more (the reps table's gave_way column)"
            )
    return lines

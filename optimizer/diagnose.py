"""Why a plan is impossible, and what to change: never a bare "infeasible".

A rep's own limits never make a plan impossible (they give way in order: ``optimizer.ranges``),
so what cannot hold is company-wide: the number, a team or region target, the phasing band,
smoothness together with them, the locks, or the growth floors and OTE bands adding up to more
than the number. The diagnosis asks, family by family, **which single change makes the plan
possible**, and finds the least such change by bisection on the family's setting, with the same
feasibility test the planner uses (the network test on the fast route, HiGHS on the general
model). Every fix it proposes is checked before it is proposed: applying any one of them plans.

- The family that really binds is the most specific one whose change alone makes the plan
  possible (locks, team/region targets, smoothness, phasing, growth floors, OTE band,
  anti-ratchet, floors; capacity last). A number beyond what the reps can carry is a capacity
  finding, with the highest number that fits; a number below what the limits force, with the
  lowest.
- Where no single change is enough, pairs of families are tried, then every limit but the caps
  relaxed at once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .errors import SolverLimitError
from .highs import IPM_VERTEX, SIMPLEX, Solver
from .inputs import PlanData, prepare
from .model import build_plan_model
from .network import excess, plan_network
from .policies import fast_route
from .ranges import bounds, group_targets, rep_limits
from .results import Diagnosis, Finding, Fix, Plan, SolveStatus
from .spec import PlanSpec, parse_amount
from .wording import exact_money, money, share

#: Families, most specific first: the one that "really binds" is the first whose change alone
#: makes the plan possible.
PRIORITY = (
    "locks",
    "group_targets",
    "smoothness",
    "phasing_band",
    "min_increase",
    "ote_band",
    "max_increase",
    "floor_quantile",
    "cap_quantile",
)


class Oracle:
    """Whether a plan is possible, for one company's data with other numbers and limits: the
    same test the policies use (the network on the fast route, HiGHS on the general model).

    On the general model one HiGHS serves every question: the first is answered by the interior
    point with crossover, the next ones by the dual simplex from the last basis (the questions
    differ by a setting, so mostly by bounds), all in one unit of money."""

    def __init__(self, spec: PlanSpec, data: PlanData, solve, time_limit=None):
        self.spec, self.data, self.time_limit = spec, data, time_limit
        self.solve = solve  # plans one spec: where a fix needs the plan itself, not a yes/no
        self.calls = 0
        self.solver = Solver(time_limit)
        self.unit = spec.total / max(data.p50.size, 1)

    def __call__(self, spec: PlanSpec) -> bool:
        self.calls += 1
        lim, total = spec.limits, spec.total
        try:
            if fast_route(self.data, lim):
                net, _ = plan_network(self.data, lim, total)
                return excess(net) <= 0
            m = build_plan_model(self.data, lim, total, unit=self.unit)
            res = self.solver.solve(m, IPM_VERTEX, warm=SIMPLEX)
            if res.status not in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE) and (
                res.algorithm == SIMPLEX.name
            ):
                res = Solver(self.time_limit).solve(m, IPM_VERTEX)  # a fresh start decides
            return res.optimal
        except ValueError:  # settings the limits refuse (e.g. an OTE band out of order)
            return False


def diagnose(
    spec: PlanSpec, solve: Callable[[PlanSpec], Plan], data: PlanData | None = None, time_limit=None
) -> Diagnosis:
    """The diagnosis of an impossible plan (see the module's docstring). ``solve`` plans a spec
    (:func:`optimizer.solve_plan`; passed in, so that solving and diagnosing do not import each
    other)."""
    data = data if data is not None else prepare(spec)
    ok = Oracle(spec, data, solve, time_limit)
    try:
        return _diagnose(spec, data, ok)
    except SolverLimitError:
        return Diagnosis(
            (
                Finding(
                    "unknown",
                    math.nan,
                    math.nan,
                    "the plan is impossible, and the solver ran out of time finding out why; "
                    "raise the time limit",
                ),
            )
        )


def _diagnose(spec: PlanSpec, data: PlanData, ok: Oracle) -> Diagnosis:
    if ok(spec):  # the strict test said no by rounding alone: say so rather than guess
        return Diagnosis(
            (
                Finding(
                    "unknown",
                    math.nan,
                    math.nan,
                    "the plan sits on the edge of its limits (feasible only to rounding); move "
                    "the number by a hair",
                ),
            )
        )
    families = [f for f in PRIORITY if _active(f, spec, data)]
    singles: dict[str, Fix] = {}
    number = _fix_number(spec, data, ok)
    for family in families:
        fix = _fix_family(family, spec, data, ok)
        if fix is not None:
            singles[family] = fix
    # Every fix proposed is checked on the plan as asked.
    singles = {f: x for f, x in singles.items() if ok(x.apply(spec))}
    number = number if number is not None and ok(number.apply(spec)) else None
    # Targets out of reach with the number moving by as much: preferred over shuffling the
    # other targets to make room, when that is what the targets alone would need.
    follow = _fix_groups(spec, data, ok, follow=True) if "group_targets" in families else None
    if follow is not None and (
        "group_targets" not in singles or _reshuffles(spec, data, singles["group_targets"])
    ):
        fixes = [follow] + [singles[f] for f in PRIORITY if f in singles]
        if number is not None:
            fixes.append(number)
        return Diagnosis((_group_finding(spec, data, follow, follow=True),), tuple(fixes))
    if number is not None or singles:
        return _explain_single(spec, data, ok, number, singles)
    for a, b in itertools.combinations(["target", *families], 2):
        fix = _fix_pair(a, b, spec, data, ok)
        if fix is not None:
            return Diagnosis(
                (
                    Finding(
                        "limits",
                        math.nan,
                        math.nan,
                        f"{_label(a, spec)} and {_label(b, spec)} cannot both hold with the "
                        "other limits: no change to one of them alone is enough",
                    ),
                ),
                (fix,),
            )
    fix = _fix_everything(spec, data, ok)
    return Diagnosis(
        (
            Finding(
                "capacity",
                math.nan,
                math.nan,
                "no single change, nor a pair, makes the plan possible"
                + ("" if fix else ": no rep has any capacity in the plan's quarters"),
            ),
        ),
        (fix,) if fix else (),
    )


# --- the families ----------------------------------------------------------------------------


def _active(family: str, spec: PlanSpec, data: PlanData) -> bool:
    lim = spec.limits
    ly = np.isfinite(data.last_year_quota).any()
    return {
        "locks": bool(lim.locks),
        "group_targets": bool(lim.group_targets),
        "smoothness": lim.smoothness is not None,
        "phasing_band": lim.phasing_band is not None,
        "min_increase": lim.min_increase is not None and ly,
        "ote_band": lim.ote_band is not None and np.isfinite(data.ote).any(),
        "max_increase": lim.max_increase is not None and ly,
        "floor_quantile": lim.floor_quantile is not None,
        "cap_quantile": True,
    }[family]


#: The loosest each setting can go (None: the limit is dropped).
LOOSEST = {
    "cap_quantile": 0.995,
    "floor_quantile": None,
    "phasing_band": None,
    "smoothness": None,
    "max_increase": None,
    "min_increase": None,
    "ote_band": None,
    "group_targets": {},
    "locks": {},
}


def _with(spec: PlanSpec, **changes) -> PlanSpec:
    target = changes.pop("target", spec.target)
    limits = spec.limits
    if changes:
        limits = replace(limits, **changes)
    return replace(spec, target=target, attainment=None, limits=limits)


def _fix_family(family, spec, data, ok, base=None) -> Fix | None:
    """The least change to one family's setting that makes ``base`` (default ``spec``) possible."""
    base = base or spec
    try:
        loosest = _with(base, **{family: LOOSEST[family]})
    except ValueError:
        return None
    if not ok(loosest):
        return None
    lim = base.limits
    if family == "group_targets":
        return _fix_groups(base, data, ok)
    if family == "locks":
        return _fix_locks(base, ok)
    if family == "ote_band":
        low, high = lim.ote_band

        def at(f):
            return _with(base, ote_band=(low / f, high * f))

        f = _search(lambda f: ok(at(f)), 1.0, 1000.0, True, lambda f, n: _step(f, 0.01, True, n))
        if f is None:
            return Fix({"ote_band": None}, "drop the quota-to-OTE band")
        # Two decimals, rounded outwards (a wider band only loosens).
        band = (math.floor(low / f * 100) / 100, math.ceil(high * f * 100) / 100)
        if band[0] <= 0:
            band = (low / f, band[1])
        return Fix({"ote_band": band}, f"widen the quota-to-OTE band to {band[0]:g}x-{band[1]:g}x")
    current = getattr(lim, family)
    upward = family in ("cap_quantile", "phasing_band", "smoothness", "max_increase")
    extreme = {
        "cap_quantile": 0.995,
        "phasing_band": 0.99,
        "smoothness": 4.0,
        "max_increase": 100.0,
        "floor_quantile": 1e-4,
        "min_increase": -0.99,
    }[family]
    value = _search(
        lambda v: _ok_setting(ok, base, family, v),
        current,
        extreme,
        upward,
        lambda v, nearest: _step(v, 1e-3, upward, nearest),
    )
    if value is None:
        return Fix({family: None}, _drop_words(family))
    return Fix({family: value}, _setting_words(family, value))


def _ok_setting(ok, base, family, value) -> bool:
    try:
        return ok(_with(base, **{family: value}))
    except ValueError:
        return False


#: :func:`_search`'s default ``bound``: its ``extreme``.
EXTREME = object()


def _search(
    ok, current, extreme, up, nice, steps: int = 40, rtol: float = 1e-5, bound=EXTREME, edge=None
):
    """The setting nearest ``current`` (infeasible) towards ``extreme`` that ``ok`` accepts,
    rounded to a readable value on the safe side; None if not even ``extreme`` is enough.
    ``bound``: how far the rounding may go (by default no further than ``extreme``, a limit of
    the setting's range; None: as far as ``ok`` accepts, for amounts, whose nearest feasible
    value is often the exact edge, 103.9352066M, where 103.9M also holds).
    ``edge``: a list the unrounded value found is appended to."""
    if not ok(extreme):
        return None
    bad, good = float(current), float(extreme)
    for _ in range(steps):
        if abs(good - bad) <= rtol * max(abs(good), 1e-3):
            break
        mid = 0.5 * (bad + good)
        if ok(mid):
            good = mid
        else:
            bad = mid
    # A readable value: the nearest round one if it holds (boundaries are often round: a
    # target of exactly the caps' sum), else the next round one on the safe side.
    if edge is not None:
        edge.append(good)
    limit = extreme if bound is EXTREME else bound
    for rounded in (nice(good, True), nice(good, False)):
        inside = limit is None or (rounded <= limit if up else rounded >= limit)
        if inside and ok(rounded):
            return rounded
    return good


def _fix_number(spec: PlanSpec, data: PlanData, ok: Oracle, base=None) -> Fix | None:
    """The nearest company number at which the plan is possible (within the limits as they
    are), rounded to four significant figures on the safe side."""
    base = base or spec
    scale = 1 + base.limits.over_assignment
    floor, cap = bounds(data, base.limits)
    rl = rep_limits(data, base.limits)
    low = float(np.maximum(floor.sum(axis=1), np.nan_to_num(rl.lo)).sum()) / scale
    high = float(np.minimum(cap.sum(axis=1), rl.hi).sum()) / scale
    target = float(base.target)
    tiny = 1e-6 * max(float(data.p50.sum()) / scale, target)  # below this no number is sane
    grid = [float(data.p50.sum()) / scale, *np.linspace(low, high, 13)]
    grid = [g for g in grid if g > tiny and np.isfinite(g)]
    feasible = sorted((g for g in grid if ok(_with(base, target=g))), key=lambda g: abs(g - target))
    if not feasible:
        return None
    good = feasible[0]
    up = good > target

    def fits(v):
        return v > tiny and ok(_with(base, target=v))

    digits = 4
    value = _search(
        fits,
        target,
        good,
        up,
        lambda v, nearest: _round_sig(v, digits, up, nearest),
        rtol=1e-7,
        bound=None,
        edge=(edge := []),
    )
    if value is None:
        return None
    verb = "raise" if value > target else "lower"
    return Fix({"target": value}, f"{verb} the number to {exact_money(value)}", edge=edge[0])


def _round_sig(v: float, digits: int, up: bool, nearest: bool = False) -> float:
    """``v`` to ``digits`` significant figures: the nearest, or upwards / downwards."""
    if v <= 0:
        return v
    e = math.floor(math.log10(v)) - digits + 1
    f = round if nearest else (math.ceil if up else math.floor)
    return f(v / 10**e) * 10**e


def _step(v: float, step: float, up: bool, nearest: bool) -> float:
    """``v`` on a grid of ``step``: the nearest point, or the next one up / down."""
    if nearest:
        return round(v / step) * step
    return (math.ceil(v / step - 1e-9) if up else math.floor(v / step + 1e-9)) * step


def group_reach(spec: PlanSpec, data: PlanData) -> dict:
    """Each team/region target's reachable range by its own reps' limits alone, in target terms
    (their floors and growth floors at the least, their caps and annual limits at the most)."""
    rl = rep_limits(data, spec.limits, spec.total)
    least = np.maximum(rl.floor.sum(axis=1), rl.lo)
    most = np.minimum(rl.cap.sum(axis=1), rl.hi)
    scale = 1 + spec.limits.group_over_assignment
    return {
        name: (float(least[rows].sum()) / scale, float(most[rows].sum()) / scale)
        for name, rows, _ in group_targets(data, spec.limits)
    }


def _fix_groups(spec: PlanSpec, data: PlanData, ok: Oracle, follow: bool = False) -> Fix | None:
    """Team/region targets out of reach. First each target beyond what its own reps can carry
    (or below what their limits force) is set to that edge; with ``follow`` the company number
    moves by as much (when the targets add up to the whole number, no other team can take the
    difference). Failing that, the fewest targets to change (a deletion filter), each set to
    the nearest value that fits, one after the other. Every candidate is checked."""
    targets = {k: parse_amount(v) for k, v in spec.limits.group_targets.items()}
    reach = group_reach(spec, data)
    edge = {}
    for g, t in targets.items():
        lo, hi = reach[g]
        if t > hi:
            edge[g] = _round_sig(hi, 4, up=False)
        elif t < lo:
            edge[g] = _round_sig(lo, 4, up=True)
    if edge:
        # A group whose reps can carry nothing (all locked at zero, or gone) loses its target.
        moved = {g: v for g, v in {**targets, **edge}.items() if v > 0}
        words = "; ".join(
            f"drop {g[0]} {g[1]}'s target (its reps can carry nothing)"
            if v <= 0
            else f"{'raise' if v > targets[g] else 'lower'} {g[0]} {g[1]}'s target to {exact_money(v)}"
            for g, v in edge.items()
        )
        trial = _with(spec, group_targets=moved)
        if not follow and ok(trial):
            return Fix({"group_targets": moved}, words)
        if follow:
            covered = _targets_cover(trial, data)
            if covered is not None:  # every rep is in a targeted group: the number is their sum
                number = covered / (1 + spec.limits.over_assignment)
            else:
                shift = sum(v - targets[g] for g, v in edge.items()) * (
                    (1 + spec.limits.group_over_assignment) / (1 + spec.limits.over_assignment)
                )
                number = float(spec.target) + shift
            if number > 0 and ok(_with(trial, target=number)):
                return Fix(
                    {"group_targets": moved, "target": number},
                    f"{words}, and the number with it to {exact_money(number)}",
                )
    if follow or not ok(_with(spec, group_targets={})):
        return None
    out = _fewest(targets, lambda kept: ok(_with(spec, group_targets=kept)))
    current = {k: v for k, v in targets.items() if k not in out}
    moved = []
    for g in out:
        plan = ok.solve(_with(spec, group_targets=current))
        level, name = g
        members = plan.reps[plan.reps[level] == name]
        reachable = float(members["annual_quota"].sum()) / (1 + spec.limits.group_over_assignment)
        up = reachable > targets[g]

        def fits(v, g=g):
            return v > 0 and ok(_with(spec, group_targets={**current, g: v}))

        # The group's sum in the plan just solved fits, but may sit on the edge of what the
        # group can carry: step inside until the test agrees.
        inward = -1.0 if up else 1.0
        start = next(
            (v for v in (reachable * (1 + inward * e) for e in (0, 1e-9, 1e-7, 1e-5)) if fits(v)),
            None,
        )
        if start is None:
            return None
        value = _search(
            fits, targets[g], start, up, lambda v, n, up=up: _round_sig(v, 4, up, n), bound=None
        )
        current[g] = value
        moved.append(
            f"{'raise' if value > targets[g] else 'lower'} {level} {name}'s target to {exact_money(value)}"
        )
    return Fix({"group_targets": current}, "; ".join(moved))


def _fewest(items: dict, feasible) -> list:
    """The fewest keys of ``items`` to give up (a deletion filter): starting from all of them,
    each one is kept back if ``feasible`` (of the items kept) still holds with it."""
    out = list(items)
    for key in list(out):
        if feasible({k: v for k, v in items.items() if k not in out or k == key}):
            out.remove(key)
    return out


def _fix_locks(spec: PlanSpec, ok: Oracle) -> Fix | None:
    """The fewest locks to lift (a deletion filter)."""
    locks = dict(spec.limits.locks)
    lift = _fewest(locks, lambda kept: ok(_with(spec, locks=kept)))
    kept = {k: v for k, v in locks.items() if k not in lift}
    names = ", ".join(
        f"{r}" + (f" {p}" if p else "") + f" ({money(v)})"
        for (r, p), v in ((k, locks[k]) for k in lift)
    )
    return Fix({"locks": kept}, f"unlock {names}")


def _fix_pair(a: str, b: str, spec, data, ok) -> Fix | None:
    """Both families loosened: ``b`` fully, then ``a`` as little as works, then ``b`` as little
    as works with ``a`` so."""

    def loosen(base, family):
        if family == "target":
            return _fix_number(spec, data, ok, base=base)
        return _fix_family(family, spec, data, ok, base=base)

    loose_b = _with(spec, **{b: LOOSEST[b]}) if b != "target" else None
    if loose_b is None:
        return None
    first = loosen(loose_b, a)
    if first is None:
        return None
    second = loosen(first.apply(spec), b)
    if second is None:
        return None
    fix = Fix({**first.changes, **second.changes}, f"{first.message}, and {second.message}")
    return fix if ok(fix.apply(spec)) else None


def _fix_everything(spec, data, ok) -> Fix | None:
    """Every limit but the caps dropped, and the number moved to what fits."""
    loose = {k: v for k, v in LOOSEST.items() if k != "cap_quantile"}
    base = _with(spec, **loose)
    number = _fix_number(spec, data, ok, base=base) if not ok(base) else None
    changes = {**loose, **(number.changes if number else {})}
    fix = Fix(
        changes, "drop every limit but the caps" + (f", and {number.message}" if number else "")
    )
    return fix if ok(fix.apply(spec)) else None


# --- words ----------------------------------------------------------------------------------


def _label(family: str, spec: PlanSpec) -> str:
    lim = spec.limits
    return {
        "target": f"the number ({money(spec.target)})",
        "locks": "the locked quotas",
        "group_targets": "the team/region targets",
        "smoothness": f"smoothness ({(lim.smoothness or 0):.0%})",
        "phasing_band": f"the phasing band (+/-{(lim.phasing_band or 0):.0%})",
        "min_increase": f"the minimum increase ({(lim.min_increase or 0):+.0%})",
        "ote_band": "the quota-to-OTE band",
        "max_increase": f"the anti-ratchet limit (+{(lim.max_increase or 0):.0%})",
        "floor_quantile": f"the floors (P{(lim.floor_quantile or 0) * 100:g})",
        "cap_quantile": f"the caps (P{lim.cap_quantile * 100:g})",
    }[family]


def _setting_words(family: str, v: float) -> str:
    return {
        "cap_quantile": f"raise the cap quantile to {v:g} (P{v * 100:g}; reps carry more risk of overload)",
        "floor_quantile": f"lower the floor quantile to {v:g} (P{v * 100:g})",
        "phasing_band": f"widen the phasing band to +/-{v:.1%}",
        "smoothness": f"loosen smoothness to {v:.1%} of a rep's average quarter",
        "max_increase": f"allow up to {v:+.1%} on last year's quota (anti-ratchet)",
        "min_increase": f"lower the minimum increase to {v:+.1%}",
    }[family]


def _drop_words(family: str) -> str:
    return {
        "floor_quantile": "drop the floor (no quota below a low forecast quantile)",
        "phasing_band": "drop the phasing band",
        "smoothness": "drop the smoothness limit",
        "max_increase": "drop the anti-ratchet limit",
        "min_increase": "drop the minimum increase",
        "cap_quantile": "raise the cap quantile to 0.995",
    }[family]


#: Families whose conflict does not go through the number (a change of the number alone cannot
#: help them): each gets a finding of its own.
INDEPENDENT = ("group_targets", "smoothness", "phasing_band")
#: Where the number is at odds with these, their own change is offered before the number's:
#: they are the planner's settings, where floors and caps are the forecast's.
SETTINGS_FIRST = ("locks", "min_increase", "ote_band", "max_increase")


def _explain_single(spec, data, ok, number: Fix | None, singles: dict) -> Diagnosis:
    """Findings and fixes when single changes suffice."""
    findings, fixes = [], []
    indep = [f for f in INDEPENDENT if f in singles]
    if number is None and "locks" in singles:
        indep = ["locks", *indep]
    if indep:
        findings.append(_finding(indep[0], spec, data, singles[indep[0]], number))
        fixes.append(singles[indep[0]])
    if number is not None:
        side = [f for f in PRIORITY if f in singles and f not in INDEPENDENT]
        findings.append(_number_finding(spec, data, ok, number, side))
        first = [singles[f] for f in side if f in SETTINGS_FIRST][:1]
        fixes += [*first, number]
    elif not indep:
        top = next(f for f in PRIORITY if f in singles)
        findings.append(_finding(top, spec, data, singles[top], None))
    fixes += [singles[f] for f in PRIORITY if f in singles and singles[f] not in fixes]
    return Diagnosis(tuple(findings), tuple(fixes))


#: Limits that can hold the quotas below the caps' sum: each one's share of the shortfall is said.
HOLDING_BACK = (
    "max_increase",
    "ote_band",
    "phasing_band",
    "smoothness",
    "group_targets",
    "locks",
)


def _held_back(spec, data, ok, number: Fix) -> list[str]:
    """What each limit costs in capacity: how much higher the number could go without it."""
    out = []
    caps = float(bounds(data, spec.limits, spec.total)[1].sum()) / (1 + spec.limits.over_assignment)
    for family in HOLDING_BACK:
        if not _active(family, spec, data):
            continue
        # The highest number without this limit: searched down from the caps' sum.
        loose = _with(spec, **{family: LOOSEST[family]}, target=caps * (1 + 1e-9))
        fix = _fix_number(spec, data, ok, base=loose) if not ok(loose) else None
        most = _edge(fix) if fix else caps
        more = most - _edge(number)
        if fix is not None and _edge(fix) > caps:  # pragma: no cover - defensive
            more = caps - _edge(number)
        if more > 1e-4 * float(spec.target):
            out.append(f"{_label(family, spec)} holds back {money(more)}")
    return out


def _edge(fix: Fix) -> float:
    """The number a number fix stands for exactly (its edge, not the rounded change)."""
    return fix.changes["target"] if fix.edge is None else fix.edge


def _number_finding(spec, data, ok, number: Fix, side: list) -> Finding:
    """The number is beyond what the limits allow (capacity) or below what they force."""
    target, value = float(spec.target), _edge(number)
    amount = abs(target - value)
    lim = spec.limits
    scale = 1 + lim.over_assignment
    as_number = f" (a number of {money(value)})" if lim.over_assignment else ""
    if value < target:
        caps = float(bounds(data, lim, spec.total)[1].sum())
        why = f"the reps' P{lim.cap_quantile * 100:g} caps add up to {money(caps)}"
        if caps > value * scale * (1 + 1e-6):
            held = _held_back(spec, data, ok, number)
            why += (
                f", but within their other limits the quotas add up to at most "
                f"{money(value * scale)}{as_number}" + (f" ({'; '.join(held)})" if held else "")
            )
        return Finding(
            "capacity",
            amount,
            amount / target,
            f"the number exceeds realistic capacity by {share(amount / target)} ({money(amount)}): {why}",
        )
    lower = [f for f in ("locks", "min_increase", "ote_band", "floor_quantile") if f in side]
    family = {
        "locks": "lock",
        "min_increase": "growth-floor",
        "ote_band": "ote",
        "floor_quantile": "floor",
    }[lower[0] if lower else "floor_quantile"]
    names = " and ".join(_label(f, spec) for f in lower) or "the limits"
    floor, _ = bounds(data, lim, spec.total)
    alone = float(np.maximum(floor.sum(axis=1), np.nan_to_num(rep_limits(data, lim).lo)).sum())
    alone_words = ""
    if lim.smoothness is not None and alone < value * scale * (1 - 2e-3):  # past rounding
        # The floors alone add up to less: smoothness lifts a rep's other quarters towards
        # their highest floor, and that is what the number is below.
        names += f" with {_label('smoothness', spec)}"
        alone_words = f" (without smoothness they add up to {money(alone)})"
    return Finding(
        family,
        amount,
        amount / target,
        f"the number ({money(target)}) is {money(amount)}"
        + (f" ({share(amount / target)})" if amount < target else "")
        + f" below what {names} require: the quotas cannot add up to less than "
        f"{money(value * scale)}{as_number}{alone_words}",
    )


def _targets_cover(spec, data) -> float | None:
    """The sum of one level's targets where they cover every rep (teams, or regions), else None."""
    groups = group_targets(data, spec.limits)
    for level in ("team", "region"):
        rows = [r for (lv, _), r, _ in groups if lv == level]
        if rows and len(np.unique(np.concatenate(rows))) == len(data.reps):
            return float(sum(t for (lv, _), _, t in groups if lv == level))
    return None


def _reshuffles(spec, data, fix: Fix) -> bool:
    """Whether a fix moves targets that are within their own reps' reach (to make room)."""
    reach = group_reach(spec, data)
    old = {k: parse_amount(v) for k, v in spec.limits.group_targets.items()}
    return any(
        reach[g][0] <= old[g] <= reach[g][1]
        for g, v in fix.changes["group_targets"].items()
        if abs(v - old[g]) > 1e-9 * old[g]
    )


def _group_finding(spec, data, fix: Fix, follow: bool = False) -> Finding:
    """Which team/region targets cannot hold, by how much, against what their reps can carry."""
    lim = spec.limits
    old = {k: parse_amount(v) for k, v in lim.group_targets.items()}
    new = fix.changes["group_targets"]
    reach = group_reach(spec, data)
    moved = [(k, old[k], new[k]) for k in new if abs(new[k] - old[k]) > 1e-9 * old[k]]
    amount = sum(abs(a - b) for _, a, b in moved)
    parts = []
    for (lv, name), a, b in moved:
        lo, hi = reach[(lv, name)]
        if a > hi:  # the gap to what its reps can carry; the fix may have to go further
            why = f"{money(a - hi)} beyond what its reps can carry ({money(hi)} at their caps and limits)"
            edge = hi
        elif a < lo:
            why = f"{money(lo - a)} below what its reps' limits force ({money(lo)})"
            edge = lo
        elif b < a:
            why, edge = f"{money(a - b)} more than fits with the other limits", None
        else:
            why, edge = f"{money(b - a)} less than the rest of the plan leaves it", None
        if edge is None or abs(b - edge) > 1e-3 * max(abs(edge), 1.0):
            why += f" (it fits at {money(b)})"
        parts.append(f"{lv} {name}'s target ({money(a)}) is {why}")
    words = "; ".join(parts)
    covered = _targets_cover(spec, data)
    if covered is not None and abs(covered - spec.total) > 1e-6 * spec.total:
        words += (
            f"; and with every rep in a targeted {'team' if moved else 'group'}, the targets "
            f"({money(covered, 4)} with their over-assignment) must add up to the number's "
            f"{money(spec.total, 4)}"
        )
    elif follow:
        words += "; the other targets take up the rest of the number, so the number moves with it"
    level = moved[0][0][0] if moved else "team"
    return Finding(level, amount, amount / float(spec.target), words)


def _finding(family, spec, data, fix: Fix, number: Fix | None) -> Finding:
    lim = spec.limits
    if family == "group_targets":
        return _group_finding(spec, data, fix)
    if family == "locks":
        return Finding("lock", math.nan, math.nan, f"the locked quotas cannot hold: {fix.message}")
    value = fix.changes[family]
    if family in ("phasing_band", "smoothness"):
        now = getattr(lim, family)
        what = (
            "the quarterly phasing band"
            if family == "phasing_band"
            else "quarter-to-quarter smoothness"
        )
        need = "dropped" if value is None else f"{value:.1%}"
        return Finding(
            "phasing" if family == "phasing_band" else "smoothness",
            value if value is not None else math.inf,
            math.nan,
            f"{what} ({now:.0%}) cannot hold with the other limits: it needs {need}"
            + (
                ""
                if number is None
                else f", or a number of {exact_money(number.changes['target'])}"
            ),
        )
    label = {
        "min_increase": "growth-floor",
        "ote_band": "ote",
        "max_increase": "ratchet",
        "floor_quantile": "floor",
    }[family]
    return Finding(
        label,
        math.nan,
        math.nan,
        f"{_label(family, spec)} cannot hold with the number: {fix.message}",
    )


__all__ = ["Oracle", "diagnose"]

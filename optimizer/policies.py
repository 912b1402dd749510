"""The optimising policies, each in two stages: the common level, then the closest plan.

``equal-stretch``: the lowest common stretch s (every quota <= s x P50), then, at that level,
the plan closest to proportional: minimise sum(quota^2 / P50), which with the total fixed is the
squared deviation from proportional weighted by 1 / P50, and spreads stretch as evenly as the
limits allow.

``equal-probability``: the lowest common quantile level alpha (so the highest common chance
1 - alpha of attaining) at which the number fits, then the plan closest to each rep's
alpha-quantile, sum((quota - Q(alpha))^2 / P50).

Both second stages are strictly convex, so a plan is unique: relabelling the reps relabels
their quotas, and equal reps get equal quotas.

Two routes reach the same optimum. Without smoothness, and with team/region targets that nest,
the limits are a flow network (``optimizer.network``): the level by an exact feasibility test and
bisection, the plan by water-filling, certified by its duality gap. Otherwise (or if the
certificate fails) the general Pyomo model (``optimizer.model``) is solved by HiGHS: the level
as the optimum of a linear program in which it is a variable (``optimizer.level``), the plan as
a quadratic program, both certified by HiGHS's status, gap and the rows' residuals. One model
serves every stage of a plan: its bounds and level rows move between them.

With smoothness the level usually needs no LP: smoothness ties only a rep's own quarters, so
without the phasing band and the team/region targets each rep is alone, and the lowest level
at which the reps' highest years reach the number is exact and fast (:func:`_own_relaxed`); a
plan constructed there that holds every row of the model (:func:`_own_plan`) proves it the
level. The plan's QP leaves out the smoothness rows that cannot be expected to bind, and puts
back any its plan breaks (:func:`_without_idle_rows`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .highs import IPM, OWN_POINT, QP
from .inputs import PlanData, quantile_at
from .level import Shape, lowest
from .model import (
    build_plan_model,
    clear_stage,
    closeness_value,
    declare_closeness,
    declare_limits,
    quota_values,
    set_upper,
    smoothness_room,
)
from .network import closest, excess, lowest_level, network_excess, plan_groups, plan_network
from .ranges import ANNUAL, annual_locks, bounds, level_cells, rep_limits
from .results import Certificate, Marginal, Objective, Solved
from .smoothness import quarters, year_range
from .spec import Limits, PlanSpec


def fast_route(data: PlanData, limits: Limits) -> bool:
    """Whether the plan's limits form a flow network: no smoothness, and team/region targets (if
    any) nest, every two groups disjoint or one inside the other."""
    return limits.smoothness is None and plan_groups(data, limits) is not None


def weights(data: PlanData) -> np.ndarray:
    """The second stage's weights: P50, and a tiny weight where P50 is 0 (such quotas stay at
    their floor unless nothing else can take the number)."""
    p50 = data.p50
    pos = p50 > 0
    return np.where(pos, p50, 1e-6 * (p50[pos].mean() if pos.any() else 1.0))


class Infeasible(Exception):
    """The policy cannot place the number within the limits (the caller diagnoses)."""


#: Up to this many rep-quarters the level LP always ends at a vertex (crossover: the exact level,
#: in milliseconds at this size), so the general model agrees with the network route to rounding;
#: above it, only where a later LP follows (an interior point's level is at most
#: ``INTERIOR_SLACK`` plus one of :data:`INTERIOR_STEPS` above the exact one). Seen without it:
#: 7 reps, equal probability, the plan stage needing the 1e-6 step, the squared deviation 3e-6
#: above the network route's.
VERTEX_CELLS = 2_000

#: Relative steps above an interior point's level at which the plan is tried when the level
#: itself leaves it no room (both within the 1e-6 the two routes must agree to).
INTERIOR_STEPS = (1e-6,)


class NotCertified(Exception):
    """The second stage did not reach a certified optimum (the caller says so)."""


#: The second stage's room above the level (relative), for both routes: at the level itself
#: the plan can have no room at all.
ROOM = 1e-9


def _clock(timings: dict, key: str, t0: float) -> None:
    timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0


class General:
    """One plan on the general route: its Pyomo model, built once at the plan's number (and
    re-declared at another number for the marginal cost, keeping its variables and unit, so
    HiGHS goes on from its last basis), and ``solve(m, stage, algorithm, **options)``."""

    def __init__(self, data: PlanData, limits: Limits, total: float, timings: dict, solve):
        self.data, self.limits, self.total = data, limits, total
        self.timings, self.solve = timings, solve
        self.m = None
        self.at = None  # the number the model's limits are declared for
        self.relaxations: dict = {}  # (number, rtol) -> (start, the relaxation's level)
        self.own_levels: dict = {}  # number -> (start, the own limits' level)
        # Whether the level LP should end at a vertex: only when a later LP of the same
        # shape (the marginal cost's) will go on from its basis. Crossover is most of the
        # level's time where targets overlap (4.2 of 5.4 s at 10,000 reps).
        self.vertex = True

    def model(self, total: float):
        t0 = time.perf_counter()
        if self.m is None:
            self.m = build_plan_model(self.data, self.limits, self.total)
            self.at = self.total
        if total != self.at:
            declare_limits(self.m, self.data, self.limits, total)
            self.at = total
        _clock(self.timings, "build_s", t0)
        return self.m

    def fits(self, m, upper: np.ndarray, stage: str) -> bool:
        """Whether the plan is feasible with the quotas' upper bounds ``upper`` (money): one LP
        without an objective, by the interior point (no vertex or basis is needed)."""
        t0 = time.perf_counter()
        clear_stage(m)
        set_upper(m, upper)
        _clock(self.timings, "build_s", t0)
        # An interior point's unsure "infeasible" is not checked by the simplex (15 s at
        # 100,000 reps): the level LP that follows finds the level either way.
        return self.solve(m, stage, IPM, exact_check=False).optimal

    def witness(self, m, shape: Shape, level: float, total: float, stage: str) -> bool:
        """Whether the plan fits at ``level`` as shown by a plan constructed from the reps' own
        limits alone (:func:`_own_plan`) that the model's rows and bounds all hold."""
        t0 = time.perf_counter()
        q = _own_plan(self.data, self.limits, total, shape, level)
        _clock(self.timings, "relaxation_s", t0)
        if q is None:
            return False
        t0 = time.perf_counter()
        clear_stage(m)
        set_upper(m, shape.upper(level))
        _clock(self.timings, "build_s", t0)
        return self.solve(m, stage, OWN_POINT, point=(m.cells, q.ravel() / m.unit)).optimal

    def settle(self, lowest, min_level, plan_at):
        """The policy's level (``lowest()``, raised to ``min_level``; None: the plan is
        impossible) and the plan at it (``plan_at(level)``). An interior point's level (no
        vertex) can leave the second stage no room at all (seen at 100,000 reps, with nested
        or overlapping targets): the plan is tried a hair higher (:data:`INTERIOR_STEPS`), and
        only then at the exact level (crossover to a vertex: many minutes at that size)."""

        def find() -> float:
            level = lowest()
            if level is None:
                raise Infeasible
            return max(level, min_level or 0.0)

        level = find()
        steps = (0.0,) if self.vertex else (0.0, *INTERIOR_STEPS)
        for step in steps:
            try:
                return level * (1 + step), plan_at(level * (1 + step))
            except NotCertified:
                continue
        if self.vertex:
            raise NotCertified("the second stage did not reach an optimum at the level found")
        self.vertex = True
        level = find()
        return level, plan_at(level)

    def relaxed(self, shape: Shape, start: float, hi: float, rtol: float, total: float):
        """The flow-network relaxation's level at ``total`` (see :func:`_relaxed`), computed
        once per number, start and tolerance."""
        known = self.relaxations.get((total, rtol))
        if known is None or known[0] > start:
            known = (
                start,
                _relaxed(self.data, self.limits, total, shape, start, hi, rtol, self.timings),
            )
            self.relaxations[(total, rtol)] = known
        level = known[1]  # feasibility only grows with the level: a later start clips it
        return None if level is None else max(level, start)

    def own(self, shape: Shape, start: float, hi: float, total: float):
        """The level of the plan with the reps' own limits and the number only (see
        :func:`_own_relaxed`), computed once per number and start."""
        known = self.own_levels.get(total)
        if known is None or known[0] > start:
            known = (
                start,
                _own_relaxed(self.data, self.limits, total, shape, start, hi, self.timings),
            )
            self.own_levels[total] = known
        level = known[1]
        return None if level is None else max(level, start)


def _shape(data: PlanData, limits: Limits, total: float, g, knots) -> Shape:
    floor, cap = bounds(data, limits, total)
    return Shape(level_cells(data, limits), floor, cap, g, np.asarray(knots, dtype=float))


def equal_stretch(
    data: PlanData, spec: PlanSpec, total: float, timings: dict, solve, route=None, min_level=None
):
    """Quotas (money) and the policy's figures; ``solve(m, stage, algorithm)`` runs HiGHS on a
    Pyomo model. ``min_level``: the stretch level never goes below this (a re-plan keeps its
    plan's level).

    The level s is common to every cell it can reach: a cell whose floor is above s x P50 is
    held at its floor (reported as held above the level), so one rep's high floor does not
    lift everyone's stretch."""
    route = route or ("network" if fast_route(data, spec.limits) else "pyomo")
    general = General(data, spec.limits, total, timings, solve)
    p50 = data.p50

    def shape(tot: float) -> Shape:
        return _shape(data, spec.limits, tot, lambda s: s * p50, [])

    def top(sh: Shape) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.max(np.where(sh.cells, sh.cap / p50, 0.0), initial=0.0))

    def level(tot: float, start: float = 0.0, rtol: float = 1e-11, guess=None) -> float | None:
        sh = shape(tot)
        hi = top(sh)
        return _lowest(data, spec.limits, tot, sh, start, hi, rtol, timings, route, general, guess)

    if route != "network":  # a vertex only if the marginal cost's LP can follow
        ahead = shape(total * 1.01)
        general.vertex = (
            data.quantiles[..., 0].size <= VERTEX_CELLS
            or general.relaxed(ahead, 0.0, top(ahead), 1e-7, total * 1.01) is not None
        )

    def plan_at(s: float):
        upper = shape(total).upper(s * (1 + ROOM))
        return _closest(data, spec, total, upper, np.zeros_like(p50), timings, route, general)

    s_star, (quota, second) = general.settle(lambda: level(total), min_level, plan_at)
    common = _common_stretch(data, quota, s_star, second.company_dual)
    if common is not None:
        # The common stretch at 1% more: the second stage again at the same level (or at the
        # level 1% more needs, where the held cells must rise too).
        level_now, ahead = common, total * 1.01
        try:
            up = _closest(data, spec, ahead, shape(ahead).upper(s_star * (1 + ROOM)),
                          np.zeros_like(p50), timings, route, general)[1].company_dual  # fmt: skip
        except NotCertified:
            s_up = level(ahead, start=s_star, rtol=1e-7, guess=s_star)
            up = None if s_up is None else _closest(
                data, spec, ahead, shape(ahead).upper(s_up * (1 + ROOM)), np.zeros_like(p50),
                timings, route, general)[1].company_dual  # fmt: skip
    else:
        # A larger number never lowers the level, so the search starts at s*; a marginal cost
        # needs no more than 7 digits.
        level_now = s_star
        up = level(total * 1.01, start=s_star, rtol=1e-7, guess=s_star)
        up = max(up, min_level or 0.0) if up is not None else None
    return quota, _solved(
        second,
        {"max_stretch": s_star, "common_stretch": level_now if common is not None else None},
        up,
        lambda u: {"max_stretch_at_plus_1pct": u, "max_stretch_per_1pct_more": u - level_now},
    )


def _common_stretch(data: PlanData, quota: np.ndarray, s_star: float, dual: float):
    """The stretch the plan gives every cell its limits leave free, where it is below the level
    ``s_star``; None where it is the level.

    The level is the least highest stretch the limits allow. Where limits tie a cell above
    the rest (a ramping hire's early quarter pulled up by smoothness towards a floor later in
    the year), that one cell sets the level and the others sit below it: then the level is
    no headline (nor is its cost, which is 0). The second stage puts every free cell at one
    stretch, the dual of the company total (its weights are P50)."""
    if not (np.isfinite(dual) and 0 < dual < s_star * (1 - 1e-6)):
        return None
    p50 = data.p50
    open_ = ~data.closed
    with np.errstate(divide="ignore", invalid="ignore"):
        free = (p50 > 0) & (np.abs(quota / p50 - dual) <= 1e-6 * dual)
    free[:, ~open_] = False
    return float(dual) if free.any() else None


def _lowest(data, limits, total, shape: Shape, start, hi, rtol, timings, route, general, guess):
    """The lowest level in [start, hi] at which the plan with the cell upper bounds
    ``shape.upper(level)`` is feasible: the network's exact excess on the fast route.

    On the general model, first the level of the plan's flow-network relaxation (without
    smoothness, with only the team/region targets that nest: exact and fast), a lower bound:
    if the plan fits there (one feasibility LP), that is the level. With smoothness, also the
    level of the reps' own limits with the number (:func:`_own_relaxed`: smoothness kept, the
    phasing band and the targets dropped), another lower bound: where it is the higher, a plan
    constructed at it (:func:`_own_plan`) that holds every row of the model makes it the
    level, with no LP at all (the feasibility LP there is all but without interior: HiPO ran
    51 iterations, 19 s, to no verdict at 10,000 reps). Otherwise the optimum of the level LP
    (``optimizer.level``), its search started at the higher bound (or at ``guess``, a level
    known not to be above the answer, if higher)."""
    t0 = time.perf_counter()
    if route == "network":
        excess = network_excess(data, limits, total)
        out = lowest_level(lambda s: excess(shape.upper(s)), start, hi, rtol)
        _clock(timings, "level_s", t0)
        return out
    relaxed = general.relaxed(shape, start, hi, rtol, total)
    if relaxed is None:  # not even the relaxation fits: neither does the plan
        return None
    m = general.model(total)
    stage = "level" if total == general.total else "marginal"
    own = None
    if limits.smoothness is not None:  # the network drops smoothness; the reps' own keep it
        own = general.own(shape, start, hi, total)
        if own is None:
            return None
        own = own if own >= relaxed else None
    if own is not None:
        top = own * (1 + ROOM)  # the second stage's room, as below
        if general.witness(m, shape, top, total, f"{stage} check"):
            return top  # the plan's level is in [own x (1 - OWN_RTOL), top]
        relaxed, rtol = own, max(rtol, OWN_RTOL)
    else:
        # Checked with the second stage's room: at the relaxation's level itself the plan may
        # have no interior at all, where an interior point can call a feasible plan infeasible.
        top = relaxed * (1 + ROOM)
        if general.fits(m, shape.upper(top), f"{stage} check"):
            return top  # the plan's level is in [relaxed x (1 - rtol), top]
    below = relaxed * (1 - rtol)
    guess = below if guess is None else max(guess, below)
    return lowest(
        m,
        shape,
        start,
        hi,
        lambda *a, **k: general.solve(m, stage, *a, **k),
        guess,
        vertex=general.vertex or stage != "level",
    )


def _relaxed(data, limits, total, shape, start, hi, rtol, timings) -> float | None:
    """The level of the plan without smoothness and without the team/region targets that do not
    nest (a flow network), to ``rtol``: the relaxation fits there and not below ``(1 - rtol)``
    of it, a lower bound on the general model's level. None if the relaxation is infeasible
    too. Its bounds and ranges are the plan's own (in a re-plan the floors depend on the
    targets, which the relaxation drops)."""
    from .ranges import annual_range, phasing_ranges

    t0 = time.perf_counter()
    relaxed = replace(limits, smoothness=None)
    if plan_groups(data, relaxed) is None:
        relaxed = replace(relaxed, group_targets=_nested_part(data, relaxed))
    net, unit = plan_network(data, relaxed, total)
    lo, hi_year = annual_range(data, limits, total)
    col_lo, col_hi = phasing_ranges(data, limits, total)
    net = replace(
        net,
        lower=shape.floor / unit,
        annual_lo=lo / unit,
        annual_hi=hi_year / unit,
        col_lo=np.nan_to_num(col_lo, nan=0.0) / unit,
        col_hi=np.nan_to_num(col_hi, nan=np.inf) / unit,
    )
    out = lowest_level(lambda s: excess(replace(net, upper=shape.upper(s) / unit)), start, hi, rtol)
    _clock(timings, "relaxation_s", t0)
    return out


#: The reps' own relaxation's level is found to this (relative), well inside the second stage's
#: room above it (:data:`ROOM`).
OWN_RTOL = 1e-11


@dataclass(frozen=True)
class OwnLimits:
    """The reps' own limits as the model declares them (``optimizer.model.declare_limits``),
    in money: each rep's year within ``[low, high]`` (the annual limits and locks), steps of at
    most ``k x year + extra``."""

    low: np.ndarray
    high: np.ndarray
    k: float
    extra: np.ndarray

    @classmethod
    def of(cls, data: PlanData, limits: Limits, total: float) -> OwnLimits:
        rl = rep_limits(data, limits, total)
        n, T = data.p50.shape
        low, high = np.full(n, -np.inf), np.full(n, np.inf)
        for name, (side, _) in ANNUAL.items():
            b = rl.annual[name]
            if side == "low":
                low = np.where(np.isfinite(b), np.fmax(low, b), low)
            else:
                high = np.where(np.isfinite(b), np.fmin(high, b), high)
        locked = np.array(sorted(annual_locks(data, limits)), dtype=np.int64)
        low[locked] = np.fmax(low[locked], rl.lo[locked])
        high[locked] = np.fmin(high[locked], rl.lo[locked])
        return cls(low, high, limits.smoothness / T, rl.smooth_extra)

    def years(self, floor: np.ndarray, upper: np.ndarray):
        """Each rep's lowest and highest year within the cells ``[floor, upper]``."""
        return year_range(floor, upper, self.low, self.high, self.k, self.extra)


def _own_relaxed(data, limits, total, shape, start, hi, timings) -> float | None:
    """The level of the plan with the reps' own limits (cells, years, smoothness) and the number,
    without the phasing band and the team/region targets, to :data:`OWN_RTOL`: a lower bound on
    the general model's level, and the level itself where those do not bind (the usual case
    with smoothness: its steps hold back each rep's year, and that sets the level). None if it
    does not fit even at ``hi``.

    Without the company-wide limits every rep's quarters are their own: the plan fits at a
    level when each rep has a year that fits (``optimizer.smoothness.year_range``) and the
    lowest and highest such years add up around the number. The highest grow with the level
    (concave, piecewise linear for the stretch), so the search is the network's
    (:func:`optimizer.network.lowest_level`), each step a few vectorised passes over the reps.
    Rounding is given to feasibility (the bound is never above the exact one)."""
    t0 = time.perf_counter()
    own, floor = OwnLimits.of(data, limits, total), shape.floor
    slack = 1e-12 * max(abs(total), 1e-300)
    big = 10 * max(abs(total), 1.0)

    def excess(level: float) -> float:
        upper = np.maximum(shape.upper(level), floor)
        least, most = own.years(floor, upper)
        gap = least - most - 1e-9 * np.maximum(np.abs(upper).max(axis=1), 1.0)
        e = max(total - most.sum(), least.sum() - total) - slack
        if (gap > 0).any():  # a rep with no year that fits at this level
            e = max(e, slack)
        return float(min(e, big))

    out = lowest_level(excess, start, hi, OWN_RTOL)
    _clock(timings, "relaxation_s", t0)
    return out


def _own_plan(data, limits, total, shape, level) -> np.ndarray | None:
    """Quotas (money) within every rep's own limits at ``level`` that add up to the number:
    each rep's year the same share of the way from their lowest to their highest, its quarters
    between the lattice's members (``optimizer.smoothness.quarters``). None where the reps' own
    limits do not fit the number there. The company-wide limits are not looked at here."""
    own, floor = OwnLimits.of(data, limits, total), shape.floor
    upper = np.maximum(shape.upper(level), floor)
    least, most = own.years(floor, upper)
    low, high = least.sum(), most.sum()
    if (least > most).any() or not (low <= total <= high):
        return None
    share = (total - low) / (high - low) if high > low else 1.0
    year = least + share * (most - least)
    return quarters(floor, upper, own.k, own.extra, year)


def _nested_part(data, limits) -> dict:
    """The team/region targets that nest, the larger groups first (any subset of the targets
    relaxes the plan): a group is kept when all its members sit in the same smallest kept group
    (or in none), so it nests in that one. Linear in the members."""
    from .ranges import group_targets

    targets = group_targets(data, limits)
    owner = np.full(len(data.reps), -1)  # each rep's smallest kept group so far
    kept: dict = {}
    seen: set = set()
    order = sorted(range(len(targets)), key=lambda g: -len(targets[g][1]))
    for g in order:
        (key, members, _), value = targets[g], limits.group_targets[targets[g][0]]
        same = frozenset(members.tolist())
        if same in seen or len(np.unique(owner[members])) != 1:
            continue  # a second target on the same reps, or one that cuts across a kept group
        seen.add(same)
        owner[members] = g
        kept[key] = value
    return kept


def equal_probability(
    data: PlanData, spec: PlanSpec, total: float, timings: dict, solve, route=None, min_level=None
):
    """The lowest common quantile level alpha at which the number fits (the network test and
    bisection, or the level LP), then the plan closest to each rep's alpha-quantile.
    ``min_level``: alpha never goes below this (a re-plan keeps its plan's level)."""
    route = route or ("network" if fast_route(data, spec.limits) else "pyomo")
    lim = spec.limits
    general = General(data, lim, total, timings, solve)

    def shape(tot: float) -> Shape:
        # The quantile line unclipped: below zero the floor (>= 0) holds the cell anyway, and
        # the line's crossing of the floor is then a breakpoint of the level LP.
        g = lambda a: quantile_at(data.levels, data.quantiles, a, clip=False)  # noqa: E731
        return _shape(data, lim, tot, g, data.levels)

    def level(tot: float, start: float, rtol: float = 1e-11, guess=None) -> float | None:
        return _lowest(
            data,
            lim,
            tot,
            shape(tot),
            start,
            lim.cap_quantile,
            rtol,
            timings,
            route,
            general,
            guess,
        )

    if route != "network":  # a vertex only if the marginal cost's LP can follow
        ahead = total * 1.01
        general.vertex = (
            data.quantiles[..., 0].size <= VERTEX_CELLS
            or general.relaxed(shape(ahead), LOWEST_QUANTILE, lim.cap_quantile, 1e-7, ahead)
            is not None
        )

    def plan_at(a: float):
        upper = shape(total).upper(a * (1 + ROOM))
        return _closest(data, spec, total, upper, data.quantile(a), timings, route, general)

    alpha, (quota, second) = general.settle(
        lambda: level(total, LOWEST_QUANTILE), min_level, plan_at
    )
    up = level(total * 1.01, start=alpha, rtol=1e-7, guess=alpha)
    up = max(up, min_level or 0.0) if up is not None else None
    return quota, _solved(
        second,
        {"common_level": alpha, "common_chance": 1 - alpha},
        up,
        # The change in the common chance (negative: a higher number lowers it).
        lambda u: {"common_level_at_plus_1pct": u, "common_chance_per_1pct_more": alpha - u},
    )


def _solved(second: Second, level: dict, up: float | None, marginal) -> Solved:
    """What a policy reports: the second stage's objective with the policy's ``level`` figures,
    the marginal figures ``marginal(up)`` at the level 1% more of the number needs (NaN where
    that number is impossible, ``up`` None), the route and the certificate."""
    at_up = marginal(up if up is not None else float("nan"))
    return Solved(
        Objective(second.objective, **level),
        Marginal(second.company_dual, **at_up),
        second.route,
        second.certificate,
    )


#: The lowest quantile level the equal-probability search starts from.
LOWEST_QUANTILE = 0.005


def _closest(data, spec, total, upper, reference, timings, route, general):
    """The second stage: the plan within ``upper`` (money) closest to ``reference``."""
    w = weights(data)
    if route == "network":
        t0 = time.perf_counter()
        net, unit = plan_network(data, spec.limits, total)
        c = closest(replace(net, upper=upper / unit), reference / unit, w / unit)
        _clock(timings, "plan_s", t0)
        if c.certified:
            return c.quota * unit, Second(
                c.objective * unit,
                c.company_dual,
                "network (exact level search, water-filling)",
                Certificate(c.gap, c.residual),
            )
        # Not certified (numerical trouble): the general model decides.
    m = general.model(total)
    t0 = time.perf_counter()
    clear_stage(m)
    set_upper(m, upper)
    declare_closeness(m, reference, w)
    _clock(timings, "build_s", t0)
    # The Hessian is diagonal: HiPO's normal equations stay as sparse as the rows.
    # At an interior point's level the plan is tried a hair higher before any exact method.
    res, left_out = _without_idle_rows(m, data, total, upper, w, general)
    if res is None:
        res = general.solve(m, "plan", QP, hipo_system="normaleq", exact_check=general.vertex)
    if not res.optimal and QP.fallback is not None and general.vertex:
        # At the level's knife-edge the plan has almost no interior and an interior point can
        # stall (seen on about one small plan in six): the active-set method, exact, decides.
        # (At an interior point's level the exact level comes first: see General.settle; the
        # active-set method on a 100,000-rep plan runs for many minutes.)
        res = general.solve(m, "plan", QP.fallback)
    if not res.optimal:  # pragma: no cover - the level search proved it feasible
        raise NotCertified("the second stage did not reach an optimum at the level found")
    dual = float(res.dual(m.company_total)[0])
    worst = max(res.residual, left_out)  # every row's: the ones left out were checked
    return quota_values(m, data.p50.shape), Second(
        closeness_value(m) * m.unit,
        abs(dual),
        "pyomo + HiGHS (LP level, QP plan)",
        Certificate(res.gap, worst * m.unit / max(total, 1e-300)),
    )


#: A smoothness row goes into the plan's first QP only where the plan proportional to P50
#: (within the level's bounds) takes at least this share of its allowance: of a step's two
#: rows one at most can bind, and where the forecast is smooth neither does (at 10,000 reps
#: HiPO's QP took 3.3 s with all 60,000 rows, most of them idle).
IDLE = 0.5
#: Rounds of putting back the rows a plan breaks, before all go back in at once.
ROUNDS = 3


def _without_idle_rows(m, data, total, upper, w, general):
    """The plan's QP with the smoothness rows that are not expected to bind left out (see
    :data:`IDLE`), then the rows its plan breaks put back and solved again, up to
    :data:`ROUNDS` times: a plan of the relaxed QP that holds every row left out is the plan
    (the QP is strictly convex; the rows left out are idle, so their duals are 0 and HiGHS's
    gap and the company total's dual are the full model's). Returns HiGHS's result and the
    largest violation of a row left out (model units; within the tolerance), or (None, 0.0)
    where no row is left out or the rounds ran out (the caller solves with every row); every
    row is active again on return."""
    if not hasattr(m, "smoothness") or not len(m.smoothness):
        return None, 0.0
    TOL = 1e-9  # HiGHS's tight primal feasibility tolerance (optimizer.highs.TIGHT)
    p50 = data.p50
    floor = m.floor_units.reshape(p50.shape)
    top = np.maximum(upper / m.unit, floor)
    share = p50 / max(p50.sum(), 1e-300) if p50.sum() > 0 else np.full(p50.shape, 1 / p50.size)
    guess = np.clip(total / m.unit * share, floor, top)
    step, allowance = smoothness_room(m, guess)
    active = step >= IDLE * allowance
    rows = m.smoothness._data
    res, worst = None, 0.0
    try:
        for _ in range(ROUNDS):
            if active.all():
                return None, 0.0
            for r in np.flatnonzero(~active).tolist():
                rows[r]._active = False
            res = general.solve(m, "plan", QP, hipo_system="normaleq", exact_check=general.vertex)
            if not res.optimal:
                return None, 0.0
            step, allowance = smoothness_room(m, quota_values(m, p50.shape) / m.unit)
            over = step - allowance
            broken = ~active & (over > TOL)
            if not broken.any():
                worst = float(np.max(over[~active], initial=0.0))
                return res, max(worst, 0.0)
            for r in np.flatnonzero(~active).tolist():
                rows[r]._active = True
            active |= broken | (step >= IDLE * allowance)
        return None, 0.0
    finally:
        for d in rows:
            d._active = True


@dataclass(frozen=True)
class Second:
    """The second stage's plan figures: its closeness, the company total's dual, the route and
    the certificate."""

    objective: float
    company_dual: float
    route: str
    certificate: Certificate

"""A plan's limits as numbers: bounds per rep-quarter, ranges per rep's year and per quarter.

One place computes them; the Pyomo model (``optimizer.model``), the fast network route
(``optimizer.network``), the explanation of a plan (``optimizer.explain``) and the diagnosis
(``optimizer.diagnose``) all read them here.

**A rep's own limits never make the company's plan impossible.** Where they contradict each
other (a floor above the anti-ratchet cap, a lock outside the floor and cap, an OTE band outside
the cap, no capacity with a minimum increase, ...) they give way in one order of precedence,
strongest first (:data:`PRECEDENCE`)::

    actuals > locks > capacity (fte, ramp, hire, leave) > cap > anti-ratchet > growth floor
            > floor > OTE band > smoothness

A weaker limit gives way to a stronger one just as far as the two contradict, and every rep
whose limit gave way is reported (:class:`GaveWay`: which limit, to what, by how much, why).
Company-wide limits (the number, team and region targets, the phasing band) never give way: a
plan that cannot meet them is refused with a diagnosis.

Closed quarters (a mid-year re-plan) are history: their cells are fixed at the actuals and their
phasing band no longer applies. Where the actuals leave the open quarters less than their floors
add up to (a company, team or region ahead of plan), the open floors give way in proportion, so
a re-plan is never refused for being ahead.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import SpecError
from .inputs import PlanData
from .spec import Limits, parse_amount

#: The order in which a rep's own limits give way when they contradict, strongest first.
PRECEDENCE = (
    "actual",
    "lock",
    "capacity",
    "cap",
    "ratchet",
    "growth-floor",
    "floor",
    "ote",
    "smoothness",
)

#: The annual limits, each a bound on a rep's year: name -> (side, binding label), in rising
#: precedence when a plan is explained.
ANNUAL = {
    "ote_high": ("high", "ote"),
    "ote_low": ("low", "ote"),
    "growth_floor": ("low", "growth-floor"),
    "ratchet": ("high", "ratchet"),
}


@dataclass(frozen=True)
class GaveWay:
    """One rep's limit that gave way to a stronger one (or, ``rep`` None, the open quarters'
    floors of a group that is ahead of plan, or the open quarters' phasing band: ``phasing``)."""

    rep: int | None  # row index in the plan's data
    limit: str  # the limit that gave way (a name of PRECEDENCE, or "phasing")
    to: str  # what it gave way to
    amount: float  # money: how far it moved
    why: str  # in words, with the figures


@dataclass(frozen=True)
class RepLimits:
    """Every rep's limits after precedence, in money."""

    floor: np.ndarray  # (n, T) per rep-quarter
    cap: np.ndarray  # (n, T)
    annual: dict  # ANNUAL name -> (n,) the limit after precedence, NaN where it does not apply
    lo: np.ndarray  # (n,) the year's lowest and highest quota
    hi: np.ndarray
    smooth_extra: np.ndarray  # (n,) money added to a rep's smoothness allowance (0: none)
    gave_way: tuple = field(default_factory=tuple)


_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rep_limits(data: PlanData, limits: Limits, total: float | None = None) -> RepLimits:
    """The reps' limits after precedence (cached per ``data``, ``limits`` and ``total``).

    ``total`` (the quotas' sum) matters only in a re-plan, where the open floors give way to
    what the actuals leave of it (and of each team or region target).
    """
    key = (id(limits), None if not data.closed.any() else total)
    per = _cache.setdefault(data, {})
    hit = per.get(key)
    if hit is not None and hit[0] is limits:
        return hit[1]
    out = _resolve(data, limits, key[1])
    per[key] = (limits, out)
    while len(per) > _CACHED:  # a diagnosis tries many limits: keep the latest few
        del per[next(iter(per))]
    return out


#: Results kept per company's data (the plan's own limits, and a few trials of a diagnosis).
_CACHED = 8


def _resolve(data: PlanData, limits: Limits, total: float | None) -> RepLimits:
    n, T = data.p50.shape
    money = _money
    gave: list[GaveWay] = []
    tol = 1e-9 * max(float(np.nansum(data.quantiles[..., -1])) / max(n * T, 1), 1.0)
    closed = data.closed
    capacity = data.quantiles[..., -1] > 0  # the forecast sees no sales: not hired, on leave
    # 1. Actuals and quarterly locks fix their cells.
    fixed = np.zeros((n, T), bool)
    value = np.zeros((n, T))
    fixed[:, closed] = True
    value[:, closed] = data.actual[:, closed]
    for (rep, period), v in limits.locks.items():
        if period is not None:
            i, t = rep_index(data, rep), period_index(data, period)
            fixed[i, t], value[i, t] = True, float(v)
    fixed_sum = np.where(fixed, value, 0.0).sum(axis=1)
    free = ~fixed
    floor = np.where(fixed, value, 0.0)
    cap = floor.copy()
    lo, hi = np.zeros(n), np.full(n, np.inf)
    # 2. An annual lock fixes the year; its free quarters (those with capacity, if any) share
    #    what the fixed ones leave of it. Below the fixed cells, it gives way to them.
    locked = np.zeros(n, bool)
    for i, year in annual_locks(data, limits).items():
        locked[i] = True
        held = year
        if not free[i].any() and abs(year - fixed_sum[i]) > tol:
            held = fixed_sum[i]
            gave.append(
                GaveWay(
                    i,
                    "lock",
                    "lock",
                    abs(year - held),
                    f"the annual lock ({money(year)}) differs from its quarters, which are all "
                    f"held (locked quarters or actuals: {money(held)}); the quarters stand",
                )
            )
        elif year < fixed_sum[i] - tol:
            held = fixed_sum[i]
            to = "actual" if closed.any() else "lock"
            gave.append(
                GaveWay(
                    i,
                    "lock",
                    to,
                    held - year,
                    f"the annual lock ({money(year)}) is below what is already "
                    f"{'sold' if to == 'actual' else 'locked'} in its quarters ({money(held)})",
                )
            )
        lo[i] = hi[i] = held
        room = max(held - fixed_sum[i], 0.0)
        cells = free[i] & capacity[i] if (free[i] & capacity[i]).any() else free[i]
        cap[i, cells] = room
    # 3. Capacity and the cap: the cap quantile (0 where the forecast sees no capacity).
    rest = free & ~locked[:, None]
    cap0 = data.quantile(limits.cap_quantile)
    cap[rest] = cap0[rest]
    most = cap.sum(axis=1)
    raw = _raw_annual(data, limits)
    for name in raw:
        raw[name][locked] = np.nan
    # 4. Anti-ratchet: gives way only to what is fixed (actuals, locked quarters).
    ratchet = raw["ratchet"]
    short = np.isfinite(ratchet) & (ratchet < fixed_sum - tol)
    for i in np.flatnonzero(short):
        to = "actual" if closed.any() and not _quarter_locked(data, limits, i) else "lock"
        gave.append(
            GaveWay(
                i,
                "ratchet",
                to,
                fixed_sum[i] - ratchet[i],
                f"the anti-ratchet limit ({money(ratchet[i])}: {_ly_words(data, i)} "
                f"+{limits.max_increase:.0%}) is below what is already "
                f"{'sold' if to == 'actual' else 'locked'} ({money(fixed_sum[i])})",
            )
        )
    ratchet = np.where(short, fixed_sum, ratchet)
    hi = np.fmin(hi, ratchet)
    # 5. Growth floor: gives way to capacity and to the anti-ratchet limit.
    growth = raw["growth_floor"]
    room = np.fmin(most, hi)
    over = np.isfinite(growth) & (growth > room + tol)
    for i in np.flatnonzero(over):
        to = "capacity" if room[i] == most[i] else "ratchet"
        gave.append(
            GaveWay(
                i,
                "growth-floor",
                to,
                growth[i] - room[i],
                f"the minimum growth ({money(growth[i])}: {_ly_words(data, i)} "
                f"{limits.min_increase:+.0%}) is more than "
                + (
                    f"their realistic capacity ({money(most[i])}, P{limits.cap_quantile * 100:g} caps)"
                    if to == "capacity"
                    else f"the anti-ratchet limit allows ({money(hi[i])})"
                ),
            )
        )
    growth = np.where(over, room, growth)
    lo = np.fmax(lo, growth)
    # 6. The floor: below the cap in each quarter, and the year's floors within its highest quota.
    if limits.floor_quantile is not None:
        floor0 = np.minimum(data.quantile(limits.floor_quantile), cap)
        floor[rest] = floor0[rest]
    free_floor = np.where(rest, floor, 0.0).sum(axis=1)
    excess = floor.sum(axis=1) - hi
    tight = np.isfinite(excess) & (excess > tol) & (free_floor > 0)
    for i in np.flatnonzero(tight):
        scale = max(hi[i] - fixed_sum[i], 0.0) / free_floor[i]
        floor[i, rest[i]] *= scale
        gave.append(
            GaveWay(
                i,
                "floor",
                "ratchet",
                excess[i],
                f"their floors (P{limits.floor_quantile * 100:g}) add up to "
                f"{money(free_floor[i] + fixed_sum[i])}, above the anti-ratchet limit of "
                f"{money(hi[i])} ({_ly_words(data, i)} +{limits.max_increase:.0%}): each "
                f"quarter's floor is scaled to {scale:.1%}",
            )
        )
    # 7. The OTE band: its high multiple gives way to the floors and the growth floor, its low
    #    multiple to capacity and the anti-ratchet limit.
    ote_hi, ote_lo = raw["ote_high"], raw["ote_low"]
    need = np.fmax(floor.sum(axis=1), lo)
    under = np.isfinite(ote_hi) & (ote_hi < need - tol)
    for i in np.flatnonzero(under):
        gave.append(
            GaveWay(
                i,
                "ote",
                "floor" if need[i] == floor[i].sum() else "growth-floor",
                need[i] - ote_hi[i],
                f"the quota-to-OTE band's high end ({money(ote_hi[i])}, "
                f"{limits.ote_band[1]:g}x OTE) is below "
                + (
                    f"their floors ({money(need[i])})"
                    if need[i] == floor[i].sum()
                    else f"their minimum growth ({money(need[i])})"
                ),
            )
        )
    ote_hi = np.where(under, need, ote_hi)
    hi = np.fmin(hi, ote_hi)
    room = np.fmin(most, hi)
    above = np.isfinite(ote_lo) & (ote_lo > room + tol)
    for i in np.flatnonzero(above):
        gave.append(
            GaveWay(
                i,
                "ote",
                "capacity" if room[i] == most[i] else "ratchet",
                ote_lo[i] - room[i],
                f"the quota-to-OTE band's low end ({money(ote_lo[i])}, "
                f"{limits.ote_band[0]:g}x OTE) is above what they can carry ({money(room[i])})",
            )
        )
    ote_lo = np.where(above, room, ote_lo)
    lo = np.fmax(lo, ote_lo)
    annual = {"ratchet": ratchet, "growth_floor": growth, "ote_high": ote_hi, "ote_low": ote_lo}
    # In a re-plan the open floors give way to what the actuals leave of the number.
    if closed.any() and total is not None:
        gave += _ahead_of_plan(data, limits, total, floor, rest, locked, lo, annual, tol)
    # 8. Smoothness: a rep's allowance widens just enough for their own cells.
    extra = np.zeros(n)
    if limits.smoothness is not None:
        from .smoothness import allowance

        extra = allowance(floor, cap, lo, hi, limits.smoothness / T)
        for i in np.flatnonzero(extra > 0):
            gave.append(
                GaveWay(
                    i,
                    "smoothness",
                    "capacity" if not capacity[i].all() else "cap",
                    extra[i],
                    f"their own quarters cannot change that little "
                    f"({_cell_words(data, i, capacity, fixed)}): the quarter-to-quarter limit "
                    f"widens by {money(extra[i])} for them",
                )
            )
    order = {name: k for k, name in enumerate(PRECEDENCE)}
    gave.sort(key=lambda g: (-1 if g.rep is None else g.rep, order.get(g.limit, 99)))
    return RepLimits(floor, cap, annual, lo, hi, extra, tuple(gave))


def _ahead_of_plan(data, limits, total, floor, rest, locked, lo, annual, tol) -> list[GaveWay]:
    """A company, team or region whose actuals (and held quotas) leave its open quarters less
    than their lower limits force (the floors, and what a growth floor or OTE band's low end
    still asks of the year): those give way in proportion, just enough (``floor``, ``lo`` and
    ``annual`` are changed in place). The number itself never gives way; where the actuals
    exceed it, the open quotas can only be zero."""
    n = len(data.reps)
    fixed = np.where(rest, 0.0, floor).sum(axis=1)  # actuals, locked quarters
    held = np.where(locked, lo, fixed)  # an annually locked rep's whole year is held
    free_floor = np.where(rest, floor, 0.0).sum(axis=1)
    need = np.where(locked, 0.0, np.maximum(free_floor, lo - fixed))  # forced in open cells
    out = []
    scale = np.ones(n)
    groups = [("company", "company", np.arange(n), total)] + [
        (level, name, rows, target) for (level, name), rows, target in group_targets(data, limits)
    ]
    for level, name, rows, target in groups:
        forced = need[rows].sum()
        left = target - held[rows].sum()
        if forced > 0 and forced > left + tol:
            share = max(left, 0.0) / forced
            scale[rows] = np.minimum(scale[rows], share)
            who = "the company" if level == "company" else f"{level} {name}"
            out.append(
                GaveWay(
                    None,
                    "floor",
                    "actual",
                    forced - max(left, 0.0),
                    f"{who} is ahead of plan: the actuals leave {_money(max(left, 0.0))} for the "
                    f"open quarters, less than their floors and minimums ({_money(forced)}); "
                    f"they give way to {share:.0%} of themselves",
                )
            )
    moved = scale < 1
    if moved.any():
        allowed = scale * need
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = np.where(free_floor > allowed, allowed / free_floor, 1.0)
        floor[rest] *= np.broadcast_to(np.where(moved, cut, 1.0)[:, None], floor.shape)[rest]
        ceiling = np.where(moved & ~locked, fixed + allowed, np.inf)
        lo[:] = np.minimum(lo, ceiling)
        for name in ("growth_floor", "ote_low"):
            annual[name] = np.fmin(
                annual[name], np.where(np.isfinite(annual[name]), ceiling, np.nan)
            )
    out += _band_gives_way(data, limits, total, floor, tol)
    return out


def _band_gives_way(data, limits, total, floor, tol) -> list[GaveWay]:
    """What the actuals leave must hold the open quarters' floors; the phasing band's lower
    edges (the company's shape, below every rep's own limit) give way to them where both cannot
    hold: when the actuals leave less than the edges add up to (the edges would fix every open
    quarter's total exactly, leaving no room for any rep's annual minimum), or when the floors
    of some quarters crowd out the edges of others. Each open quarter's lower edge is then at
    most its floors' sum (see :func:`phasing_ranges`)."""
    lo_band, _ = _band(data, limits, total)
    open_ = ~data.closed
    if limits.phasing_band is None or not open_.any():
        return []
    left = total - floor[:, ~open_].sum()  # what the actuals leave
    col = floor[:, open_].sum(axis=0)  # the open floors, locked quarters at their locks
    edge = lo_band[open_]
    tol = max(tol, 1e-6 * abs(left))  # actuals on plan fit to the solver's tolerance
    squeezed = _band(data, limits, total, squeeze=False)[0][open_].sum() > left + tol
    if not squeezed and np.maximum(col, edge).sum() <= left + tol:
        return []
    return [
        GaveWay(
            None,
            "phasing",
            "floor",
            float(np.maximum(edge - col, 0.0).sum()),
            f"the actuals leave {_money(max(left, 0.0))} for the open quarters: the phasing "
            "band's lower edges give way to the reps' floors (each open quarter at least its "
            "floors' sum, at most its upper edge)",
        )
    ]


def _raw_annual(data: PlanData, limits: Limits) -> dict[str, np.ndarray]:
    """Each annual limit (see ``ANNUAL``) per rep as set, NaN where it does not apply: no last
    year's quota (or one covering too little of the year) or OTE, or the limit switched off."""
    n = len(data.reps)
    ly, ote = data.last_year_quota, data.ote
    known = np.isfinite(ly) & (ly > 0)
    paid = np.isfinite(ote) & (ote > 0)

    def where(ok, value, factor):
        return np.where(ok, value * factor, np.nan) if factor is not None else np.full(n, np.nan)

    band = limits.ote_band
    return {
        "ratchet": where(
            known, ly, None if limits.max_increase is None else 1 + limits.max_increase
        ),
        "growth_floor": where(
            known, ly, None if limits.min_increase is None else 1 + limits.min_increase
        ),
        "ote_high": where(paid, ote, None if band is None else band[1]),
        "ote_low": where(paid, ote, None if band is None else band[0]),
    }


def _quarter_locked(data, limits, i) -> bool:
    return any(p is not None and str(r) == str(data.reps[i]) for r, p in limits.locks)


def _ly_words(data: PlanData, i: int) -> str:
    given, share = data.last_year_given[i], data.last_year_share[i]
    if np.isfinite(share) and share < 1:
        return (
            f"last year's quota {_money(given)} for {share * 12:.0f} months, "
            f"{_money(data.last_year_quota[i])} a year"
        )
    return f"last year's quota {_money(given)}"


def _cell_words(data: PlanData, i: int, capacity, fixed) -> str:
    none = [str(p) for p, c in zip(data.periods, capacity[i], strict=True) if not c]
    if none:
        return f"no capacity in {', '.join(none)}"
    held = [str(p) for p, f in zip(data.periods, fixed[i], strict=True) if f]
    if held:
        return f"{', '.join(held)} held at actuals or locks"
    return "their floors and caps differ that much from quarter to quarter"


def _money(x: float) -> str:
    from .wording import money

    return money(x)


def bounds(
    data: PlanData, limits: Limits, total: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per rep-quarter floor and cap after precedence (see the module's docstring): a quarterly
    lock fixes its cell, an annual lock frees the rep's quarters up to the lock, closed quarters
    are fixed at the actuals. Pass the plan's ``total`` in a re-plan (the open floors give way to
    what the actuals leave of it)."""
    rl = rep_limits(data, limits, total)
    return rl.floor.copy(), rl.cap.copy()


def annual_limits(
    data: PlanData, limits: Limits, total: float | None = None
) -> dict[str, np.ndarray]:
    """Each annual limit (see ``ANNUAL``) per rep after precedence, NaN where it does not apply:
    no last year's quota or OTE, the limit switched off, or the rep's year locked."""
    return {k: v.copy() for k, v in rep_limits(data, limits, total).annual.items()}


def annual_range(
    data: PlanData, limits: Limits, total: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each rep's year: (low, high) from the annual limits and annual locks (0 and inf where
    free)."""
    rl = rep_limits(data, limits, total)
    return rl.lo.copy(), rl.hi.copy()


def annual_locks(data: PlanData, limits: Limits) -> dict[int, float]:
    """Row index -> locked annual quota."""
    return {
        rep_index(data, rep): float(v)
        for (rep, period), v in limits.locks.items()
        if period is None
    }


def rep_index(data: PlanData, rep) -> int:
    hits = np.flatnonzero(data.reps == str(rep))
    if not len(hits):
        raise SpecError(f"lock for rep {rep!r}, who is not in the forecast")
    return int(hits[0])


def period_index(data: PlanData, period) -> int:
    hits = np.flatnonzero(data.periods == str(period))
    if not len(hits):
        raise SpecError(
            f"lock for {period!r}, which is not a quarter of the plan ({', '.join(data.periods)})"
        )
    if data.closed[hits[0]]:
        raise SpecError(f"lock for {period!r}, a closed quarter: its quotas are the actuals")
    return int(hits[0])


def level_cells(data: PlanData, limits: Limits) -> np.ndarray:
    """The rep-quarters a policy's common level (stretch, quantile) applies to: those with a
    P50, in an open quarter, and not held by a lock (locked quotas may sit above the level)."""
    mask = data.p50 > 0
    mask[:, data.closed] = False
    for i in annual_locks(data, limits):
        mask[i] = False
    for rep, period in limits.locks:
        if period is not None:
            mask[rep_index(data, rep), period_index(data, period)] = False
    return mask


def seasonal_shares(data: PlanData) -> np.ndarray:
    """Each quarter's share of the year in the forecast (P50)."""
    totals = data.p50.sum(axis=0)
    return totals / totals.sum() if totals.sum() > 0 else np.full(len(totals), 1 / len(totals))


def phasing_ranges(data: PlanData, limits: Limits, total: float) -> tuple[np.ndarray, np.ndarray]:
    """Each quarter's company total: (low, high), within the band around its seasonal share of
    the year; NaN where no band applies (no band, or a closed quarter).

    In a re-plan the open quarters must carry what the actuals leave of the number; where that
    is more (or less) than their bands add up to, the bands give way in proportion, just enough
    to hold it: a company ahead of plan is not told its plan is impossible, and actuals exactly
    on plan leave the bands as they were.
    """
    lo, hi = _band(data, limits, total)
    closed = data.closed
    if closed.any() and limits.phasing_band is not None:
        # Ahead of plan, the open floors gave way to exactly what is left: the quotas are those
        # floors, so each open quarter's lower edge is at most its floors' sum.
        rl = rep_limits(data, limits, total)
        if any(g.rep is None and g.limit in ("floor", "phasing") for g in rl.gave_way):
            lo[~closed] = np.minimum(lo[~closed], rl.floor[:, ~closed].sum(axis=0))
    return lo, hi


def _band(
    data: PlanData, limits: Limits, total: float, squeeze: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The phasing band's edges per quarter (see :func:`phasing_ranges`), before the floors;
    ``squeeze=False``: the open quarters' edges as set, before they give way to the actuals."""
    T = len(data.periods)
    if limits.phasing_band is None:
        return np.full(T, np.nan), np.full(T, np.nan)
    season = seasonal_shares(data) * total
    lo, hi = (1 - limits.phasing_band) * season, (1 + limits.phasing_band) * season
    closed = data.closed
    if closed.any() and squeeze:
        left = total - float(np.nansum(data.actual[:, closed]))
        open_lo, open_hi = lo[~closed].sum(), hi[~closed].sum()
        if left < open_lo:
            lo[~closed] *= max(left, 0.0) / open_lo
        if left > open_hi > 0:
            hi[~closed] *= left / open_hi
    lo[closed] = hi[closed] = np.nan
    return lo, hi


def group_targets(
    data: PlanData, limits: Limits
) -> list[tuple[tuple[str, str], np.ndarray, float]]:
    """Each team/region target: ((level, name), member row indices, the members' quotas' sum:
    target x (1 + group over-assignment))."""
    rows = {
        "team": pd.Series(data.team).groupby(data.team).indices,
        "region": pd.Series(data.region).groupby(data.region).indices,
    }
    out = []
    for (level, name), value in limits.group_targets.items():
        members = rows[level].get(name)
        if members is None:
            raise SpecError(f"{level} target for {name!r}, which has no reps in the forecast")
        total = parse_amount(value) * (1 + limits.group_over_assignment)
        out.append(((level, name), np.asarray(members), total))
    return out

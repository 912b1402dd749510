"""Hold and override after the fact: a manager changes one rep's annual quota and the rest of
that rep's team is rebalanced so the team (and so the company) still adds up, with every other
team left exactly as it was and every limit still holding."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from optimizer.changes import annual_changes
from optimizer.errors import PlanInfeasibleError, SpecError
from optimizer.inputs import prepare
from optimizer.ranges import annual_range, bounds
from optimizer.results import Plan
from optimizer.solve import solve_plan
from optimizer.spec import PlanSpec
from optimizer.wording import money


def adjust(spec: PlanSpec, quotas: pd.DataFrame, rep_id: str, annual_quota: float) -> Plan:
    """The plan with ``rep_id``'s annual quota set to ``annual_quota`` (their quarters scaled
    alike, keeping their phasing) and their teammates' quotas set again by the plan's policy and
    limits; everyone outside the team keeps their quarterly quotas (``quotas``: the plan's
    ``rep_id, period, quota``).

    Raises :class:`AdjustmentRefused` when the change itself breaks one of the plan's limits
    (the rep's cap, floor, ratchet...) or the rest of the team cannot absorb it (the plan's
    diagnosis would speak of the locks that hold every other team, which no planner set),
    ``ValueError`` for an unknown rep or a negative quota.
    """
    roster = spec.roster.assign(rep_id=spec.roster["rep_id"].astype(str))
    teams = roster.set_index("rep_id")["team"]
    if rep_id not in teams.index or rep_id not in set(quotas["rep_id"].astype(str)):
        raise SpecError(f"rep {rep_id!r} is not in this plan")
    if not np.isfinite(annual_quota) or annual_quota < 0:
        raise SpecError(f"the new annual quota must be a number >= 0, got {annual_quota}")
    team = teams[rep_id]
    # Closed quarters (a re-plan's) are what was sold: no adjustment moves them.
    data = prepare(spec)
    closed = set(map(str, data.periods[data.closed]))
    is_open = ~quotas["period"].astype(str).isin(closed)
    others = quotas[~quotas["rep_id"].astype(str).map(teams).eq(team) & is_open]
    held = {k: v for k, v in spec.limits.locks.items() if teams.get(str(k[0])) == team}
    held = {k: v for k, v in held.items() if str(k[0]) != rep_id}
    # The rep's open quarters keep their phasing: each scaled to what the new year leaves.
    mine = quotas[quotas["rep_id"].astype(str) == rep_id]
    sold = float(mine.loc[~is_open[mine.index], "quota"].sum())
    ahead = mine[is_open[mine.index]]
    if ahead.empty:
        raise AdjustmentRefused(
            f"every quarter of the plan is closed: {rep_id}'s year is what they sold"
        )
    if annual_quota < sold * (1 - 1e-9):
        raise AdjustmentRefused(
            f"{rep_id} has already sold {money(sold)} in the closed quarters "
            f"({', '.join(sorted(closed))}); the year cannot be set below that"
        )
    year = float(ahead["quota"].sum())
    for r in ahead.itertuples():
        share = r.quota / year if year > 0 else 1 / len(ahead)
        held[(rep_id, r.period)] = (float(annual_quota) - sold) * share
    for r in others.itertuples():
        held[(str(r.rep_id), r.period)] = float(r.quota)
    target = spec.target
    if target is None:  # a plan set by an attainment goal: keep the number it found
        target = float(quotas["quota"].sum()) / (1 + spec.limits.over_assignment)
    trial = quotas.assign(rep_id=quotas["rep_id"].astype(str))
    mine_rows = (trial["rep_id"] == rep_id) & is_open
    trial.loc[mine_rows, "quota"] = [held[(rep_id, p)] for p in trial.loc[mine_rows, "period"]]
    # The change itself first, saying what the rep's year can be set to.
    _refuse_if_broken(
        spec, trial, {rep_id}, rep_id, annual_quota, _settable(spec, data, rep_id, ahead, sold)
    )
    team_reps = set(teams.index[teams == team])
    mates = sorted((set(quotas.loc[is_open, "rep_id"].astype(str)) & team_reps) - {rep_id})
    moved = float(annual_quota) - float(mine["quota"].sum())
    if not mates and abs(moved) > 1e-9 * max(abs(float(annual_quota)), 1.0):
        raise AdjustmentRefused(
            f"{rep_id} is the only rep of team {team}: an adjustment is absorbed by the rest of "
            "the rep's team, with every other team left as it is, and there is no one else; "
            "change the company number (or the team's target) and plan again"
        )
    try:
        new = solve_plan(
            replace(spec, target=target, attainment=None, limits=replace(spec.limits, locks=held))
        )
    except PlanInfeasibleError:
        raise AdjustmentRefused(
            f"setting {rep_id}'s annual quota to {money(annual_quota)} asks the rest of team "
            f"{team} ({', '.join(mates)}) to {'give up' if moved > 0 else 'take on'} "
            f"{money(abs(moved))}, more than their limits allow (their caps and floors, the "
            "plan's phasing band and smoothness, with every other team held as it is); choose "
            f"a value nearer {money(float(mine['quota'].sum()))}, or change the limits and plan "
            "again"
        ) from None
    _refuse_if_broken(spec, new.quotas, team_reps, rep_id, annual_quota)
    return new


def _settable(spec, data, rep_id, ahead, sold) -> tuple[float, float]:
    """The annual quotas ``rep_id`` can be given with their open quarters (``ahead``) keeping
    their phasing, each within its floor and cap, and the year within its annual limits: (low,
    high), low above high where none can."""
    free = replace(spec.limits, locks={})
    floor, cap = bounds(data, free)
    lo, hi = annual_range(data, free)
    i = [str(r) for r in data.reps].index(rep_id)
    t = pd.Index([str(p) for p in data.periods]).get_indexer(ahead["period"].astype(str))
    q = ahead["quota"].to_numpy(float)
    share = q / q.sum() if q.sum() > 0 else np.full(len(q), 1 / len(q))
    if np.any((share <= 0) & (floor[i, t] > 1e-9)):  # a quarter at 0 under a floor stays there
        return np.inf, -np.inf
    on = share > 0
    low = max(sold + float(np.max(floor[i, t][on] / share[on], initial=0.0)), float(lo[i]))
    high = min(sold + float(np.min(cap[i, t][on] / share[on], initial=np.inf)), float(hi[i]))
    return low, high


def _refuse_if_broken(spec, quotas, reps, rep_id, annual_quota, settable=None) -> None:
    broken = limits_broken(spec, quotas, reps)
    if broken:
        if settable is None:
            what = "choose a value within them"
        elif abs(settable[1] - settable[0]) <= 1e-6 * max(abs(settable[1]), 1.0):
            what = (
                f"with its quarters keeping their phasing, {rep_id}'s year cannot move from "
                f"{money(settable[0], 3)}: a quarter is at its floor and another at its cap"
            )
        elif settable[0] <= settable[1]:
            what = (
                f"with its quarters keeping their phasing, {rep_id}'s year can be set between "
                f"{money(settable[0], 3)} and {money(settable[1], 3)}"
            )
        else:
            what = (
                f"with its quarters keeping their phasing, no annual quota keeps every quarter of "
                f"{rep_id}'s within its floor and cap"
            )
        raise AdjustmentRefused(
            f"setting {rep_id}'s annual quota to {money(annual_quota)} breaks the plan's limits: "
            + "; ".join(broken[:6])
            + (f" (and {len(broken) - 6} more)" if len(broken) > 6 else "")
            + f"; {what}, or change the limits and plan again"
        )


class AdjustmentRefused(ValueError):
    """The change (and the team's rebalance around it) would break a limit of the plan."""


def limits_broken(spec: PlanSpec, quotas: pd.DataFrame, reps=None) -> list[str]:
    """What a set of quotas breaks of the plan's own limits (cap, floor, annual limits: ratchet,
    growth floor, OTE band), judged without the locks; only the ``reps`` given, if any."""
    data = prepare(spec)
    free = replace(spec.limits, locks={})
    floor, cap = bounds(data, free)
    lo, hi = annual_range(data, free)
    q = quotas.pivot_table(index="rep_id", columns="period", values="quota", aggfunc="sum")
    q = q.reindex(index=data.reps, columns=data.periods).to_numpy(float)
    out = []
    tol = 1e-6
    for i, rep in enumerate(data.reps):
        if reps is not None and str(rep) not in reps:
            continue
        for t, period in enumerate(data.periods):
            if q[i, t] > cap[i, t] * (1 + tol) + tol:
                out.append(f"{rep} {period} {money(q[i, t])} over the cap ({money(cap[i, t])})")
            elif q[i, t] < floor[i, t] * (1 - tol) - tol:
                out.append(
                    f"{rep} {period} {money(q[i, t])} under the floor ({money(floor[i, t])})"
                )
        year = q[i].sum()
        if year > hi[i] * (1 + tol) + tol:
            out.append(f"{rep}'s year {money(year)} over its annual limit ({money(hi[i])})")
        elif year < lo[i] * (1 - tol) - tol:
            out.append(f"{rep}'s year {money(year)} under its annual minimum ({money(lo[i])})")
    return out


@dataclass(frozen=True)
class QuotaChange:
    """A rep whose annual quota an adjustment moves: ``before``, ``after``, ``delta`` (after
    minus before), their team and ``binding``, the limit that binds them after (``adjustment``
    for the rep whose number was set). Stored with the adjustment as :meth:`to_dict`."""

    rep_id: str
    team: str | None
    before: float
    after: float
    delta: float
    binding: str | None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> QuotaChange:
        """A change as :meth:`to_dict` stored it (team and binding may be missing)."""
        before, after = float(d["before"]), float(d["after"])
        return cls(
            rep_id=str(d["rep_id"]),
            team=d.get("team"),
            before=before,
            after=after,
            delta=float(d.get("delta", after - before)),
            binding=d.get("binding"),
        )


def changes(
    before: pd.DataFrame, after: pd.DataFrame, tol: float = 1e-6
) -> tuple[QuotaChange, ...]:
    """The reps whose annual quota moved (plans' ``reps`` tables), in the plan's order."""
    ch = annual_changes(before, after).reindex(before["rep_id"])  # in the plan's order
    new = after.set_index("rep_id").reindex(ch.index)
    moved = ch["change"].abs() > tol * max(float(ch["before"].abs().max()), 1.0)

    def text(r, column):
        v = new[column].get(r) if column in new else None
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    return tuple(
        QuotaChange(
            rep_id=str(r),
            team=text(r, "team"),
            before=float(row.before),
            after=float(row.after),
            delta=float(row.change),
            binding=text(r, "binding"),
        )
        for r, row in ch[moved].iterrows()
    )

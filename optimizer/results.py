"""What the optimizer hands back: a solved plan, and the diagnosis of an impossible one.

These are the results that cross layers (the CLI prints them, the API stores and returns them),
so they are frozen and typed, and import neither pandas nor a solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from .spec import PlanSpec


@dataclass(frozen=True)
class Plan:
    """A solved plan.

    Attributes
    ----------
    quotas : per rep and quarter: ``quota``, ``p50``, ``stretch`` (quota / P50),
        ``p_attain`` (chance of reaching the quota under the forecast), ``binding``.
    reps : per rep: annual quota, P50, stretch, chance of attaining, binding limit, last year's
        quota and the change, quota-to-OTE, and limits the quota breaks (rule-of-thumb policies).
    summary : company number, total quota, over-assignment, expected share of reps attaining,
        policy, solver status, objective, timings and the marginal cost of the number.
    """

    quotas: pd.DataFrame
    reps: pd.DataFrame
    summary: dict

    def table(self) -> pd.DataFrame:
        """The plan as one table: a row per rep and quarter, with the rep's annual figures."""
        reps = self.reps.rename(
            columns={
                "stretch": "annual_stretch",
                "p_attain": "annual_p_attain",
                "binding": "rep_binding",
                "basis": "rep_basis",
            }
        )
        return self.quotas.merge(reps, on="rep_id", how="left")


@dataclass(frozen=True)
class Fix:
    """A change to the plan's settings that makes it possible (checked): ``changes`` maps
    ``target``, ``attainment`` or a field of :class:`optimizer.Limits` to its new value."""

    changes: dict
    message: str

    def apply(self, spec: PlanSpec) -> PlanSpec:
        """The spec with this change made."""
        limits = {k: v for k, v in self.changes.items() if k not in ("target", "attainment")}
        out = replace(spec, limits=replace(spec.limits, **limits))
        if "attainment" in self.changes:
            return replace(out, target=None, attainment=self.changes["attainment"])
        if "target" in self.changes:
            return replace(out, target=self.changes["target"], attainment=None)
        return out

    def as_dict(self) -> dict:
        return {"changes": _plain(self.changes), "message": self.message}


@dataclass(frozen=True)
class Finding:
    """One family of limits that binds: ``limit`` (capacity, floor, growth-floor, ote, ratchet,
    phasing, smoothness, team, region, lock, attainment), how much is missing or too much
    (money, or for phasing and smoothness the setting it needs), and the sentence."""

    limit: str
    amount: float
    share_of_target: float
    message: str

    def as_dict(self) -> dict:
        return {
            "limit": self.limit,
            "amount": self.amount,
            "share_of_target": self.share_of_target,
            "message": self.message,
        }


@dataclass(frozen=True)
class Diagnosis:
    """What cannot hold (``findings``) and the changes that each make the plan possible
    (``fixes``, the first the most natural)."""

    findings: tuple[Finding, ...]
    fixes: tuple[Fix, ...] = field(default_factory=tuple)

    def text(self) -> str:
        lines = ["the plan is impossible within its limits:"]
        lines += [f"  - {f.message}" for f in self.findings]
        if self.fixes:
            lines.append(
                "this change makes it possible:"
                if len(self.fixes) == 1
                else "any one of these changes makes it possible:"
            )
            lines += [f"  - {x.message}" for x in self.fixes]
        return "\n".join(lines)

    def as_dicts(self) -> list[dict]:
        """The findings as JSON-ready rows, each with the fixes (the same for every row)."""
        return [f.as_dict() for f in self.findings]

    def fixes_as_dicts(self) -> list[dict]:
        return [x.as_dict() for x in self.fixes]


def _plain(value):
    """A fix's changes as JSON-ready data: tuple keys (a lock's rep and quarter, a group's level
    and name) joined by ":", tuples as lists, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {
            (":".join(map(str, k)) if isinstance(k, tuple) else str(k)): _plain(v)
            for k, v in value.items()
        }
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    return value

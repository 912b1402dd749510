"""What the optimizer hands back: a solved plan with its summary, the solver's status, and the
diagnosis of an impossible plan.

These are the results that cross layers (the CLI prints and writes them, the API stores and
returns them), so they are frozen and typed, and import neither pandas nor a solver. A summary
is built once (``optimizer.solve``); what a later step adds (the attainment search, a re-plan,
the inputs' warnings) makes a new one with ``dataclasses.replace``. ``to_dict()`` is the JSON
both the CLI (``.summary.json``) and the API write, keys in the order they have always had;
``PlanSummary.from_dict`` reads it back (a stored plan).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from .spec import PlanSpec


class SolveStatus(StrEnum):
    """How a plan (or one HiGHS solve) ended. A plan is ``OPTIMAL`` (certified) or set by a
    ``RULE_OF_THUMB`` (no solver); the others are HiGHS's verdicts on a single solve."""

    OPTIMAL = "optimal"
    RULE_OF_THUMB = "not needed (rule of thumb)"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible or unbounded"
    TIME_LIMIT = "time limit"


def _present(**values) -> dict:
    """The values that are there (not None), in the order given."""
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Objective:
    """The policy's common level and the second stage's closeness: ``max_stretch``
    (equal-stretch) or ``common_level`` and ``common_chance`` (equal-probability), and
    ``squared_deviation`` (money squared, weighted) of the plan from its reference."""

    squared_deviation: float
    max_stretch: float | None = None
    common_level: float | None = None
    common_chance: float | None = None
    #: equal-stretch: the stretch every free cell takes, where limits hold a cell above the
    #: rest so that ``max_stretch`` (the level) is not what the plan gives everyone.
    common_stretch: float | None = None

    @property
    def level(self) -> float:
        """The common level, whichever policy set it (what a re-plan keeps)."""
        return self.max_stretch if self.max_stretch is not None else self.common_level

    def to_dict(self) -> dict:
        return _present(
            max_stretch=self.max_stretch,
            common_level=self.common_level,
            common_chance=self.common_chance,
            common_stretch=self.common_stretch,
            squared_deviation=self.squared_deviation,
        )


@dataclass(frozen=True)
class Marginal:
    """What 1% more of the company number costs: the common stretch at +1% and the rise, or the
    common quantile level at +1% and the change in the common chance; and the dual of the
    company total."""

    dual_company_total: float
    max_stretch_at_plus_1pct: float | None = None
    max_stretch_per_1pct_more: float | None = None
    common_level_at_plus_1pct: float | None = None
    common_chance_per_1pct_more: float | None = None

    def to_dict(self) -> dict:
        # NaN (1% more is impossible) is no JSON: written as null, as the API's encoder does.
        present = _present(
            max_stretch_at_plus_1pct=self.max_stretch_at_plus_1pct,
            max_stretch_per_1pct_more=self.max_stretch_per_1pct_more,
            common_level_at_plus_1pct=self.common_level_at_plus_1pct,
            common_chance_per_1pct_more=self.common_chance_per_1pct_more,
            dual_company_total=self.dual_company_total,
        )
        return {k: None if v != v else v for k, v in present.items()}


@dataclass(frozen=True)
class Certificate:
    """The plan's optimality certificate: the relative primal-dual gap, and the largest
    violation of a limit relative to the company number."""

    duality_gap: float
    max_residual: float

    def to_dict(self) -> dict:
        return {"duality_gap": self.duality_gap, "max_residual": self.max_residual}


@dataclass(frozen=True)
class Solved:
    """What an optimising policy reports beside the quotas (``optimizer.policies``)."""

    objective: Objective
    marginal: Marginal
    route: str  # which way it was solved, in words
    certificate: Certificate


@dataclass(frozen=True)
class StageRecord:
    """What HiGHS ran for one stage of a plan: the algorithms (how often each), the last
    status in HiGHS's words, the iterations by kind, the last optimal solve's gap and residual,
    and why another algorithm ran than the stage asked for (``note``)."""

    algorithms: Mapping[str, int]
    status: str
    iterations: Mapping[str, int] = field(default_factory=dict)
    duality_gap: float | None = None
    max_residual: float | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return _present(
            algorithms=dict(self.algorithms),
            status=self.status,
            iterations=dict(self.iterations) or None,
            duality_gap=self.duality_gap,
            max_residual=self.max_residual,
            note=self.note,
        )

    @classmethod
    def from_dict(cls, d: Mapping) -> StageRecord:
        return cls(
            algorithms=dict(d["algorithms"]),
            status=d["status"],
            iterations=dict(d.get("iterations") or {}),
            duality_gap=d.get("duality_gap"),
            max_residual=d.get("max_residual"),
            note=d.get("note"),
        )


@dataclass(frozen=True)
class SolverRecord:
    """What HiGHS ran for a plan: a :class:`StageRecord` per stage (``level check``,
    ``level``, ``plan``, ``marginal check``, ``marginal``, in the order they ran) and
    ``notes``, why another algorithm ran than asked, in words. Written as one object, the
    stages by name and then ``notes`` where there are any."""

    stages: Mapping[str, StageRecord]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out: dict = {name: stage.to_dict() for name, stage in self.stages.items()}
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> SolverRecord:
        stages = {k: StageRecord.from_dict(v) for k, v in d.items() if k != "notes"}
        return cls(stages, tuple(d.get("notes") or ()))


@dataclass(frozen=True)
class HeldAbove:
    """Cells held above the common level by one thing (a floor, a lock): how many, of how many
    reps, and the highest stretch among them."""

    cells: int
    reps: int
    highest_stretch: float

    def to_dict(self) -> dict:
        return {"cells": self.cells, "reps": self.reps, "highest_stretch": self.highest_stretch}


@dataclass(frozen=True)
class CommonLevel:
    """The level the policy set for everyone: ``kind`` "stretch" (``value`` the common
    quota / P50) or "quantile" (``value`` the quantile level, ``chance`` 1 - it), the cells
    held above it, by what holds them, and ``reps_at_level``: how many reps have an open
    quarter at it (the rest are held above or below it by their limits; None: not counted,
    a summary stored before it was)."""

    kind: str
    value: float
    held_above: Mapping[str, HeldAbove]
    chance: float | None = None
    reps_at_level: int | None = None

    def to_dict(self) -> dict:
        return {
            **_present(kind=self.kind, value=self.value, chance=self.chance),
            "held_above": {k: h.to_dict() for k, h in self.held_above.items()},
            **_present(reps_at_level=self.reps_at_level),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> CommonLevel:
        held = {k: HeldAbove(**h) for k, h in d["held_above"].items()}
        return cls(d["kind"], d["value"], held, d.get("chance"), d.get("reps_at_level"))


@dataclass(frozen=True)
class LimitGaveWay:
    """One limit that gave way to a stronger one: the rep's (None: a group ahead of plan, or
    the phasing band), which limit, to what, by how much money, and why in words."""

    rep_id: str | None
    limit: str
    gave_way_to: str
    amount: float
    why: str

    def to_dict(self) -> dict:
        return {
            "rep_id": self.rep_id,
            "limit": self.limit,
            "gave_way_to": self.gave_way_to,
            "amount": self.amount,
            "why": self.why,
        }


@dataclass(frozen=True)
class ReplanSummary:
    """A re-plan's figures: the plan's level and the re-plan's, the at-risk threshold, how many
    reps are under it, and how much quota moved between reps (money)."""

    previous_level: float
    level: float
    at_risk_below: float
    reps_at_risk: int
    moved: float

    def to_dict(self) -> dict:
        return {
            "previous_level": self.previous_level,
            "level": self.level,
            "at_risk_below": self.at_risk_below,
            "reps_at_risk": self.reps_at_risk,
            "moved": self.moved,
        }


@dataclass(frozen=True)
class PlanSummary:
    """A plan's figures: the number and the quotas' total, the expected share of reps attaining,
    how it was solved (status, route, certificate, what HiGHS ran), the limits that gave way,
    timings, the common level; a re-plan's closed quarters, an attainment goal's search, the
    inputs' warnings.

    ``solver`` is what HiGHS ran, per stage (:class:`SolverRecord`); ``timings`` the seconds
    per step (``prepare_s``, ``level_s``, ..., ``total_s``), written as top-level keys."""

    policy: str
    fiscal_year_start: int
    company_target: float | None
    over_assignment: float
    total_quota: float
    reps: int
    band_levels: tuple[float, float]
    expected_share_attaining: float
    max_stretch: float
    reps_over_cap: int
    solver_status: SolveStatus
    limits_gave_way: tuple[LimitGaveWay, ...]
    timings: Mapping[str, float]
    objective: Objective | None = None
    marginal: Marginal | None = None
    route: str | None = None
    certificate: Certificate | None = None
    solver: SolverRecord | None = None
    level: CommonLevel | None = None
    closed_quarters: tuple[str, ...] | None = None
    actual_to_date: float | None = None
    remaining_quota: float | None = None
    attainment_goal: float | None = None
    plans_solved: int | None = None
    replan: ReplanSummary | None = None
    warnings: tuple[str, ...] = ()

    @property
    def total_s(self) -> float:
        return self.timings["total_s"]

    def to_dict(self) -> dict:
        """The summary as JSON-ready data (NaN stays NaN: the API's ``plain`` makes it null)."""
        out: dict = {
            "policy": self.policy,
            "fiscal_year_start": self.fiscal_year_start,
            "company_target": self.company_target,
            "over_assignment": self.over_assignment,
            "total_quota": self.total_quota,
            "reps": self.reps,
            "band_levels": list(self.band_levels),
            "expected_share_attaining": self.expected_share_attaining,
            "max_stretch": self.max_stretch,
            "reps_over_cap": self.reps_over_cap,
        }
        if self.solver_status is SolveStatus.RULE_OF_THUMB:  # no solver ran: nothing to report
            out |= {"solver_status": self.solver_status.value, "objective": None, "marginal": None}
        else:
            out |= {
                "objective": _dict_or_none(self.objective),
                "marginal": _dict_or_none(self.marginal),
                "solver_status": self.solver_status.value,
                "route": self.route,
                "certificate": _dict_or_none(self.certificate),
            }
            if self.solver is not None:
                out["solver"] = self.solver.to_dict()
        out["limits_gave_way"] = [g.to_dict() for g in self.limits_gave_way]
        out |= dict(self.timings)
        if self.level is not None:
            out["level"] = self.level.to_dict()
        if self.closed_quarters is not None:
            out |= {
                "closed_quarters": list(self.closed_quarters),
                "actual_to_date": self.actual_to_date,
                "remaining_quota": self.remaining_quota,
            }
        if self.attainment_goal is not None:
            out |= {"attainment_goal": self.attainment_goal, "plans_solved": self.plans_solved}
        if self.replan is not None:
            out["replan"] = self.replan.to_dict()
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> PlanSummary:
        """A summary from what :meth:`to_dict` wrote (a stored plan's)."""

        def typed(kind, key):
            return kind(**d[key]) if d.get(key) is not None else None

        return cls(
            policy=d["policy"],
            fiscal_year_start=d.get("fiscal_year_start", 1),
            company_target=d.get("company_target"),
            over_assignment=d["over_assignment"],
            total_quota=d["total_quota"],
            reps=d["reps"],
            band_levels=tuple(d["band_levels"]),
            expected_share_attaining=d["expected_share_attaining"],
            max_stretch=d["max_stretch"],
            reps_over_cap=d["reps_over_cap"],
            solver_status=SolveStatus(d["solver_status"]),
            limits_gave_way=tuple(LimitGaveWay(**g) for g in d.get("limits_gave_way") or ()),
            timings={k: v for k, v in d.items() if k.endswith("_s")},
            objective=typed(Objective, "objective"),
            marginal=typed(Marginal, "marginal"),
            route=d.get("route"),
            certificate=typed(Certificate, "certificate"),
            solver=SolverRecord.from_dict(d["solver"]) if d.get("solver") is not None else None,
            level=CommonLevel.from_dict(d["level"]) if d.get("level") else None,
            closed_quarters=tuple(d["closed_quarters"]) if "closed_quarters" in d else None,
            actual_to_date=d.get("actual_to_date"),
            remaining_quota=d.get("remaining_quota"),
            attainment_goal=d.get("attainment_goal"),
            plans_solved=d.get("plans_solved"),
            replan=typed(ReplanSummary, "replan"),
            warnings=tuple(d.get("warnings") or ()),
        )


def _dict_or_none(value):
    return value.to_dict() if value is not None else None


@dataclass(frozen=True)
class Plan:
    """A solved plan.

    Attributes
    ----------
    quotas : per rep and quarter: ``quota``, ``p50``, ``stretch`` (quota / P50),
        ``p_attain`` (chance of reaching the quota under the forecast), ``binding``.
    reps : per rep: annual quota, P50, stretch, chance of attaining, binding limit, last year's
        quota and the change, quota-to-OTE, and limits the quota breaks (rule-of-thumb policies).
    summary : the plan's figures (:class:`PlanSummary`).
    """

    quotas: pd.DataFrame
    reps: pd.DataFrame
    summary: PlanSummary

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

    def with_warnings(self, warnings) -> Plan:
        """The plan with the inputs' warnings in its summary (none given: the plan itself)."""
        if not warnings:
            return self
        return replace(self, summary=replace(self.summary, warnings=tuple(warnings)))


@dataclass(frozen=True)
class Fix:
    """A change to the plan's settings that makes it possible (checked): ``changes`` maps
    ``target``, ``attainment`` or a field of :class:`optimizer.Limits` to its new value."""

    changes: dict
    message: str
    #: The exact edge a rounded change stands for (the largest possible number, where the fix
    #: says 103.90M for 103.9352066M): what the diagnosis's findings quote. None: the change.
    edge: float | None = field(default=None, compare=False)

    def apply(self, spec: PlanSpec) -> PlanSpec:
        """The spec with this change made."""
        limits = {k: v for k, v in self.changes.items() if k not in ("target", "attainment")}
        out = replace(spec, limits=replace(spec.limits, **limits))
        if "attainment" in self.changes:
            return replace(out, target=None, attainment=self.changes["attainment"])
        if "target" in self.changes:
            return replace(out, target=self.changes["target"], attainment=None)
        return out

    def to_dict(self) -> dict:
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

    def to_dict(self) -> dict:
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

    def to_dict(self) -> dict:
        """The findings and the fixes as JSON-ready rows (the members of the API's answer)."""
        return {
            "diagnosis": [f.to_dict() for f in self.findings],
            "fixes": [x.to_dict() for x in self.fixes],
        }


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

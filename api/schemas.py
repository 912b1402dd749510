"""Request and response bodies (pydantic): validated on the way in, and the source of the
OpenAPI document (``api.openapi``), so the two never disagree.

Table rows are typed where quotaplan needs the column (``rep_id``, ``period``, ``revenue``, the
quantile columns); the data layer (``datasets``) then checks the tables as a whole (duplicates,
negative revenue, unknown reps) and answers with the rows at fault.
"""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from optimizer import AT_RISK_BELOW, POLICIES, Limits, parse_amount


def _amount(value: float | str) -> float:
    try:
        return parse_amount(value)
    except ValueError as exc:  # pydantic reports it with the field's name
        raise ValueError(str(exc)) from None


Amount = Annotated[
    float | str,
    AfterValidator(_amount),
    Field(description="Money: a number or text such as 12.5M, 800k.", examples=["12.5M"]),
]
Share = Annotated[float, Field(ge=-0.99, le=10, allow_inf_nan=False, description="0.05 = 5%")]
Level = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f/]+$")]
#: Database ids and versions (32-bit, as every SQL database stores them).
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Policy = Literal[tuple(POLICIES)]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class HistoryRow(Strict):
    rep_id: Name
    period: str = Field(min_length=1, max_length=20, examples=["2025Q3"])
    revenue: float = Field(description="Booked amount in the period (>= 0).")


class RosterRow(BaseModel):
    """A rep: ``rep_id`` and the optional columns of the roster table (team, region, hire_date,
    fte, fte_<quarter>, last_year_quota, ote, manager_id, active)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    rep_id: Name
    team: str | None = None
    region: str | None = None


class ForecastRow(BaseModel):
    """A rep's quarter: ``rep_id``, ``period`` and one column per quantile level (q10, q50,
    q90, ...)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    rep_id: Name
    period: str = Field(min_length=1, max_length=20)
    q50: float


class Lock(Strict):
    rep_id: Name
    period: str | None = Field(None, description="A quarter, or null to lock the annual quota.")
    quota: Amount


_DEFAULT = Limits()


class PlanLimits(Strict):
    """The limits of a plan (defaults as in the CLI); shares as fractions (0.1 = 10%)."""

    over_assignment: Share = _DEFAULT.over_assignment
    cap_quantile: Level = _DEFAULT.cap_quantile
    floor_quantile: Level | None = _DEFAULT.floor_quantile
    phasing_band: Annotated[float, Field(ge=0, lt=1)] | None = _DEFAULT.phasing_band
    max_increase: Share | None = _DEFAULT.max_increase
    min_increase: Share | None = _DEFAULT.min_increase
    ote_band: tuple[float, float] | None = None
    smoothness: Annotated[float, Field(ge=0)] | None = None
    team_targets: dict[str, Amount] = Field(default_factory=dict)
    region_targets: dict[str, Amount] = Field(default_factory=dict)
    group_over_assignment: Share = 0.0
    locks: list[Lock] = Field(default_factory=list)

    def to_limits(self) -> Limits:
        return Limits(
            over_assignment=self.over_assignment,
            cap_quantile=self.cap_quantile,
            floor_quantile=self.floor_quantile,
            phasing_band=self.phasing_band,
            max_increase=self.max_increase,
            min_increase=self.min_increase,
            ote_band=self.ote_band,
            smoothness=self.smoothness,
            group_targets={
                **{("team", k): v for k, v in self.team_targets.items()},
                **{("region", k): v for k, v in self.region_targets.items()},
            },
            group_over_assignment=self.group_over_assignment,
            locks={(lk.rep_id, lk.period): lk.quota for lk in self.locks},
        )


FiscalYearStart = Annotated[
    int,
    Field(
        ge=1,
        le=12,
        description="Month (1-12) in which the fiscal year and its Q1 start: how months, hire "
        "dates and leave map to quarters.",
    ),
]
PartialQuarters = Annotated[
    Literal["complete", "drop"],
    Field(
        description="A quarter that monthly history covers only in part: completed from the "
        "within-quarter shape, or dropped."
    ),
]


class ForecastRequest(Strict):
    history: list[HistoryRow] = Field(min_length=1)
    roster: list[RosterRow] = Field(min_length=1)
    year: int | None = Field(
        None,
        ge=1900,
        le=2200,
        description="Default: the year after the last complete year of the history.",
    )
    quantiles: list[Level] = Field(default_factory=lambda: [0.1, 0.5, 0.9], min_length=1)
    seed: int = 0
    fiscal_year_start: FiscalYearStart = 1
    partial_quarters: PartialQuarters = "complete"


class ForecastUpload(Strict):
    """The form fields of a forecast made from uploaded CSV files."""

    year: int | None = Field(None, ge=1900, le=2200)
    fiscal_year_start: FiscalYearStart = 1
    partial_quarters: PartialQuarters = "complete"


class PlanSettings(Strict):
    """What a plan asks for besides the tables: scenario, company number or attainment goal,
    policy and limits."""

    scenario: Name = Field(examples=["FY2026 base"])
    base_version: int | None = Field(
        None,
        ge=0,
        le=MAX_ID,
        description="Plan on top of this version; 409 if the scenario has moved on.",
    )
    year: int | None = Field(None, ge=1900, le=2200, description="When forecasting from history.")
    fiscal_year_start: FiscalYearStart | None = Field(
        None,
        description="Month (1-12) in which the fiscal year and its Q1 start. Default: the "
        "forecast's (its fiscal_year_start column), else 1. Stored with the plan.",
    )
    partial_quarters: PartialQuarters = "complete"
    target: Amount | None = None
    attainment: Level | None = Field(None, description="Share of reps who should reach quota.")
    policy: Policy = "equal-stretch"
    limits: PlanLimits = Field(default_factory=PlanLimits)

    @model_validator(mode="after")
    def _target_or_attainment(self):
        if (self.target is None) == (self.attainment is None):
            raise ValueError(
                "give either target (the company number) or attainment (the share of reps who "
                "should reach quota)"
            )
        return self


class PlanRequest(PlanSettings):
    """Plan quotas: from a forecast (rows, or the id of a stored one) or from history (forecast
    first), with a company number (``target``) or an attainment goal (``attainment``)."""

    roster: list[RosterRow] = Field(min_length=1)
    forecast: list[ForecastRow] | None = None
    forecast_id: Id | None = None
    history: list[HistoryRow] | None = None

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("forecast", "forecast_id", "history") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of forecast (rows), forecast_id (a stored forecast) or history "
                f"(to forecast first); got {', '.join(given) or 'none'}"
            )
        return self


class ReplanRequest(Strict):
    """Mid-year: the closed quarters' actuals; the rest of the year is planned again."""

    actuals: list[HistoryRow] = Field(min_length=1)
    at_risk_below: Level = AT_RISK_BELOW
    base_version: int | None = Field(None, ge=0, le=MAX_ID)
    keep_adjustments: bool = Field(
        True,
        description="Hold every approved adjustment's annual quota as a lock (the default); "
        "false re-plans those reps by the policy again.",
    )


class BookingRow(Strict):
    """Bookings so far: a month's total (``period`` such as 2026-04), a closed quarter's total
    (``period`` such as 2026Q1), or a dated booking."""

    rep_id: Name
    period: str | None = Field(None, min_length=1, max_length=20, examples=["2026-04", "2026Q1"])
    date: date_ | None = Field(None, examples=["2026-04-17"])
    revenue: float = Field(description="Booked amount (>= 0).")

    @model_validator(mode="after")
    def _one_when(self):
        if (self.period is None) == (self.date is None):
            raise ValueError("give either period (a month such as 2026-04) or date, not both")
        return self


class ReliefRequest(Strict):
    """Bookings to date; the quarters closed by ``as_of`` are re-planned from."""

    actuals: list[BookingRow] = Field(min_length=1)
    as_of: date_ | None = Field(None, description="Track to this day (default: the last booked).")
    fiscal_year_start: FiscalYearStart | None = Field(
        None, description="Default: the plan's; a different one is refused (422)."
    )


class ProgressRequest(ReliefRequest):
    """Bookings to date against a stored plan, and when to raise the flags."""

    at_risk_below: Level = AT_RISK_BELOW
    missed_quarters: int = Field(2, ge=1, le=4)
    grain: Literal["month", "week"] = "month"


class ProgressBrief(BaseModel):
    id: int
    plan_id: int
    as_of: str
    created_at: datetime
    created_by: str
    summary: dict[str, Any]


class ProgressOut(ProgressBrief):
    reps: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    phased: list[dict[str, Any]]


class ProgressList(BaseModel):
    plan_id: int
    snapshots: list[ProgressBrief]


class ReliefOut(BaseModel):
    plan_id: int
    kept_number: bool
    number: float = Field(description="What the proposal adds up to (the company number).")
    message: str
    reps: list[dict[str, Any]]
    quotas: list[dict[str, Any]] | None = Field(
        description="The proposed plan (null if none is possible)"
    )
    closed_actuals: list[dict[str, Any]] = Field(
        description="The closed quarters' actuals: POST them to /v1/plans/{id}/replan to adopt"
    )


class StateChange(Strict):
    """Move a plan to its next state (or back to draft from review), with a comment."""

    to: Literal["in_review", "approved", "published", "draft"]
    comment: str = Field("", max_length=2000)


class PlanState(BaseModel):
    id: int
    scenario: str
    version: int
    kind: str
    parent_id: int | None
    state: str


class AdjustmentRequest(Strict):
    """A manager's change to one rep's annual quota, and why."""

    rep_id: Name
    annual_quota: float = Field(ge=0, allow_inf_nan=False)
    reason: str = Field(min_length=3, max_length=2000)


class AdjustmentOut(BaseModel):
    id: int
    plan_id: int
    rep_id: str
    proposed_by: str
    reason: str
    status: Literal["pending", "approved", "rejected", "stale"]
    levels: list[str] = Field(description="Who approves, in order: team:<team>, region:<region>")
    next_level: str | None
    decisions: list[dict[str, Any]]
    changes: list[dict[str, Any]] = Field(description="Reps whose annual quota moves")


class AdjustmentList(BaseModel):
    plan_id: int
    adjustments: list[AdjustmentOut]


class Decision(Strict):
    decision: Literal["approve", "reject"]
    comment: str = Field(min_length=1, max_length=2000)


class DecisionOut(BaseModel):
    adjustment: AdjustmentOut
    plan: PlanState | None = Field(description="The plan the approval changed (last level)")


class BookLevel(BaseModel):
    level: Literal["company", "region", "team"]
    name: str
    number: float = Field(description="The number set for this level (a manager's quota)")
    sum_of_quotas: float = Field(description="The sum of its reps' quotas")
    uplift: float
    uplift_share: float | None


class Books(BaseModel):
    plan_id: int
    levels: list[BookLevel]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    who: str
    plan_id: int
    action: str
    rep_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    why: str


class AuditList(BaseModel):
    plan_id: int
    entries: list[AuditEntry]


class RepExplanation(BaseModel):
    plan_id: int
    rep_id: str
    annual_quota: float
    quotas: list[dict[str, Any]]
    explanation: list[str] = Field(description="How the number was set, in words")
    history: list[AuditEntry]


class ForecastOut(BaseModel):
    id: int
    created_at: datetime
    rows: list[dict[str, Any]]
    warnings: list[str] = Field(
        default_factory=list,
        description="What limits the forecast (a short history, reps with no history and no "
        "hire date)",
    )
    notes: list[str]


class PlanBrief(BaseModel):
    id: int
    scenario: str
    version: int
    kind: Literal["plan", "replan", "revision"]
    state: Literal["draft", "in_review", "approved", "published"] = "draft"
    parent_id: int | None
    created_at: datetime
    created_by: str
    policy: str
    company_target: float
    total_quota: float
    expected_share_attaining: float | None


class PlanOut(PlanBrief):
    summary: dict[str, Any]
    reps: list[dict[str, Any]]
    quotas: list[dict[str, Any]]


class PlanList(BaseModel):
    scenario: str
    plans: list[PlanBrief]


class ScenarioOut(BaseModel):
    name: str
    plans: int
    latest_at: datetime | None


class ScenarioList(BaseModel):
    scenarios: list[ScenarioOut]


class RepDifference(BaseModel):
    rep_id: str
    annual_a: float | None
    annual_b: float | None
    difference: float | None
    relative: float | None = Field(description="difference / annual_a")


class Comparison(BaseModel):
    a: PlanBrief
    b: PlanBrief
    total_difference: float
    reps: list[RepDifference]


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    version: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str

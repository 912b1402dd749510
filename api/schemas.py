"""Request and response bodies (pydantic): validated on the way in, and the source of the
OpenAPI document (``api.openapi``), so the two never disagree.

Table rows are typed where quotaplan needs the column (``rep_id``, ``period``, ``revenue``, the
quantile columns); the data layer (``datasets``) then checks the tables as a whole (duplicates,
negative revenue, unknown reps) and answers with the rows at fault.
"""

from __future__ import annotations

import re
from datetime import date as date_
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    model_serializer,
    model_validator,
)

from datasets.schema import QUANTILE_COLUMN, is_quantile_column
from optimizer import AT_RISK_BELOW, POLICIES, Limits, PlanSpec, parse_amount

#: Amounts above this per rep and period are refused (default of QUOTAPLAN_MAX_VALUE).
MAX_VALUE = 1e15


def _within_bound(value: float | None, info: ValidationInfo):
    """An amount per rep and period within the operator's bound (QUOTAPLAN_MAX_VALUE)."""
    bound = (info.context or {}).get("max_value", MAX_VALUE)
    if value is not None and abs(value) > bound:
        raise ValueError(
            f"{value:g} is above the largest amount this server takes per rep and period "
            f"({bound:g}, QUOTAPLAN_MAX_VALUE); check the units (cents? a pasted total?)"
        )
    return value


def _amount(value: float | str) -> float:
    try:
        return parse_amount(value)
    except ValueError as exc:  # pydantic reports it with the field's name
        raise ValueError(str(exc)) from None


def _amount_in_words(value, handler):
    """An amount refused is refused in parse_amount's words ("cannot read the amount 'lots':
    write it like 12.5M, ..."), not with a number's and a pattern's errors; what parse_amount
    reads but the schema refuses (a text over 40 characters) keeps the schema's error."""
    try:
        return handler(value)
    except ValidationError:
        _amount(value)
        raise


BOUND = {"x-bound": "MAX_VALUE"}  # filled in with the setting by api.openapi
#: Text amounts optimizer.parse_amount reads, above 0 ("12.5M", "800k", "1,200,000").
AMOUNT_TEXT = (
    r"^\s*([0-9][0-9_,]*)?[1-9][0-9_,]*(\.[0-9]+)?\s*[kKmMbB]?\s*$"
    r"|^\s*[0-9][0-9_,]*\.[0-9]*[1-9][0-9]*\s*[kKmMbB]?\s*$"
)

#: A total (company, team or region number, a locked quota): above 0, a number or text.
Amount = Annotated[
    Annotated[float, Field(gt=0, allow_inf_nan=False)]
    | Annotated[str, Field(pattern=AMOUNT_TEXT, max_length=40)],
    AfterValidator(_amount),
    WrapValidator(_amount_in_words),
    Field(description="Money above 0: a number or text such as 12.5M, 800k.", examples=["12.5M"]),
]
#: A booked or forecast amount per rep and period: >= 0, finite, within QUOTAPLAN_MAX_VALUE.
Value = Annotated[
    float, Field(ge=0, allow_inf_nan=False, json_schema_extra=BOUND), AfterValidator(_within_bound)
]
Share = Annotated[float, Field(ge=-0.99, le=10, allow_inf_nan=False, description="0.05 = 5%")]
Level = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f/]+$")]
Text = Annotated[str, Field(max_length=200)]
#: The periods the JSON API takes: a quarter (2025Q3) or a month (2025-07). Uploaded CSV files
#: may use any spelling the data layer reads (FY2025-Q3, Jul 2025, ...).
PERIOD = r"^(19|20|21)[0-9]{2}(Q[1-4]|-(0[1-9]|1[0-2]))$"
QUARTER = r"^(19|20|21)[0-9]{2}Q[1-4]$"


def _whole(value):
    """JSON has one number type: 3.0 is the integer 3 (as JSON Schema says), 3.5 is not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def Int(**bounds):  # noqa: N802 - a type
    """An integer within ``bounds`` as JSON Schema reads one (2026 or 2026.0; never "2026")."""
    return Annotated[int, Field(**bounds), BeforeValidator(_whole)]


#: Database ids and versions (32-bit, as every SQL database stores them).
MAX_ID = 2**31 - 1
Id = Int(ge=1, le=MAX_ID)
Policy = Literal[tuple(POLICIES)]  # type: ignore[valid-type]
ROWS = {"x-bound": "MAX_ROWS"}  # maxItems, filled in with the setting by api.openapi


def _period(value: str, info: ValidationInfo) -> str:
    if not (info.context or {}).get("upload") and not re.match(PERIOD, value):
        raise ValueError(
            f"write the period as a quarter (2025Q3) or a month (2025-07), not {value!r}"
        )
    return value


Period = Annotated[
    str,
    Field(min_length=1, max_length=20, examples=["2025Q3"], json_schema_extra={"pattern": PERIOD}),
    AfterValidator(_period),
]


def one_of(*fields: str) -> dict:
    """JSON Schema for "exactly one of these fields" (a rule the model validators enforce)."""
    return {"oneOf": [{"required": [f]} for f in fields]}


class Strict(BaseModel):
    """A request body: no unknown fields, no NaN or infinity, no type coercion (``"5"`` is not 5)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class HistoryRow(Strict):
    rep_id: Name
    period: Period
    revenue: Value = Field(description="Booked amount in the period (>= 0).")


Cell = str | float | bool | None


class RosterRow(BaseModel):
    """A rep: ``rep_id`` and the optional columns of the roster table. Other columns are kept
    (per-quarter capacity ``fte_2026Q1``, your own columns) as text, numbers or booleans."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)
    __pydantic_extra__: dict[str, Cell]
    rep_id: Name
    team: Text | None = None
    region: Text | None = None
    hire_date: Text | None = Field(None, description="ISO date the rep started (2024-03-01).")
    fte: Annotated[float, Field(ge=0, le=1)] | None = Field(None, description="Capacity 0..1.")
    last_year_quota: Value | None = None
    ote: Value | None = Field(None, description="On-target earnings (> 0).")
    manager_id: Text | None = None
    active: bool | Text | None = Field(None, description="true/false (or yes/no). Blank: true.")


class ForecastRow(BaseModel):
    """A rep's quarter: ``rep_id``, ``period`` and one column per quantile level (q10, q50,
    q90, ...): amounts >= 0 within QUOTAPLAN_MAX_VALUE; optionally the ``basis`` and
    ``fiscal_year_start`` columns a forecast table carries."""

    model_config = ConfigDict(
        extra="allow",
        allow_inf_nan=False,
        strict=True,
        json_schema_extra={
            "propertyNames": {
                "anyOf": [
                    {"enum": ["rep_id", "period", "basis", "fiscal_year_start"]},
                    {"pattern": QUANTILE_COLUMN},
                ]
            }
        },
    )
    __pydantic_extra__: dict[str, Value]
    rep_id: Name
    period: str = Field(min_length=1, max_length=20, pattern=QUARTER)
    q50: Value
    basis: str | None = Field(
        None, max_length=500, description="Where the number came from (quotaplan forecast)."
    )
    fiscal_year_start: Int(ge=1, le=12) | None = Field(
        None, description="The fiscal calendar the forecast was made in (quotaplan forecast)."
    )

    @model_validator(mode="after")
    def _quantile_columns(self):
        bad = [k for k in self.__pydantic_extra__ if not is_quantile_column(k)]
        if bad:
            raise ValueError(
                f"a forecast row holds rep_id, period and quantile columns (q10, q50, q90...); "
                f"not {', '.join(map(repr, bad))}"
            )
        return self


class Lock(Strict):
    rep_id: Name
    period: str | None = Field(
        None, pattern=QUARTER, description="A quarter, or null to lock the annual quota."
    )
    quota: Amount


_DEFAULT = Limits()
NAMED_ONLY = {"additionalProperties": False}  # keys are names (the pattern of Name)


class PlanLimits(Strict):
    """The limits of a plan (defaults as in the CLI); shares as fractions (0.1 = 10%)."""

    over_assignment: Share = Field(
        _DEFAULT.over_assignment, description="Quotas add up to the number plus this (0.05 = 5%)."
    )
    cap_quantile: Level = Field(
        _DEFAULT.cap_quantile, description="Overload cap: no quota above this forecast quantile."
    )
    floor_quantile: Level | None = Field(
        _DEFAULT.floor_quantile,
        description="No quota below this forecast quantile (null: no floor).",
    )
    phasing_band: Annotated[float, Field(ge=0, lt=1)] | None = Field(
        _DEFAULT.phasing_band,
        description="Each quarter within this of its seasonal share (null: free).",
    )
    max_increase: Share | None = Field(
        _DEFAULT.max_increase,
        description="Anti-ratchet: annual quota at most last year's plus this (null: off).",
    )
    min_increase: Share | None = Field(
        _DEFAULT.min_increase, description="Annual quota at least last year's plus this."
    )
    ote_band: (
        tuple[
            Annotated[float, Field(gt=0, le=1000)],
            Annotated[float, Field(gt=0, le=1000)],
        ]
        | None
    ) = Field(
        None, description="The range of multiples of OTE for the annual quota (in any order)."
    )
    smoothness: Annotated[float, Field(ge=0, le=10)] | None = Field(
        None, description="Largest change from one quarter to the next, as a share (0.3 = 30%)."
    )
    team_targets: dict[Name, Amount] = Field(
        default_factory=dict,
        max_length=10_000,
        json_schema_extra=NAMED_ONLY,
        description="Team name -> amount: the team's quotas add up to it.",
    )
    region_targets: dict[Name, Amount] = Field(
        default_factory=dict,
        max_length=10_000,
        json_schema_extra=NAMED_ONLY,
        description="Region name -> amount: the region's quotas add up to it.",
    )
    group_over_assignment: Share = Field(
        0.0, description="Team and region quotas add up to their target plus this (0.05 = 5%)."
    )
    locks: list[Lock] = Field(
        default_factory=list,
        json_schema_extra=ROWS,
        description="Quotas held as given (a rep's year, or one quarter).",
    )

    @model_validator(mode="after")
    def _ote_band_in_order(self):
        if self.ote_band is not None:
            self.ote_band = tuple(sorted(self.ote_band))
        return self

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


Year = Int(ge=1900, le=2200)
FiscalYearStart = Annotated[
    Int(ge=1, le=12),
    Field(
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
    """History and roster; the forecast needs at least two quarters of history (else 422)."""

    model_config = ConfigDict(json_schema_extra={"description": "History and roster rows."})
    history: list[HistoryRow] = Field(min_length=1, json_schema_extra=ROWS)
    roster: list[RosterRow] = Field(min_length=1, json_schema_extra=ROWS)
    year: Year | None = Field(
        None, description="Default: the year after the last complete year of the history."
    )
    quantiles: list[Level] = Field(
        default_factory=lambda: [0.1, 0.5, 0.9],
        min_length=1,
        max_length=19,
        description="Distinct levels, 0.5 among them (the median is the point forecast).",
        json_schema_extra={"uniqueItems": True, "contains": {"const": 0.5}},
    )
    seed: Int(ge=0, le=2**32 - 1) = 0
    fiscal_year_start: FiscalYearStart = 1
    partial_quarters: PartialQuarters = "complete"

    @model_validator(mode="after")
    def _levels(self):
        if 0.5 not in self.quantiles or len(set(self.quantiles)) != len(self.quantiles):
            raise ValueError("quantiles: give distinct levels, 0.5 among them")
        return self


class ForecastUpload(Strict):
    """The form fields of a forecast made from uploaded CSV files."""

    year: Year | None = None
    fiscal_year_start: FiscalYearStart = 1
    partial_quarters: PartialQuarters = "complete"


class PlanChoices(Strict):
    """What a plan asks for besides its tables and where it is kept: the company number or the
    attainment goal, the policy, the limits and the calendar. ``quotaplan plan``'s flags are
    these settings (``api.cli.options``), checked before any file is read."""

    model_config = ConfigDict(json_schema_extra=one_of("target", "attainment"))
    year: Year = Field(None, description="When forecasting from history.")
    fiscal_year_start: FiscalYearStart | None = Field(
        None,
        description="Month (1-12) in which the fiscal year and its Q1 start. Default: the "
        "forecast's (its fiscal_year_start column), else 1. Stored with the plan.",
    )
    partial_quarters: PartialQuarters = "complete"
    target: Amount = Field(None, description="The company number (or give attainment).")
    attainment: Level = Field(None, description="Share of reps who should reach quota.")
    policy: Policy = "equal-stretch"
    limits: PlanLimits = Field(default_factory=PlanLimits)

    @model_serializer(mode="wrap")
    def _given_only(self, handler):
        """Fields not given are left out (the document has no null for them)."""
        return {k: v for k, v in handler(self).items() if v is not None}

    @model_validator(mode="after")
    def _target_or_attainment(self):
        if (self.target is None) == (self.attainment is None):
            raise ValueError(
                "give either target (the company number) or attainment (the share of reps who "
                "should reach quota)"
            )
        return self

    def to_spec(self, forecast, roster) -> PlanSpec:
        """The optimizer's specification: these settings over a forecast and its roster (both
        DataFrames). The fiscal calendar not given is the forecast's (its ``fiscal_year_start``
        column; a forecast made from history here has the one it was made in), else 1."""
        from models.basis import forecast_fiscal_year_start  # pandas: only with the tables

        return PlanSpec(
            forecast,
            roster,
            self.target,
            self.policy,
            self.limits.to_limits(),
            attainment=self.attainment,
            fiscal_year_start=self.fiscal_year_start or forecast_fiscal_year_start(forecast),
        )


class Stored(Strict):
    """Where a plan is kept: its scenario, and the version it builds on."""

    scenario: Name = Field(examples=["FY2026 base"])
    base_version: Int(ge=0, le=MAX_ID) = Field(
        None, description="Plan on top of this version; 409 if the scenario has moved on."
    )


class PlanSettings(PlanChoices, Stored):  # Stored's fields first in the document
    """What a plan asks for besides the tables: scenario, company number or attainment goal,
    policy and limits."""


class PlanUpload(PlanSettings):
    """The ``settings`` part of a plan made from uploaded files: the plan's settings, and
    optionally the id of a stored forecast to plan from (then only the roster is uploaded)."""

    forecast_id: Id = Field(
        None, description="A stored forecast (POST /v1/forecasts): upload the roster alone."
    )


class PlanRequest(PlanSettings):
    """Plan quotas: from a forecast (rows, or the id of a stored one) or from history (forecast
    first, which needs at least two quarters), with a company number (``target``) or an
    attainment goal (``attainment``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [one_of("target", "attainment"), one_of("forecast", "forecast_id", "history")]
        }
    )
    roster: list[RosterRow] = Field(min_length=1, json_schema_extra=ROWS)
    forecast: list[ForecastRow] = Field(None, min_length=1, json_schema_extra=ROWS)
    forecast_id: Id = None
    history: list[HistoryRow] = Field(None, min_length=1, json_schema_extra=ROWS)

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

    actuals: list[HistoryRow] = Field(min_length=1, json_schema_extra=ROWS)
    at_risk_below: Level = AT_RISK_BELOW
    base_version: Int(ge=0, le=MAX_ID) = None
    keep_adjustments: bool = Field(
        True,
        description="Hold every approved adjustment's annual quota as a lock (the default); "
        "false re-plans those reps by the policy again.",
    )
    limits: PlanLimits | None = Field(
        None,
        description="The limits to re-plan under, whole (null: the plan's own): to apply a fix "
        "a diagnosis offered (a higher cap, a wider increase...). Stored with the re-plan, so "
        "later re-plans, adjustments and relief keep them.",
    )


#: A month (2026-04) or a quarter (2026Q1) of bookings.
MONTH_OR_QUARTER = r"^(19|20|21)[0-9]{2}(-(0[1-9]|1[0-2])|Q[1-4])$"


class BookingRow(Strict):
    """Bookings so far: a month's total (``period`` such as 2026-04), a closed quarter's total
    (``period`` such as 2026Q1), or a dated booking (``date``): one of the two, not both."""

    model_config = ConfigDict(json_schema_extra=one_of("period", "date"))
    rep_id: Name
    period: str = Field(None, pattern=MONTH_OR_QUARTER, examples=["2026-04", "2026Q1"])
    date: date_ = Field(None, examples=["2026-04-17"])
    revenue: Value = Field(description="Booked amount (>= 0).")

    @model_validator(mode="after")
    def _one_when(self):
        if (self.period is None) == (self.date is None):
            raise ValueError(
                "give either period (a month such as 2026-04, or a closed quarter such as "
                "2026Q1) or date, not both"
            )
        return self


class ReliefSettings(Strict):
    """A relief request's settings (the ``settings`` part when the bookings are uploaded)."""

    as_of: date_ = Field(None, description="Track to this day (default: the last booked).")
    fiscal_year_start: FiscalYearStart | None = Field(
        None, description="Default: the plan's; a different one is refused (422)."
    )


class ReliefRequest(ReliefSettings):
    """Bookings to date; the quarters closed by ``as_of`` are re-planned from."""

    actuals: list[BookingRow] = Field(min_length=1, json_schema_extra=ROWS)


class ProgressSettings(ReliefSettings):
    """When to raise the flags, and the grain of the phased table (the ``settings`` part when
    the bookings are uploaded)."""

    at_risk_below: Level = AT_RISK_BELOW
    missed_quarters: Int(ge=1, le=4) = 2
    grain: Literal["month", "week"] = "month"


class ProgressRequest(ProgressSettings):
    """Bookings to date against a stored plan, and when to raise the flags."""

    actuals: list[BookingRow] = Field(min_length=1, json_schema_extra=ROWS)


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
    annual_quota: Value
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


class RepChange(BaseModel):
    """A rep whose annual quota an adjustment moves."""

    rep_id: str
    team: str | None
    before: float
    after: float
    delta: float = Field(description="after - before")
    binding: str | None = Field(
        description="The limit that binds the rep after (adjustment: the rep whose number was set)"
    )


class AdjustmentPreview(BaseModel):
    """What an adjustment would do (nothing stored)."""

    plan_id: int
    rep_id: str
    team: str
    annual_quota_before: float
    annual_quota_after: float
    changes: list[RepChange] = Field(description="Every rep whose annual quota moves")
    team_total_before: float
    team_total_after: float


class AdjustmentList(BaseModel):
    plan_id: int
    adjustments: list[AdjustmentOut]


class AdjustmentQuery(BaseModel):
    """The query of the approver's queue (``GET /v1/adjustments``)."""

    model_config = ConfigDict(extra="ignore")
    state: Literal["pending"] = "pending"
    plan_id: Id | None = None


class QueuedAdjustment(BaseModel):
    """An adjustment waiting for the caller's decision."""

    id: int
    plan_id: int
    scenario: str
    plan_version: int
    rep_id: str
    team: str
    proposed_by: str
    reason: str
    created_at: datetime
    annual_quota_before: float
    annual_quota_after: float
    level: str = Field(description="The level whose decision it waits for (team:A, region:EU)")
    levels: list[str]
    decisions: list[dict[str, Any]]
    changes: list[dict[str, Any]] = Field(description="Reps whose annual quota moves")
    stale: bool = Field(
        description="The plan changed since it was proposed: approving it sets it aside (409)"
    )


class AdjustmentQueue(BaseModel):
    state: Literal["pending"]
    plan_id: int | None
    adjustments: list[QueuedAdjustment]


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


class JobOut(BaseModel):
    """Long work asked for with ``Prefer: respond-async``, and where it stands."""

    id: int
    kind: Literal["forecast", "plan", "replan"]
    state: Literal["queued", "running", "succeeded", "failed"]
    percent: int = Field(ge=0, le=100, description="How far the work is (stages reported)")
    message: str = Field(description="The current stage in words (fitting the forecaster...)")
    result: str | None = Field(description="The URL of what the job made, once it succeeded")
    problem: dict[str, Any] | None = Field(
        description="The problem the synchronous call would have answered, once it failed"
    )
    created_at: datetime
    updated_at: datetime


class Me(BaseModel):
    """Who the caller's token says they are (what a client needs to offer only what they may do)."""

    name: str = Field(description="The token's name (anonymous on an open server)")
    role: Literal["rep", "viewer", "planner", "approver"]
    scope: str | None = Field(description="An approver's level: team:<team>, region:<r>, company")
    open: bool = Field(description="No tokens configured: the caller may do everything")


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

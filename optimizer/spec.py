"""What a plan is asked to do: the company number, the policy and the limits (frozen, validated)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import SpecError

if TYPE_CHECKING:  # pandas only in annotations: the command line reads these names without it
    import pandas as pd

POLICIES = (
    "equal-stretch",
    "equal-probability",
    "equal-split",
    "last-year-plus-growth",
    "forecast-proportional",
)
#: Policies solved as linear programs under every limit; the others are the usual rules of thumb,
#: computed directly and checked against the limits afterwards (for comparison).
LP_POLICIES = ("equal-stretch", "equal-probability")
#: Default threshold of the at-risk flag (re-plans, tracking): under a 30% chance of reaching the
#: year's quota.
AT_RISK_BELOW = 0.3


_AMOUNT = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([kmb]?)\s*$", re.IGNORECASE)


def parse_amount(text: str | float | int) -> float:
    """``"12.5M"`` -> 12_500_000.0; ``"800k"``, ``"1.2b"`` and plain numbers too."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _AMOUNT.match(str(text))
        if not m:
            raise SpecError(
                f"cannot read the amount {text!r}: write it like 12.5M, 800k or 12500000"
            )
        value = (
            float(m[1].replace(",", "").replace("_", ""))
            * {"": 1, "k": 1e3, "m": 1e6, "b": 1e9}[m[2].lower()]
        )
    if not value > 0 or value == float("inf"):
        raise SpecError(f"the amount must be a positive number, got {text!r}")
    return value


@dataclass(frozen=True)
class Limits:
    """The limits a plan must respect; each is reported per rep where it binds.

    Attributes
    ----------
    over_assignment : quotas add up to the company number x (1 + this). 0.05 = 5%.
    cap_quantile : no rep-quarter quota above this forecast quantile (the overload cap).
    floor_quantile : no rep-quarter quota below this forecast quantile (None: no floor).
    phasing_band : each quarter's company total within +/- this share of its seasonal share of
        the year (None: free phasing).
    max_increase : annual quota at most last year's quota x (1 + this), where known (anti-ratchet;
        None: no limit).
    min_increase : annual quota at least last year's quota x (1 + this), where known (None: none).
    ote_band : (low, high) multiples of on-target earnings for the annual quota, where known
        (None: reported, not enforced).
    smoothness : a rep's quota may change from one quarter to the next by at most this share of
        their average quarter (None: free).
    group_targets : {(level, name): target}, level "team" or "region": the group's quotas add up
        to target x (1 + group_over_assignment).
    group_over_assignment : over-assignment applied to group targets.
    locks : {(rep_id, period or None): quota}: a planner's held quotas (period None: annual).
    """

    over_assignment: float = 0.0
    cap_quantile: float = 0.9
    floor_quantile: float | None = 0.1
    phasing_band: float | None = 0.10
    max_increase: float | None = 0.25
    min_increase: float | None = None
    ote_band: tuple[float, float] | None = None
    smoothness: float | None = None
    group_targets: dict = field(default_factory=dict)
    group_over_assignment: float = 0.0
    locks: dict = field(default_factory=dict)

    def __post_init__(self):
        if not -0.5 < self.over_assignment < 1:
            raise SpecError(
                f"over_assignment must be a share such as 0.05 (5%), got {self.over_assignment}"
            )
        if not 0 < self.cap_quantile < 1:
            raise SpecError(
                f"cap_quantile must be a level between 0 and 1 such as 0.9, got {self.cap_quantile}"
            )
        if self.floor_quantile is not None and not 0 < self.floor_quantile < self.cap_quantile:
            raise SpecError(
                f"floor_quantile must be between 0 and the cap quantile ({self.cap_quantile}), got {self.floor_quantile}"
            )
        if self.phasing_band is not None and not 0 <= self.phasing_band < 1:
            raise SpecError(f"phasing_band must be a share such as 0.10, got {self.phasing_band}")
        if (
            self.max_increase is not None
            and self.min_increase is not None
            and self.min_increase > self.max_increase
        ):
            raise SpecError(
                f"min_increase ({self.min_increase}) is above max_increase ({self.max_increase})"
            )
        if self.ote_band is not None and not 0 < self.ote_band[0] < self.ote_band[1]:
            raise SpecError(
                f"ote_band must be (low, high) with 0 < low < high, got {self.ote_band}"
            )
        if self.smoothness is not None and self.smoothness < 0:
            raise SpecError(f"smoothness must be >= 0, got {self.smoothness}")
        for (level, name), value in self.group_targets.items():
            if level not in ("team", "region"):
                raise SpecError(
                    f"group targets are per 'team' or 'region', got {level!r} for {name!r}"
                )
            parse_amount(value)
        for key, value in self.locks.items():
            if not isinstance(key, tuple) or len(key) != 2:
                raise SpecError(f"a lock is keyed (rep_id, period) or (rep_id, None), got {key!r}")
            if not value >= 0:
                raise SpecError(f"a locked quota must be >= 0, got {value!r} for {key!r}")


@dataclass(frozen=True)
class PlanSpec:
    """A plan request: forecast table, roster, company number, policy and limits; for a
    mid-year re-plan also the closed quarters' actuals (``rep_id, period, revenue``)."""

    forecast: pd.DataFrame
    roster: pd.DataFrame
    target: float | str | None
    policy: str = "equal-stretch"
    limits: Limits = field(default_factory=Limits)
    actuals: pd.DataFrame | None = None
    #: Instead of a target: the expected share of reps attaining their annual quota (0.65 for
    #: "about 65% of reps should reach quota"); the plan finds the company number that gives it.
    attainment: float | None = None
    #: Month (1-12) in which the fiscal year and its Q1 start: how the roster's dates (hire,
    #: leave) map to the plan's quarters.
    fiscal_year_start: int = 1

    def __post_init__(self):
        if not (float(self.fiscal_year_start).is_integer() and 1 <= self.fiscal_year_start <= 12):
            raise SpecError(
                f"fiscal_year_start must be a month number 1..12, got {self.fiscal_year_start!r}"
            )
        if self.policy not in POLICIES:
            raise SpecError(f"unknown policy {self.policy!r}: choose one of {', '.join(POLICIES)}")
        if (self.target is None) == (self.attainment is None):
            raise SpecError(
                "give either the company number (target) or the share of reps who should "
                "attain (attainment), not both or neither"
            )
        if self.attainment is not None:
            if not 0 < self.attainment < 1:
                raise SpecError(
                    f"attainment is the share of reps who should reach quota, such as 0.65 "
                    f"(65%), got {self.attainment}"
                )
            if self.policy not in LP_POLICIES:
                raise SpecError(
                    f"an attainment goal needs an optimising policy ({', '.join(LP_POLICIES)}), "
                    f"not {self.policy!r}"
                )
        else:
            object.__setattr__(self, "target", parse_amount(self.target))

    @property
    def total(self) -> float:
        """What the quotas add up to: the company number plus over-assignment."""
        return self.target * (1 + self.limits.over_assignment)

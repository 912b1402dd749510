"""Making a plan and re-planning it: the tables and settings to the optimizer's specification,
then the solve, for ``quotaplan plan``/``replan`` and ``POST /v1/plans``/``.../replan``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from datasets import Company
from datasets.roster import load_roster
from datasets.tables import PathOrFrame, Table
from models.basis import forecast_warnings
from optimizer import AT_RISK_BELOW, Plan, PlanSpec, replan, solve_plan

from ..schemas import PlanChoices
from .forecasts import forecast_tables

#: Reports how far the work is: ``progress(message, percent)``.
Progress = Callable[[str, int], None]

#: A table as the data layer reads it: a path, a DataFrame, or a file already read (a
#: :class:`datasets.tables.Table`, whose name and lines the data layer's errors then cite).
Source = PathOrFrame | Table

#: Fits the forecaster: ``fit(history, roster, choices) -> (forecast table, company)``.
Fit = Callable[[Source, Source, PlanChoices], tuple[pd.DataFrame, Company]]


def quiet(message: str, percent: int) -> None:
    """Progress reported to nobody."""


def fit_here(seed: int = 0) -> Fit:
    """Fit in this process (the command line): read the company, forecast the plan year."""

    def fit(history, roster, choices: PlanChoices):
        return forecast_tables(
            history,
            roster,
            choices.year,
            seed=seed,
            fiscal_year_start=choices.fiscal_year_start or 1,
            partial_quarters=choices.partial_quarters,
        )

    return fit


@dataclass(frozen=True)
class Tables:
    """A plan's tables: the roster, and the history (to forecast from) or a forecast table."""

    roster: Source
    history: Source | None = None
    forecast: pd.DataFrame | None = None

    def __post_init__(self):
        if (self.history is None) == (self.forecast is None):
            raise ValueError("a plan needs either a history (to forecast from) or a forecast")


@dataclass(frozen=True)
class PlanInputs:
    """The optimizer's specification, the warnings a plan from it carries (a short history,
    reps with no history and no hire date), the settings with the fiscal calendar settled (as
    stored), and the company read from a history (None from a forecast table)."""

    spec: PlanSpec
    warnings: list[str]
    choices: PlanChoices
    company: Company | None = field(default=None, compare=False)


def plan_inputs(
    choices: PlanChoices, tables: Tables, *, fit: Fit | None = None, progress: Progress = quiet
) -> PlanInputs:
    """The specification of a plan of ``tables`` under ``choices``; a history is forecast
    first with ``fit``."""
    company = None
    if tables.history is not None:
        forecast, company = (fit or fit_here())(tables.history, tables.roster, choices)
        roster, warnings = company.roster, list(company.warnings)
    else:
        progress("checking the tables", 10)
        forecast, warnings = tables.forecast, forecast_warnings(tables.forecast)
        roster = load_roster(tables.roster)[0]
    spec = choices.to_spec(forecast, roster)
    settled = choices.model_copy(update={"fiscal_year_start": spec.fiscal_year_start})
    return PlanInputs(spec, warnings, settled, company)


def solving_at(inputs: PlanInputs) -> int:
    """How far the work is when solving starts: most of a plan from history is the forecast."""
    return 70 if inputs.company is not None else 30


def make_plan(
    choices: PlanChoices,
    tables: Tables,
    *,
    time_limit: float | None = None,
    fit: Fit | None = None,
    progress: Progress = quiet,
) -> tuple[Plan, PlanInputs]:
    """The plan (carrying its inputs' warnings) and the inputs it was solved from."""
    inputs = plan_inputs(choices, tables, fit=fit, progress=progress)
    progress("solving", solving_at(inputs))
    return solved(inputs.spec, inputs.warnings, time_limit), inputs


def solved(spec: PlanSpec, warnings, time_limit: float | None = None) -> Plan:
    """A plan's spec solved, carrying its inputs' warnings (the solve of :func:`make_plan`, for
    a caller that runs it elsewhere: the server's planning process)."""
    return solve_plan(spec, time_limit=time_limit).with_warnings(warnings)


def make_replan(
    inputs: PlanInputs,
    actuals: pd.DataFrame,
    *,
    previous: Plan | None = None,
    at_risk_below: float = AT_RISK_BELOW,
    time_limit: float | None = None,
    progress: Progress = quiet,
) -> Plan:
    """The open quarters planned again from the closed quarters' ``actuals`` (see
    :func:`optimizer.replan`), carrying the inputs' warnings."""
    progress("solving", solving_at(inputs))
    result = replan(
        inputs.spec, actuals, previous=previous, at_risk_below=at_risk_below, time_limit=time_limit
    )
    return result.with_warnings(inputs.warnings)

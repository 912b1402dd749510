"""A plan's tables from the plan flags' files, and the optimizer's specification over them by
the HTTP API's builder (:meth:`api.schemas.PlanChoices.to_spec`). Imports pandas and the
forecaster: the commands import it when they run, after the flags are checked."""

from __future__ import annotations

from datasets import load_company
from datasets.roster import load_roster
from datasets.tables import read_table
from models import forecast_year
from models.basis import forecast_warnings


def plan_inputs(o: dict, choices):
    """The spec and the warnings a plan from it carries (a short history, reps with no history
    and no hire date), from ``--history`` (forecast first) or ``--forecast``, and ``--roster``.
    Also the company read from ``--history`` (None from ``--forecast``)."""
    company = None
    if o["history_path"] is not None:
        company = load_company(
            o["history_path"],
            o["roster_path"],
            fiscal_year_start=choices.fiscal_year_start or 1,
            partial_quarters=choices.partial_quarters,
        )
        forecast = forecast_year(company, choices.year, seed=o["seed"])
        roster, warnings = company.roster, list(company.warnings)
    else:
        forecast = read_table(o["forecast_path"], o["forecast_path"].name).frame
        roster = load_roster(o["roster_path"])[0]
        warnings = forecast_warnings(forecast)
    return choices.to_spec(forecast, roster), warnings, company

"""A plan's tables from the plan flags' files, and the service's inputs over them
(:func:`api.service.plans.plan_inputs`, the HTTP API's too). Imports pandas and the
forecaster: the commands import it when they run, after the flags are checked."""

from __future__ import annotations

from datasets.tables import read_table

from ..service.plans import PlanInputs, Tables, fit_here, plan_inputs


def tables(o: dict) -> Tables:
    """``--roster`` and ``--history`` (read by the data layer, which names the files in its
    errors) or ``--forecast``."""
    if o["history_path"] is not None:
        return Tables(o["roster_path"], history=o["history_path"])
    return Tables(
        o["roster_path"], forecast=read_table(o["forecast_path"], o["forecast_path"].name).frame
    )


def inputs(o: dict, choices) -> PlanInputs:
    """The plan's inputs from the flags' files; a history is forecast here (``--seed``)."""
    return plan_inputs(choices, tables(o), fit=fit_here(o["seed"]))

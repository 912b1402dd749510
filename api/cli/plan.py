"""``quotaplan plan`` and ``quotaplan replan``: the flags become the HTTP API's plan settings
(checked before any file is read), then the tables, the spec and the solve."""

from __future__ import annotations

from pathlib import Path

import click

from .errors import reported
from .options import FILE, at_risk_option, plan_choices, plan_options


def checked(o: dict):
    """The plan flags as the API's settings (:func:`api.cli.options.plan_choices`), after the
    one rule about which files are given."""
    if (o["history_path"] is None) == (o["forecast_path"] is None):
        raise click.UsageError("give either --history (to forecast first) or --forecast")
    return plan_choices(o)


def show_plan(result, out: Path | None) -> None:
    """A plan's summary (with its inputs' warnings), written to ``out`` if given, and printed."""
    from .files import write_plan
    from .render import format_plan

    if out:
        write_plan(result, out)
    click.echo(format_plan(result, out))


@click.command(
    "plan",
    short_help="Set quarterly quotas that add up to the number within the limits.",
    epilog="""\b
Examples:
  quotaplan plan --history history.csv --roster roster.csv --target 12.5M --out plan.csv
  quotaplan plan --forecast forecast.csv --roster roster.csv --target 12.5M --policy equal-probability
  quotaplan plan --forecast forecast.csv --roster roster.csv --attainment 65%
  quotaplan plan --history h.csv --roster r.csv --target 80M --over-assignment 5% --lock R00001=2.5M --team-target EMEA-1=30M
""",
)
@plan_options
def plan_command(**o):
    """Set quarterly quotas that add up to the company number without overloading anyone.

    Forecasts each rep from --history (or reads --forecast), then finds the policy's plan under
    the limits. Prints the summary and every rep's quota with its stretch (quota / P50), chance
    of attaining it, and the limit that bound it. With --attainment instead of --target, finds
    the company number at which that share of reps is expected to reach quota. An impossible
    number is explained: which limit, by how much, and what to change (exit status 3).
    """
    choices = checked(o)
    with reported():
        from ..service.plans import fit_here, make_plan
        from .inputs import tables

        fit = fit_here(o["seed"])
        result, _ = make_plan(choices, tables(o), time_limit=o["time_limit"], fit=fit)
    show_plan(result, o["out"])


@click.command(
    "replan",
    short_help="Mid-year: re-allocate the open quarters given actuals; flag reps at risk.",
    epilog="""\b
Examples:
  quotaplan replan --forecast forecast.csv --roster roster.csv --target 12.5M --actuals q1.csv
  quotaplan replan --history h.csv --roster r.csv --target 80M --actuals h1.csv --at-risk-below 25% --out replan.csv
""",
)
@plan_options
@click.option(
    "--actuals",
    "actuals_path",
    type=FILE,
    required=True,
    help="Closed quarters' bookings: rep_id, period, revenue (every rep, 0 if none).",
)
@at_risk_option(
    "Flag reps whose chance of reaching the annual quota they were given is under this."
)
def replan_command(actuals_path, at_risk_below, **o):
    """Re-plan the rest of the year from the closed quarters' actuals.

    Give the same inputs as the plan being revised, plus --actuals. Closed quarters take what
    each rep sold; the open quarters are set again, with the same policy and limits, so that the
    actuals plus the remaining quotas still add up to the company number. The plan's stretch
    level is kept unless the shortfall needs more. Reps unlikely to reach the annual quota they
    were given are flagged at risk.
    """
    choices = checked(o)
    with reported():
        from datasets.tables import read_table

        from ..service.plans import make_replan
        from .inputs import inputs

        actuals = read_table(actuals_path, actuals_path.name).frame
        result = make_replan(
            inputs(o, choices), actuals, at_risk_below=at_risk_below, time_limit=o["time_limit"]
        )
    show_plan(result, o["out"])

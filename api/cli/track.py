"""``quotaplan track``: where each rep and team stands against a plan, and relief."""

from __future__ import annotations

import click

from .errors import reported
from .options import FILE, at_risk_option, plan_options, progress_settings
from .plan import checked


@click.command(
    "track",
    short_help="In-year: pacing, projections, flags per rep and team; relief proposals.",
    epilog="""\b
Examples:
  quotaplan track --plan plan.csv --forecast forecast.csv --roster roster.csv --actuals bookings.csv
  quotaplan track --plan plan.csv --forecast f.csv --roster r.csv --actuals b.csv --as-of 2026-05-15 --grain week --out progress.csv
  quotaplan track --plan plan.csv --forecast f.csv --roster r.csv --actuals b.csv --relief
""",
)
@plan_options
@click.option(
    "--plan",
    "plan_path",
    type=FILE,
    required=True,
    help="The plan being tracked (quotaplan plan --out): rep_id, period, quota.",
)
@click.option(
    "--actuals",
    "actuals_path",
    type=FILE,
    required=True,
    help="Bookings so far: rep_id, revenue and period (a month, 2026-04) or date.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="Track to this day (default: the last day booked).",
)
@at_risk_option("Flag reps behind pace whose chance of reaching the annual quota is under this.")
@click.option(
    "--missed-quarters",
    type=click.IntRange(1, 4),
    default=2,
    show_default=True,
    help="Flag this many missed quarters in a row.",
)
@click.option(
    "--grain",
    type=click.Choice(["month", "week"]),
    default="month",
    show_default=True,
    help="Buckets of the phased table written with --out.",
)
@click.option(
    "--relief",
    "want_relief",
    is_flag=True,
    help="Also propose quotas for the rest of the year (mid-year re-plan from the closed quarters).",
)
def track_command(
    plan_path, actuals_path, as_of, at_risk_below, missed_quarters, grain, want_relief, **o
):
    """Where each rep and team stands against the plan.

    Give the plan's inputs (--forecast or --history, --roster, and the limits it was made with;
    the company number is read from the plan's .summary.json or its quotas), the plan itself
    and the bookings so far. Quarterly quotas are phased into months by the seasonal shape
    inside a quarter (learned from monthly --history rows, else 15/25/60). Prints pacing,
    projected year-end, chances of reaching the annual and current-quarter quota, and every
    flag with its reason; --relief proposes quotas for the rest of the year.
    """
    from .files import plan_number, write_progress
    from .render import format_progress

    if o["target"] is None and o["attainment"] is None:  # the plan's own number
        with reported(KeyError):
            o = {**o, "target": plan_number(plan_path, o["over_assignment"])}
    choices = checked(o)
    settings = progress_settings(
        as_of=as_of, at_risk_below=at_risk_below, missed_quarters=missed_quarters, grain=grain
    )
    with reported(KeyError):
        progress, proposal = _progress(o, choices, plan_path, actuals_path, settings, want_relief)
    if o["out"]:
        write_progress(progress, proposal, o["out"], grain)
    click.echo(format_progress(progress, proposal))


def _progress(o, choices, plan_path, actuals_path, settings, want_relief):
    """The tracking of the plan against the bookings, and the relief proposal if asked."""
    from datasets.tables import read_table

    from ..service import tracking
    from .inputs import inputs

    quotas = read_table(plan_path, plan_path.name).frame
    actuals = read_table(actuals_path, actuals_path.name)
    planned = inputs(o, choices)
    progress = tracking.progress(planned, quotas, actuals, settings)
    proposal = None
    if want_relief:
        proposal = tracking.relief_proposal(planned.spec, quotas, actuals, settings)
    return progress, proposal

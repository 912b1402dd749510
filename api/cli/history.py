"""``quotaplan history``: a stored plan's audit log, or one rep's story."""

from __future__ import annotations

import click

from .errors import reported
from .options import database_option, open_store


@click.command(
    "history",
    short_help="A stored plan's audit log, or one rep's quota history and explanation.",
    epilog="""\b
Examples:
  quotaplan history --plan 3                 # every change to plan 3 and the versions before it
  quotaplan history --plan 3 --rep R00001    # R00001's number in words, and its history
  QUOTAPLAN_DATABASE_URL=postgresql+psycopg://u:p@db/quotaplan quotaplan history --plan 3
""",
)
@click.option("--plan", "plan_id", type=click.IntRange(1), required=True, help="Plan id.")
@click.option("--rep", "rep_id", default=None, help="One rep: their quota's history, explained.")
@database_option
def history_command(plan_id, rep_id, database):
    """Who changed what, when, before, after and why, from the API's database: the plan and the
    versions it came from. With --rep, the rep's current number explained in words (forecast,
    stretch, the limit that held it, every adjustment and approval)."""
    from ..service import history
    from .render import fiscal_words, format_audit

    store = open_store(database)
    with reported():
        rec = history.plan_record(store, plan_id)
        story = history.rep_story(store, rec, rep_id) if rep_id is not None else None
    fiscal = (rec.summary or {}).get("fiscal_year_start", 1)
    if fiscal != 1 and story is None:
        first = min((q["period"] for q in rec.quotas), default=None)
        if first:
            click.echo(f"Plan {rec.id}: {fiscal_words(first, fiscal)}")
    if story is not None:
        for line in story.explanation:
            click.echo(line)
        click.echo("")
    entries = story.entries if story is not None else history.audit_log(store, rec)
    for line in format_audit(entries):
        click.echo(line)

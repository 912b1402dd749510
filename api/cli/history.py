"""``quotaplan history``: a stored plan's audit log, or one rep's story."""

from __future__ import annotations

import click

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
    import pandas as pd

    from api.explanations import own_story, rep_explanation

    from .render import fiscal_words, format_audit

    store = open_store(database)
    rec = store.plan(plan_id)
    if rec is None:
        raise click.ClickException(f"no plan {plan_id} in {store.url}")
    lineage = store.lineage(rec.id)
    fiscal = (rec.summary or {}).get("fiscal_year_start", 1)
    if fiscal != 1 and rep_id is None:
        first = min((q["period"] for q in rec.quotas), default=None)
        if first:
            click.echo(f"Plan {rec.id}: {fiscal_words(first, fiscal)}")
    if rep_id is not None:
        reps = pd.DataFrame(rec.reps).set_index("rep_id")
        if rep_id not in reps.index:
            raise click.ClickException(f"rep {rep_id!r} is not in plan {plan_id}")
        entries = own_story(store.audit(lineage, rep_id), rep_id)
        for line in rep_explanation(rec, reps.loc[rep_id], entries):
            click.echo(line)
        click.echo("")
    else:
        entries = store.audit(lineage)
    for line in format_audit(entries):
        click.echo(line)

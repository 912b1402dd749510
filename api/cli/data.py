"""``quotaplan data``: check, generate, convert and sum input tables."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .errors import bad_data, fail
from .options import FILE, FOLDER, fiscal_option, partial_option


@click.group(short_help="Check, generate and convert input data.")
def data() -> None:
    """Check, generate and convert input data (history and roster tables)."""


@data.command(
    "check",
    short_help="Validate history/roster files and summarise them.",
    epilog="\b\nExample:\n  quotaplan data check history.csv roster.csv",
)
@click.argument("files", nargs=-1, required=True, type=FILE)
@fiscal_option()
@partial_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def check(
    files: tuple[Path, ...], fiscal_year_start: int, partial_quarters: str, as_json: bool
) -> None:
    """Validate a history and/or roster file (CSV, .xlsx or Parquet) and summarise it.

    Which file is which is read from its columns. Exits 1 and lists every problem, with the
    rows at fault and the fix, when the data cannot be used.
    """
    from .render import format_summary

    with bad_data():
        summary = _summary(_by_kind(files), fiscal_year_start, partial_quarters)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
    else:
        click.echo(format_summary(summary, files))


def _by_kind(files: tuple[Path, ...]) -> dict:
    """The files read, by kind (history, roster), told apart by their columns."""
    from datasets.schema import table_kind
    from datasets.tables import read_table

    kinds = {}
    for path in files:
        table = read_table(path, path.name)
        kind = table_kind(table.frame.columns)
        if kind is None:
            raise click.UsageError(
                f"cannot tell whether {path} is a history (rep_id, period, revenue) or a roster (rep_id, team, ...): check its header row"
            )
        if kind in kinds:
            raise click.UsageError(
                f"two {kind} files given ({kinds[kind].name} and {path.name}); give one of each"
            )
        kinds[kind] = table
    return kinds


def _summary(kinds: dict, fiscal_year_start: int, partial_quarters: str) -> dict:
    """The summary of a company (history and roster), or of one table checked alone."""
    from datasets import load_company, summarise
    from datasets.company import summarise_history, summarise_roster
    from datasets.history import validate_history
    from datasets.roster import validate_roster

    if set(kinds) == {"history", "roster"}:
        return summarise(
            load_company(
                kinds["history"],
                kinds["roster"],
                fiscal_year_start=fiscal_year_start,
                partial_quarters=partial_quarters,
            )
        )
    if "history" in kinds:
        return summarise_history(
            *validate_history(
                kinds["history"],
                fiscal_year_start=fiscal_year_start,
                partial_quarters=partial_quarters,
            )
        )
    return summarise_roster(*validate_roster(kinds["roster"]))


@data.command("generate", short_help="Write a synthetic company with its true expected revenue.")
@click.option(
    "--reps",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Headcount at the start of the history.",
)
@click.option(
    "--years",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Years of quarterly history.",
)
@click.option("--start-year", type=int, default=2021, show_default=True)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="The same seed gives the same company."
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.option(
    "--out", type=FOLDER, required=True, help="Directory for history, roster and truth tables."
)
def generate(reps: int, years: int, start_year: int, seed: int, fmt: str, out: Path) -> None:
    """Write a synthetic company: history, roster, the true expected revenue, and team targets
    for the next year (one team's beyond what it can carry, as often happens)."""
    from datasets import make_company

    from .files import targets_table, write_table

    synth = make_company(reps, years, start_year=start_year, random_state=seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("history", synth.company.history),
        ("roster", synth.company.roster),
        ("truth", synth.truth),
        ("targets", targets_table(synth.team_targets)),
    ):
        path = out / f"{name}.{fmt}"
        write_table(frame, path)
        click.echo(f"wrote {path} ({len(frame):,} rows)")


@data.command(
    "bookings",
    short_help="Sum deal-level bookings into a monthly history file.",
    epilog="""\b
Examples:
  quotaplan data bookings deals.csv --rep Owner --date "Close Date" --amount Amount --out history.csv
  quotaplan data bookings pipeline.csv --rep sales_agent --date close_date --amount close_value --where deal_stage=Won --out history.csv
""",
)
@click.argument("deals", type=FILE)
@click.option("--rep", default="rep_id", show_default=True, help="Column holding the rep.")
@click.option(
    "--date", default="date", show_default=True, help="Column holding the booking date (ISO)."
)
@click.option("--amount", default="amount", show_default=True, help="Column holding the amount.")
@click.option(
    "--where",
    "filters",
    multiple=True,
    help="Keep only deals whose COLUMN is one of the values: COLUMN=VALUE[,VALUE] (or drop "
    "them: COLUMN!=VALUE). Applied before anything is checked. Repeatable.",
)
@click.option("--out", type=FILE, required=True, help="History CSV to write.")
def bookings(deals: Path, rep: str, date: str, amount: str, filters, out: Path) -> None:
    """Sum deal-level bookings (one row per deal) into a history file, one row per rep and month.

    Deals with no rep (house accounts, online orders) are left out. With --where, the rows the
    filter drops (open or lost deals, say) are ignored before the rest is checked. Errors name
    the file's lines.
    """
    from datasets import DataValidationError
    from datasets.history import read_bookings
    from datasets.tables import normalise_header, read_table

    from .files import write_table

    try:
        result = read_bookings(
            read_table(deals, deals.name),
            rep=normalise_header(rep),
            date=normalise_header(date),
            amount=normalise_header(amount),
            where=list(filters),
        )
    except ValueError as exc:  # a malformed --where
        if isinstance(exc, DataValidationError):
            fail(exc)
        raise click.BadParameter(str(exc), param_hint="--where") from exc
    write_table(result.history, out)
    click.echo(
        f"wrote {out} ({len(result.history):,} rep-months from {result.summed:,} of "
        f"{result.deals:,} deals)"
    )
    for note in result.notes:
        click.echo(f"  - {note}")


@data.command("schema", short_help="Show the columns of the history and roster tables.")
def schema() -> None:
    """Show the columns quotaplan reads in history and roster files."""
    from datasets.schema import HISTORY, ROSTER, describe

    click.echo("History (one row per rep and quarter or month)\n" + describe(HISTORY))
    click.echo("\nRoster (one row per rep)\n" + describe(ROSTER))


@data.command("convert", short_help="Turn a public dataset (AdventureWorks) into quotaplan tables.")
@click.argument(
    "dataset",
    type=click.Choice(["adventureworks_oltp", "adventureworks_dw", "adventureworks_dw_pl300"]),
)
@click.option(
    "--data-dir",
    type=FOLDER,
    default=None,
    help="The shared data directory (default: $QUOTAPLAN_SHARED_DATA or ../shared/data).",
)
@click.option("--out", type=FOLDER, required=True)
def convert(dataset: str, data_dir: Path | None, out: Path) -> None:
    """Turn a public dataset into quotaplan's tables (history, roster, and the real quotas)."""
    from datasets.adventureworks import LOADERS

    from .files import write_table

    try:
        real = LOADERS[dataset](data_dir)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    out.mkdir(parents=True, exist_ok=True)
    tables = {"roster": real.roster, "quotas": real.quotas}
    if real.history is not None:
        tables["history"] = real.history
    if real.monthly is not None:
        tables["history_monthly"] = real.monthly
    for name, frame in tables.items():
        write_table(frame, out / f"{name}.csv")
        click.echo(f"wrote {out / name}.csv ({len(frame):,} rows)")
    for note in real.notes:
        click.echo(f"  - {note}")
    if real.monthly is not None:
        click.echo(
            "  - history_monthly.csv: the bookings by month (every month of the source), for "
            "quotaplan track --actuals and for learning the within-quarter shape"
        )
    if real.fiscal_year_start != 1:
        click.echo(
            f"  - check it with: quotaplan data check --fiscal-year-start {real.fiscal_year_start} {out}/history.csv {out}/roster.csv"
        )

"""``quotaplan forecast``: each rep's quarters with quantiles, or the models' backtest."""

from __future__ import annotations

import sys

import click

from models import DEFAULT_MODEL, MODEL_NAMES

from .errors import bad_data
from .options import FILE, Levels, fiscal_option, partial_option


@click.command(
    short_help="Forecast each rep's quarters with P10/P50/P90, or backtest the models.",
    epilog="""\b
Examples:
  quotaplan forecast --history history.csv --roster roster.csv --year 2026 --out forecast.csv
  quotaplan forecast --history history.csv --roster roster.csv --backtest
  quotaplan forecast --history history.csv --roster roster.csv --year 2026 --quantiles 0.05,0.5,0.95 --model trailing-mean
""",
)
@click.option(
    "--history", "history_path", type=FILE, required=True, help="History: CSV, .xlsx or Parquet."
)
@click.option(
    "--roster", "roster_path", type=FILE, required=True, help="Roster: CSV, .xlsx or Parquet."
)
@click.option(
    "--year",
    type=int,
    help="Plan year to forecast (its quarters after the history); default: the year after the "
    "last complete year of the history.",
)
@click.option("--out", type=FILE, help="Write the forecast table here (.csv or .parquet).")
@click.option(
    "--quantiles",
    type=Levels(),
    default="0.1,0.5,0.9",
    show_default=True,
    help="Quantile levels; must include 0.5.",
)
@click.option(
    "--model",
    "model_name",
    type=click.Choice(sorted(MODEL_NAMES)),
    default=DEFAULT_MODEL,
    show_default=True,
)
@fiscal_option()
@partial_option
@click.option(
    "--backtest",
    "run_backtest",
    is_flag=True,
    help="Score every model on the last two years of the history instead.",
)
@click.option("--seed", type=int, default=0, show_default=True)
def forecast(
    history_path,
    roster_path,
    year,
    out,
    quantiles,
    model_name,
    fiscal_year_start,
    partial_quarters,
    run_backtest,
    seed,
):
    """Forecast each rep's quarterly revenue with P10/P50/P90 (or backtest the models).

    The forecast covers every active roster rep: tenured reps from their history, hires from
    their start date (ramp learned from past hires, their first quarters read as evidence of
    their level), scaled by planned capacity (fte_<quarter> / fte). Roster reps with no history
    and no hire date are forecast at zero and named. Leavers are not forecast. Bluebird quarters
    (far above the rep's usual) are found and damped; they are listed. Each row's basis column
    says where its number came from.
    """
    from datasets import load_company
    from datasets.company import BACKTEST_YEARS, require_years

    from .files import write_table
    from .render import format_forecast

    with bad_data():
        company = load_company(
            history_path,
            roster_path,
            fiscal_year_start=fiscal_year_start,
            partial_quarters=partial_quarters,
        )
        if run_backtest:
            require_years(company, BACKTEST_YEARS, "a backtest")
    if run_backtest:
        click.echo(_backtest(company, quantiles, seed))
        return
    from ..service.forecasts import forecast as forecast_company

    try:
        made = forecast_company(
            company,
            year,
            quantiles=quantiles,
            seed=seed,
            model=model_name,
            asked="as asked (--year)",
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    table, model, plan_year, why = made.table, made.model, made.year, made.why
    if out:
        write_table(table, out, float_format="%.2f")
    click.echo(format_forecast(table, model, plan_year, why, company, out))


def _backtest(company, levels, seed: int) -> str:
    """Every model's rolling-origin backtest on the company, as the scores table (a progress bar
    on stderr meanwhile)."""
    from models.backtest import backtest

    from ..service.forecasts import make_model
    from .render import format_scores

    models = {name: make_model(name, levels, seed) for name in MODEL_NAMES}
    with click.progressbar(length=len(models) * 2, label="backtesting", file=sys.stderr) as bar:
        result = backtest(company, models, progress=lambda msg: bar.update(1))
    table = result.scores.set_index("model")
    years = ", ".join(map(str, sorted(result.by_year["year"].unique())))
    return (
        f"Rolling-origin backtest, test years {years}; every model scored on the same "
        f"{int(table['rep_quarters'].iloc[0]):,} rep-quarters\n" + format_scores(table)
    )

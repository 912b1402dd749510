"""The ``quotaplan`` command: thin adapters from files and flags to the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pandas as pd

from datasets import DataValidationError, load_company, make_company, summarise
from datasets.company import BACKTEST_YEARS, complete_years, history_warnings, require_years
from datasets.history import read_bookings, validate_history
from datasets.periods import quarter_freq
from datasets.roster import load_roster, validate_roster
from datasets.schema import HISTORY, PARTIAL_QUARTERS, ROSTER, describe, table_kind
from datasets.tables import Table, normalise_header, read_table
from models import MODELS, QuantileForecaster, forecast_year
from models.backtest import backtest
from models.basis import forecast_fiscal_year_start, forecast_warnings
from optimizer import (
    AT_RISK_BELOW,
    POLICIES,
    Limits,
    PlanInfeasibleError,
    PlanSpec,
    SolverLimitError,
    parse_amount,
    replan,
    solve_plan,
)
from optimizer.wording import headline, money

EXAMPLE = """
\b
Worked example (the bundled sample):
  quotaplan data check datasets/sample/history.csv datasets/sample/roster.csv
  quotaplan forecast --history datasets/sample/history.csv --roster datasets/sample/roster.csv --year 2026 --out forecast.csv
  quotaplan forecast --history datasets/sample/history.csv --roster datasets/sample/roster.csv --backtest
  quotaplan plan --forecast forecast.csv --roster datasets/sample/roster.csv --target 80M --over-assignment 5%
  quotaplan data generate --reps 500 --years 5 --seed 7 --out mycompany/
  quotaplan data convert adventureworks_oltp --out aw/
"""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXAMPLE,
)
@click.version_option(package_name="quotaplan")
def main() -> None:
    """quotaplan: ambitious but realistic sales quotas.

    Forecast what each rep can sell, split the company number into quarterly quotas that add
    up without overloading anyone, and explain every number.
    """


@main.group(short_help="Check, generate and convert input data.")
def data() -> None:
    """Check, generate and convert input data (history and roster tables)."""


def _fail(exc: DataValidationError) -> None:
    click.echo(f"quotaplan: {exc}", err=True)
    sys.exit(1)


def fiscal_option(default: int | None = 1, help_extra: str = ""):
    return click.option(
        "--fiscal-year-start",
        type=click.IntRange(1, 12),
        default=default,
        show_default=default is not None,
        help="Month in which the fiscal year (and its Q1) starts: how months, hire dates and "
        "leave map to quarters." + help_extra,
    )


partial_option = click.option(
    "--partial-quarters",
    type=click.Choice(PARTIAL_QUARTERS),
    default="complete",
    show_default=True,
    help="A quarter the monthly history covers only in part: complete it from the "
    "within-quarter shape, or drop it.",
)


@data.command(
    "check",
    short_help="Validate history/roster files and summarise them.",
    epilog="\b\nExample:\n  quotaplan data check history.csv roster.csv",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@fiscal_option()
@partial_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def check(
    files: tuple[Path, ...], fiscal_year_start: int, partial_quarters: str, as_json: bool
) -> None:
    """Validate a history and/or roster file (CSV or Parquet) and summarise it.

    Which file is which is read from its columns. Exits 1 and lists every problem, with the
    rows at fault and the fix, when the data cannot be used.
    """
    try:
        kinds: dict[str, Table] = {}
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
        if set(kinds) == {"history", "roster"}:
            company = load_company(
                kinds["history"],
                kinds["roster"],
                fiscal_year_start=fiscal_year_start,
                partial_quarters=partial_quarters,
            )
            summary = summarise(company)
        else:
            ((kind, table),) = kinds.items()
            frame, notes = (
                validate_history(
                    table,
                    fiscal_year_start=fiscal_year_start,
                    partial_quarters=partial_quarters,
                )
                if kind == "history"
                else validate_roster(table)
            )
            summary = (
                _history_only(frame, notes) if kind == "history" else _roster_only(frame, notes)
            )
    except DataValidationError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
    else:
        click.echo(format_summary(summary, files))


def _history_only(history: pd.DataFrame, notes: list[str]) -> dict:
    return {
        "reps_in_history": int(history["rep_id"].nunique()),
        "first_period": history["period"].min(),
        "last_period": history["period"].max(),
        "n_periods": int(history["period"].nunique()),
        "rows": len(history),
        "total_revenue": float(history["revenue"].sum()),
        "complete_years": complete_years(history),
        "warnings": history_warnings(history),
        "notes": notes,
    }


def _roster_only(roster: pd.DataFrame, notes: list[str]) -> dict:
    return {
        "reps_on_roster": int(roster["active"].sum()),
        "inactive_on_roster": int((~roster["active"]).sum()),
        "teams": [
            {"team": t, "active_reps": int(n)}
            for t, n in roster[roster["active"]].groupby("team").size().items()
        ],
        "notes": notes,
    }


def write_table(frame: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    """Write a table as Parquet (.parquet, .pq) or CSV, creating the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, float_format=float_format)


def format_summary(s: dict, files) -> str:
    """The summary as a planner reads it."""
    lines = [f"Checked {', '.join(str(f) for f in files)}: OK", ""]
    if "reps_in_history" in s:
        lines.append(
            f"History   {s['rows']:,} rows, {s['reps_in_history']:,} reps, {s['first_period']}..{s['last_period']} ({s['n_periods']} quarters), revenue {money(s['total_revenue'])}"
        )
    if "reps_on_roster" in s:
        extra = (
            f", {s['new_hires']} new hire(s), {s['leavers']} leaver(s)" if "new_hires" in s else ""
        )
        lines.append(
            f"Roster    {s['reps_on_roster']:,} active reps ({s['inactive_on_roster']} inactive){extra}"
        )
    if s.get("revenue_by_year"):
        t = pd.DataFrame(s["revenue_by_year"])
        t["revenue"] = t["revenue"].map(money)
        lines += ["", "Revenue by year", t.to_string(index=False)]
    if s.get("teams"):
        t = pd.DataFrame(s["teams"])
        for c in [c for c in t.columns if c.startswith("revenue")]:
            t[c] = t[c].map(money)
        lines += ["", "Teams", t.to_string(index=False)]
    if s.get("warnings"):
        lines += ["", "Warnings", *(f"  - {w}" for w in s["warnings"])]
    if s.get("notes"):
        lines += ["", "Notes", *(f"  - {n}" for n in s["notes"])]
    return "\n".join(lines)


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
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for history, roster and truth tables.",
)
def generate(reps: int, years: int, start_year: int, seed: int, fmt: str, out: Path) -> None:
    """Write a synthetic company: history, roster, the true expected revenue, and team targets
    for the next year (one team's beyond what it can carry, as often happens)."""
    synth = make_company(reps, years, start_year=start_year, random_state=seed)
    out.mkdir(parents=True, exist_ok=True)
    targets = pd.DataFrame(
        [{"level": "team", "name": k, "target": v} for k, v in synth.team_targets.items()]
    )
    for name, frame in (
        ("history", synth.company.history),
        ("roster", synth.company.roster),
        ("truth", synth.truth),
        ("targets", targets),
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
@click.argument("deals", type=click.Path(dir_okay=False, path_type=Path))
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
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="History CSV to write.",
)
def bookings(deals: Path, rep: str, date: str, amount: str, filters, out: Path) -> None:
    """Sum deal-level bookings (one row per deal) into a history file, one row per rep and month.

    Deals with no rep (house accounts, online orders) are left out. With --where, the rows the
    filter drops (open or lost deals, say) are ignored before the rest is checked. Errors name
    the file's lines.
    """
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
            _fail(exc)
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
    click.echo("History (one row per rep and quarter or month)\n" + describe(HISTORY))
    click.echo("\nRoster (one row per rep)\n" + describe(ROSTER))


@data.command("convert", short_help="Turn a public dataset (AdventureWorks) into quotaplan tables.")
@click.argument(
    "dataset",
    type=click.Choice(["adventureworks_oltp", "adventureworks_dw", "adventureworks_dw_pl300"]),
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The shared data directory (default: $QUOTAPLAN_SHARED_DATA or ../shared/data).",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def convert(dataset: str, data_dir: Path | None, out: Path) -> None:
    """Turn a public dataset into quotaplan's tables (history, roster, and the real quotas)."""
    from datasets.adventureworks import LOADERS

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


def _quantile_levels(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError as exc:
        raise click.BadParameter(
            f"give levels as decimals separated by commas, e.g. 0.1,0.5,0.9 (got {text!r})"
        ) from exc


@main.command(
    short_help="Forecast each rep's quarters with P10/P50/P90, or backtest the models.",
    epilog="""\b
Examples:
  quotaplan forecast --history history.csv --roster roster.csv --year 2026 --out forecast.csv
  quotaplan forecast --history history.csv --roster roster.csv --backtest
  quotaplan forecast --history history.csv --roster roster.csv --year 2026 --quantiles 0.05,0.5,0.95 --model trailing-mean
""",
)
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="History CSV/Parquet.",
)
@click.option(
    "--roster",
    "roster_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Roster CSV/Parquet.",
)
@click.option(
    "--year",
    type=int,
    help="Plan year to forecast (its quarters after the history); default: the year after the "
    "last complete year of the history.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the forecast table here (.csv or .parquet).",
)
@click.option(
    "--quantiles",
    default="0.1,0.5,0.9",
    show_default=True,
    help="Quantile levels; must include 0.5.",
)
@click.option(
    "--model",
    "model_name",
    type=click.Choice(sorted(MODELS)),
    default="quantile-gbm",
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
    levels = _quantile_levels(quantiles)
    try:
        company = load_company(
            history_path,
            roster_path,
            fiscal_year_start=fiscal_year_start,
            partial_quarters=partial_quarters,
        )
        if run_backtest:
            require_years(company, BACKTEST_YEARS, "a backtest")
    except DataValidationError as exc:
        _fail(exc)
    if run_backtest:
        models = {name: _make_model(name, levels, seed) for name in MODELS}
        with click.progressbar(length=len(models) * 2, label="backtesting", file=sys.stderr) as bar:
            result = backtest(company, models, progress=lambda msg: bar.update(1))
        table = result.scores.set_index("model")
        click.echo(
            f"Rolling-origin backtest, test years {', '.join(map(str, sorted(result.by_year['year'].unique())))}; every model scored on the same {int(table['rep_quarters'].iloc[0]):,} rep-quarters"
        )
        click.echo(format_scores(table))
        return
    try:
        model = _make_model(model_name, levels, seed).fit(company)
        plan_year, why = (
            (year, f"{year}, as asked (--year)") if year is not None else company.plan_year()
        )
        table = model.predict(model.remaining_quarters(plan_year))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if out:
        write_table(table, out, float_format="%.2f")
    click.echo(format_forecast(table, model, plan_year, why, company, out))


def _make_model(name: str, levels, seed: int):
    cls = MODELS[name]
    return (
        cls(quantiles=levels, random_state=seed)
        if "random_state" in cls().get_params()
        else cls(quantiles=levels)
    )


def format_scores(table: pd.DataFrame) -> str:
    shown = pd.DataFrame(
        {
            "WAPE": table["wape"].map("{:.1%}".format),
            "MAPE": table["mape"].map("{:.1%}".format),
            "pinball": table["pinball"].map("{:.4f}".format),
            "P10-P90 coverage": table["coverage_p10_p90"].map("{:.1%}".format),
        }
    )
    return (
        shown.to_string()
        + "\n(MAPE on rep-quarters above a quarter of the median; pinball loss averaged over the levels and divided by mean revenue)"
    )


def format_forecast(
    table: pd.DataFrame, model, year: int, why: str, company, out: Path | None
) -> str:
    qcols = [c for c in table.columns if c.startswith("q") and c[1:].replace(".", "").isdigit()]
    by_q = table.groupby("period")[qcols].sum()
    quarters = sorted(table["period"].unique())
    which = (
        "" if len(quarters) == 4 else f" ({', '.join(quarters)}: the quarters after the history)"
    )
    fiscal = (
        f"; fiscal years start in month {company.fiscal_year_start}"
        if company.fiscal_year_start != 1
        else ""
    )
    lines = [
        f"Forecast {year}{which} for {table['rep_id'].nunique():,} active reps ({type(model).__name__})",
        f"Year: {why}{fiscal}",
        "",
    ]
    lines.append(by_q.map(money).to_string())
    total = table[qcols].sum()
    lines.append("year    " + "  ".join(f"{c}={money(v)}" for c, v in total.items()))
    lines.append(
        "(sums of per-rep quantiles are not the company's quantiles: they overstate its spread)"
    )
    outliers = getattr(model, "outliers_", None)
    if outliers is not None and len(outliers):
        lines += [
            "",
            f"Bluebird quarters damped ({len(outliers)}): "
            + ", ".join(
                f"{r} {p} ({money(v)} -> {money(t)})"
                for r, p, v, t in outliers.head(5).itertuples(index=False)
            )
            + (" ..." if len(outliers) > 5 else ""),
        ]
    ramp = getattr(model, "ramp_", None)
    if ramp is not None:
        text = ramp.describe(company.month_shape)
        lines.append(text[0].upper() + text[1:])
    if company.warnings:
        lines += ["", "Warnings", *(f"  - {w}" for w in company.warnings)]
    if company.notes:
        lines += ["", "Notes", *(f"  - {n}" for n in company.notes)]
    if out:
        lines.append(f"wrote {out} ({len(table):,} rows)")
    return "\n".join(lines)


def _share(text: str | None) -> float | None:
    """``"5%"`` or ``"0.05"`` -> 0.05; ``"none"`` -> None."""
    if text is None or str(text).lower() in ("none", "off", ""):
        return None
    t = str(text).strip()
    try:
        return float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError as exc:
        raise click.BadParameter(f"write a share as 5% or 0.05 (got {text!r})") from exc


def _locks(values: tuple[str, ...]) -> dict:
    """``R1=900k`` (annual) or ``R1:2026Q2=250k`` (one quarter)."""
    out = {}
    for v in values:
        key, _, amount = v.partition("=")
        rep, _, period = key.partition(":")
        if not amount or not rep:
            raise click.BadParameter(
                f"write a lock as REP=AMOUNT or REP:QUARTER=AMOUNT (got {v!r})"
            )
        out[(rep.strip(), period.strip() or None)] = parse_amount(amount)
    return out


def _groups(level: str, values: tuple[str, ...]) -> dict:
    out = {}
    for v in values:
        name, _, amount = v.rpartition("=")
        if not name:
            raise click.BadParameter(f"write a {level} target as NAME=AMOUNT (got {v!r})")
        out[(level, name.strip())] = amount.strip()
    return out


def _targets_file(path: Path) -> dict:
    """Group targets from a table with columns ``level`` (team or region), ``name``, ``target``."""
    table = read_table(path, path.name).frame
    missing = [c for c in ("level", "name", "target") if c not in table.columns]
    if missing:
        raise click.BadParameter(
            f"{path.name} needs the columns level, name, target (missing: {', '.join(missing)})",
            param_hint="--targets",
        )
    bad = sorted(set(table["level"].astype(str)) - {"team", "region"})
    if bad:
        raise click.BadParameter(
            f"{path.name}: level must be team or region, got {', '.join(bad)}",
            param_hint="--targets",
        )
    return {(str(r.level), str(r.name)): r.target for r in table.itertuples()}


def plan_options(command):
    """The options ``plan`` and ``replan`` share: inputs, the number, the policy and limits."""
    options = [
        click.option(
            "--history",
            "history_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="History CSV/Parquet (forecast first).",
        ),
        click.option(
            "--forecast",
            "forecast_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="A forecast table you already have, instead of --history.",
        ),
        click.option(
            "--roster",
            "roster_path",
            type=click.Path(dir_okay=False, path_type=Path),
            required=True,
            help="Roster CSV/Parquet.",
        ),
        click.option("--target", help="The company number: 12.5M, 800k or 12500000."),
        click.option(
            "--attainment",
            help="Instead of --target: the share of reps who should reach quota (65% or 0.65); "
            "the plan finds the company number that gives it.",
        ),
        click.option(
            "--policy", type=click.Choice(POLICIES), default="equal-stretch", show_default=True
        ),
        click.option(
            "--year",
            type=int,
            help="Plan year (with --history); default: the year after the last complete year "
            "of the history.",
        ),
        fiscal_option(
            None,
            " Default: the forecast's (its fiscal_year_start column), else 1 (calendar years).",
        ),
        partial_option,
        click.option(
            "--over-assignment",
            default="0",
            show_default=True,
            help="Quotas add up to the number plus this (5% or 0.05).",
        ),
        click.option(
            "--cap-quantile",
            type=float,
            default=0.9,
            show_default=True,
            help="Overload cap: no quota above this forecast quantile.",
        ),
        click.option(
            "--floor-quantile",
            default="0.1",
            show_default=True,
            help="No quota below this forecast quantile ('none': no floor).",
        ),
        click.option(
            "--phasing-band",
            default="10%",
            show_default=True,
            help="Each quarter within this of its seasonal share ('none': free).",
        ),
        click.option(
            "--max-increase",
            default="25%",
            show_default=True,
            help="Anti-ratchet: annual quota at most last year's plus this ('none': off).",
        ),
        click.option(
            "--min-increase",
            default="none",
            show_default=True,
            help="Annual quota at least last year's plus this (e.g. 0%).",
        ),
        click.option(
            "--ote-band",
            default=None,
            help="Quota-to-OTE multiples LOW,HIGH to enforce, e.g. 4,6 (always reported).",
        ),
        click.option(
            "--smoothness",
            default="none",
            show_default=True,
            help="Max quarter-to-quarter change as a share of the average quarter.",
        ),
        click.option(
            "--lock",
            "locks",
            multiple=True,
            help="Hold a quota: REP=AMOUNT (annual) or REP:2026Q2=AMOUNT. Repeatable.",
        ),
        click.option(
            "--team-target",
            multiple=True,
            help="TEAM=AMOUNT: the team's quotas add up to this. Repeatable.",
        ),
        click.option("--region-target", multiple=True, help="REGION=AMOUNT. Repeatable."),
        click.option(
            "--targets",
            "targets_path",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Team and region targets from a file (CSV or Parquet: level, name, target), "
            "as `quotaplan data generate` writes them; --team-target/--region-target add to it.",
        ),
        click.option(
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the plan here (.csv or .parquet) and its summary beside it (.summary.json).",
        ),
        click.option("--time-limit", type=float, default=None, help="Seconds the solver may take."),
        click.option("--seed", type=int, default=0, show_default=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _plan_spec(o: dict, actuals: pd.DataFrame | None = None) -> PlanSpec:
    """The plan specification from the shared options (reads the files, forecasts if asked)."""
    if (o["history_path"] is None) == (o["forecast_path"] is None):
        raise click.UsageError("give either --history (to forecast first) or --forecast")
    if (o["target"] is None) == (o["attainment"] is None):
        raise click.UsageError(
            "give either --target (the company number) or --attainment (the share of reps "
            "who should reach quota)"
        )
    # Every setting is read before any file: a usage error comes back before a forecast.
    target = None if o["target"] is None else parse_amount(o["target"])
    attainment = _share(o["attainment"])
    band = None
    if o["ote_band"]:
        lo, _, hi = o["ote_band"].partition(",")
        band = (float(lo), float(hi))
    limits = Limits(
        over_assignment=_share(o["over_assignment"]) or 0.0,
        cap_quantile=o["cap_quantile"],
        floor_quantile=_share(o["floor_quantile"]),
        phasing_band=_share(o["phasing_band"]),
        max_increase=_share(o["max_increase"]),
        min_increase=_share(o["min_increase"]),
        ote_band=band,
        smoothness=_share(o["smoothness"]),
        locks=_locks(o["locks"]),
        group_targets={
            **(_targets_file(o["targets_path"]) if o.get("targets_path") else {}),
            **_groups("team", o["team_target"]),
            **_groups("region", o["region_target"]),
        },
    )
    fiscal = o["fiscal_year_start"]
    if o["history_path"] is not None:
        company = load_company(
            o["history_path"],
            o["roster_path"],
            fiscal_year_start=fiscal or 1,
            partial_quarters=o["partial_quarters"],
        )
        forecast_table = forecast_year(company, o["year"], seed=o["seed"])
        roster = company.roster
        o["warnings"] = list(company.warnings)
    else:
        forecast_table = read_table(o["forecast_path"], o["forecast_path"].name).frame
        roster = load_roster(o["roster_path"])[0]
        o["warnings"] = forecast_warnings(forecast_table)
    if fiscal is None:
        fiscal = forecast_fiscal_year_start(forecast_table)
    o["fiscal_year_start"] = fiscal
    return PlanSpec(
        forecast_table,
        roster,
        target,
        o["policy"],
        limits,
        actuals,
        attainment=attainment,
        fiscal_year_start=fiscal,
    )


def _run_plan(o: dict, solve) -> None:
    """Build the spec, run ``solve(spec)``, report errors the CLI way, write and print."""
    try:
        result = solve(o)
    except DataValidationError as exc:
        _fail(exc)
    except PlanInfeasibleError as exc:
        click.echo(f"quotaplan: {exc}", err=True)
        sys.exit(3)
    except (ValueError, SolverLimitError) as exc:
        raise click.ClickException(str(exc)) from exc
    out = o["out"]
    if o.get("warnings"):
        result.summary["warnings"] = o["warnings"]
    if out:
        write_table(result.table(), out, float_format="%.4f")
        out.with_suffix(".summary.json").write_text(
            json.dumps(result.summary, indent=2, default=str)
        )
    click.echo(format_plan(result, out))


@main.command(
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
    _run_plan(o, lambda o: solve_plan(_plan_spec(o), time_limit=o["time_limit"]))


@main.command(
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
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Closed quarters' bookings: rep_id, period, revenue (every rep, 0 if none).",
)
@click.option(
    "--at-risk-below",
    default=f"{AT_RISK_BELOW:.0%}",
    show_default=True,
    help="Flag reps whose chance of reaching the annual quota they were given is under this.",
)
def replan_command(actuals_path, at_risk_below, **o):
    """Re-plan the rest of the year from the closed quarters' actuals.

    Give the same inputs as the plan being revised, plus --actuals. Closed quarters take what
    each rep sold; the open quarters are set again, with the same policy and limits, so that the
    actuals plus the remaining quotas still add up to the company number. The plan's stretch
    level is kept unless the shortfall needs more. Reps unlikely to reach the annual quota they
    were given are flagged at risk.
    """

    def solve(o):
        actuals = read_table(actuals_path, actuals_path.name).frame
        spec = _plan_spec(o)
        threshold = _share(at_risk_below)
        return replan(spec, actuals, at_risk_below=threshold, time_limit=o["time_limit"])

    _run_plan(o, solve)


@main.command(
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
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The plan being tracked (quotaplan plan --out): rep_id, period, quota.",
)
@click.option(
    "--actuals",
    "actuals_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Bookings so far: rep_id, revenue and period (a month, 2026-04) or date.",
)
@click.option("--as-of", default=None, help="Track to this day (default: the last day booked).")
@click.option(
    "--at-risk-below",
    default=f"{AT_RISK_BELOW:.0%}",
    show_default=True,
    help="Flag reps behind pace whose chance of reaching the annual quota is under this.",
)
@click.option(
    "--missed-quarters",
    type=click.IntRange(1),
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
    plan_path,
    actuals_path,
    as_of,
    at_risk_below,
    missed_quarters,
    grain,
    want_relief,
    **o,
):
    """Where each rep and team stands against the plan.

    Give the plan's inputs (--forecast or --history, --roster, and the limits it was made with;
    the company number is read from the plan's .summary.json or its quotas), the plan itself
    and the bookings so far. Quarterly quotas are phased into months by the seasonal shape
    inside a quarter (learned from monthly --history rows, else 15/25/60). Prints pacing,
    projected year-end, chances of reaching the annual and current-quarter quota, and every
    flag with its reason; --relief proposes quotas for the rest of the year.
    """
    from datasets.history import DEFAULT_MONTH_SHAPE, month_shape
    from optimizer.tracking import Thresholds, relief, track

    try:
        quotas = read_table(plan_path, plan_path.name).frame
        actuals = read_table(actuals_path, actuals_path.name)
        if o["target"] is None and o["attainment"] is None:
            summary = plan_path.with_suffix(".summary.json")
            if summary.exists():
                o["target"] = json.loads(summary.read_text())["company_target"]
            else:
                total = float(quotas["quota"].sum())
                o["target"] = total / (1 + (_share(o["over_assignment"]) or 0.0))
        spec = _plan_spec(o)
        fiscal_year_start = spec.fiscal_year_start
        shape = DEFAULT_MONTH_SHAPE
        if o["history_path"] is not None:
            raw = read_table(o["history_path"], o["history_path"].name).frame
            shape = month_shape(raw, fiscal_year_start)
        th = Thresholds(at_risk_below=_share(at_risk_below), missed_quarters=missed_quarters)
        progress = track(
            spec,
            quotas,
            actuals,
            as_of=as_of,
            fiscal_year_start=fiscal_year_start,
            shape=shape,
            thresholds=th,
            grain=grain,
        )
        proposal = None
        if want_relief:
            proposal = relief(
                spec, quotas, actuals, as_of=as_of, fiscal_year_start=fiscal_year_start
            )
    except DataValidationError as exc:
        _fail(exc)
    except PlanInfeasibleError as exc:
        click.echo(f"quotaplan: {exc}", err=True)
        sys.exit(3)
    except (ValueError, KeyError, SolverLimitError) as exc:
        raise click.ClickException(str(exc)) from exc
    out = o["out"]
    if out:
        write_table(progress.reps, out, float_format="%.4f")
        write_table(progress.teams, out.with_suffix(".teams.csv"), float_format="%.4f")
        write_table(progress.phased, out.with_suffix(f".{grain}s.csv"), float_format="%.4f")
        if proposal is not None and proposal.plan is not None:
            write_table(proposal.plan.table(), out.with_suffix(".relief.csv"), "%.4f")
    click.echo(format_progress(progress, proposal))


def format_progress(p, proposal=None, max_rows: int = 30) -> str:
    from optimizer.tracking import FLAGS

    s = p.summary
    lines = [
        f"Tracking to {s['as_of']} ({s['share_of_year_gone']:.0%} of the year's forecast gone; "
        f"closed: {', '.join(s['closed_quarters']) or 'none'}; now in {s['current_quarter']})",
        f"Company: {money(s['actual_to_date'])} booked of {money(s['due_to_date'])} due so far "
        f"(pace {s['pace']:.0%}); projected year-end {money(s['projected_year_end'])} against "
        f"quotas of {money(s['annual_quota'])}",
        "Month shape inside a quarter: " + " / ".join(f"{x:.0%}" for x in s["month_shape"]),
        "Flags: " + ", ".join(f"{s['reps_' + k]} {k.replace('_', ' ')}" for k in FLAGS),
        "",
    ]
    t = p.teams.set_index("team")
    table = pd.DataFrame(
        {
            "booked": t["actual_to_date"].map(money),
            "due": t["due_to_date"].map(money),
            "pace": t["pace"].map(lambda v: f"{v:.0%}" if pd.notna(v) else "-"),
            "projected": t["projected_year_end"].map(money),
            "quota": t["annual_quota"].map(money),
            "reps flagged": t["reps_flagged"],
        }
    )
    lines.append(table.to_markdown(tablefmt="simple"))
    flagged = p.reps[p.reps["flags"] != ""].sort_values("p_attain_year")
    if len(flagged):
        lines += ["", f"Reps flagged ({len(flagged)}):"]
        for r in flagged.head(max_rows).itertuples():
            lines.append(
                f"  {r.rep_id} ({r.team}): pace {r.pace:.0%}, {r.p_attain_year:.0%} chance of "
                f"the year, {r.p_attain_quarter:.0%} of the quarter; {r.flags}"
            )
        if len(flagged) > max_rows:
            lines.append(f"  ... and {len(flagged) - max_rows} more (see --out)")
    if proposal is not None:
        lines += ["", f"Relief: {proposal.message}"]
        if proposal.plan is not None:
            for g in proposal.plan.summary.get("limits_gave_way", []):
                if g["rep_id"] is None:  # a company, team or region ahead of plan
                    lines.append(f"  ({g['why']})")
            c = proposal.reps.sort_values("change")
            moved = c[c["change"].abs() > 1e-6 * max(c["annual_quota_before"].max(), 1.0)]
            for r in moved.head(max_rows).itertuples():
                lines.append(
                    f"  {r.rep_id} ({r.team}): {money(r.annual_quota_before)} -> "
                    f"{money(r.annual_quota_after)} ({'+' if r.change > 0 else '-'}"
                    f"{money(abs(r.change))})"
                )
    return "\n".join(lines)


def fiscal_words(quarter: str, fiscal_year_start: int) -> str:
    """``"fiscal years start in month 12: 2012Q1 is 2011-12-01 to 2012-02-29"``."""
    q = pd.Period(quarter, freq=quarter_freq(fiscal_year_start))
    return (
        f"fiscal years start in month {fiscal_year_start}: {quarter} is "
        f"{q.start_time:%Y-%m-%d} to {q.end_time:%Y-%m-%d}"
    )


def format_plan(result, out: Path | None, max_rows: int = 60) -> str:
    s = result.summary
    lines = headline(s)
    if "attainment_goal" in s:
        lines.append(
            f"Company number found for {s['attainment_goal']:.0%} of reps attaining: "
            f"{money(s['company_target'])} ({s['plans_solved']} plans solved)"
        )
    periods = sorted(result.quotas["period"].unique())
    if s.get("fiscal_year_start", 1) != 1 and periods:
        lines.append(f"Fiscal calendar: {fiscal_words(periods[0], s['fiscal_year_start'])}")
    if s.get("warnings"):
        lines += ["Warnings:", *(f"  - {w}" for w in s["warnings"])]
    r = result.reps.set_index("rep_id")
    if "replan" in s:
        rp = s["replan"]
        kept = (
            "kept at the plan's"
            if rp["level"] <= rp["previous_level"] * (1 + 1e-9)
            else f"raised from the plan's {rp['previous_level']:.3f} to"
        )
        lines += [
            "",
            f"Re-plan: closed {', '.join(s['closed_quarters'])}; actuals to date "
            f"{money(s['actual_to_date'])}, remaining quotas {money(s['remaining_quota'])}; "
            f"common level {kept} {rp['level']:.3f}",
            f"Reps at risk (under a {rp['at_risk_below']:.0%} chance of reaching the annual "
            f"quota they were given): {rp['reps_at_risk']}",
        ]
        risk = r[r["at_risk"]].sort_values("p_attain_previous").head(20)
        for rep, row in risk.iterrows():
            lines.append(
                f"  {rep} ({row['team']}): {money(row['actual_to_date'])} sold of "
                f"{money(row['previous_annual_quota'])}, {row['p_attain_previous']:.0%} chance"
            )
    by_q = result.quotas.groupby("period")["quota"].sum()
    lines += [
        "",
        "Quarterly phasing: "
        + ", ".join(f"{p} {money(v)} ({v / by_q.sum():.0%})" for p, v in by_q.items()),
    ]
    wide = result.quotas.pivot(index="rep_id", columns="period", values="quota")
    table = pd.DataFrame({"team": r["team"]})
    for p in wide.columns:
        table[p] = wide[p].map(money)
    table["annual"] = r["annual_quota"].map(money)
    table["stretch"] = r["stretch"].map(lambda x: f"{x:.2f}" if pd.notna(x) else "-")
    table["P(attain)"] = r["p_attain"].map("{:.0%}".format)
    table["bound by"] = r["binding"]
    if "replan" in s:
        table["was"] = r["previous_annual_quota"].map(money)
        table["at risk"] = r["at_risk"].map({True: "yes", False: ""})
    if r["violations"].astype(bool).any():
        table["breaks"] = r["violations"]
    table = table.loc[r["annual_quota"].sort_values(ascending=False).index]
    lines += ["", table.head(max_rows).to_string()]
    if len(table) > max_rows:
        lines.append(
            f"... and {len(table) - max_rows} more reps"
            + (f" (all in {out})" if out else " (use --out)")
        )
    if out:
        lines.append(f"wrote {out} and {out.with_suffix('.summary.json')}")
    return "\n".join(lines)


@main.command(
    "serve",
    short_help="Run the HTTP API on a production server (gunicorn, several workers).",
    epilog="""\b
Examples:
  quotaplan serve                                  # http://127.0.0.1:8000, SQLite quotaplan.db
  QUOTAPLAN_DATABASE_URL=postgresql+psycopg://u:p@db/quotaplan quotaplan serve --port 9000
  quotaplan token new --role planner --name pat && quotaplan serve --host 0.0.0.0
""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes (default: one per core, at least 2).",
)
@click.option(
    "--threads", default=32, show_default=True, type=click.IntRange(1, 256), help="Per worker."
)
@click.option(
    "--database",
    default=None,
    help="SQLite file (default quotaplan.db); or QUOTAPLAN_DATABASE_URL.",
)
@click.option(
    "--tokens",
    "tokens_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A tokens file of an earlier release, imported into the database; or "
    "QUOTAPLAN_TOKENS_FILE.",
)
def serve_command(host, port, workers, threads, database, tokens_file):
    """Serve the HTTP API (see the README's API reference, /openapi.json and /docs).

    Without tokens the API is open, so it only listens on localhost and answers only loopback
    host names and its own page's writes; with tokens (quotaplan token new), each request needs
    one. Bounds: QUOTAPLAN_MAX_REQUEST_BYTES, QUOTAPLAN_MAX_REPS, QUOTAPLAN_MAX_ROWS,
    QUOTAPLAN_MAX_VALUE, QUOTAPLAN_FORECAST_TIME_LIMIT, QUOTAPLAN_SOLVER_TIME_LIMIT.
    """
    from .app import create_app
    from .serve import check_binding, default_workers, run

    config = {}
    if database:
        config["DATABASE"] = database
    if tokens_file:
        config["TOKENS_FILE"] = str(tokens_file)
    workers = workers or default_workers()
    try:
        app = create_app(config)
        check_binding(app, host)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    store = app.extensions["quotaplan.store"]
    active = sum(t.status() == "active" for t in store.tokens())
    auth = f"{active} active token(s)" if store.has_tokens() else "no tokens (open)"
    if app.config.get("TOKENS_IMPORTED"):
        auth += (
            f", {app.config['TOKENS_IMPORTED']} imported from {tokens_file or 'the tokens file'}"
        )

    def banner(bound: int) -> str:
        return (
            f"quotaplan API on http://{host}:{bound} ({workers} workers x {threads} threads; "
            f"{auth}; database {app.config['DATABASE_URL']}); Ctrl-C stops"
        )

    try:
        run(app, host, port, workers, threads, banner)
    except OSError as exc:
        raise click.ClickException(str(exc)) from exc


def _store(database: str | None):
    from .app import settings
    from .storage import Store

    return Store(settings({"DATABASE": database} if database else None)["DATABASE_URL"])


DATABASE = click.option(
    "--database",
    default=None,
    help="SQLite file (default quotaplan.db); or QUOTAPLAN_DATABASE_URL.",
)


def _expiry(text: str | None):
    """``90d``, ``12h`` or a date/time (ISO 8601) -> an aware UTC datetime; None: never."""
    from datetime import UTC, datetime, timedelta

    if text is None:
        return None
    units = {"d": "days", "h": "hours", "w": "weeks"}
    if text[-1:].lower() in units and text[:-1].isdigit():
        return datetime.now(UTC) + timedelta(**{units[text[-1].lower()]: int(text[:-1])})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"write the expiry as a duration (90d, 12h, 4w) or a date (2027-01-31), not {text!r}"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@main.group(short_help="Make, list and revoke bearer tokens for the HTTP API.")
def token() -> None:
    """Bearer tokens, kept in the API's database (only their SHA-256): reps read their own
    quota, viewers read, planners write, approvers approve at their level. Changes take effect
    on the next request, without restarting the server."""


@token.command("new")
@click.option("--role", type=click.Choice(["rep", "viewer", "planner", "approver"]), required=True)
@click.option(
    "--name", required=True, help="Who holds the token (one word; a rep's token: their rep_id)."
)
@click.option(
    "--scope",
    default=None,
    help="An approver's level: team:<team>, region:<region> or company.",
)
@click.option("--expires", default=None, help="Expiry: a duration (90d, 12h) or a date.")
@DATABASE
def token_new(role, name, scope, expires, database):
    """Store a new token and print it once (give it to its holder; only its hash is kept). A
    rep sees only their own quota and its explanation; viewers read; planners draft and
    adjust; approvers approve at their level."""
    from .auth import digest, new_token

    try:
        secret, _ = new_token(role, name, scope)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    when = _expiry(expires)
    store = _store(database)
    store.add_token(name=name, role=role, scope=scope, digest=digest(secret), expires_at=when)
    click.echo(f"token for {name} ({role}{', ' + scope if scope else ''}), shown once: {secret}")
    click.echo(
        f"stored in {store.url}; expires {when.isoformat() if when else 'never'}; "
        "`quotaplan token revoke " + name + "` withdraws it"
    )


@token.command("list")
@DATABASE
def token_list(database):
    """Every token: name, role, scope, status, when made, expiry and last use (never the
    secret; last use is noted at most once a minute)."""
    from tabulate import tabulate

    def when(t):
        return t.strftime("%Y-%m-%d %H:%M UTC") if t else "-"

    rows = [
        [
            t.name,
            t.role,
            t.scope or "-",
            t.status(),
            when(t.created_at),
            when(t.expires_at),
            when(t.last_used_at),
            t.source,
        ]  # fmt: skip
        for t in _store(database).tokens()
    ]
    if not rows:
        click.echo("no tokens: the API is open (localhost only); make one with quotaplan token new")
        return
    headers = ["name", "role", "scope", "status", "created", "expires", "last used", "source"]
    click.echo(tabulate(rows, headers=headers))


@token.command("revoke")
@click.argument("name")
@DATABASE
def token_revoke(name, database):
    """Revoke every active token of NAME (effective on the next request; the rows stay listed)."""
    n = _store(database).revoke_token(name)
    if not n:
        raise click.ClickException(f"no active token named {name!r} (quotaplan token list)")
    click.echo(f"revoked {n} token(s) of {name}")


@main.command(
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
@click.option(
    "--database",
    default=None,
    help="SQLite file (default quotaplan.db); or QUOTAPLAN_DATABASE_URL.",
)
def history_command(plan_id, rep_id, database):
    """Who changed what, when, before, after and why, from the API's database: the plan and the
    versions it came from. With --rep, the rep's current number explained in words (forecast,
    stretch, the limit that held it, every adjustment and approval)."""
    from .explanations import own_story, rep_explanation

    store = _store(database)
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
    for e in entries:
        change = ""
        if e.before or e.after:
            change = f" {json.dumps(e.before)} -> {json.dumps(e.after)}"
        rep = f" {e.rep_id}" if e.rep_id else ""
        why = f": {e.why}" if e.why else ""
        click.echo(
            f"{e.at:%Y-%m-%d %H:%M} plan {e.plan_id}{rep} {e.action} by {e.who}{change}{why}"
        )


def _command_line(ctx: click.Context) -> str:
    """The command as typed, in canonical form: the options that differ from their defaults."""
    parts = ["quotaplan", ctx.info_name]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if value == param.default or value is None or value is False:
            continue
        flag = param.opts[0]
        parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)


@main.command(
    "bench",
    short_help="Backtest quota policies over many synthetic companies (Dask).",
    epilog="""\b
Examples:
  quotaplan bench --companies 200 --out results/
  quotaplan bench --companies 20 --fast --policies equal-stretch,last-year-plus-growth --out r/
  quotaplan bench --companies 1000 --scheduler tcp://scheduler:8786 --out results/
""",
)
@click.option("--companies", type=click.IntRange(1), default=200, show_default=True)
@click.option(
    "--policies",
    default=",".join(POLICIES),
    show_default=True,
    help="Comma-separated policies to compare.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Draws the companies.")
@click.option(
    "--scheduler",
    default=None,
    help="A Dask scheduler (tcp://host:8786); default: a local cluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Local cluster's worker processes.",
)
@click.option(
    "--fast", is_flag=True, help="A lighter forecaster fit (3 origins, 60 trees): for a quick look."
)
@click.option(
    "--real-data",
    default="auto",
    show_default=True,
    help="Directory of the real datasets (AdventureWorks) to run the same backtest on, their "
    "real quotas scored alongside; 'auto': $QUOTAPLAN_SHARED_DATA or ../shared/data if "
    "present; 'none': skip.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def bench_command(companies, policies, seed, scheduler, workers, fast, real_data, out):
    """Which way of setting quotas works? For each synthetic company (size, growth, volatility,
    hiring and ambition drawn per company), set the last year's quotas with each policy from the
    years before it, and score them against what the reps then sold. Then the same on every
    real company found, with the quotas it really set scored alongside.

    Writes metrics.csv / .parquet (a row per company and policy), reps.parquet (annual quota
    and sales per rep), real_metrics.csv (the real companies), report.md (means with 95%
    intervals, the winner per metric, the real companies) and PNG plots to --out.
    """
    command = _command_line(click.get_current_context())
    from benchmarks.policy_report import write_report
    from benchmarks.policy_sweep import scenarios, sweep
    from benchmarks.real_backtest import run_real
    from datasets.adventureworks import shared_data_dir

    chosen = tuple(p.strip() for p in policies.split(",") if p.strip())
    unknown = [p for p in chosen if p not in POLICIES]
    if unknown:
        raise click.BadParameter(
            f"unknown policy {unknown[0]!r}; choose from {', '.join(POLICIES)}"
        )
    root = None if real_data == "none" else Path(real_data) if real_data != "auto" else None
    if root is not None and not root.is_dir():
        raise click.BadParameter(f"{real_data} is not a directory", param_hint="--real-data")
    if real_data == "auto" and shared_data_dir().is_dir():
        root = shared_data_dir()
    forecaster = QuantileForecaster(n_origins=3, max_iter=60) if fast else None
    result = sweep(
        scenarios(companies, seed),
        policies=chosen,
        scheduler=scheduler,
        workers=workers,
        forecaster=forecaster,
    )
    out.mkdir(parents=True, exist_ok=True)
    result["metrics"].to_csv(out / "metrics.csv", index=False)
    result["metrics"].to_parquet(out / "metrics.parquet", index=False)
    result["reps"].to_parquet(out / "reps.parquet", index=False)
    real = None
    if root is not None and root.is_dir():
        click.echo(f"real companies in {root} ...", err=True)
        real = run_real(
            root,
            policies=chosen,
            forecaster=forecaster,
            progress=lambda what: click.echo(f"  {what}", err=True),
        )
        real.metrics.to_csv(out / "real_metrics.csv", index=False)
    report = write_report(result["metrics"], result["reps"], out, command, real=real)
    click.echo(report.read_text())


if __name__ == "__main__":
    main()

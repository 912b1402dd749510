"""``quotaplan bench``: quota policies backtested over many synthetic companies (Dask), and
over the real companies found."""

from __future__ import annotations

from pathlib import Path

import click

from optimizer import POLICIES

from .options import FOLDER


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


def _policies(text: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in POLICIES]
    if unknown:
        raise click.BadParameter(
            f"unknown policy {unknown[0]!r}; choose from {', '.join(POLICIES)}"
        )
    return chosen


def _real_root(real_data: str) -> Path | None:
    """The directory of the real datasets: as given, the shared one if 'auto' finds it, or
    None ('none', or 'auto' finding nothing)."""
    from datasets.adventureworks import shared_data_dir

    if real_data == "none":
        return None
    if real_data == "auto":
        return shared_data_dir() if shared_data_dir().is_dir() else None
    if not Path(real_data).is_dir():
        raise click.BadParameter(f"{real_data} is not a directory", param_hint="--real-data")
    return Path(real_data)


@click.command(
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
@click.option("--out", type=FOLDER, required=True)
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
    chosen, root = _policies(policies), _real_root(real_data)
    from benchmarks.policy_report import write_report
    from benchmarks.policy_sweep import scenarios, sweep
    from benchmarks.real_backtest import run_real
    from models import QuantileForecaster

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
    if root is not None:
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

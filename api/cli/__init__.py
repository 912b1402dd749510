"""The ``quotaplan`` command: thin adapters from files and flags to the library.

One module per command group: ``data`` (check, generate, bookings, schema, convert),
``forecast``, ``plan`` (plan, replan), ``track``, ``history``, ``serve``, ``tokens`` (token) and
``bench``; ``options`` holds the options they share and turns the plan flags into the HTTP
API's plan settings (``api.schemas.PlanChoices``); ``errors`` says how refusals end (exit 1 or 3).

Start-up: these modules import only click and light modules (no pandas, scikit-learn, Pyomo,
SQLAlchemy or Flask), so ``quotaplan --help`` and a usage error take a fraction of a second.
The commands import the heavy libraries when they run, with ``render`` (what they print),
``files`` (what they write) and ``inputs`` (a plan's tables), which import pandas.
``tests/test_cli_imports.py`` checks it; ``benchmarks/bench_cli.py`` times it.
"""

from __future__ import annotations

import click

from . import bench, data, forecast, history, plan, serve, tokens, track

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


for _command in (
    data.data,
    forecast.forecast,
    plan.plan_command,
    plan.replan_command,
    track.track_command,
    history.history_command,
    serve.serve_command,
    tokens.token,
    bench.bench_command,
):
    main.add_command(_command)

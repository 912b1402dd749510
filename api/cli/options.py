"""The options commands share, the flag syntaxes (shares, locks, targets) and the plan flags as
the HTTP API's plan settings.

``plan``, ``replan`` and ``track`` take the same plan flags (:func:`plan_options`);
:func:`plan_choices` turns them into :class:`api.schemas.PlanChoices`, the settings a
``POST /v1/plans`` carries, checked the same way (the schema, then the optimizer's limits) before
any table is read: a bad flag is a usage error (exit 2) naming the flag, in the API's words.
"""

from __future__ import annotations

from pathlib import Path

import click

from datasets.schema import PARTIAL_QUARTERS
from optimizer import AT_RISK_BELOW, POLICIES, SpecError

FILE = click.Path(dir_okay=False, path_type=Path)
FOLDER = click.Path(file_okay=False, path_type=Path)


class Share(click.ParamType):
    """``5%`` or ``0.05`` -> 0.05; ``none`` (or ``off``, or nothing) -> None."""

    name = "text"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, float):
            return value
        t = str(value).strip()
        if t.lower() in ("none", "off", ""):
            return None
        try:
            return float(t[:-1]) / 100 if t.endswith("%") else float(t)
        except ValueError:
            self.fail(f"write a share as 5% or 0.05 (got {value!r})", param, ctx)


class Lock(click.ParamType):
    """``R1=900k`` (the annual quota) or ``R1:2026Q2=250k`` (one quarter) -> a lock of the API's
    settings (``rep_id``, ``period``, ``quota``; the amount is read by the settings)."""

    name = "text"

    def convert(self, value, param, ctx):
        if isinstance(value, dict):
            return value
        key, _, amount = value.partition("=")
        rep, _, period = key.partition(":")
        if not amount or not rep:
            self.fail(
                f"write a lock as REP=AMOUNT or REP:QUARTER=AMOUNT (got {value!r})", param, ctx
            )
        return {"rep_id": rep.strip(), "period": period.strip() or None, "quota": amount.strip()}


def lock_text(lock: dict) -> str:
    """A lock as it is written on the command line."""
    period = f":{lock['period']}" if lock["period"] else ""
    return f"{lock['rep_id']}{period}={lock['quota']}"


class GroupTarget(click.ParamType):
    """``NAME=AMOUNT`` -> (name, amount) for a team's or a region's target."""

    name = "text"

    def __init__(self, level: str):
        self.level = level

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        name, _, amount = value.rpartition("=")
        if not name:
            self.fail(f"write a {self.level} target as NAME=AMOUNT (got {value!r})", param, ctx)
        return name.strip(), amount.strip()


class Band(click.ParamType):
    """``LOW,HIGH`` -> (low, high), two numbers."""

    name = "text"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            low, high = (float(x) for x in value.split(","))
        except ValueError:
            self.fail(f"write the band as LOW,HIGH, e.g. 4,6 (got {value!r})", param, ctx)
        return low, high


class Levels(click.ParamType):
    """``0.1,0.5,0.9`` -> (0.1, 0.5, 0.9)."""

    name = "text"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return tuple(float(x) for x in value.split(","))
        except ValueError:
            self.fail(
                f"give levels as decimals separated by commas, e.g. 0.1,0.5,0.9 (got {value!r})",
                param,
                ctx,
            )


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

database_option = click.option(
    "--database",
    default=None,
    help="SQLite file (default quotaplan.db); or QUOTAPLAN_DATABASE_URL.",
)


def open_store(database: str | None):
    """The API's store that ``--database`` names (or QUOTAPLAN_DATABASE_URL, or the default)."""
    from api.app import settings
    from api.storage import Store

    return Store(settings({"DATABASE": database} if database else None)["DATABASE_URL"])


def at_risk_option(help: str):
    return click.option(
        "--at-risk-below",
        type=Share(),
        default=f"{AT_RISK_BELOW:.0%}",
        show_default=True,
        help=help,
    )


def plan_options(command):
    """The options ``plan``, ``replan`` and ``track`` share: inputs, the number, the policy and
    limits."""
    options = [
        click.option(
            "--history",
            "history_path",
            type=FILE,
            help="History: CSV, .xlsx or Parquet (forecast first).",
        ),
        click.option(
            "--forecast",
            "forecast_path",
            type=FILE,
            help="A forecast table you already have, instead of --history.",
        ),
        click.option(
            "--roster",
            "roster_path",
            type=FILE,
            required=True,
            help="Roster: CSV, .xlsx or Parquet.",
        ),
        click.option("--target", help="The company number: 12.5M, 800k or 12500000."),
        click.option(
            "--attainment",
            type=Share(),
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
            type=Share(),
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
            type=Share(),
            default="0.1",
            show_default=True,
            help="No quota below this forecast quantile ('none': no floor).",
        ),
        click.option(
            "--phasing-band",
            type=Share(),
            default="10%",
            show_default=True,
            help="Each quarter within this of its seasonal share ('none': free).",
        ),
        click.option(
            "--max-increase",
            type=Share(),
            default="25%",
            show_default=True,
            help="Anti-ratchet: annual quota at most last year's plus this ('none': off).",
        ),
        click.option(
            "--min-increase",
            type=Share(),
            default="none",
            show_default=True,
            help="Annual quota at least last year's plus this (e.g. 0%).",
        ),
        click.option(
            "--ote-band",
            type=Band(),
            default=None,
            help="Quota-to-OTE multiples LOW,HIGH to enforce, e.g. 4,6 (always reported).",
        ),
        click.option(
            "--smoothness",
            type=Share(),
            default="none",
            show_default=True,
            help="Max quarter-to-quarter change as a share of the average quarter.",
        ),
        click.option(
            "--lock",
            type=Lock(),
            multiple=True,
            help="Hold a quota: REP=AMOUNT (annual) or REP:2026Q2=AMOUNT. Repeatable.",
        ),
        click.option(
            "--team-target",
            type=GroupTarget("team"),
            multiple=True,
            help="TEAM=AMOUNT: the team's quotas add up to this. Repeatable.",
        ),
        click.option(
            "--region-target",
            type=GroupTarget("region"),
            multiple=True,
            help="REGION=AMOUNT. Repeatable.",
        ),
        click.option(
            "--targets",
            "targets_path",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Team and region targets from a file (CSV, .xlsx or Parquet: level, name, target), "
            "as `quotaplan data generate` writes them; --team-target/--region-target add to it.",
        ),
        click.option(
            "--out",
            type=FILE,
            help="Write the plan here (.csv or .parquet) and its summary beside it (.summary.json).",
        ),
        click.option("--time-limit", type=float, default=None, help="Seconds the solver may take."),
        click.option("--seed", type=int, default=0, show_default=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


#: Each plan flag (by its parameter's name, the flag with dashes) and the setting of
#: :class:`api.schemas.PlanChoices` it gives.
SETTINGS = {
    "target": ("target",),
    "attainment": ("attainment",),
    "policy": ("policy",),
    "year": ("year",),
    "fiscal_year_start": ("fiscal_year_start",),
    "partial_quarters": ("partial_quarters",),
    "over_assignment": ("limits", "over_assignment"),
    "cap_quantile": ("limits", "cap_quantile"),
    "floor_quantile": ("limits", "floor_quantile"),
    "phasing_band": ("limits", "phasing_band"),
    "max_increase": ("limits", "max_increase"),
    "min_increase": ("limits", "min_increase"),
    "ote_band": ("limits", "ote_band"),
    "smoothness": ("limits", "smoothness"),
    "lock": ("limits", "locks"),
    "team_target": ("limits", "team_targets"),
    "region_target": ("limits", "region_targets"),
}


def settings(o: dict, file_targets: dict | None = None) -> dict:
    """The plan flags' values as the API's plan settings (a ``POST /v1/plans`` body without its
    tables). ``file_targets``: a ``--targets`` file's ``{"team": {...}, "region": {...}}``, which
    the flags' targets add to."""
    file_targets = file_targets or {}
    given = {
        **o,
        "over_assignment": o["over_assignment"] or 0.0,  # 'none': no over-assignment
        "lock": list(o["lock"]),
        "team_target": {**file_targets.get("team", {}), **dict(o["team_target"])},
        "region_target": {**file_targets.get("region", {}), **dict(o["region_target"])},
    }
    data: dict = {"limits": {}}
    for name, path in SETTINGS.items():
        if path[0] == "limits":  # every limit, None included (None switches it off)
            data["limits"][path[1]] = given[name]
        elif given[name] is not None:
            data[name] = given[name]
    return data


def plan_choices(o: dict):
    """The plan flags as :class:`api.schemas.PlanChoices`, checked as the API checks a plan's
    settings, then the limits as the optimizer checks them: a usage error naming the flag
    otherwise. A ``--targets`` file is read after the flags passed."""
    choices = _checked(o)
    if o["targets_path"] is None:
        return choices
    from .files import read_targets

    return _checked(o, read_targets(o["targets_path"]))


def _checked(o: dict, file_targets: dict | None = None):
    from pydantic import ValidationError

    from api.schemas import PlanChoices

    try:
        choices = PlanChoices.model_validate(settings(o, file_targets))
        choices.limits.to_limits()  # the optimizer's own checks (a floor under the cap, ...)
    except ValidationError as exc:
        raise click.UsageError(flag_errors(exc, o, file_targets)) from None
    except SpecError as exc:
        raise click.UsageError(str(exc)) from None
    return choices


def progress_settings(as_of, **flags):
    """The tracking flags as :class:`api.schemas.ProgressSettings` (the API's settings of
    ``POST /v1/plans/{id}/progress``), checked as the API checks them."""
    from pydantic import ValidationError

    from api.schemas import ProgressSettings

    day = {"as_of": as_of.date()} if as_of is not None else {}
    try:
        return ProgressSettings.model_validate({**flags, **day})
    except ValidationError as exc:
        from api.validation import errors

        raise click.UsageError(
            "; ".join(f"--{'-'.join(map(str, p)).replace('_', '-')}: {m}" for p, m in errors(exc))
        ) from None


def flag_errors(exc, o: dict, file_targets: dict | None = None) -> str:
    """The API's validation messages, each said of the flag (and value) that gave the setting."""
    from api.validation import errors

    said = []
    for path, message in errors(exc):
        where = _where(path, o, file_targets or {})
        said.append(f"{where}: {message}" if where else message)
    return "; ".join(said)


def _where(path: tuple, o: dict, file_targets: dict) -> str:
    """``--target``, ``--lock 'R1:2026-Q2=5M' (period)``, ``--team-target 'A/B=5M'``,
    ``--targets t.csv (team A/B)``."""
    for name, setting in SETTINGS.items():
        if path[: len(setting)] != setting:
            continue
        flag, rest = "--" + name.replace("_", "-"), path[len(setting) :]
        if name == "lock" and rest:
            lock = o["lock"][rest[0]]
            return f"{flag} {lock_text(lock)!r}" + (f" ({rest[1]})" if rest[1:] else "")
        if name in ("team_target", "region_target") and rest:
            level, key = name.split("_")[0], rest[0]
            flags = dict(o[name])
            if key not in flags and key in file_targets.get(level, {}):
                return f"--targets {o['targets_path']} ({level} {key})"
            return f"{flag} {f'{key}={flags.get(key)}'!r}"
        return flag
    return ".".join(map(str, path))

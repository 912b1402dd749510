"""The tables the commands write and the small ones they read besides the inputs: plans and
their summaries, tracking tables, team and region targets. Imports pandas: the commands import
it when they run."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from datasets.tables import read_table


def write_table(frame: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    """Write a table as Parquet (.parquet, .pq) or CSV, creating the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, float_format=float_format)


def write_plan(result, out: Path) -> None:
    """A plan's table, and its summary beside it (``.summary.json``)."""
    write_table(result.table(), out, float_format="%.4f")
    summary = json.dumps(result.summary.to_dict(), indent=2, default=str)
    out.with_suffix(".summary.json").write_text(summary)


def write_progress(progress, proposal, out: Path, grain: str) -> None:
    """Tracking's tables: per rep (``out``), per team, phased by ``grain``, and the relief plan."""
    write_table(progress.reps, out, float_format="%.4f")
    write_table(progress.teams, out.with_suffix(".teams.csv"), float_format="%.4f")
    write_table(progress.phased, out.with_suffix(f".{grain}s.csv"), float_format="%.4f")
    if proposal is not None and proposal.plan is not None:
        write_table(proposal.plan.table(), out.with_suffix(".relief.csv"), "%.4f")


def targets_table(team_targets: dict) -> pd.DataFrame:
    """Team targets as the table ``--targets`` reads (level, name, target)."""
    rows = [{"level": "team", "name": k, "target": v} for k, v in team_targets.items()]
    return pd.DataFrame(rows, columns=["level", "name", "target"])


def read_targets(path: Path) -> dict:
    """Group targets from a table with columns ``level`` (team or region), ``name``, ``target``:
    ``{"team": {name: target}, "region": {...}}``, targets as numbers or text."""
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
    out: dict = {"team": {}, "region": {}}
    for r in table.itertuples():
        out[str(r.level)][str(r.name)] = r.target if isinstance(r.target, str) else float(r.target)
    return out


def plan_number(plan_path: Path, over_assignment: float | None) -> float:
    """The company number of a plan written by ``quotaplan plan --out``: its summary's, else
    its quotas' total less the over-assignment."""
    summary = plan_path.with_suffix(".summary.json")
    if summary.exists():
        return json.loads(summary.read_text())["company_target"]
    total = float(read_table(plan_path, plan_path.name).frame["quota"].sum())
    return total / (1 + (over_assignment or 0.0))

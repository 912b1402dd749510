"""The forecast and roster as aligned arrays (reps x quarters) for the optimizer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets import DataValidationError, Problem

from .spec import PlanSpec


@dataclass(frozen=True)
class PlanData:
    reps: np.ndarray  # rep ids
    periods: np.ndarray  # quarter labels, in order
    levels: np.ndarray  # forecast quantile levels, ascending
    quantiles: np.ndarray  # (reps, periods, levels)
    team: np.ndarray
    region: np.ndarray
    last_year_quota: np.ndarray  # NaN where unknown
    ote: np.ndarray  # NaN where unknown

    @property
    def p50(self) -> np.ndarray:
        return self.quantile(0.5)

    def quantile(self, level: float) -> np.ndarray:
        """The forecast at any level, interpolating linearly between the forecast's levels."""
        return quantile_at(self.levels, self.quantiles, level)


def quantile_at(levels: np.ndarray, quantiles: np.ndarray, level) -> np.ndarray:
    """Quantile function through the knots (level, value), linear between them and in the tails
    (extending the first and last segments), clipped at zero."""
    lv = np.asarray(levels, float)
    j = np.clip(np.searchsorted(lv, level) - 1, 0, len(lv) - 2)
    lo, hi = quantiles[..., j], quantiles[..., j + 1]
    w = (level - lv[j]) / (lv[j + 1] - lv[j])
    return np.maximum(lo + w * (hi - lo), 0.0)


def prepare(spec: PlanSpec) -> PlanData:
    """Check the forecast table against the roster and align it into arrays."""
    f, roster = spec.forecast, spec.roster
    problems = []
    missing = [c for c in ("rep_id", "period", "q50") if c not in f.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    "forecast",
                    tuple(missing),
                    "required column is missing",
                    "Give the forecast table of `quotaplan forecast`: rep_id, period, q10, q50, q90.",
                )
            ]
        )
    level_cols = sorted(
        (c for c in f.columns if c.startswith("q") and c[1:].replace(".", "", 1).isdigit()),
        key=lambda c: float(c[1:]),
    )
    levels = np.array([float(c[1:]) / 100 for c in level_cols])
    if len(levels) < 2:
        problems.append(
            Problem(
                "forecast",
                tuple(level_cols),
                "needs at least two quantile levels",
                "Forecast with --quantiles 0.1,0.5,0.9.",
            )
        )
    values = f[level_cols].to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        problems.append(
            Problem(
                "forecast",
                tuple(level_cols),
                "negative, blank or infinite forecast values",
                "Forecasts must be numbers >= 0.",
                tuple(f"row {i}" for i in np.flatnonzero(bad.any(axis=1))[:5]),
                int(bad.any(axis=1).sum()),
            )
        )
    elif (np.diff(values, axis=1) < 0).any():
        problems.append(
            Problem(
                "forecast",
                tuple(level_cols),
                "quantiles cross (a lower level above a higher one)",
                "Sort each row's quantiles.",
            )
        )
    dup = f.duplicated(["rep_id", "period"])
    if dup.any():
        problems.append(
            Problem(
                "forecast",
                ("rep_id", "period"),
                "more than one row for a rep and quarter",
                "Keep one row per rep and quarter.",
                (),
                int(dup.sum()),
            )
        )
    active = roster.loc[roster["active"], "rep_id"].astype(str)
    unknown = sorted(set(f["rep_id"].astype(str)) - set(active))
    if unknown:
        problems.append(
            Problem(
                "forecast",
                ("rep_id",),
                f"reps not active on the roster: {', '.join(unknown[:5])}"
                + (" ..." if len(unknown) > 5 else ""),
                "Add them to the roster or drop them from the forecast.",
            )
        )
    if problems:
        raise DataValidationError(problems)
    reps = np.array(sorted(f["rep_id"].astype(str).unique()), dtype=object)
    periods = np.array(sorted(f["period"].astype(str).unique()), dtype=object)
    r = pd.Index(reps).get_indexer(f["rep_id"].astype(str))
    t = pd.Index(periods).get_indexer(f["period"].astype(str))
    q = np.zeros((len(reps), len(periods), len(levels)))  # a quarter with no row: no capacity
    q[r, t, :] = values
    info = roster.set_index(roster["rep_id"].astype(str)).reindex(reps)
    return PlanData(
        reps=reps,
        periods=periods,
        levels=levels,
        quantiles=q,
        team=info["team"].fillna("unassigned").to_numpy(dtype=object),
        region=info["region"].fillna("unassigned").to_numpy(dtype=object),
        last_year_quota=info["last_year_quota"].to_numpy(float)
        if "last_year_quota" in info
        else np.full(len(reps), np.nan),
        ote=info["ote"].to_numpy(float) if "ote" in info else np.full(len(reps), np.nan),
    )

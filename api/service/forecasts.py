"""Forecasting a company's plan year, for ``quotaplan forecast`` and ``POST /v1/forecasts`` (and
the plans made from history at both edges): one model, made one way."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from datasets import Company, load_company
from models import DEFAULT_MODEL, DEFAULT_QUANTILES, MODELS

#: The packages a forecast is made by: the data layer's reading of the tables and the models.
FORECAST_CODE = ("datasets", "models")


@functools.cache
def forecaster_code_version(packages: tuple[str, ...] = FORECAST_CODE) -> str:
    """A digest of the source of the code that makes a forecast (every ``.py`` file of
    ``packages``, by path and content), for keying what is remembered of a forecast: a fix to the
    forecaster or to how a table is read then makes it fitted again, where the package's version
    (the same for every commit of a source checkout) would have kept the old one."""
    digest = hashlib.sha256()
    for name in packages:
        root = Path(__import__(name).__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def make_model(name: str = DEFAULT_MODEL, levels=DEFAULT_QUANTILES, seed: int = 0):
    """The forecaster called ``name`` (``models.MODEL_NAMES``), at ``levels``, seeded if it
    draws."""
    cls = MODELS[name]
    levels = tuple(sorted(levels))
    if "random_state" in cls().get_params():
        return cls(quantiles=levels, random_state=seed)
    return cls(quantiles=levels)


@dataclass(frozen=True)
class Forecast:
    """The forecast table of the plan year, the fitted model, the year and why that year."""

    table: pd.DataFrame
    model: object
    year: int
    why: str


def forecast(
    company: Company,
    year: int | None = None,
    *,
    quantiles=DEFAULT_QUANTILES,
    seed: int = 0,
    model: str = DEFAULT_MODEL,
    asked: str = "as asked",
) -> Forecast:
    """Every active rep's quarters of ``year`` (default: the year after the last complete year
    of the history, :meth:`datasets.Company.plan_year`) that come after the history. ``asked``:
    how the year's reason says it was given."""
    fitted = make_model(model, quantiles, seed).fit(company)
    plan_year, why = (year, f"{year}, {asked}") if year is not None else company.plan_year()
    return Forecast(fitted.predict(fitted.remaining_quarters(plan_year)), fitted, plan_year, why)


def forecast_tables(
    history,
    roster,
    year: int | None = None,
    *,
    quantiles=DEFAULT_QUANTILES,
    seed: int = 0,
    fiscal_year_start: int = 1,
    partial_quarters: str = "complete",
) -> tuple[pd.DataFrame, Company]:
    """The company read from a history and a roster (paths, DataFrames or files read), and its
    forecast of ``year`` by the default model: a plan's forecast from history, at both edges."""
    company = load_company(
        history, roster, fiscal_year_start=fiscal_year_start, partial_quarters=partial_quarters
    )
    return forecast(company, year, quantiles=quantiles, seed=seed).table, company

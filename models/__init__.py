"""Forecasting: what each rep can realistically sell per quarter, with quantiles.

``QuantileForecaster`` is the learned model; ``SeasonalNaive``, ``TrailingMean`` and
``LastYearPlusGrowth`` are the baselines it is backtested against (``models.backtest``).
"""

from .base import DEFAULT_QUANTILES, BaseForecaster, ForecastError, level_column
from .baselines import BASELINES, LastYearPlusGrowth, SeasonalNaive, TrailingMean
from .quantile import QuantileForecaster, forecast_year

MODELS = {"quantile-gbm": QuantileForecaster, **BASELINES}

__all__ = [
    "BASELINES",
    "DEFAULT_QUANTILES",
    "ForecastError",
    "MODELS",
    "BaseForecaster",
    "LastYearPlusGrowth",
    "QuantileForecaster",
    "SeasonalNaive",
    "TrailingMean",
    "forecast_year",
    "level_column",
]

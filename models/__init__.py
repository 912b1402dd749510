"""Forecasting: what each rep can realistically sell per quarter, with quantiles.

``QuantileForecaster`` is the learned model; ``SeasonalNaive``, ``TrailingMean`` and
``LastYearPlusGrowth`` are the baselines it is backtested against (``models.backtest``).

The forecasters (scikit-learn, pandas) are imported when first used (PEP 562); their names,
``MODEL_NAMES``, are here without them, for the command line's choices.
"""

from importlib import import_module

#: The keys of ``MODELS``: what ``quotaplan forecast --model`` and the backtest call each model.
MODEL_NAMES = ("quantile-gbm", "seasonal-naive", "trailing-mean", "last-year-plus-growth")

#: The forecaster used unless another is named: the learned model.
DEFAULT_MODEL = MODEL_NAMES[0]

#: The names imported when first used, and the submodule of each.
_LAZY = {
    "DEFAULT_QUANTILES": ".base",
    "BaseForecaster": ".base",
    "ForecastError": ".base",
    "level_column": ".base",
    "BASELINES": ".baselines",
    "LastYearPlusGrowth": ".baselines",
    "SeasonalNaive": ".baselines",
    "TrailingMean": ".baselines",
    "QuantileForecaster": ".quantile",
}


def __getattr__(name: str):
    if name == "MODELS":
        value = {"quantile-gbm": __getattr__("QuantileForecaster"), **__getattr__("BASELINES")}
    elif name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "MODELS"})


__all__ = [
    "BASELINES",
    "DEFAULT_MODEL",
    "DEFAULT_QUANTILES",
    "ForecastError",
    "MODELS",
    "MODEL_NAMES",
    "BaseForecaster",
    "LastYearPlusGrowth",
    "QuantileForecaster",
    "SeasonalNaive",
    "TrailingMean",
    "level_column",
]

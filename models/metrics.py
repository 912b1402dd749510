"""Forecast accuracy: point error, quantile loss and interval coverage."""

from __future__ import annotations

import numpy as np


def wape(actual, forecast) -> float:
    """Weighted absolute percentage error: sum |actual - forecast| / sum actual."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    return float(np.abs(a - f).sum() / a.sum()) if a.sum() > 0 else float("nan")


def mape(actual, forecast, floor: float = 0.0) -> float:
    """Mean absolute percentage error over the rows whose actual is at least ``floor`` (> 0)."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    keep = a >= max(floor, np.finfo(float).tiny)
    return float(np.mean(np.abs(a[keep] - f[keep]) / a[keep])) if keep.any() else float("nan")


def pinball(actual, forecast, level: float) -> float:
    """Mean pinball (quantile) loss of ``forecast`` as the ``level`` quantile."""
    diff = np.asarray(actual, float) - np.asarray(forecast, float)
    return float(np.mean(np.maximum(level * diff, (level - 1) * diff)))


def scaled_pinball(actual, quantiles: dict[float, np.ndarray]) -> float:
    """Pinball loss averaged over the levels, divided by the mean actual (scale-free)."""
    a = np.asarray(actual, float)
    return float(np.mean([pinball(a, q, lv) for lv, q in quantiles.items()]) / a.mean())


def coverage(actual, low, high) -> float:
    """Share of actuals inside [low, high]."""
    a = np.asarray(actual, float)
    return float(np.mean((a >= np.asarray(low)) & (a <= np.asarray(high))))


def weighted_quantiles(values, weights, levels) -> np.ndarray:
    """Quantiles of ``values`` under ``weights`` (midpoint interpolation), one per level."""
    v, w = np.asarray(values, float), np.asarray(weights, float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(levels, float), cum, v)

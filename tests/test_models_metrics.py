import numpy as np
import pytest

from models import metrics


def test_wape_mape_pinball_coverage_by_hand():
    a = np.array([100.0, 200.0, 0.0, 50.0])
    f = np.array([110.0, 150.0, 10.0, 50.0])
    assert metrics.wape(a, f) == pytest.approx((10 + 50 + 10 + 0) / 350)
    assert metrics.mape(a, f) == pytest.approx(
        (0.1 + 0.25 + 0.0) / 3
    )  # the zero actual is left out
    assert metrics.mape(a, f, floor=100) == pytest.approx((0.1 + 0.25) / 2)
    # level 0.9: under-forecast costs 0.9 per unit, over-forecast 0.1
    assert metrics.pinball(a, f, 0.9) == pytest.approx((0.1 * 10 + 0.9 * 50 + 0.1 * 10 + 0) / 4)
    assert metrics.coverage(a, f - 20, f + 20) == pytest.approx(3 / 4)
    qs = {0.1: f * 0.5, 0.5: f, 0.9: f * 1.5}
    expected = np.mean([metrics.pinball(a, q, lv) for lv, q in qs.items()]) / a.mean()
    assert metrics.scaled_pinball(a, qs) == pytest.approx(expected)


def test_weighted_quantiles_by_hand():
    # Weights 1, 1, 2 on 10, 20, 30: midpoints of cumulative weight at 1/8, 3/8, 6/8.
    got = metrics.weighted_quantiles([30, 10, 20], [2, 1, 1], [0.125, 0.375, 0.75, 0.5])
    assert got == pytest.approx([10, 20, 30, 20 + 10 * (0.5 - 0.375) / (0.75 - 0.375)])

"""Baselines exact on tiny hand-computed cases."""

import pandas as pd
import pytest

from datasets import load_company
from models import LastYearPlusGrowth, SeasonalNaive, TrailingMean


def company(rows: dict[str, list[float]], start_year: int):
    """Reps' quarterly revenue from Q1 of start_year on."""
    records = [
        {"rep_id": rep, "period": f"{start_year + i // 4}Q{i % 4 + 1}", "revenue": v}
        for rep, values in rows.items()
        for i, v in enumerate(values)
    ]
    return load_company(pd.DataFrame(records), pd.DataFrame({"rep_id": list(rows)}))


def q50(model, c, year):
    f = model.fit(c).predict(year)
    return f.set_index(["rep_id", "period"])["q50"]


def test_seasonal_naive_repeats_last_year():
    c = company({"a": [10, 20, 30, 40] * 2, "b": [1, 2, 3, 4] * 2, "c": [5, 5, 5, 5] * 2}, 2024)
    got = q50(SeasonalNaive(), c, 2026)
    assert got["a"].tolist() == pytest.approx([10, 20, 30, 40])
    assert got["c"].tolist() == pytest.approx([5, 5, 5, 5])


def test_trailing_mean_times_seasonal_index():
    # Company totals 30/60/90/120 by quarter: index 0.4/0.8/1.2/1.6. Rep a's deseasonalised
    # last four quarters are all 25; rep b's 50.
    c = company({"a": [10, 20, 30, 40] * 2, "b": [20, 40, 60, 80] * 2, "c": [0, 0, 0, 0] * 2}, 2024)
    got = q50(TrailingMean(), c, 2026)
    assert got["a"].tolist() == pytest.approx([10, 20, 30, 40])
    assert got["b"].tolist() == pytest.approx([20, 40, 60, 80])


def test_last_year_plus_company_growth():
    # Every rep grows 10% a year, so the company grows 10%: 2026 = 2025 x 1.1.
    base = [10.0, 20.0, 30.0, 40.0]
    rows = {
        r: [v * m * 1.1**y for y in range(3) for v in base]
        for r, m in (("a", 1), ("b", 2), ("c", 3))
    }
    got = q50(LastYearPlusGrowth(), company(rows, 2023), 2026)
    assert got["a"].tolist() == pytest.approx([v * 1.1**3 for v in base])
    assert got["c"].tolist() == pytest.approx([3 * v * 1.1**3 for v in base])


def test_baseline_quantiles_come_from_last_years_misses():
    # Seasonal naive misses by exactly x1.1 on the last year for every rep: every level is x1.1.
    base = [10.0, 20.0, 30.0, 40.0]
    rows = {
        r: [v * m * 1.1**y for y in range(2) for v in base]
        for r, m in (("a", 1), ("b", 2), ("c", 3))
    }
    model = SeasonalNaive().fit(company(rows, 2024))
    assert model.ratio_quantiles_ == pytest.approx([1.1, 1.1, 1.1])
    f = model.predict("2026Q1").set_index("rep_id")
    assert f.loc["a", "q50"] == pytest.approx(11 * 1.1)

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


def test_a_rep_leaving_during_the_plan_year_has_no_capacity_after_the_date():
    import numpy as np
    import pandas as pd

    from datasets.periods import quarter_index
    from models.base import staying_share

    roster = pd.DataFrame(
        {"leave_date": pd.to_datetime(["2026-05-16", None, "2025-12-31"])},
        index=["a", "b", "c"],
    )
    q = quarter_index(np.array(["2026Q1", "2026Q2", "2026Q3"]))
    share = staying_share(roster, q)
    np.testing.assert_allclose(share[0], [1.0, 46 / 91, 0.0])  # April 1 - May 16 of Q2
    np.testing.assert_allclose(share[1], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(share[2], [0.0, 0.0, 0.0])
    # A fiscal year from June: its Q1 is June-August 2025 ... its Q4 is March-May 2026.
    fy = staying_share(roster, quarter_index(np.array(["2026Q4"])), fiscal_year_start=6)
    np.testing.assert_allclose(fy[:, 0], [77 / 92, 1.0, 0.0])

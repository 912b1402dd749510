"""Ramp-up from the start date, and the level of reps with little or no history, by hand."""

import numpy as np
import pandas as pd
import pytest

from datasets import load_company
from models import QuantileForecaster
from models.levels import LevelModel
from models.ramp import DEFAULT_RAMP, MIN_RAMP_HIRES, RAMP_GRID, RampPrior, exposure, start_months

FLAT = (1 / 3, 1 / 3, 1 / 3)


def test_exposure_integrates_the_linear_ramp_over_each_month():
    # A start on the first day of quarter 0 with a three-month ramp, months weighted equally:
    # months average 1/6, 1/2, 5/6 of full productivity; full from the next quarter on.
    e = exposure(np.array([0.0]), np.array([-1, 0, 1]), 3.0, FLAT)[0]
    np.testing.assert_allclose(e, [0.0, 0.5, 1.0])
    # Starting half-way through the quarter's last month: a twelfth of that month at 1/12 ramp.
    late = exposure(np.array([2.5]), np.array([0]), 1.0, FLAT)[0, 0]
    assert late == pytest.approx((0.5 * 0.5 / 2) / 3)
    # Unknown start: fully productive.
    assert exposure(np.array([np.nan]), np.array([0, 5]), 5.0).tolist() == [[1.0, 1.0]]


def test_the_months_weigh_as_the_within_quarter_shape():
    # Start on the first day of the quarter's third month, instant ramp: the quarter's exposure
    # is that month's share of a quarter's bookings.
    e = exposure(np.array([2.0]), np.array([0]), 1e-6, (0.15, 0.25, 0.60))[0, 0]
    assert e == pytest.approx(0.60, abs=1e-4)


def test_start_months_read_in_the_fiscal_calendar():
    roster = pd.DataFrame(
        {
            "rep_id": ["a", "b", "c"],
            "hire_date": pd.to_datetime(["2012-05-30", "2012-06-01", None]),
        }
    )
    cal = start_months(roster, np.array(["a", "b", "c"]), 1)
    fis = start_months(roster, np.array(["a", "b", "c"]), 12)  # quarters Dec-Feb, Mar-May, ...
    q2_2012 = 2012 * 4 + 1
    # Calendar: both in 2012Q2 (Apr-Jun), a in its second month, b in its third.
    assert cal[0] == pytest.approx(3 * q2_2012 + 1 + 29 / 31)
    assert cal[1] == pytest.approx(3 * q2_2012 + 2)
    # Fiscal (December start): a on the last days of fiscal 2012Q2 (Mar-May), b on the first
    # day of fiscal 2012Q3.
    assert fis[0] == pytest.approx(3 * q2_2012 + 2 + 29 / 31)
    assert fis[1] == pytest.approx(3 * (q2_2012 + 1))
    assert np.isnan(cal[2]) and np.isnan(fis[2])


def test_default_ramp_is_said_to_be_the_default():
    prior = RampPrior(DEFAULT_RAMP, 3, False)
    text = prior.describe()
    assert text.startswith("default ramp (no hires to learn from: 3 past hire(s)")
    assert f"{MIN_RAMP_HIRES} needed" in text
    assert prior.median_months == 5.0


def _steady(n_reps=30, quarters=12, hires=()):
    """Steady reps from 50k to 200k a quarter (median 100k, no seasonality), plus ``hires``:
    (rep, start, revenue by quarter from the first) rows."""
    rng = np.random.default_rng(1)
    labels = [f"{2023 + q // 4}Q{q % 4 + 1}" for q in range(quarters)]
    level = 100_000 * 2.0 ** np.linspace(-1, 1, n_reps + 1)
    rows = [
        {"rep_id": f"r{i:02d}", "period": p, "revenue": level[i] * rng.normal(1, 0.2)}
        for i in range(n_reps)
        for p in labels
    ]
    roster = [
        {"rep_id": f"r{i:02d}", "team": "T", "hire_date": "2019-01-01"} for i in range(n_reps)
    ]
    for rep, start, revenue in hires:
        first = labels.index(start)
        rows += [
            {"rep_id": rep, "period": labels[first + k], "revenue": v}
            for k, v in enumerate(revenue)
        ]
    return rows, roster, labels


def test_a_fast_starter_is_read_from_their_first_partial_quarter():
    rows, roster, labels = _steady(
        hires=[("ace", "2025Q4", [200_000]), ("slow", "2025Q4", [12_000])]
    )
    roster += [
        {"rep_id": "ace", "team": "T", "hire_date": "2025-11-03"},
        {"rep_id": "slow", "team": "T", "hire_date": "2025-11-03"},
        {"rep_id": "new", "team": "T", "hire_date": "2026-01-02"},
    ]
    company = load_company(pd.DataFrame(rows), pd.DataFrame(roster))
    model = QuantileForecaster(max_iter=30).fit(company)
    f = model.predict(2026).set_index(["rep_id", "period"])["q50"]
    team = f.loc["r15"].sum()  # the team's median rep: about 400k a year
    assert f.loc["ace"].sum() > 1.8 * team  # 200k in two months at the start: a strong seller
    assert f.loc["slow"].sum() < 1.3 * team  # a slow start is a normal ramp, not a weak rep
    assert f.loc["slow"].sum() > 0.5 * team
    st = model.level_model_.at(model.panel_.revenue.shape[1] - 1, np.array([2026 * 4]))
    row = {r: i for i, r in enumerate(model.panel_.reps)}
    assert st.fast[row["ace"]] > 0.5 > st.fast[row["slow"]]


def test_level_with_no_history_is_the_team_median_and_evidence_grows_with_quarters():
    d = np.array([[100.0] * 8, [200.0] * 8, [150.0] * 8, [np.nan] * 8, [np.nan] * 6 + [300.0] * 2])
    model = LevelModel(
        d,
        start=np.array([np.nan, np.nan, np.nan, 3 * 8 + 3.0, 3 * 6.0]),
        first=0,
        team=np.array(["T"] * 5),
        ramp=RampPrior(np.eye(len(RAMP_GRID))[0], 0, False),  # everyone ramps in two weeks
        month_shape=FLAT,
    )
    st = model.at(7, np.array([8, 9]))
    assert st.level[3] == pytest.approx(150.0)  # the team's median
    assert st.evidence[3] == 0 and st.own_share[3] == 0
    assert st.exposure[3, 0] == 0 and 0 < st.exposure[3, 1] < 1  # starts in quarter 9
    assert st.own_share[4] > 0.8 and st.level[4] > 250  # two quarters of their own: mostly theirs
    assert st.evidence[0] > st.evidence[4]

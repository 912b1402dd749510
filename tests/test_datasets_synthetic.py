import numpy as np
import pandas as pd
import pytest

from datasets import load_company, make_company


@pytest.fixture(scope="module")
def synth():
    return make_company(n_reps=400, n_years=5, random_state=11)


def test_same_seed_same_company_other_seed_other_company():
    a = make_company(50, 3, random_state=5)
    b = make_company(50, 3, random_state=5)
    c = make_company(50, 3, random_state=6)
    pd.testing.assert_frame_equal(a.company.history, b.company.history)
    pd.testing.assert_frame_equal(a.company.roster, b.company.roster)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.company.history["revenue"].equals(c.company.history["revenue"])


def test_output_is_already_canonical(synth):
    again = load_company(synth.company.history, synth.company.roster)
    pd.testing.assert_frame_equal(again.history, synth.company.history)
    pd.testing.assert_frame_equal(again.roster, synth.company.roster)


def test_truth_lines_up_with_history(synth):
    h, t = synth.company.history, synth.truth
    assert h[["rep_id", "period"]].equals(t[["rep_id", "period"]])
    clean = ~t["bluebird"].to_numpy()
    ratio = h["revenue"].to_numpy()[clean].sum() / t["expected_revenue"].to_numpy()[clean].sum()
    assert ratio == pytest.approx(1.0, abs=0.03)
    assert t["capacity"].between(0, 1).all()


def test_hires_leavers_new_hires_and_leave(synth):
    c = synth.company
    assert len(c.leavers) > 0.2 * 400
    assert 0 < len(c.new_hires) < 0.15 * len(c.roster)
    assert (c.roster["fte"] < 1).any()
    assert any(col.startswith("fte_2026Q") for col in c.roster.columns)
    assert c.roster["last_year_quota"].notna().mean() > 0.3
    assert c.roster["ote"].gt(0).all()


def test_new_hires_ramp_up(synth):
    reps = synth.reps.set_index("rep_id")
    t = synth.truth.join(reps[["hire_month"]], on="rep_id")
    q = (t["period"].str[:4].astype(int) - 2021) * 4 + t["period"].str[-1].astype(int) - 1
    months_in = 3 * q - t["hire_month"]
    first = t[(months_in > -3) & (months_in <= 0)]["capacity"].mean()  # the quarter of hire
    later = t[months_in >= 12]["capacity"].mean()
    assert first < 0.35 < 0.8 < later


def test_levels_heavy_tailed_and_noise_grows_with_level(synth):
    levels = synth.reps["level"]
    assert levels.mean() > 1.1 * levels.median()
    t = synth.truth[~synth.truth["bluebird"] & (synth.truth["capacity"] == 1)]
    resid = np.abs(synth.company.history.loc[t.index, "revenue"] - t["expected_revenue"])
    big = t["expected_revenue"] > t["expected_revenue"].quantile(0.8)
    small = t["expected_revenue"] < t["expected_revenue"].quantile(0.2)
    assert resid[big].mean() > 2 * resid[small].mean()


def test_seasonality_shows_in_company_totals(synth):
    by_q = synth.truth.groupby(synth.truth["period"].str[-1])["expected_revenue"].sum()
    assert by_q["4"] > by_q["1"] * 1.2


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n_reps"):
        make_company(0)
    with pytest.raises(ValueError, match="attrition"):
        make_company(10, attrition=1.0)


def test_hires_start_on_a_day_and_some_are_fast_starters(synth):
    reps = synth.reps.set_index("rep_id")
    hired = reps[(reps["hire_month"] >= 0) & (reps["hire_month"] < 48)]
    fast = hired[hired["fast_starter"]]
    assert 0.15 < len(fast) / len(hired) < 0.35
    assert (fast["ramp_months"] <= 1.5).all() and (
        hired.loc[~hired["fast_starter"], "ramp_months"] >= 1
    ).all()
    t = synth.truth.join(reps[["hire_month", "fast_starter"]], on="rep_id")
    q = (t["period"].str[:4].astype(int) - 2021) * 4 + t["period"].str[-1].astype(int) - 1
    first = t[(3 * q - t["hire_month"] > -3) & (3 * q - t["hire_month"] <= 0)]
    # Fast starters' first quarters hold far more of their capacity than the others'.
    by = first.groupby("fast_starter")["capacity"].mean()
    assert by[True] > 2 * by[False]
    days = synth.company.roster["hire_date"].dropna().dt.day
    assert days.nunique() > 20  # start dates spread over the month


def test_some_planned_hires_have_no_hire_date_and_past_leave_is_on_the_roster(synth):
    c = synth.company
    assert c.unknown_start and set(c.unknown_start) <= set(c.new_hires)
    assert any("no history and no hire date" in w for w in c.warnings)
    past = [col for col in c.roster.columns if col.startswith("fte_202") and col < "fte_2026"]
    assert past, "leave in the history's quarters is recorded on the roster"
    t = synth.truth.set_index(["rep_id", "period"])["capacity"]
    rec = c.roster.set_index("rep_id")[past].stack().rename("fte_q").reset_index()
    rec["period"] = rec["level_1"].str[4:]
    rec = rec[rec["rep_id"].isin(t.index.get_level_values(0))]
    on_leave = rec[rec["fte_q"] == 0]
    assert (
        len(on_leave)
        and (
            t.reindex(list(zip(on_leave["rep_id"], on_leave["period"], strict=True))).fillna(0) == 0
        ).all()
    )


def test_fiscal_calendar_and_a_partial_last_quarter():
    s = make_company(60, 3, random_state=3, fiscal_year_start=7, last_quarter_months=2)
    c = s.company
    assert c.fiscal_year_start == 7
    # FY2021 Q1 is July 2020: the first month of the monthly bookings.
    assert s.monthly["period"].min() == "2020-07" and s.monthly["period"].max() == "2023-05"
    assert c.history["period"].max() == "2023Q4"
    assert any(n.startswith("quarter 2023Q4 has data for 2 of its 3 months") for n in c.notes)
    # Months add up to quarters where the quarter is whole.
    q = s.monthly.assign(
        q=pd.PeriodIndex(s.monthly["period"], freq="M").asfreq("Q-JUN").astype(str)
    )
    sums = q.groupby(["rep_id", "q"])["revenue"].sum()
    whole = c.history[c.history["period"] < "2023Q4"].set_index(["rep_id", "period"])["revenue"]
    np.testing.assert_allclose(sums.reindex(whole.index), whole, rtol=1e-9)
    hires = s.reps.set_index("rep_id")["hire_month"]
    dated = c.roster.dropna(subset=["hire_date"]).set_index("rep_id")["hire_date"]
    month0 = pd.Timestamp("2020-07-01")
    months = (dated.dt.year - month0.year) * 12 + dated.dt.month - month0.month
    assert (months == hires.reindex(dated.index)).all()

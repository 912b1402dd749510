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

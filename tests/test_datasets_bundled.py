import pandas as pd

from datasets.bundled import HISTORY_CSV, ROSTER_CSV, load_sample, sample_frames


def test_sample_loads_without_shared_data():
    company = load_sample()
    assert company.history["period"].min() == "2022Q1"
    assert company.history["period"].max() == "2025Q4"
    assert len(company.roster) > 30
    assert company.new_hires and company.leavers


def test_bundled_files_match_the_generator():
    history, roster = sample_frames()
    on_disk_h = pd.read_csv(HISTORY_CSV)
    pd.testing.assert_series_equal(
        on_disk_h["revenue"], history["revenue"], check_exact=False, rtol=1e-9
    )
    assert on_disk_h["rep_id"].tolist() == history["rep_id"].tolist()
    on_disk_r = pd.read_csv(ROSTER_CSV)
    assert on_disk_r["rep_id"].tolist() == roster["rep_id"].tolist()
    assert on_disk_r["hire_date"].tolist() == roster["hire_date"].tolist()
    assert on_disk_r["leave_date"].fillna("").tolist() == roster["leave_date"].fillna("").tolist()

import pandas as pd
import pytest

from datasets.periods import (
    parse_periods,
    quarter_end,
    quarter_freq,
    quarter_index,
    quarter_label,
    quarter_range,
)


@pytest.mark.parametrize(
    "label, quarter, grain",
    [
        ("2024Q3", "2024Q3", "Q"),
        ("2024-Q3", "2024Q3", "Q"),
        ("2024 q3", "2024Q3", "Q"),
        ("Q3 2024", "2024Q3", "Q"),
        ("FY2024Q3", "2024Q3", "Q"),
        ("2024-07", "2024Q3", "M"),
        ("2024/7", "2024Q3", "M"),
        ("202409", "2024Q3", "M"),
        ("Jul 2024", "2024Q3", "M"),
        ("September 2024", "2024Q3", "M"),
        ("2024-10-01", "2024Q4", "M"),
        ("2024-12-31 00:00:00", "2024Q4", "M"),
    ],
)
def test_labels_normalise_to_quarters(label, quarter, grain):
    out = parse_periods(pd.Series([label]))
    assert out.loc[0, "quarter"] == quarter
    assert out.loc[0, "grain"] == grain


@pytest.mark.parametrize(
    "label", ["2024Q5", "2024-13", "next quarter", "", "2024-02-30", "07/15/2024"]
)
def test_unreadable_labels_are_nan(label):
    out = parse_periods(pd.Series([label, "2024Q1"]))
    assert pd.isna(out.loc[0, "grain"])
    assert out.loc[1, "quarter"] == "2024Q1"


def test_datetimes_and_periods_are_read():
    dates = pd.Series(pd.to_datetime(["2024-01-15", "2024-05-01"]))
    assert parse_periods(dates)["quarter"].tolist() == ["2024Q1", "2024Q2"]
    periods = pd.Series(pd.period_range("2024Q1", periods=2, freq="Q"))
    assert parse_periods(periods)["quarter"].tolist() == ["2024Q1", "2024Q2"]


def test_fiscal_year_starting_in_june():
    # June 2011 - May 2012 is fiscal 2012; June-August is its Q1.
    out = parse_periods(
        pd.Series(["2011-06", "2011-08", "2011-09", "2012-05"]), fiscal_year_start=6
    )
    assert out["quarter"].tolist() == ["2012Q1", "2012Q1", "2012Q2", "2012Q4"]
    assert quarter_freq(6) == "Q-MAY"
    assert quarter_end("2012Q1", 6) == pd.Timestamp("2011-08-31")


def test_bad_fiscal_start_is_refused():
    with pytest.raises(ValueError, match="month number"):
        quarter_freq(13)


def test_quarter_arithmetic_round_trips():
    labels = quarter_range("2023Q3", "2024Q2")
    assert labels == ["2023Q3", "2023Q4", "2024Q1", "2024Q2"]
    idx = quarter_index(pd.Series(labels))
    assert list(idx - idx[0]) == [0, 1, 2, 3]
    assert list(quarter_label(idx)) == labels

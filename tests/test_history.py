import numpy as np
import pandas as pd
import pytest

from datasets import DataValidationError, bookings_to_history, load_history


def problems(exc_info) -> str:
    return str(exc_info.value)


def test_quarterly_csv_loads_sorted(write_csv):
    path = write_csv(
        "h.csv",
        """
        rep_id,period,revenue
        b,2024Q2,10
        a,2024Q1,5.5
        b,2024Q1,0
        """,
    )
    history, notes = load_history(path)
    assert history.to_dict("list") == {
        "rep_id": ["a", "b", "b"],
        "period": ["2024Q1", "2024Q1", "2024Q2"],
        "revenue": [5.5, 0.0, 10.0],
    }
    assert notes == []


def test_monthly_rows_roll_up_to_quarters_and_partial_quarters_are_noted(write_csv):
    path = write_csv(
        "h.csv",
        """
        rep_id,period,revenue
        a,2024-01,1
        a,2024-02,2
        a,2024-03,3
        a,2024-04,10
        b,2024-01,7
        """,
    )
    history, notes = load_history(path)
    assert history.to_dict("list") == {
        "rep_id": ["a", "a", "b"],
        "period": ["2024Q1", "2024Q2", "2024Q1"],
        "revenue": [6.0, 10.0, 7.0],
    }
    assert any("2024Q2 has data for 1 of its 3 months" in n for n in notes)


def test_headers_are_normalised_and_money_text_is_read(write_csv):
    path = write_csv(
        "h.csv",
        """
        Rep ID,Period,Revenue
        007,2024Q1,"$1,200.50"
        """,
    )
    history, _ = load_history(path)
    assert history.loc[0, "rep_id"] == "007"  # leading zeros kept
    assert history.loc[0, "revenue"] == pytest.approx(1200.5)


def test_parquet_and_dataframe_sources(tmp_path):
    df = pd.DataFrame({"rep_id": [1, 2], "period": ["2024Q1", "2024Q1"], "revenue": [1.0, 2.0]})
    df.to_parquet(tmp_path / "h.parquet")
    from_file, _ = load_history(tmp_path / "h.parquet")
    from_frame, _ = load_history(df)
    pd.testing.assert_frame_equal(from_file, from_frame)
    assert from_file["rep_id"].tolist() == ["1", "2"]


def test_missing_column_names_what_was_found(write_csv):
    path = write_csv("h.csv", "rep_id,period\na,2024Q1")
    with pytest.raises(DataValidationError) as e:
        load_history(path)
    msg = problems(e)
    assert "'revenue': required column is missing" in msg
    assert "columns found: 'rep_id', 'period'" in msg
    assert "Add a 'revenue' column" in msg


@pytest.mark.parametrize(
    "header, bad", [("revenu", "revenu"), ("amount", "amount"), ("quarter", "quarter")]
)
def test_misspelled_or_renamed_columns_get_a_rename_hint(write_csv, header, bad):
    cols = {"revenue": header} if bad != "quarter" else {"period": header}
    names = [cols.get(c, c) for c in ("rep_id", "period", "revenue")]
    path = write_csv("h.csv", ",".join(names) + "\na,2024Q1,1")
    with pytest.raises(DataValidationError) as e:
        load_history(path)
    target = "revenue" if bad != "quarter" else "period"
    assert f"Rename the column '{bad}' to '{target}'" in problems(e)


def test_bad_revenue_values_each_named_with_lines(write_csv):
    path = write_csv(
        "h.csv",
        """
        rep_id,period,revenue
        a,2024Q1,12
        a,2024Q2,lots
        a,2024Q3,
        a,2024Q4,-5
        b,2024Q1,inf
        b,2024Q2,NaN
        """,
    )
    with pytest.raises(DataValidationError) as e:
        load_history(path)
    msg = problems(e)
    assert "not a number ('lots') at line 3" in msg
    assert "blank or NaN revenue at line 4, line 7" in msg
    assert "negative revenue (-5) at line 5" in msg
    assert "infinite revenue at line 6" in msg
    assert len(e.value.problems) == 4


def test_duplicate_rep_period_rows(write_csv):
    path = write_csv(
        "h.csv",
        """
        rep_id,period,revenue
        a,2024Q1,1
        a,2024-Q1,2
        b,2024Q1,2
        """,
    )
    with pytest.raises(DataValidationError) as e:
        load_history(path)
    msg = problems(e)
    assert "more than one row for the same rep and period" in msg
    assert "line 2, line 3" in msg
    assert "bookings_to_history" in msg


def test_duplicate_months_in_monthly_input(write_csv):
    path = write_csv("h.csv", "rep_id,period,revenue\na,2024-01,1\na,Jan 2024,2")
    with pytest.raises(DataValidationError, match="same rep and month"):
        load_history(path)


def test_unparseable_periods(write_csv):
    path = write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,1\na,spring,2\na,,3")
    with pytest.raises(DataValidationError) as e:
        load_history(path)
    msg = problems(e)
    assert "unreadable period ('spring', '<blank>') at line 3, line 4" in msg
    assert "2024Q3" in msg  # the accepted forms are listed


def test_mixed_granularity(write_csv):
    path = write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,1\na,2024-04,2\na,2024-05,2")
    with pytest.raises(DataValidationError, match="mixes quarterly and monthly rows at line 2"):
        load_history(path)


def test_empty_input(write_csv):
    with pytest.raises(DataValidationError, match="has no rows"):
        load_history(write_csv("h.csv", "rep_id,period,revenue"))
    with pytest.raises(DataValidationError, match="cannot be read"):
        load_history(write_csv("e.csv", ""))


def test_blank_rep_id(write_csv):
    with pytest.raises(DataValidationError, match="blank rep id at line 3"):
        load_history(write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,1\n ,2024Q1,1"))


def test_dataframe_problems_point_at_index_labels():
    df = pd.DataFrame(
        {"rep_id": ["a", "b"], "period": ["2024Q1", "2024Q1"], "revenue": [1.0, np.nan]},
        index=[10, 20],
    )
    with pytest.raises(DataValidationError, match="at index 20"):
        load_history(df)


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        load_history(tmp_path / "nope.csv")
    (tmp_path / "h.xlsx").write_bytes(b"PK")
    with pytest.raises(DataValidationError, match="unsupported file type '.xlsx'"):
        load_history(tmp_path / "h.xlsx")


def test_error_lists_at_most_five_rows_then_counts(write_csv):
    rows = "\n".join(f"a,{2000 + i}Q1,-1" for i in range(12))
    with pytest.raises(DataValidationError) as e:
        load_history(write_csv("h.csv", "rep_id,period,revenue\n" + rows))
    assert "line 6 and 7 more" in problems(e)
    assert e.value.problems[0].n_rows == 12
    assert e.value.to_dict()[0]["columns"] == ["revenue"]


def test_bookings_to_history_sums_deals_by_month():
    deals = pd.DataFrame(
        {
            "owner": ["a", "a", "a", None, "b"],
            "closed": ["2024-01-03", "2024-01-20", "2024-04-01", "2024-01-01", "2024-02-02"],
            "acv": [1.0, 2.0, 4.0, 100.0, 8.0],
        }
    )
    monthly = bookings_to_history(deals, rep="owner", date="closed", amount="acv")
    history, _ = load_history(monthly)
    assert history.to_dict("list") == {
        "rep_id": ["a", "a", "b"],
        "period": ["2024Q1", "2024Q2", "2024Q1"],
        "revenue": [3.0, 4.0, 8.0],
    }


def test_bookings_with_bad_amounts_are_refused():
    deals = pd.DataFrame(
        {"rep_id": ["a", "a"], "date": ["2024-01-03", "2024-01-04"], "amount": ["5", "n/a"]}
    )
    with pytest.raises(DataValidationError, match="blank or unreadable amount"):
        bookings_to_history(deals)

import numpy as np
import pandas as pd
import pytest

from datasets import DataValidationError, bookings_to_history, load_company, load_history
from datasets.history import read_bookings


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


def test_monthly_rows_roll_up_to_quarters_and_partial_quarters_are_completed(write_csv):
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
    # 2024Q2 has April only: the shape learned from 2024Q1 (8/13, 2/13, 3/13 across the
    # company) says April holds 8/13 of a quarter, so the quarter is completed as 10 / (8/13).
    assert history.to_dict("list") == {
        "rep_id": ["a", "a", "b"],
        "period": ["2024Q1", "2024Q2", "2024Q1"],
        "revenue": [6.0, pytest.approx(10 * 13 / 8), 7.0],
    }
    (note,) = notes
    assert note.startswith("quarter 2024Q2 has data for 1 of its 3 months (2024-04): completed")
    assert "learned from 1 complete quarter" in note and "--partial-quarters drop" in note


def test_a_partial_quarter_can_be_left_out_and_the_default_shape_is_used_without_full_ones():
    h = pd.DataFrame(
        {"rep_id": ["a"] * 5, "period": ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]}
    ).assign(revenue=[15.0, 25.0, 60.0, 15.0, 25.0])
    dropped, notes = load_history(h, partial_quarters="drop")
    assert dropped["period"].tolist() == ["2024Q1"]
    assert "left out" in notes[0] and "2024-04, 2024-05" in notes[0]
    # Only partial quarters: completed from the usual 15/25/60 shape, and said so.
    only, notes = load_history(h.iloc[3:])
    assert only["revenue"].tolist() == [pytest.approx(40.0 / 0.40)]
    assert "the usual 15/25/60 shape" in notes[0]
    with pytest.raises(ValueError, match="partial_quarters"):
        load_history(h, partial_quarters="guess")


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


@pytest.mark.parametrize(
    "text, named, count",
    [
        pytest.param(
            "rep_id,period\na,2024Q1",
            [
                "'revenue': required column is missing",
                "columns found: 'rep_id', 'period'",
                "Add a 'revenue' column",
            ],
            1,
            id="missing-column",
        ),
        pytest.param(
            """
            rep_id,period,revenue
            a,2024Q1,12
            a,2024Q2,lots
            a,2024Q3,
            a,2024Q4,-5
            b,2024Q1,inf
            b,2024Q2,NaN
            """,
            [
                "not a number ('lots') at line 3",
                "blank or NaN revenue at line 4, line 7",
                "negative revenue (-5) at line 5",
                "infinite revenue at line 6",
            ],
            4,
            id="bad-revenue-values",
        ),
        pytest.param(
            """
            rep_id,period,revenue
            a,2024Q1,1
            a,2024-Q1,2
            b,2024Q1,2
            """,
            [
                "more than one row for the same rep and period",
                "line 2, line 3",
                "bookings_to_history",
            ],
            1,
            id="duplicate-rep-period",
        ),
        pytest.param(
            "rep_id,period,revenue\na,2024Q1,1\na,spring,2\na,,3",
            [
                "unreadable period ('spring', '<blank>') at line 3, line 4",
                "2024Q3",  # the accepted forms are listed
            ],
            1,
            id="unreadable-periods",
        ),
    ],
)
def test_an_unusable_history_names_each_problem(write_csv, text, named, count):
    path = write_csv("h.csv", text)
    with pytest.raises(DataValidationError) as e:
        load_history(path)
    msg = problems(e)
    for words in named:
        assert words in msg
    assert len(e.value.problems) == count


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


def test_duplicate_months_in_monthly_input(write_csv):
    path = write_csv("h.csv", "rep_id,period,revenue\na,2024-01,1\na,Jan 2024,2")
    with pytest.raises(DataValidationError, match="same rep and month"):
        load_history(path)


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
    (tmp_path / "h.json").write_text("{}")
    with pytest.raises(DataValidationError, match="unsupported file type '.json'"):
        load_history(tmp_path / "h.json")
    (tmp_path / "h.xlsx").write_bytes(b"PK")  # an .xlsx by its name, not by its content
    with pytest.raises(DataValidationError, match="cannot be read as an Excel workbook"):
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
    assert monthly.to_dict("list") == {
        "rep_id": ["a", "a", "b"],
        "period": ["2024-01", "2024-04", "2024-02"],
        "revenue": [3.0, 4.0, 8.0],
    }
    history, _ = load_history(monthly, partial_quarters="drop")  # March, May, June: no data
    assert history.to_dict("list") == {"rep_id": [], "period": [], "revenue": []}


def test_bookings_filter_keeps_won_deals_before_checking_and_names_file_lines(write_csv):
    deals = write_csv(
        "pipeline.csv",
        """
        opportunity_id,sales_agent,deal_stage,engage_date,close_date,close_value
        1,Ana,Won,2024-01-02,2024-02-01,"1,000"
        2,Ana,Engaging,2024-01-05,,
        3,Ben,Lost,2024-01-03,2024-03-01,0
        4,Ben,won,2024-01-09,2024-03-15,500
        5,Ana,Prospecting,2024-02-01,,
        6,,Won,2024-02-01,2024-03-02,99
        """,
    )
    kept = read_bookings(
        deals, rep="sales_agent", date="close_date", amount="close_value", where=["deal_stage=Won"]
    )
    assert kept.history.to_dict("list") == {
        "rep_id": ["Ana", "Ben"],
        "period": ["2024-02", "2024-03"],
        "revenue": [1000.0, 500.0],
    }
    assert (kept.deals, kept.kept, kept.summed) == (6, 3, 2)
    assert any("kept the deals with deal_stage 'Won'" in n for n in kept.notes)
    assert any("1 deal(s) with no sales_agent" in n for n in kept.notes)
    # Without the filter the open deals' blank dates are named by their file lines (3 and 6),
    # with the fix; dropping values works too.
    with pytest.raises(DataValidationError) as exc:
        read_bookings(deals, rep="sales_agent", date="close_date", amount="close_value")
    msg = str(exc.value)
    assert "blank date at line 3, line 6." in msg and "--where deal_stage=Won" in msg
    lost = read_bookings(
        deals,
        rep="sales_agent",
        date="close_date",
        amount="close_value",
        where=["deal_stage!=Engaging,Prospecting", "sales_agent=Ben"],
    )
    assert lost.history["revenue"].tolist() == [500.0]  # Ben's lost deal booked 0 in March too


def test_bookings_filter_errors_name_the_column_and_the_values_found(write_csv):
    deals = write_csv("d.csv", "rep,stage,date,amount\na,Won,2024-01-01,5\nb,Lost,2024-01-02,7")
    with pytest.raises(DataValidationError, match="no row has stage 'Closed Won'.*'Won', 'Lost'"):
        read_bookings(deals, rep="rep", where=["stage=Closed Won"])
    with pytest.raises(DataValidationError, match="'status'.*not found"):
        read_bookings(deals, rep="rep", where=["status=Won"])
    with pytest.raises(ValueError, match="COLUMN=VALUE"):
        read_bookings(deals, rep="rep", where=["stage"])
    bad = write_csv("e.csv", "rep,stage,date,amount\na,Won,2024-01-01,5\nb,Won,someday,7")
    with pytest.raises(DataValidationError, match=r"unreadable date \('someday'\) at line 3\."):
        read_bookings(bad, rep="rep", where=["stage=Won"])


def test_a_last_deal_early_in_its_month_is_noted():
    deals = pd.DataFrame(
        {"rep_id": ["a", "a"], "date": ["2024-01-03", "2024-02-06"], "amount": [1, 2]}
    )
    (note,) = read_bookings(deals).notes
    assert (
        "the last deal is dated 2024-02-06" in note and "2024-02 may be only partly there" in note
    )


def test_bookings_with_bad_amounts_are_refused():
    deals = pd.DataFrame(
        {"rep_id": ["a", "a"], "date": ["2024-01-03", "2024-01-04"], "amount": ["5", "n/a"]}
    )
    with pytest.raises(DataValidationError, match="blank or unreadable amount"):
        bookings_to_history(deals)


def test_dropping_every_partial_quarter_leaves_a_named_problem_not_a_crash():
    """Monthly rows that never fill a quarter, with partial quarters dropped: nothing is left,
    and the error says so and how to keep them (schemathesis found a 500 here)."""
    months = pd.DataFrame({"rep_id": ["a", "b"], "period": ["1983-08", "2016-11"], "revenue": 1.0})
    roster = pd.DataFrame({"rep_id": ["a"], "team": ["T"], "region": ["R"]})
    with pytest.raises(DataValidationError, match="no complete quarter") as e:
        load_company(months, roster, fiscal_year_start=10, partial_quarters="drop")
    assert "--partial-quarters complete" in str(e.value)
    assert len(load_company(months, roster, fiscal_year_start=10).history) == 2  # completed


def test_deal_dates_written_as_numbers_are_read_as_their_digits():
    deals = pd.DataFrame({"rep_id": ["a", "a"], "date": [20240105, 20240220], "amount": [1, 2]})
    booked = read_bookings(deals)
    assert booked.history["period"].tolist() == ["2024-01", "2024-02"]
    assert booked.history["revenue"].tolist() == [1.0, 2.0]

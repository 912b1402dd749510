"""Reading the bookings so far (``datasets.actuals``): amounts as spreadsheets write them, months,
closed quarters and dated rows, and errors that name the file's lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from datasets import DataValidationError
from datasets.actuals import read_actuals
from datasets.tables import read_table

YEAR = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-12-31"))


def test_amounts_ids_months_quarters_and_dates_are_read(tmp_path):
    path = tmp_path / "bookings.csv"
    path.write_text(
        "Rep ID,Period,Date,Revenue\n"
        ' 007 ,2026-02,,"$1,200"\n'
        "007,2026Q1,,USD 300\n"
        "r1,,2026-04-17,1 500.50\n"
        "r1,2026-05,2026-04-20,0\n"  # a date wins over the period
    )
    a = read_actuals(path, plan_reps=["007", "r1"], plan_year=YEAR)
    assert a.rows["rep_id"].tolist() == ["007", "007", "r1", "r1"]
    assert a.rows["revenue"].tolist() == [1200.0, 300.0, 1500.5, 0.0]
    assert a.rows["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-02-28",  # a month's total: its last day
        "2026-03-31",  # a quarter's total: its last day
        "2026-04-17",
        "2026-04-20",
    ]
    assert a.quarterly.tolist() == [False, True, False, False]
    assert a.last == pd.Timestamp("2026-04-20") and a.table.name == "bookings.csv"


def test_a_file_and_its_table_read_the_same():
    frame = pd.DataFrame({"rep_id": ["a"], "period": ["2026-07"], "revenue": ["$1,200.00"]})
    a = read_actuals(frame, fiscal_year_start=7)  # July starts the fiscal year: 2027Q1
    assert a.rows["revenue"].tolist() == [1200.0] and a.table.name == "actuals"
    assert a.rows["date"].tolist() == [pd.Timestamp("2026-07-31")]


def test_every_problem_is_named_at_once_with_the_files_lines(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(
        "rep_id,period,revenue\n"
        "r0,2026-01,twelve\n"  # line 2
        "r0,2026-01,-5\n"  # line 3
        "r0,2026-01,inf\n"  # line 4
        ",2026-01,1\n"  # line 5
        "zz,2026-01,1\n"  # line 6
        "r0,spring,1\n"  # line 7
        "r0,2027-01,1\n"  # line 8
    )
    with pytest.raises(DataValidationError) as e:
        read_actuals(read_table(path, path.name), plan_reps=["r0"], plan_year=YEAR)
    found = {p.what: p.rows for p in e.value.problems}
    assert found["revenue must be a number >= 0"] == ("line 2", "line 3", "line 4")
    assert found["blank rep id"] == ("line 5",)
    assert "reps not in the plan: zz" in found
    assert found[next(w for w in found if w.startswith("unreadable period"))] == ("line 7",)
    assert found[next(w for w in found if w.startswith("bookings outside"))] == ("line 8",)


def test_missing_columns_are_named():
    with pytest.raises(DataValidationError, match=r"missing column\(s\): revenue, period"):
        read_actuals(pd.DataFrame({"rep_id": ["r0"]}))


def test_no_rows_read_as_no_bookings():
    a = read_actuals(pd.DataFrame({"rep_id": [], "period": [], "revenue": []}))
    assert a.rows.empty and pd.isna(a.last) and not np.any(a.quarterly)

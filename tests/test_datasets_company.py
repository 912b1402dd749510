import pandas as pd
import pytest

from datasets import DataValidationError, load_company, summarise
from datasets.company import company_notes, require_years, summarise_history, summarise_roster
from datasets.history import validate_history
from datasets.roster import validate_roster
from datasets.tables import read_table


@pytest.fixture
def files(write_csv):
    history = write_csv(
        "history.csv",
        """
        rep_id,period,revenue
        a,2024Q1,100
        a,2024Q2,200
        a,2025Q1,300
        gone,2024Q1,50
        """,
    )
    roster = write_csv(
        "roster.csv",
        """
        rep_id,team,hire_date
        a,T1,2020-01-01
        new,T2,2026-02-01
        """,
    )
    return history, roster


def test_leavers_and_new_hires_are_reported_not_errors(files):
    company = load_company(*files)
    assert company.leavers == ["gone"]
    assert company.new_hires == ["new"]
    assert "gone" in set(company.history["rep_id"])  # leavers' history is kept
    assert any("leavers" in n for n in company.notes)
    assert any("new hires" in n for n in company.notes)
    assert company.periods == ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]


def test_inactive_roster_reps_count_as_leavers(write_csv):
    h = write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,1\nb,2024Q1,1")
    r = write_csv("r.csv", "rep_id,active\na,true\nb,false")
    assert load_company(h, r).leavers == ["b"]


def test_hire_date_after_data_ends_and_beyond_plan_year(write_csv):
    h = write_csv("h.csv", "rep_id,period,revenue\na,2025Q4,1")
    r = write_csv("r.csv", "rep_id,hire_date\na,2020-01-01\nplanned,2026-06-01\ntypo,2206-01-01")
    with pytest.raises(DataValidationError) as e:
        load_company(h, r)
    msg = str(e.value)
    assert "hire date after the data ends (2025Q4, 2025-12-31)" in msg
    assert "typo (2206-01-01)" in msg
    assert "planned" not in msg  # a hire in the plan year is a planned hire, not an error


def test_problems_in_both_tables_come_together(write_csv):
    h = write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,-1")
    r = write_csv("r.csv", "rep_id\na\na")
    with pytest.raises(DataValidationError) as e:
        load_company(h, r)
    assert {p.table for p in e.value.problems} == {"h.csv", "r.csv"}


def test_revenue_before_hire_is_noted(write_csv):
    h = write_csv("h.csv", "rep_id,period,revenue\na,2023Q1,5\na,2024Q1,5")
    r = write_csv("r.csv", "rep_id,hire_date\na,2023-12-01")
    assert any("before their hire date" in n for n in load_company(h, r).notes)


def test_fiscal_calendar_applies_to_monthly_history_and_hire_horizon(write_csv):
    h = write_csv("h.csv", "rep_id,period,revenue\na,2025-03,1\na,2025-04,0\na,2025-05,2")
    r = write_csv("r.csv", "rep_id\na")
    company = load_company(h, r, fiscal_year_start=6)  # June-May fiscal years
    assert company.history["period"].tolist() == ["2025Q4"]  # March-May 2025
    assert company.history["revenue"].tolist() == [3.0]


def test_summary_figures(files):
    s = summarise(load_company(*files))
    assert s["reps_in_history"] == 2 and s["reps_on_roster"] == 2
    assert s["new_hires"] == 1 and s["leavers"] == 1
    assert (s["first_period"], s["last_period"], s["n_periods"]) == ("2024Q1", "2025Q1", 3)
    assert s["total_revenue"] == 650.0
    assert s["revenue_by_year"] == [
        {"year": 2024, "quarters": 2, "reps": 2, "revenue": 350.0},
        {"year": 2025, "quarters": 1, "reps": 1, "revenue": 300.0},
    ]
    teams = {t["team"]: t for t in s["teams"]}
    assert teams["T1"] == {"team": "T1", "active_reps": 1, "revenue_2025": 300.0}
    assert teams["T2"]["active_reps"] == 1 and teams["T2"]["revenue_2025"] == 0.0


def test_a_history_or_a_roster_alone_has_the_summary_figures_it_holds(files):
    """What `quotaplan data check` prints for one table: the company's figures that table has."""
    history, roster = files
    h = summarise_history(*validate_history(read_table(history, "history")))
    assert h["reps_in_history"] == 2 and h["rows"] == 4 and h["n_periods"] == 3
    assert (h["first_period"], h["last_period"]) == ("2024Q1", "2025Q1")
    assert h["total_revenue"] == 650 and h["complete_years"] == []
    assert h["warnings"][0].startswith("short history: no complete year")
    r = summarise_roster(*validate_roster(read_table(roster, "roster")))
    assert r["reps_on_roster"] == 2 and r["inactive_on_roster"] == 0
    assert r["teams"] == [{"team": "T1", "active_reps": 1}, {"team": "T2", "active_reps": 1}]
    both = summarise(load_company(history, roster))
    assert {k: both[k] for k in ("reps_in_history", "rows", "total_revenue")} == {
        k: h[k] for k in ("reps_in_history", "rows", "total_revenue")
    }


def test_inputs_are_not_mutated():
    history = pd.DataFrame({"Rep ID": ["a"], "period": ["2024-01"], "revenue": ["1,000"]})
    roster = pd.DataFrame({"rep_id": ["a"]})
    before = history.copy()
    load_company(history, roster)
    pd.testing.assert_frame_equal(history, before)


def _quarters(first_year: int, n: int) -> list[str]:
    return [f"{first_year + q // 4}Q{q % 4 + 1}" for q in range(n)]


def test_the_plan_year_follows_the_last_complete_year_and_says_why():
    roster = pd.DataFrame({"rep_id": ["a"]})
    full = load_company(
        pd.DataFrame({"rep_id": "a", "period": _quarters(2023, 12), "revenue": 1.0}), roster
    )
    assert full.complete_years == [2023, 2024, 2025]
    assert full.plan_year() == (
        2026,
        "2026 is the year after the last complete year of the history (2025)",
    )
    assert full.warnings == ()
    # Data up to mid-2025: the plan year is 2025, whose rest is still to come.
    half = load_company(
        pd.DataFrame({"rep_id": "a", "period": _quarters(2023, 10), "revenue": 1.0}), roster
    )
    year, why = half.plan_year()
    assert year == 2025 and "already holds 2025 up to 2025Q2" in why


def test_short_history_and_reps_with_no_start_are_warned_about():
    history = pd.DataFrame({"rep_id": "a", "period": _quarters(2025, 6), "revenue": 1.0})
    roster = pd.DataFrame(
        {"rep_id": ["a", "new", "dated"], "hire_date": [None, None, "2026-03-01"]}
    )
    company = load_company(history, roster)
    short, unknown = company.warnings
    assert short.startswith("short history: 1 complete year(s) (2025), 6 quarter(s) in all")
    assert "widened" in short and "a backtest needs 3 complete years" in short
    assert unknown.startswith("1 roster rep(s) have no history and no hire date: new.")
    assert "planned at zero" in unknown and "give their hire_date" in unknown
    assert company.unknown_start == ["new"]
    # The notes list only the hires with a date among those planned from it.
    (hires,) = [n for n in company_notes(company) if "no history yet" in n]
    assert hires.startswith("1 roster rep(s)") and hires.endswith(": dated")
    assert summarise(company)["warnings"] == list(company.warnings)
    with pytest.raises(
        DataValidationError,
        match="too short for a backtest: a backtest needs 3 complete years; the history \\(2025Q1..2026Q2\\) holds 1 \\(2025\\)",
    ):
        require_years(company, 3, "a backtest")

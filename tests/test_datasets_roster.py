import pandas as pd
import pytest

from datasets import DataValidationError, load_roster


def test_defaults_fill_optional_columns(write_csv):
    roster, notes = load_roster(write_csv("r.csv", "rep_id\nb\na"))
    assert roster["rep_id"].tolist() == ["a", "b"]
    row = roster.iloc[0]
    assert row["team"] == "unassigned" and row["region"] == "unassigned"
    assert row["fte"] == 1.0 and bool(row["active"]) is True
    assert pd.isna(row["hire_date"]) and pd.isna(row["last_year_quota"]) and pd.isna(row["ote"])
    assert notes == []


def test_full_roster_with_per_quarter_capacity(write_csv):
    path = write_csv(
        "r.csv",
        """
        rep_id,team,region,hire_date,fte,last_year_quota,ote,manager_id,active,FTE 2026Q2,notes
        a,T1,EU,2023-02-01,1,"1,000,000",200000,m1,yes,0.5,likes golf
        b,T1,EU,2025-11-15,0.8,,,m1,no,,
        """,
    )
    roster, notes = load_roster(path)
    assert roster["fte_2026Q2"].tolist()[0] == 0.5 and pd.isna(roster["fte_2026Q2"].tolist()[1])
    assert roster["last_year_quota"].tolist()[0] == 1_000_000
    assert roster["active"].tolist() == [True, False]
    assert roster["hire_date"].tolist()[1] == pd.Timestamp("2025-11-15")
    assert any("ignored column(s) 'notes'" in n for n in notes)


@pytest.mark.parametrize("value, hint", [("1.2", ""), ("-0.1", ""), ("80", "80% -> 0.8")])
def test_fte_outside_zero_one(write_csv, value, hint):
    with pytest.raises(DataValidationError) as e:
        load_roster(write_csv("r.csv", f"rep_id,fte\na,{value}"))
    assert "fte outside 0..1" in str(e.value)
    assert hint in str(e.value)


@pytest.mark.parametrize(
    "text, named",
    [
        pytest.param(
            "rep_id,team\na,T\nb,T\na,U\n,T",
            ["duplicate rep id ('a') at line 2, line 4", "blank rep id at line 5"],
            id="duplicate-and-blank-rep-ids",
        ),
        pytest.param(
            "rep_id,fte_2026Q1,fte_summer\na,2,1",
            ["'fte_2026q1': fte outside 0..1", "names no quarter ('summer')"],
            id="per-quarter-fte-outside-range-and-bad-name",
        ),
        pytest.param(
            "rep_id,hire_date,ote,last_year_quota,active\na,yesterday,0,-5,maybe",
            [
                "'hire_date': unreadable date ('yesterday')",
                "'ote': must be > 0",
                "'last_year_quota': must be >= 0",
                "'active': not true/false ('maybe')",
            ],
            id="bad-dates-numbers-and-flags",
        ),
    ],
)
def test_an_unusable_roster_names_each_problem(write_csv, text, named):
    with pytest.raises(DataValidationError) as e:
        load_roster(write_csv("r.csv", text))
    msg = str(e.value)
    for words in named:
        assert words in msg
    assert len(e.value.problems) == len(named)


def test_misspelled_optional_column_is_not_silently_dropped(write_csv):
    with pytest.raises(DataValidationError, match="Rename the column 'hire_dat' to 'hire_date'"):
        load_roster(write_csv("r.csv", "rep_id,hire_dat\na,2024-01-01"))


def test_empty_roster(write_csv):
    with pytest.raises(DataValidationError, match="roster.*has no rows|r.csv: has no rows"):
        load_roster(write_csv("r.csv", "rep_id,team"))


@pytest.mark.parametrize("date", ["0001-03-01", "9999-12-31", "1850-07-01", "2300-01-01"])
def test_a_date_outside_the_years_a_roster_holds_is_named_not_a_crash(date):
    """Year 1 or 9999 is beyond what pandas holds (schemathesis found a 500 on year 1)."""
    roster = pd.DataFrame({"rep_id": ["a"], "team": ["T"], "region": ["R"], "hire_date": [date]})
    with pytest.raises(DataValidationError, match=f"unreadable date \\('{date}'\\)") as e:
        load_roster(roster)
    assert "years 1900 to 2262" in str(e.value)


@pytest.mark.parametrize(
    "dates", [[20240301, 20230615], [20240301.0, None], ["2024-03-01", 20230615]]
)
def test_dates_written_as_numbers_are_read_as_their_digits(dates):
    """20240301 in a frame (or a spreadsheet's 20240301.0) is 2024-03-01, not 20 ms after 1970
    (pandas' reading of an integer), which silently made every such hire a veteran."""
    roster, _ = load_roster(pd.DataFrame({"rep_id": ["a", "b"], "hire_date": dates}))
    assert roster["hire_date"].iloc[0] == pd.Timestamp("2024-03-01")
    second = roster["hire_date"].iloc[1]
    assert second == pd.Timestamp("2023-06-15") if dates[1] else pd.isna(second)


def test_a_team_with_reps_in_several_regions_is_noted():
    roster = pd.DataFrame(
        {
            "rep_id": ["a", "b", "c", "d", "e"],
            "team": ["Mgmt", "Mgmt", "Mgmt", "T2", None],  # e: no team, not counted
            "region": ["EU", "US", "EU", "EU", "US"],
        }
    )
    _, notes = load_roster(roster)
    assert notes == [
        "roster: team 'Mgmt' has reps in 2 regions (EU, US): a target on the team does not nest "
        "in its regions' targets, so a plan with both is solved by the general model (slower on "
        "large plans)"
    ]
    one_region = roster.assign(region=["EU", None, "EU", "EU", "US"])  # a blank region: not one
    assert load_roster(one_region)[1] == []

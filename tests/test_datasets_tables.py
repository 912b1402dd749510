"""Spreadsheets in: history, roster, forecast and bookings as Excel workbooks (.xlsx) or Parquet,
read by the one reader (``datasets.tables.read_table``) that the command line and the API's
uploads share: told apart by their content, every cell read as the data it holds, problems
naming the sheet and its rows, damaged workbooks refused in words."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import openpyxl
import pandas as pd
import pytest
from builders import history, problem, tables
from click.testing import CliRunner

from api.app import create_app
from api.cli import main
from datasets import DataValidationError, load_history
from datasets.bundled import HISTORY_CSV, ROSTER_CSV
from datasets.roster import load_roster
from datasets.tables import read_table


def workbook(sheets: dict[str, list[list]], path=None, formats: dict | None = None) -> bytes:
    """An .xlsx of ``sheets`` (title -> rows of cell values, typed as given); ``formats``:
    (sheet, column letter) -> a number format for that column."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
        for row in ws.iter_rows():
            for cell in row:  # text is text: "=1+1" typed as text, not a formula
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        for (name, col), fmt in (formats or {}).items():
            if name == title:
                for cell in ws[col]:
                    cell.number_format = fmt
    buf = io.BytesIO()
    book.save(buf)
    if path is not None:
        path.write_bytes(buf.getvalue())
    return buf.getvalue()


ROSTER_ROWS = [
    ["Rep ID", "Team", "Region", "Hire Date", "FTE", "Last Year Quota", "Active"],
    ["007", "A", "EU", dt.datetime(2021, 3, 1), 1, 400000, True],  # id typed as text
    [8, "A", "EU", dt.date(2024, 7, 15), 0.5, 250000.0, True],  # id typed as a number
    ["R9", "=1+1", "EU", None, 1, None, False],  # a team that looks like a formula: text
]


def test_a_roster_workbook_reads_as_its_csv_export_does(tmp_path):
    workbook({"Roster": ROSTER_ROWS}, tmp_path / "roster.xlsx",
             formats={("Roster", "F"): '"$"#,##0', ("Roster", "E"): "0%"})  # fmt: skip
    (tmp_path / "roster.csv").write_text(
        "Rep ID,Team,Region,Hire Date,FTE,Last Year Quota,Active\n"
        "007,A,EU,2021-03-01,1,400000,true\n"
        "8,A,EU,2024-07-15,0.5,250000,true\n"
        "R9,=1+1,EU,,1,,false\n"
    )
    from_xlsx = read_table(tmp_path / "roster.xlsx", "roster")
    from_csv = read_table(tmp_path / "roster.csv", "roster")
    pd.testing.assert_frame_equal(from_xlsx.frame, from_csv.frame)
    assert from_xlsx.name == "roster.xlsx (sheet 'Roster')"
    roster, _ = load_roster(tmp_path / "roster.xlsx")
    by_id = roster.set_index("rep_id")
    assert list(by_id.index) == ["007", "8", "R9"]  # ids stay text: 007 keeps its zeros
    assert by_id.loc["8", "fte"] == 0.5 and by_id.loc["8", "last_year_quota"] == 250_000
    assert by_id.loc["R9", "team"] == "=1+1" and not by_id.loc["R9", "active"]
    assert pd.Timestamp(by_id.loc["8", "hire_date"]) == pd.Timestamp("2024-07-15")


def test_a_history_workbook_with_months_as_dates_and_numbers_as_numbers(tmp_path):
    rows = [["rep_id", "period", "revenue"]]
    for m in range(1, 13):
        rows.append(["R1", dt.datetime(2025, m, 1), 1000.5 * m])  # months typed as dates
    workbook({"Sheet1": rows}, tmp_path / "h.xlsx")
    quarters = load_history(tmp_path / "h.xlsx")[0].set_index("period")["revenue"]
    assert quarters["2025Q1"] == pytest.approx(1000.5 * (1 + 2 + 3))
    assert quarters["2025Q4"] == pytest.approx(1000.5 * (10 + 11 + 12))


def test_problems_name_the_sheet_and_its_rows(tmp_path):
    rows = [
        [None],  # a title row left empty: the header is the sheet's row 2
        ["rep_id", "period", "revenue"],
        ["R1", "2025Q1", 100],
        [None, None, None],  # an empty row is skipped, rows keep their numbers
        ["R1", "2025Q2", "lots"],
        ["R1", "2025Q3", -5],
    ]
    workbook({"Notes": [["read me"]], "History": rows}, tmp_path / "h.xlsx")
    with pytest.raises(DataValidationError) as e:
        load_history(tmp_path / "h.xlsx")
    text = str(e.value)
    assert "h.xlsx (sheet 'History') column 'revenue'" in text  # the sheet named like the table
    assert "'lots'" in text and "at row 5" in text and "at row 6" in text


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "cannot be read as an Excel workbook"),
        (b"PK", "cannot be read as an Excel workbook"),
        (None, "cannot be read as an Excel workbook"),  # a zip, but no workbook in it
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97-2003 (.xls)"),
    ],
)
def test_a_damaged_workbook_is_refused_in_words(tmp_path, content, words):
    if content is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("notes.txt", "not a workbook")
        content = buf.getvalue()
    (tmp_path / "roster.xlsx").write_bytes(content)
    with pytest.raises(DataValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_roster(tmp_path / "roster.xlsx")


def test_a_workbook_that_unzips_too_far_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import datasets.tables

    workbook({"Roster": ROSTER_ROWS}, tmp_path / "roster.xlsx")
    monkeypatch.setattr(datasets.tables, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(DataValidationError, match="unzips to"):
        load_roster(tmp_path / "roster.xlsx")


def test_the_content_decides_not_the_name(tmp_path):
    workbook({"Roster": ROSTER_ROWS}, tmp_path / "roster.csv")  # an .xlsx named .csv
    assert list(load_roster(tmp_path / "roster.csv")[0]["rep_id"]) == ["007", "8", "R9"]
    pd.read_csv(ROSTER_CSV).to_parquet(tmp_path / "roster.txt")  # Parquet named .txt
    assert len(load_roster(tmp_path / "roster.txt")[0]) == len(pd.read_csv(ROSTER_CSV))


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path):
    return create_app({"DATABASE": str(tmp_path / "q.db")}).test_client()


def as_xlsx(rows: list[dict], title: str) -> bytes:
    frame = pd.DataFrame(rows)
    return workbook({title: [list(frame.columns), *frame.itertuples(index=False)]})


def test_a_plan_from_workbooks_is_the_plan_from_csv_files(client):
    forecast, roster, total = tables()
    settings = json.dumps({"scenario": "x", "target": total})
    csv = client.post(
        "/v1/plans",
        data={
            "forecast": (io.BytesIO(pd.DataFrame(forecast).to_csv(index=False).encode()), "f.csv"),
            "roster": (io.BytesIO(pd.DataFrame(roster).to_csv(index=False).encode()), "r.csv"),
            "settings": settings,
        },
        content_type="multipart/form-data",
    )
    xlsx = client.post(
        "/v1/plans",
        data={
            # Named without a suffix: the content says what it is.
            "forecast": (io.BytesIO(as_xlsx(forecast, "Forecast")), "forecast"),
            "roster": (io.BytesIO(as_xlsx(roster, "Roster")), "roster.xlsx"),
            "settings": settings,
        },
        content_type="multipart/form-data",
    )
    assert csv.status_code == 201 and xlsx.status_code == 201, xlsx.get_data(as_text=True)
    a, b = csv.get_json(), xlsx.get_json()
    assert [q["quota"] for q in a["quotas"]] == pytest.approx([q["quota"] for q in b["quotas"]])


@pytest.mark.slow
def test_a_forecast_and_tracking_from_workbooks(client):
    rows, roster = history()
    made = {}
    for kind, pack in (("csv", lambda r, t: pd.DataFrame(r).to_csv(index=False).encode()),
                       ("xlsx", as_xlsx)):  # fmt: skip
        files = {
            "history": (io.BytesIO(pack(rows, "History")), f"h.{kind}"),
            "roster": (io.BytesIO(pack(roster, "Roster")), f"r.{kind}"),
            "year": "2026",
        }
        fc = client.post("/v1/forecasts", data=files, content_type="multipart/form-data")
        assert fc.status_code == 201, fc.get_data(as_text=True)
        made[kind] = fc.get_json()["rows"]
    assert made["xlsx"] == made["csv"]
    forecast, roster_rows, total = tables()
    plan = client.post("/v1/plans", json={"scenario": "t", "target": total, "forecast": forecast,
                                          "roster": roster_rows}).get_json()  # fmt: skip
    bookings = [["rep_id", "date", "revenue"]] + [
        [r["rep_id"], dt.datetime(2026, 2, 10), 20_000.0] for r in roster_rows
    ]
    snap = client.post(
        f"/v1/plans/{plan['id']}/progress",
        data={"actuals": (io.BytesIO(workbook({"Bookings": bookings})), "bookings.xlsx")},
        content_type="multipart/form-data",
    )
    assert snap.status_code == 201, snap.get_data(as_text=True)
    assert snap.get_json()["as_of"] == "2026-02-10"


def test_a_damaged_upload_is_a_422_naming_the_file_never_a_500(client):
    forecast, roster, total = tables()
    for content in (b"PK\x03\x04garbage-garbage", b"PK\x03\x04" + bytes(range(256)) * 20):
        resp = client.post(
            "/v1/plans",
            data={
                "forecast": (
                    io.BytesIO(pd.DataFrame(forecast).to_csv(index=False).encode()),
                    "f.csv",
                ),
                "roster": (io.BytesIO(content), "roster.xlsx"),
                "settings": json.dumps({"scenario": "x", "target": total}),
            },  # fmt: skip
            content_type="multipart/form-data",
        )
        body = problem(resp, 422)
        assert "roster.xlsx: cannot be read as an Excel workbook" in body["detail"]


def test_a_bad_cell_in_an_uploaded_sheet_names_its_row(client):
    forecast, roster, total = tables()
    forecast[5]["q50"] = 1e18  # above QUOTAPLAN_MAX_VALUE: refused by the request's schema
    resp = client.post(
        "/v1/plans",
        data={
            "forecast": (io.BytesIO(as_xlsx(forecast, "Forecast")), "f.xlsx"),
            "roster": (io.BytesIO(as_xlsx(roster, "Roster")), "r.xlsx"),
            "settings": json.dumps({"scenario": "x", "target": total}),
        },
        content_type="multipart/form-data",
    )
    body = problem(resp, 422)
    assert body["problems"][0]["table"] == "f.xlsx (sheet 'Forecast')"
    assert body["problems"][0]["rows"] == ["row 7"]  # the header is row 1, record 5 is row 7


# --- the command line ----------------------------------------------------------------------------


def test_the_command_line_reads_workbooks(tmp_path):
    history = pd.read_csv(HISTORY_CSV)
    roster = pd.read_csv(ROSTER_CSV, dtype=str, keep_default_na=False)
    workbook({"History": [list(history.columns), *history.values.tolist()]}, tmp_path / "h.xlsx")
    workbook({"Roster": [list(roster.columns), *roster.values.tolist()]}, tmp_path / "r.xlsx")
    result = CliRunner().invoke(main, ["data", "check", str(tmp_path / "h.xlsx"),
                                       str(tmp_path / "r.xlsx")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2022Q1..2025Q4 (16 quarters)" in result.output
    assert "OK" in result.output

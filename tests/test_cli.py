import json
import subprocess
import sys

from click.testing import CliRunner

from api.cli import main
from datasets.bundled import HISTORY_CSV, ROSTER_CSV


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_help_shows_a_worked_example():
    result = run("--help")
    assert result.exit_code == 0
    assert "Worked example" in result.output and "data check" in result.output


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "quotaplan" in out.stdout


def test_check_the_sample():
    result = run("data", "check", HISTORY_CSV, ROSTER_CSV)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "2022Q1..2025Q4 (16 quarters)" in result.output
    assert "new hire(s)" in result.output


def test_check_as_json():
    result = run("data", "check", "--json", ROSTER_CSV, HISTORY_CSV)
    summary = json.loads(result.output)
    assert summary["n_periods"] == 16 and summary["reps_on_roster"] > 30


def test_check_one_table(write_csv):
    result = run(
        "data", "check", write_csv("h.csv", "rep_id,period,revenue\na,2024-01,5\na,2024-02,5")
    )
    assert result.exit_code == 0
    assert "1 reps, 2024Q1..2024Q1" in result.output


def test_check_reports_problems_and_exits_1(write_csv):
    bad = write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,-3")
    result = run("data", "check", bad)
    assert result.exit_code == 1
    assert "negative revenue (-3) at line 2" in result.output


def test_check_refuses_unclear_files(write_csv):
    result = run("data", "check", write_csv("x.csv", "foo,bar\n1,2"))
    assert result.exit_code == 2
    assert "cannot tell whether" in result.output


def test_generate_then_check(tmp_path):
    result = run("data", "generate", "--reps", 30, "--years", 2, "--seed", 3, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"history.csv", "roster.csv", "truth.csv"}
    result = run("data", "check", tmp_path / "history.csv", tmp_path / "roster.csv")
    assert result.exit_code == 0, result.output


def test_schema_lists_columns():
    result = run("data", "schema")
    assert "| `revenue` | yes |" in result.output and "| `fte` | no |" in result.output


def test_convert_public_dataset(shared_data, tmp_path):
    result = run(
        "data", "convert", "adventureworks_oltp", "--data-dir", shared_data, "--out", tmp_path
    )
    assert result.exit_code == 0, result.output
    check = run(
        "data",
        "check",
        "--fiscal-year-start",
        12,
        tmp_path / "history.csv",
        tmp_path / "roster.csv",
    )
    assert check.exit_code == 0, check.output
    assert "17 active reps" in check.output


def test_convert_without_data_says_where_to_point(tmp_path):
    result = run(
        "data", "convert", "adventureworks_oltp", "--data-dir", tmp_path, "--out", tmp_path / "o"
    )
    assert result.exit_code == 1
    assert "QUOTAPLAN_SHARED_DATA" in result.output


def test_bookings_sums_deals_into_a_history_file(write_csv, tmp_path):
    deals = write_csv(
        "deals.csv",
        """
        Owner,Close Date,Amount
        ana,2025-01-03,"1,000"
        ana,2025-01-30,500
        ben,2025-02-01,10
        ,2025-02-01,99
        """,
    )
    out = tmp_path / "history.csv"
    result = run(
        "data",
        "bookings",
        deals,
        "--rep",
        "Owner",
        "--date",
        "Close Date",
        "--amount",
        "Amount",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == [
        "rep_id,period,revenue",
        "ana,2025-01,1500.0",
        "ben,2025-02,10.0",
    ]
    assert run("data", "check", out).exit_code == 0

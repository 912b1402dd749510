import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
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


def test_forecast_writes_the_table(tmp_path):
    out = tmp_path / "forecast.csv"
    result = run(
        "forecast", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--year", 2026, "--out", out
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["rep_id", "period", "q10", "q50", "q90"]
    assert table["period"].unique().tolist() == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert "Forecast 2026 for 46 active reps" in result.output
    assert "Ramp learned from past hires" in result.output


def test_forecast_with_a_baseline_and_custom_levels(tmp_path):
    out = tmp_path / "f.parquet"
    result = run(
        "forecast",
        "--history",
        HISTORY_CSV,
        "--roster",
        ROSTER_CSV,
        "--model",
        "seasonal-naive",
        "--quantiles",
        "0.05,0.5,0.95",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert list(pd.read_parquet(out).columns) == ["rep_id", "period", "q5", "q50", "q95"]


def test_forecast_backtest_prints_every_model():
    result = run("forecast", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--backtest")
    assert result.exit_code == 0, result.output
    for name in ("quantile-gbm", "seasonal-naive", "trailing-mean", "last-year-plus-growth"):
        assert name in result.output
    assert "P10-P90 coverage" in result.output and "WAPE" in result.output


def test_forecast_bad_input_and_bad_levels(write_csv):
    bad = write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,-3")
    result = run("forecast", "--history", bad, "--roster", ROSTER_CSV)
    assert result.exit_code == 1 and "negative revenue" in result.output
    result = run(
        "forecast", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--quantiles", "0.1,0.9"
    )
    assert result.exit_code == 1 and "must include 0.5" in result.output
    result = run("forecast", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--quantiles", "low")
    assert result.exit_code == 2 and "0.1,0.5,0.9" in result.output


def test_plan_from_history_writes_plan_and_summary(tmp_path):
    out = tmp_path / "plan.csv"
    result = run(
        "plan",
        "--history",
        HISTORY_CSV,
        "--roster",
        ROSTER_CSV,
        "--target",
        "80M",
        "--over-assignment",
        "5%",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert {
        "rep_id",
        "period",
        "quota",
        "stretch",
        "p_attain",
        "binding",
        "annual_quota",
        "rep_binding",
    } <= set(table.columns)
    assert table["quota"].sum() == pytest.approx(84e6, rel=1e-6)
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["solver_status"] == "optimal" and summary["reps_over_cap"] == 0
    assert "Plan (equal-stretch): company number 80.00M, over-assignment 5.0%" in result.output
    assert "bound by" in result.output


def test_plan_from_a_forecast_with_locks_and_a_policy(tmp_path):
    forecast = tmp_path / "f.csv"
    assert (
        run(
            "forecast", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--out", forecast
        ).exit_code
        == 0
    )
    result = run(
        "plan",
        "--forecast",
        forecast,
        "--roster",
        ROSTER_CSV,
        "--target",
        "70M",
        "--policy",
        "equal-probability",
        "--lock",
        "R00001=2M",
        "--lock",
        "R00003:2026Q1=300k",
        "--out",
        tmp_path / "p.csv",
    )
    assert result.exit_code == 0, result.output
    p = pd.read_csv(tmp_path / "p.csv")
    assert p.loc[p["rep_id"] == "R00001", "quota"].sum() == pytest.approx(2e6)
    assert p.loc[
        (p["rep_id"] == "R00003") & (p["period"] == "2026Q1"), "quota"
    ].item() == pytest.approx(3e5)


def test_plan_impossible_number_exits_3_with_the_diagnosis():
    result = run("plan", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--target", "500M")
    assert result.exit_code == 3
    assert "exceeds realistic capacity by" in result.output
    assert "the anti-ratchet limit (+25%) holds back" in result.output
    assert "lower the number to" in result.output


def test_plan_usage_errors():
    assert (
        run("plan", "--roster", ROSTER_CSV, "--target", "1M").exit_code == 2
    )  # neither --history nor --forecast
    result = run("plan", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--target", "lots")
    assert result.exit_code == 1 and "cannot read the amount" in result.output
    result = run(
        "plan",
        "--history",
        HISTORY_CSV,
        "--roster",
        ROSTER_CSV,
        "--target",
        "80M",
        "--lock",
        "oops",
    )
    assert result.exit_code == 2 and "REP=AMOUNT" in result.output


def test_output_folders_are_created(tmp_path):
    out = tmp_path / "new" / "deeper" / "forecast.csv"
    result = run(
        "forecast",
        "--history",
        HISTORY_CSV,
        "--roster",
        ROSTER_CSV,
        "--model",
        "trailing-mean",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert out.exists()


@pytest.fixture(scope="module")
def sample_forecast(tmp_path_factory):
    path = tmp_path_factory.mktemp("fc") / "forecast.csv"
    result = run("forecast", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--out", path)
    assert result.exit_code == 0, result.output
    return path


def test_plan_for_a_share_of_reps_attaining(sample_forecast, tmp_path):
    out = tmp_path / "p.csv"
    args = ["plan", "--forecast", sample_forecast, "--roster", ROSTER_CSV]
    result = run(*args, "--attainment", "65%", "--out", out)
    assert result.exit_code == 0, result.output
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["expected_share_attaining"] == pytest.approx(0.65, abs=1e-3)
    assert "Company number found for 65% of reps attaining" in result.output
    both = run(*args, "--attainment", "65%", "--target", "80M")
    assert both.exit_code == 2 and "either --target" in both.output
    far = run(*args, "--attainment", "99%")
    assert far.exit_code == 3 and "out of reach" in far.output


def test_replan_from_first_quarter_actuals(sample_forecast, tmp_path):
    f = pd.read_csv(sample_forecast)
    q1 = f[f["period"] == "2026Q1"]
    # Q1 came in at P50, except the rep forecast to sell most, who sold nothing.
    rep = q1.loc[q1["q50"].idxmax(), "rep_id"]
    actuals = q1.assign(revenue=q1["q50"].where(q1["rep_id"] != rep, 0.0))
    actuals[["rep_id", "period", "revenue"]].to_csv(tmp_path / "a.csv", index=False)
    out = tmp_path / "replan.csv"
    args = ["--forecast", sample_forecast, "--roster", ROSTER_CSV, "--target", "80M"]
    result = run(
        "replan", *args, "--actuals", tmp_path / "a.csv", "--at-risk-below", "40%", "--out", out
    )
    assert result.exit_code == 0, result.output
    p = pd.read_csv(out)
    assert p["quota"].sum() == pytest.approx(80e6, rel=1e-6)
    closed = p[p["period"] == "2026Q1"].set_index("rep_id")
    assert closed.loc[rep, "quota"] == 0 and (closed["binding"] == "actual").all()
    assert "Re-plan: closed 2026Q1" in result.output
    at_risk = result.output.split("Reps at risk")[1].split("Quarterly phasing")[0]
    assert "under a 40% chance" in at_risk and f"{rep} (" in at_risk and "): 0 sold of " in at_risk
    missing = actuals.iloc[1:][["rep_id", "period", "revenue"]]
    missing.to_csv(tmp_path / "b.csv", index=False)
    bad = run("replan", *args, "--actuals", tmp_path / "b.csv")
    assert bad.exit_code == 1 and "Add a row with revenue 0" in bad.output


def test_replan_of_a_company_ahead_of_plan_keeps_locks_and_says_the_floors_gave_way(
    sample_forecast, tmp_path
):
    """Q1 at twice the forecast: the re-plan is not refused for being ahead; the open floors
    give way and the output says so; a lock still holds; closed quarters are the actuals."""
    f = pd.read_csv(sample_forecast)
    q1 = f[f["period"] == "2026Q1"].assign(revenue=lambda d: 2 * d["q50"])
    q1[["rep_id", "period", "revenue"]].to_csv(tmp_path / "a.csv", index=False)
    rep = q1.loc[q1["q50"].idxmin(), "rep_id"]
    year = 4 * q1["q50"].max()
    out = tmp_path / "r.csv"
    result = run(
        "replan", "--forecast", sample_forecast, "--roster", ROSTER_CSV, "--target", "80M",
        "--lock", f"{rep}={year:.0f}", "--actuals", tmp_path / "a.csv", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ahead of plan" in result.output and "Limits that gave way" in result.output
    p = pd.read_csv(out)
    assert p["quota"].sum() == pytest.approx(80e6, rel=1e-6)
    assert p.loc[p["rep_id"] == rep, "quota"].sum() == pytest.approx(year, rel=1e-6)
    closed = p[p["period"] == "2026Q1"].set_index("rep_id")["quota"]
    sold = q1.set_index("rep_id")["revenue"]
    assert closed.to_numpy() == pytest.approx(sold.reindex(closed.index).to_numpy(), rel=1e-9)


def test_bench_writes_the_table_report_and_plots(tmp_path):
    out = tmp_path / "bench"
    result = run(
        "bench", "--companies", 1, "--fast", "--policies",
        "equal-stretch,equal-split,last-year-plus-growth", "--workers", 1, "--real-data", "none",
        "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = pd.read_csv(out / "metrics.csv")
    ceiling = "ceiling (true expected sales)"
    assert set(metrics["policy"]) == {
        "equal-stretch",
        "equal-split",
        "last-year-plus-growth",
        ceiling,
    }
    pd.testing.assert_frame_equal(pd.read_parquet(out / "metrics.parquet"), metrics)
    reps = pd.read_parquet(out / "reps.parquet")
    assert reps.groupby("policy")["quota"].sum().to_numpy() == pytest.approx(
        metrics["target"].iloc[0], rel=1e-6
    )
    report = (out / "report.md").read_text()
    assert "| reps over their cap |" in report and "The ceiling" in report
    assert "Command: `quotaplan bench --companies 1 --policies equal-stretch," in report
    assert "Real companies" not in report and (out / "attainment.png").exists()
    bad = run("bench", "--policies", "gut-feel", "--out", out)
    assert bad.exit_code != 0 and "unknown policy 'gut-feel'" in bad.output
    bad = run("bench", "--real-data", tmp_path / "nowhere", "--out", out)
    assert bad.exit_code != 0 and "is not a directory" in bad.output


def test_bench_runs_the_real_companies_it_finds(tmp_path, shared_data):
    # Only the release without sales: it is listed as not run, with the reason.
    root = tmp_path / "data"
    shutil.copytree(shared_data / "adventureworks_dw", root / "adventureworks_dw")
    out = tmp_path / "bench"
    result = run(
        "bench", "--companies", 1, "--fast", "--policies", "equal-stretch", "--workers", 1,
        "--real-data", root, "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert "## Real companies" in report
    assert "- Not run: adventureworks_dw: this release holds no sales history." in report
    assert "- Not run: adventureworks_oltp: " in report


def test_track_reports_pacing_flags_and_relief(sample_forecast, tmp_path):
    plan = tmp_path / "plan.csv"
    base = ["--forecast", sample_forecast, "--roster", ROSTER_CSV]
    made = run("plan", *base, "--target", "80M", "--out", plan)
    assert made.exit_code == 0, made.output
    f = pd.read_csv(sample_forecast).set_index(["rep_id", "period"])["q50"]
    # Jan-May on forecast (months 15/25/60 of a quarter), except R00001 who books nothing.
    rows = [
        {"rep_id": rep, "period": f"2026-{m:02d}", "revenue": f[(rep, f"2026Q{(m - 1) // 3 + 1}")]
         * (0.15, 0.25, 0.60)[(m - 1) % 3] * (rep != "R00001")}
        for rep in f.index.get_level_values(0).unique() for m in range(1, 6)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "b.csv", index=False)
    out = tmp_path / "progress.csv"
    result = run(
        "track", *base, "--plan", plan, "--actuals", tmp_path / "b.csv", "--relief", "--out", out
    )
    assert result.exit_code == 0, result.output
    assert "Tracking to 2026-05-31" in result.output and "now in 2026Q2" in result.output
    assert "R00001 (" in result.output and "out of reach: needs" in result.output
    assert "Relief: the company number 80.00M holds" in result.output
    reps = pd.read_csv(out).set_index("rep_id")
    assert reps.loc["R00001", "actual_to_date"] == 0 and reps.loc["R00001", "out_of_reach"]
    assert reps["flags"].notna().sum() == 1  # everyone else booked their forecast
    assert (tmp_path / "progress.teams.csv").exists() and (
        tmp_path / "progress.months.csv"
    ).exists()
    relief = pd.read_csv(tmp_path / "progress.relief.csv")
    assert relief["quota"].sum() == pytest.approx(80e6, rel=1e-6)
    bad = run("track", *base, "--plan", plan, "--actuals", HISTORY_CSV)
    assert bad.exit_code == 1 and "quarters are too coarse) at line 2, line 3" in bad.output


def test_the_readmes_command_line_help_is_up_to_date():
    from api.readme_help import README, refresh

    text = README.read_text()
    assert text == refresh(text), "regenerate: python -m api.readme_help"

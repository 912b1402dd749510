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


def on_sample(command, *args):
    """``quotaplan COMMAND`` on the bundled sample's history and roster, with ``args``."""
    return run(command, "--history", HISTORY_CSV, "--roster", ROSTER_CSV, *args)


def planned_sample(forecast, tmp_path):
    """The sample planned at 80M by ``quotaplan plan``: the plan's path, the plan inputs' flags,
    and the forecast's P50 by rep and quarter (what the tests book against)."""
    plan = tmp_path / "plan.csv"
    base = ["--forecast", forecast, "--roster", ROSTER_CSV]
    made = run("plan", *base, "--target", "80M", "--out", plan)
    assert made.exit_code == 0, made.output
    return plan, base, pd.read_csv(forecast).set_index(["rep_id", "period"])["q50"]


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
    assert {p.name for p in tmp_path.iterdir()} == {
        "history.csv",
        "roster.csv",
        "truth.csv",
        "targets.csv",
    }
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
    assert "from 3 of 4 deals" in result.output and "1 deal(s) with no owner" in result.output
    assert run("data", "check", out).exit_code == 0


def test_bookings_keeps_won_deals_and_names_the_file_lines(write_csv, tmp_path):
    deals = write_csv(
        "pipeline.csv",
        """
        sales_agent,deal_stage,close_date,close_value
        ana,Won,2025-01-03,100
        ana,Engaging,,
        ben,Won,2025-02-01,10
        ben,Prospecting,,
        ben,Lost,2025-02-11,0
        """,
    )
    out = tmp_path / "h.csv"
    args = ["data", "bookings", deals, "--rep", "sales_agent", "--date", "close_date"]
    args += ["--amount", "close_value", "--out", out]
    refused = run(*args)
    assert refused.exit_code == 1
    assert "blank date at line 3, line 5." in refused.output and "--where" in refused.output
    kept = run(*args, "--where", "deal_stage=Won")
    assert kept.exit_code == 0, kept.output
    assert "from 2 of 5 deals" in kept.output and "2 of 5 deals kept by the filter" in kept.output
    assert pd.read_csv(out)["revenue"].tolist() == [100.0, 10.0]
    bad = run(*args, "--where", "deal_stage")
    assert bad.exit_code == 2 and "COLUMN=VALUE" in bad.output


@pytest.mark.slow
def test_forecast_writes_the_table(tmp_path, forecast_columns):
    out = tmp_path / "forecast.csv"
    result = on_sample("forecast", "--year", 2026, "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == forecast_columns
    assert table["period"].unique().tolist() == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert "Forecast 2026 for 46 active reps" in result.output
    assert "Year: 2026, as asked (--year)" in result.output
    assert "Ramp learned from " in result.output and "past hires" in result.output


def test_forecast_with_a_baseline_and_custom_levels(tmp_path):
    out = tmp_path / "f.parquet"
    result = on_sample(
        "forecast", "--model", "seasonal-naive", "--quantiles", "0.05,0.5,0.95", "--out", out
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert list(table.columns)[:5] == ["rep_id", "period", "q5", "q50", "q95"]
    assert "Year: 2026 is the year after the last complete year of the history (2025)" in (
        result.output
    )


@pytest.mark.slow
def test_forecast_backtest_prints_every_model():
    result = on_sample("forecast", "--backtest")
    assert result.exit_code == 0, result.output
    for name in ("quantile-gbm", "seasonal-naive", "trailing-mean", "last-year-plus-growth"):
        assert name in result.output
    assert "P10-P90 coverage" in result.output and "WAPE" in result.output


def test_forecast_bad_input_and_bad_levels(write_csv):
    bad = write_csv("h.csv", "rep_id,period,revenue\na,2024Q1,-3")
    result = run("forecast", "--history", bad, "--roster", ROSTER_CSV)
    assert result.exit_code == 1 and "negative revenue" in result.output
    result = on_sample("forecast", "--quantiles", "0.1,0.9")
    assert result.exit_code == 1 and "must include 0.5" in result.output
    result = on_sample("forecast", "--quantiles", "low")
    assert result.exit_code == 2 and "0.1,0.5,0.9" in result.output


@pytest.mark.slow
def test_plan_from_history_writes_plan_and_summary(tmp_path):
    out = tmp_path / "plan.csv"
    result = on_sample("plan", "--target", "80M", "--over-assignment", "5%", "--out", out)
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


@pytest.mark.slow
def test_plan_from_a_forecast_with_locks_and_a_policy(tmp_path):
    forecast = tmp_path / "f.csv"
    assert on_sample("forecast", "--out", forecast).exit_code == 0
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


@pytest.mark.slow
def test_plan_impossible_number_exits_3_with_the_diagnosis():
    result = on_sample("plan", "--target", "500M")
    assert result.exit_code == 3
    assert "exceeds realistic capacity by" in result.output
    assert "the anti-ratchet limit (+25%) holds back" in result.output
    assert "lower the number to" in result.output


def test_plan_usage_errors(monkeypatch, write_csv):
    """Every setting is read before the history is: a usage error never waits for a forecast."""

    def no_forecast(*args, **kwargs):
        raise AssertionError("forecast before the settings were checked")

    monkeypatch.setattr("api.service.plans.forecast_tables", no_forecast)
    assert (
        run("plan", "--roster", ROSTER_CSV, "--target", "1M").exit_code == 2
    )  # neither --history nor --forecast
    args = ["plan", "--history", HISTORY_CSV, "--roster", ROSTER_CSV]
    result = run(*args, "--target", "lots")
    assert result.exit_code == 2 and "--target: cannot read the amount 'lots'" in result.output
    result = run(*args, "--target", "80M", "--lock", "oops")
    assert result.exit_code == 2 and "REP=AMOUNT" in result.output
    # The HTTP API's checks of the same settings, said of the flag that gave each.
    result = run(*args, "--target", "80M", "--lock", "R00001:2026-Q2=1M", "--lock", "R00003=x")
    assert result.exit_code == 2
    assert "--lock 'R00001:2026-Q2=1M' (period): String should match pattern" in result.output
    assert "--lock 'R00003=x' (quota): cannot read the amount 'x'" in result.output
    result = run(*args, "--target", "80M", "--team-target", "EMEA-1=0", "--year", "3000")
    assert result.exit_code == 2
    assert "--year: Input should be less than or equal to 2200" in result.output
    assert "--team-target 'EMEA-1=0': the amount must be a positive number" in result.output
    result = run(*args, "--target", "80M", "--max-increase", "2000%")
    assert result.exit_code == 2
    assert "--max-increase: Input should be less than or equal to 10" in result.output
    # ... and the optimizer's checks of the limits.
    result = run(*args, "--target", "80M", "--floor-quantile", "0.95")
    assert result.exit_code == 2 and "floor_quantile must be between 0 and the cap" in result.output
    # A --targets file is checked the same way once the flags have passed; the flags win.
    targets = write_csv("t.csv", "level,name,target\nteam,EMEA-1,lots\nteam,AMER-1,x")
    result = run(*args, "--target", "80M", "--targets", targets, "--team-target", "AMER-1=5M")
    assert result.exit_code == 2 and "AMER-1" not in result.output
    assert f"--targets {targets} (team EMEA-1): cannot read the amount 'lots'" in result.output


def test_output_folders_are_created(tmp_path):
    out = tmp_path / "new" / "deeper" / "forecast.csv"
    result = on_sample("forecast", "--model", "trailing-mean", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.exists()


@pytest.mark.slow
def test_plan_for_a_share_of_reps_attaining(sample_forecast, tmp_path):
    out = tmp_path / "p.csv"
    args = ["plan", "--forecast", sample_forecast, "--roster", ROSTER_CSV]
    result = run(*args, "--attainment", "65%", "--out", out)
    assert result.exit_code == 0, result.output
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["expected_share_attaining"] == pytest.approx(0.65, abs=1e-3)
    assert "Company number found for 65% of reps attaining" in result.output
    both = run(*args, "--attainment", "65%", "--target", "80M")
    assert both.exit_code == 2 and "give either target" in both.output
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_track_reports_pacing_flags_and_relief(sample_forecast, tmp_path):
    plan, base, f = planned_sample(sample_forecast, tmp_path)
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
    assert bad.exit_code == 1 and "outside the plan's year" in bad.output
    assert "at line 2, line 3, line 4, line 5, line 6 and " in bad.output


def test_track_takes_closed_quarters_totals_and_months_of_the_open_one(sample_forecast, tmp_path):
    plan, base, f = planned_sample(sample_forecast, tmp_path)
    reps = f.index.get_level_values(0).unique()
    q1 = [{"rep_id": r, "period": "2026Q1", "revenue": f[(r, "2026Q1")]} for r in reps]
    april = [{"rep_id": r, "period": "2026-04", "revenue": 0.15 * f[(r, "2026Q2")]} for r in reps]
    pd.DataFrame(q1 + april).to_csv(tmp_path / "b.csv", index=False)
    result = run("track", *base, "--plan", plan, "--actuals", tmp_path / "b.csv")
    assert result.exit_code == 0, result.output
    assert "Tracking to 2026-04-30" in result.output and "closed: 2026Q1" in result.output
    # A quarter's total for a quarter still open is refused, with the fix.
    pd.DataFrame(q1).assign(period="2026Q2").to_csv(tmp_path / "early.csv", index=False)
    early = run(
        "track", *base, "--plan", plan, "--actuals", tmp_path / "early.csv", "--as-of", "2026-05-15"
    )
    assert early.exit_code == 1 and "a quarter's total for a quarter still open" in early.output
    assert "by month (2026-04) or as dated rows" in early.output


@pytest.mark.slow
def test_a_short_history_is_named_and_its_backtest_refused_without_a_traceback(write_csv):
    rows = ["rep_id,period,revenue"] + [
        f"r{i},{2025 + q // 4}Q{q % 4 + 1},{100 + 10 * i + q}" for i in range(6) for q in range(6)
    ]
    h = write_csv("short.csv", "\n".join(rows))
    r = write_csv("roster.csv", "rep_id,team\n" + "\n".join(f"r{i},T" for i in range(6)))
    check = run("data", "check", h, r)
    assert check.exit_code == 0 and "Warnings" in check.output
    assert "short history: 1 complete year(s) (2025), 6 quarter(s) in all" in check.output
    bt = run("forecast", "--history", h, "--roster", r, "--backtest")
    assert bt.exit_code == 1 and "Traceback" not in bt.output
    assert "too short for a backtest: a backtest needs 3 complete years" in bt.output
    fc = run("forecast", "--history", h, "--roster", r)
    assert fc.exit_code == 0, fc.output
    assert "Forecast 2026 (2026Q3, 2026Q4: the quarters after the history)" in fc.output
    assert "the history already holds 2026 up to 2026Q2" in fc.output
    assert "short history" in fc.output


def test_relief_for_a_company_far_ahead_of_plan_is_proposed_not_refused(sample_forecast, tmp_path):
    plan, base, f = planned_sample(sample_forecast, tmp_path)
    # Q1 booked at three times the forecast.
    rows = [
        {"rep_id": rep, "period": f"2026-{m:02d}",
         "revenue": 3 * f[(rep, "2026Q1")] * (0.15, 0.25, 0.60)[m - 1]}
        for rep in f.index.get_level_values(0).unique() for m in range(1, 4)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "b.csv", index=False)
    result = run("track", *base, "--plan", plan, "--actuals", tmp_path / "b.csv", "--relief")
    assert result.exit_code == 0, result.output
    assert "Relief: the company number 80.00M holds" in result.output
    assert "the company is ahead of plan" in result.output


def test_track_usage_errors_come_before_any_file_is_read(monkeypatch, tmp_path):
    """The tracking flags are the API's ProgressSettings, checked before the plan's inputs are
    read: a bad day or threshold is a usage error (exit 2) naming the flag."""

    def no_inputs(*args, **kwargs):
        raise AssertionError("inputs read before the flags were checked")

    monkeypatch.setattr("api.cli.inputs.plan_inputs", no_inputs)
    plan = tmp_path / "plan.csv"
    plan.write_text("rep_id,period,quota\nR1,2026Q1,1\n")
    base = ["track", "--forecast", plan, "--roster", ROSTER_CSV, "--target", "1M"]
    base += ["--plan", plan, "--actuals", plan]
    bad_day = run(*base, "--as-of", "2026-13-40")
    assert bad_day.exit_code == 2 and "--as-of" in bad_day.output
    too_many = run(*base, "--missed-quarters", "9")
    assert too_many.exit_code == 2 and "1<=x<=4" in too_many.output
    # A bound only the API's settings know: said of the flag.
    too_high = run(*base, "--at-risk-below", "150%")
    assert (
        too_high.exit_code == 2
        and "--at-risk-below: Input should be less than 1" in too_high.output
    )


def test_the_readmes_command_line_help_is_up_to_date():
    from api.readme_help import README, refresh

    text = README.read_text()
    assert text == refresh(text), "regenerate: python -m api.readme_help"


@pytest.mark.slow
def test_adventureworks_is_planned_and_tracked_in_its_fiscal_calendar(shared_data, tmp_path):
    """AdventureWorks' quarters start in December. Reps 289 and 290 were hired on 2012-05-30,
    the last days of fiscal 2012Q2 (March-May): they get no quota to speak of in that quarter,
    and the plan, its forecast, its summary and the tracking all use that calendar."""
    aw = tmp_path / "aw"
    made = run("data", "convert", "adventureworks_oltp", "--data-dir", shared_data, "--out", aw)
    assert made.exit_code == 0, made.output
    monthly = pd.read_csv(aw / "history_monthly.csv", dtype={"rep_id": str})
    assert monthly["period"].str.match(r"^\d{4}-\d{2}$").all()
    # The plan year FY2012 (December 2011 - November 2012) from the history before it.
    h = pd.read_csv(aw / "history.csv", dtype={"rep_id": str})
    h[h["period"] < "2012Q1"].to_csv(tmp_path / "h.csv", index=False)
    # The roster of FY2012: reps hired after it ends are left out until the plan covering them.
    roster = pd.read_csv(aw / "roster.csv", dtype={"rep_id": str})
    hired = pd.to_datetime(roster["hire_date"])
    roster[hired.isna() | (hired <= "2012-11-30")].to_csv(tmp_path / "r.csv", index=False)
    args = ["--roster", tmp_path / "r.csv", "--target", "15M", "--floor-quantile", "none"]

    def quotas(fiscal, out):
        result = run(
            "plan", "--history", tmp_path / "h.csv", *args, "--fiscal-year-start", fiscal,
            "--out", out,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return result, pd.read_csv(out, dtype={"rep_id": str}).set_index(["rep_id", "period"])

    result, fiscal = quotas(12, tmp_path / "plan.csv")
    assert (
        "Fiscal calendar: fiscal years start in month 12: 2012Q1 is 2011-12-01 to 2012-02-29"
        in (result.output)
    )
    assert "short history" in result.output  # two quarters: said so
    typical = fiscal.loc[("276", "2012Q2"), "quota"]
    for rep in ("289", "290"):
        assert fiscal.loc[(rep, "2012Q1"), "quota"] == 0
        assert fiscal.loc[(rep, "2012Q2"), "quota"] < 0.01 * typical
        assert fiscal.loc[(rep, "2012Q3"), "quota"] > 0.1 * typical
        assert fiscal.loc[(rep, "2012Q2"), "basis"].startswith("no history: team median x ramp 0%")
    summary = json.loads((tmp_path / "plan.summary.json").read_text())
    assert summary["fiscal_year_start"] == 12
    # Read as calendar quarters, the same hire date falls in April-June: a real Q2 quota.
    _, calendar = quotas(1, tmp_path / "cal.csv")
    assert calendar.loc[("289", "2012Q2"), "quota"] > 10 * fiscal.loc[("289", "2012Q2"), "quota"]

    # The forecast carries its calendar; a plan in another one is refused, none given: the same.
    fc = tmp_path / "f.csv"
    assert run(
        "forecast", "--history", tmp_path / "h.csv", "--roster", tmp_path / "r.csv",
        "--fiscal-year-start", 12, "--out", fc,
    ).exit_code == 0  # fmt: skip
    assert (pd.read_csv(fc)["fiscal_year_start"] == 12).all()
    other = run("plan", "--forecast", fc, *args, "--fiscal-year-start", 1)
    assert other.exit_code == 1 and "made with fiscal years starting in month 12" in other.output
    same = run("plan", "--forecast", fc, *args, "--out", tmp_path / "p2.csv")
    assert same.exit_code == 0, same.output
    assert json.loads((tmp_path / "p2.summary.json").read_text())["fiscal_year_start"] == 12

    # Tracking FY2012 from the monthly history: December-February is 2012Q1.
    m = monthly[(monthly["period"] >= "2011-12") & (monthly["period"] <= "2012-03")]
    planned = pd.read_csv(fc, dtype={"rep_id": str})["rep_id"].unique()
    m[m["rep_id"].isin(planned)].to_csv(tmp_path / "b.csv", index=False)
    tracked = run(
        "track", "--forecast", fc, *args, "--plan", tmp_path / "p2.csv", "--actuals",
        tmp_path / "b.csv",
    )  # fmt: skip
    assert tracked.exit_code == 0, tracked.output
    assert "Tracking to 2012-03-31" in tracked.output and "closed: 2012Q1" in tracked.output


@pytest.mark.slow
def test_a_replan_whose_limits_hold_cells_above_the_rest_does_not_call_its_top_common(
    shared_data, tmp_path
):
    # AdventureWorks FY2014 planned from FY2011-FY2013 with smoothness and team targets, then
    # re-planned with the real 2014Q1: smoothness holds some quarters far above the rest.
    aw = tmp_path / "aw"
    converted = run(
        "data", "convert", "adventureworks_oltp", "--data-dir", shared_data, "--out", aw
    )
    assert converted.exit_code == 0, converted.output
    h = pd.read_csv(aw / "history.csv", dtype={"rep_id": str})
    h[h["period"] <= "2013Q4"].to_csv(tmp_path / "h13.csv", index=False)
    q1 = h[h["period"] == "2014Q1"].set_index("rep_id")["revenue"]
    roster = pd.read_csv(aw / "roster.csv", dtype={"rep_id": str})
    q1 = q1.reindex(roster["rep_id"], fill_value=0.0).rename("revenue").reset_index()
    q1.assign(period="2014Q1").to_csv(tmp_path / "q1.csv", index=False)
    fc = tmp_path / "f.csv"
    made = run("forecast", "--history", tmp_path / "h13.csv", "--roster", aw / "roster.csv",
               "--fiscal-year-start", "12", "--out", fc)  # fmt: skip
    assert made.exit_code == 0, made.output
    out = run("replan", "--forecast", fc, "--roster", aw / "roster.csv", "--target", "36M",
              "--team-target", "Southwest=7M", "--smoothness", "40%",
              "--actuals", tmp_path / "q1.csv")  # fmt: skip
    assert out.exit_code == 0, out.output
    headline = next(x for x in out.output.splitlines() if x.startswith("Common stretch"))
    common = float(headline.split(": ")[1].split()[0].rstrip(";"))
    said = next(x for x in out.output.splitlines() if x.startswith("Re-plan: closed 2014Q1"))
    assert "common level" not in said
    assert "highest stretch" in said
    told = float(said.split("(the common stretch is ")[1].rstrip(")"))
    assert told == pytest.approx(common, abs=0.005)  # the headline's figure, not the top one


def test_data_check_says_when_the_teams_latest_year_is_partial(tmp_path):
    h = pd.read_csv(HISTORY_CSV)
    h[h["period"] <= "2025Q2"].to_csv(tmp_path / "h.csv", index=False)
    out = run("data", "check", tmp_path / "h.csv", ROSTER_CSV)
    assert out.exit_code == 0, out.output
    assert "revenue_2025 (2 of 4 quarters)" in out.output
    whole = run("data", "check", HISTORY_CSV, ROSTER_CSV)
    assert "revenue_2025 " not in whole.output and "revenue_2025" in whole.output

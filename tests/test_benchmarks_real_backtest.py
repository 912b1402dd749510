"""The policy backtest on the real AdventureWorks company, its real quotas scored alongside."""

import pandas as pd
import pytest

from benchmarks.policy_backtest import REFERENCE
from benchmarks.real_backtest import backtest_dataset, plan_years, run_real
from datasets.adventureworks import load_adventureworks_oltp
from models import QuantileForecaster

FAST = QuantileForecaster(n_origins=3, max_iter=60)
POLICIES = ("equal-stretch", "last-year-plus-growth")


@pytest.fixture(scope="module")
def oltp(shared_data):
    return load_adventureworks_oltp(shared_data)


@pytest.fixture(scope="module")
def fy2013(oltp):
    return backtest_dataset(oltp, 2013, policies=POLICIES, forecaster=FAST)


def test_the_plan_years_are_the_complete_years_after_some_history(oltp):
    # History 2011Q3..2014Q2 (fiscal years from December): 2012 and 2013 are complete.
    assert plan_years(oltp.company) == [2012, 2013]


def test_every_policy_splits_the_real_number_among_the_same_reps(shared_data, fy2013):
    raw = pd.read_csv(
        shared_data / "adventureworks_oltp" / "SalesPersonQuotaHistory.csv",
        sep="\t",
        header=None,
        names=["rep", "date", "quota", "guid", "modified"],
        parse_dates=["date"],
    )
    # Fiscal 2013 runs Dec 2012 - Nov 2013: quota dates from 2012-12-01 to 2013-09-01.
    year = raw[(raw["date"] >= "2012-11-01") & (raw["date"] < "2013-11-01")]
    full = year.groupby("rep").filter(lambda g: len(g) == 4)
    m = fy2013.metrics.set_index("policy")
    assert list(m.index) == [*POLICIES, REFERENCE]
    assert (m["status"] == "ok").all()
    assert (m["reps"] == full["rep"].nunique()).all()  # 14: three hires started mid-year
    assert m["target"].iloc[0] == pytest.approx(full["quota"].sum())
    totals = fy2013.quotas.groupby("policy")["quota"].sum()
    assert totals.to_numpy() == pytest.approx(full["quota"].sum(), rel=1e-6)
    assert m.loc["equal-stretch", "reps_over_cap"] == 0
    # Same reps, same sales: the company's attainment is the same for every policy.
    assert m["company_attainment"].to_numpy() == pytest.approx(m["company_attainment"].iloc[0])


def test_last_years_quota_is_the_real_one(oltp, fy2013):
    # Last-year-plus-growth starts from each rep's real 2012 quota, so it is proportional to it
    # (reps with a full 2012); ratchet violations are counted against it.
    q = oltp.quotas
    ly = q[q["period"].str.startswith("2012")].groupby("rep_id")["quota"].agg(["sum", "count"])
    ly = ly.loc[ly["count"] == 4, "sum"]
    plan = fy2013.quotas[fy2013.quotas["policy"] == "last-year-plus-growth"]
    annual = plan.groupby("rep_id")["quota"].sum()
    both = annual.index.intersection(ly.index)
    assert len(both) >= 8
    ratio = annual[both] / ly[both]
    assert ratio.max() == pytest.approx(ratio.min(), rel=1e-9)
    assert fy2013.metrics["ratchet_violations"].notna().all()


def test_a_release_that_cannot_run_is_listed_with_the_reason(tmp_path, shared_data):
    import shutil

    shutil.copytree(shared_data / "adventureworks_dw", tmp_path / "adventureworks_dw")
    run = run_real(tmp_path, policies=POLICIES, forecaster=FAST)
    assert run.metrics.empty
    reasons = run.skipped.set_index("dataset")["reason"]
    assert reasons["adventureworks_dw"] == "this release holds no sales history"
    assert "lacks SalesOrderHeader.csv" in reasons["adventureworks_oltp"]

"""The scenario sweep on a real Dask local cluster, and its report."""

import pytest

from benchmarks.policy_report import spread_cut, summarize, write_report
from benchmarks.policy_sweep import CEILING, scenarios, sweep
from models import QuantileForecaster


@pytest.fixture(scope="module")
def swept():
    scs = scenarios(2, seed=5)
    fast = QuantileForecaster(n_origins=3, max_iter=40)
    return scs, sweep(
        scs,
        policies=("equal-stretch", "last-year-plus-growth"),
        workers=2,
        forecaster=fast,
        progress=False,
    )


@pytest.mark.slow
def test_a_two_company_sweep_runs_on_dask(swept):
    scs, out = swept
    m = out["metrics"]
    assert sorted(m["company"].unique()) == [0, 1]
    assert len(m) == 6 and (m["status"] == "ok").all()  # two policies and the ceiling
    ceiling = m[m["policy"] == CEILING]
    assert ceiling["reps_over_cap"].notna().all() and ceiling["ratchet_violations"].isna().all()
    for sc in scs:  # each row carries its company's scenario
        row = m[m["company"] == sc.company].iloc[0]
        assert (row["n_reps"], row["ambition"], row["seed"]) == (sc.n_reps, sc.ambition, sc.seed)
    reps = out["reps"]
    # Every policy's annual quotas add up to the company's number.
    totals = reps.groupby(["company", "policy"])["quota"].sum()
    targets = m.set_index(["company", "policy"])["target"]
    assert totals.to_numpy() == pytest.approx(targets.loc[totals.index].to_numpy(), rel=1e-6)
    assert (m.loc[m["policy"] == "equal-stretch", "reps_over_cap"] == 0).all()


def test_scenarios_are_reproducible_and_varied():
    assert scenarios(20, seed=3) == scenarios(20, seed=3)
    assert len({s.n_reps for s in scenarios(20, seed=3)}) > 1


@pytest.mark.slow
def test_the_report_has_every_policy_and_plot(swept, tmp_path):
    _, out = swept
    summary = summarize(out["metrics"])
    assert set(summary["policy"]) == {"equal-stretch", "last-year-plus-growth", CEILING}
    measured = summary[
        ~((summary["policy"] == CEILING) & (summary["metric"] == "ratchet_violations"))
    ]
    assert (measured["n"] == 2).all()  # the ceiling has no last year's quota to ratchet from
    cut, _ = spread_cut(out["metrics"], "equal-stretch")
    m = out["metrics"].pivot(index="company", columns="policy", values="attainment_std")
    assert cut == pytest.approx((1 - m["equal-stretch"] / m["last-year-plus-growth"]).mean())
    path = write_report(out["metrics"], out["reps"], tmp_path, "quotaplan bench --companies 2")
    text = path.read_text()
    assert "equal-stretch cuts the std of attainment" in text
    ceiling, _ = spread_cut(out["metrics"], CEILING)
    assert f"cuts it by {ceiling:.1%}" in text
    for png in ("attainment.png", "quota_vs_actual.png", "fairness_vs_ambition.png"):
        assert (tmp_path / png).stat().st_size > 1000 and png in text

"""Invariants of the optimizer on random feasible instances (hypothesis)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer import PlanInfeasibleError, plan

QUARTERS = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
LIMITS = dict(floor_quantile=0.1, cap_quantile=0.9, phasing_band=0.2, max_increase=0.3)


@st.composite
def instances(draw):
    n = draw(st.integers(2, 7))
    p50 = np.array(
        draw(
            st.lists(st.lists(st.floats(10, 1000), min_size=4, max_size=4), min_size=n, max_size=n)
        )
    )
    spread = np.array(draw(st.lists(st.floats(0.2, 0.8), min_size=n, max_size=n)))
    has_ly = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    ly_factor = np.array(draw(st.lists(st.floats(0.8, 1.5), min_size=n, max_size=n)))
    factor = draw(st.floats(0.75, 1.15))
    reps = [f"r{i}" for i in range(n)]
    rows = [
        {"rep_id": r, "period": q, "q10": v * (1 - s), "q50": v, "q90": v * (1 + s)}
        for r, vals, s in zip(reps, p50, spread, strict=True)
        for q, v in zip(QUARTERS, vals, strict=True)
    ]
    roster = pd.DataFrame(
        {
            "rep_id": reps,
            "team": "T",
            "region": "R",
            "active": True,
            "last_year_quota": np.where(has_ly, p50.sum(axis=1) * ly_factor, np.nan),
            "ote": np.nan,
        }
    )
    return pd.DataFrame(rows), roster, factor * p50.sum()


def solve(f, r, target, **kw):
    try:
        return plan(f, r, target=target, **{**LIMITS, **kw})
    except PlanInfeasibleError:
        assume(False)


def matrix(p):
    return p.quotas.pivot(index="rep_id", columns="period", values="quota")


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SETTINGS
@given(instances(), st.sampled_from(["equal-stretch", "equal-probability"]))
def test_totals_match_and_every_limit_holds(inst, policy):
    f, r, target = inst
    p = solve(f, r, target, policy=policy)
    q = matrix(p).to_numpy()
    assert q.sum() == pytest.approx(target, rel=1e-6)
    fc = f.set_index(["rep_id", "period"])
    cap = fc["q90"].unstack().to_numpy()
    floor = fc["q10"].unstack().to_numpy()
    tol = 1e-6 * target
    assert (q <= cap + tol).all() and (q >= floor - tol).all()
    share = fc["q50"].unstack().sum(axis=0).to_numpy() / fc["q50"].sum()
    assert (np.abs(q.sum(axis=0) - share * target) <= 0.2 * share * target + tol).all()
    ly = r.set_index("rep_id")["last_year_quota"].to_numpy()
    known = np.isfinite(ly)
    assert (q.sum(axis=1)[known] <= ly[known] * 1.3 + tol).all()


@SETTINGS
@given(instances(), st.floats(0.01, 1000))
def test_scaling_revenue_and_target_scales_every_quota(inst, k):
    f, r, target = inst
    base = matrix(solve(f, r, target)).to_numpy()
    scaled_f = f.assign(**{c: f[c] * k for c in ("q10", "q50", "q90")})
    scaled = matrix(
        solve(scaled_f, r.assign(last_year_quota=r["last_year_quota"] * k), target * k)
    ).to_numpy()
    np.testing.assert_allclose(scaled, base * k, rtol=1e-6, atol=1e-9 * target * k)


@SETTINGS
@given(instances(), st.randoms(use_true_random=False))
def test_the_order_of_the_input_rows_does_not_matter(inst, rnd):
    f, r, target = inst
    base = matrix(solve(f, r, target))
    order = list(range(len(f)))
    rnd.shuffle(order)
    other = matrix(
        solve(f.iloc[order], r.sample(frac=1.0, random_state=rnd.randint(0, 10**6)), target)
    )
    np.testing.assert_allclose(
        other.loc[base.index].to_numpy(), base.to_numpy(), rtol=1e-9, atol=1e-9 * target
    )

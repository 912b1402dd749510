"""The optimizer on tiny instances computed by hand."""

import numpy as np
import pytest
from builders import FREE, inputs, make_inputs, quotas

from datasets import DataValidationError
from optimizer import Limits, PlanInfeasibleError, PlanSpec, parse_amount, plan, solve_plan
from optimizer.explain import attain_probability
from optimizer.highs import OWN_POINT
from optimizer.results import HeldAbove
from optimizer.wording import headline


def test_equal_stretch_is_proportional_when_nothing_binds():
    f, r = make_inputs([[100] * 4, [200] * 4, [300] * 4])
    p = plan(f, r, target=1200, **FREE)  # P50 totals 2400: everyone at stretch 0.5
    np.testing.assert_allclose(
        quotas(p), 0.5 * np.array([[100] * 4, [200] * 4, [300] * 4]), rtol=1e-7
    )
    assert p.summary.max_stretch == pytest.approx(0.5)
    assert p.summary.total_quota == pytest.approx(1200)
    assert p.summary.solver_status == "optimal"
    assert (p.reps["binding"] == "none").all()


def test_cap_binds_and_the_rest_absorb():
    # Rep 0's cap (P90) is 150/quarter; the number needs 2 x P50 overall.
    f, r = make_inputs([[100] * 4, [200] * 4, [300] * 4])
    p = plan(f, r, target=3600, **FREE)
    q = quotas(p)
    np.testing.assert_allclose(q[0], 150, rtol=1e-7)  # capped at P90
    # The rest share 3600 - 600 = 3000 in proportion to P50: stretch 3000 / 2000 = 1.5 = their cap.
    np.testing.assert_allclose(q[1:], 1.5 * np.array([[200] * 4, [300] * 4]), rtol=1e-7)
    assert p.reps.set_index("rep_id").loc["r0", "binding"] == "cap"


def test_impossible_number_is_diagnosed_with_the_gap():
    f, r = make_inputs([[100] * 4, [200] * 4, [300] * 4])  # P90 caps add up to 3600
    with pytest.raises(PlanInfeasibleError) as e:
        plan(f, r, target=4000, **FREE)
    d = e.value.diagnosis.findings[0]
    assert d.limit == "capacity"
    assert d.amount == pytest.approx(400, rel=1e-6)
    assert "exceeds realistic capacity by 10.0% (400)" in str(e.value)
    assert "caps add up to 3.60k" in str(e.value)
    assert "lower the number to 3.60k" in str(e.value)


def test_floors_above_the_number_are_diagnosed():
    f, r = make_inputs([[100] * 4, [200] * 4])
    with pytest.raises(PlanInfeasibleError, match="below what the floors \\(P10\\) require"):
        plan(
            f, r, target=500, floor_quantile=0.1, phasing_band=None, max_increase=None
        )  # floors 600


def test_anti_ratchet_and_minimum_growth():
    f, r = make_inputs([[100] * 4, [100] * 4], last_year=[300, np.nan])
    p = plan(f, r, target=800, floor_quantile=None, phasing_band=None, max_increase=0.1)
    annual = p.reps.set_index("rep_id")["annual_quota"]
    assert annual["r0"] == pytest.approx(330)  # last year 300 x 1.1
    assert annual["r1"] == pytest.approx(470)
    assert p.reps.set_index("rep_id").loc["r0", "binding"] == "ratchet"
    p = plan(
        f,
        r,
        target=500,
        floor_quantile=None,
        phasing_band=None,
        max_increase=None,
        min_increase=0.0,
    )
    assert p.reps.set_index("rep_id")["annual_quota"]["r0"] == pytest.approx(300)


def test_phasing_band_holds():
    # Rep 0 sells only in Q4, rep 1 evenly: the band keeps each quarter near its seasonal share.
    f, r = make_inputs([[0, 0, 0, 400], [100, 100, 100, 100]], spread=0.9)
    p = plan(f, r, target=800, floor_quantile=None, max_increase=None, phasing_band=0.05)
    by_q = p.quotas.groupby("period")["quota"].sum().to_numpy()
    share = np.array([100, 100, 100, 500]) / 800
    assert (np.abs(by_q - share * 800) <= 0.05 * share * 800 + 1e-6).all()


def test_locks_are_kept_and_the_rest_rebalanced():
    f, r = make_inputs([[100] * 4, [200] * 4, [300] * 4])
    p = plan(f, r, target=1200, locks={("r0", None): 100, ("r1", "2026Q2"): 40}, **FREE)
    q = quotas(p)
    assert q[0].sum() == pytest.approx(100)
    assert q[1, 1] == pytest.approx(40)
    assert q.sum() == pytest.approx(1200)
    assert p.reps.set_index("rep_id").loc["r0", "binding"] == "lock"


def test_locks_that_make_the_number_impossible_are_named():
    f, r = make_inputs([[100] * 4, [200] * 4])
    with pytest.raises(PlanInfeasibleError) as e:
        plan(f, r, target=1000, locks={("r1", None): 5000}, **FREE)
    assert e.value.diagnosis.findings[0].limit == "lock"
    assert "4.00k below what the locked quotas require" in str(e.value)
    assert e.value.diagnosis.fixes[0].message == "unlock r1 (5.00k)"


def test_team_targets_and_ote_band():
    f, r = make_inputs(
        [[100] * 4, [100] * 4, [100] * 4], team=["A", "A", "B"], ote=[np.nan, np.nan, 50]
    )
    p = plan(f, r, target=1200, group_targets={("team", "B"): 250}, ote_band=(4, 6), **FREE)
    annual = p.reps.set_index("rep_id")["annual_quota"]
    assert annual["r2"] == pytest.approx(250)  # the team target (within 4-6 x OTE = 200..300)
    assert annual["r0"] + annual["r1"] == pytest.approx(950)
    assert p.reps.set_index("rep_id").loc["r2", "quota_to_ote"] == pytest.approx(5.0)
    with pytest.raises(PlanInfeasibleError, match="quota-to-OTE band"):
        plan(f, r, target=1200, group_targets={("team", "B"): 400}, ote_band=(4, 6), **FREE)


def test_team_targets_that_overlap_without_nesting_take_the_general_model():
    f, r = make_inputs([[100] * 4] * 4, team=["A", "A", "B", "B"])
    r["region"] = ["X", "Y", "X", "Y"]  # team A straddles both regions
    limits = Limits(**FREE, group_targets={("team", "A"): 900, ("region", "X"): 700})
    spec = PlanSpec(f, r, 1600, "equal-stretch", limits)
    p = solve_plan(spec)
    assert p.summary.route.startswith("pyomo")
    annual = p.reps.set_index("rep_id")["annual_quota"]
    assert annual["r0"] + annual["r1"] == pytest.approx(900)
    assert annual["r0"] + annual["r2"] == pytest.approx(700)
    assert annual["r2"] == pytest.approx(250)  # the rest at the lowest common stretch, 450
    with pytest.raises(ValueError, match="overlap without nesting"):
        solve_plan(spec, route="network")
    nested = Limits(**FREE, group_targets={("team", "A"): 500, ("region", "X"): 1060})
    r["region"] = ["X", "X", "X", "Y"]
    assert solve_plan(PlanSpec(f, r, 1600, "equal-stretch", nested)).summary.route.startswith(
        "network"
    )


def test_smoothness_limits_quarter_to_quarter_change():
    f, r = make_inputs([[50, 100, 150, 300], [100, 100, 100, 100]], spread=0.9)
    p = plan(f, r, target=700, smoothness=0.2, **FREE)
    q = quotas(p)
    steps = np.abs(np.diff(q, axis=1))
    assert (steps <= 0.2 * q.sum(axis=1, keepdims=True) / 4 + 1e-6).all()


def test_equal_probability_gives_every_rep_the_same_chance():
    f, r = make_inputs([[100] * 4, [200] * 4, [300] * 4], spread=0.4)
    f.loc[f["rep_id"] == "r2", "q90"] = 300 * 1.8  # a more uncertain rep
    p = plan(f, r, target=2600, policy="equal-probability", **FREE)
    chances = p.quotas["p_attain"].to_numpy()
    np.testing.assert_allclose(chances, chances[0], atol=1e-4)
    assert p.summary.total_quota == pytest.approx(2600)
    assert 0 < chances[0] < 0.5  # a number above the P50 total: less than even odds each


@pytest.mark.parametrize(
    "policy", ["equal-split", "last-year-plus-growth", "forecast-proportional"]
)
def test_rule_of_thumb_policies_add_up_and_report_breaches(policy):
    f, r = make_inputs([[10] * 4, [200] * 4, [300] * 4], last_year=[1000, 800, np.nan])
    p = plan(f, r, target=2040, policy=policy)
    assert p.summary.total_quota == pytest.approx(2040)
    if policy == "equal-split":
        assert p.reps["annual_quota"].to_numpy() == pytest.approx([680, 680, 680])
        assert "cap" in p.reps.set_index("rep_id").loc["r0", "violations"]  # 680 vs a cap of 60
        assert p.summary.reps_over_cap >= 1


def test_attain_probability_by_hand():
    levels = np.array([0.1, 0.5, 0.9])
    q = np.array([[80.0, 100.0, 140.0]])
    got = attain_probability(
        np.array([80.0, 100.0, 120.0, 0.0, 200.0, 50.0]), levels, np.repeat(q, 6, axis=0)
    )
    # 120 sits halfway between the P50 and the P90; 50 is below the tail's end (80 - 0.1/0.02 = 75).
    np.testing.assert_allclose(got, [0.9, 0.5, 0.3, 1.0, 0.0, 1.0])


def test_bad_inputs_are_named():
    f, r = make_inputs([[100] * 4])
    with pytest.raises(ValueError, match="unknown policy"):
        PlanSpec(f, r, 100, policy="gut-feel")
    with pytest.raises(ValueError, match="cannot read the amount"):
        parse_amount("lots")
    assert parse_amount("12.5M") == 12_500_000 and parse_amount("800k") == 800_000
    with pytest.raises(ValueError, match="over_assignment"):
        Limits(over_assignment=5)
    with pytest.raises(DataValidationError, match="not active on the roster"):
        solve_plan(PlanSpec(f.assign(rep_id="ghost"), r, 100))
    with pytest.raises(DataValidationError, match="quantiles cross"):
        solve_plan(PlanSpec(f.assign(q10=1000.0), r, 100))
    with pytest.raises(ValueError, match="not in the forecast"):
        plan(f, r, target=100, locks={("nobody", None): 5})


def test_each_rep_carries_the_years_forecast_band():
    f, r = make_inputs([[100] * 4, [200] * 4], spread=0.5)
    p = plan(f, r, target=1200, **FREE)
    reps = p.reps.set_index("rep_id")
    assert reps.loc["r1", "annual_low"] == pytest.approx(400)  # 4 x P10 (200 x 0.5)
    assert reps.loc["r1", "annual_high"] == pytest.approx(1200)  # 4 x P90
    assert p.summary.band_levels == (0.1, 0.9)


def test_the_summary_gives_the_common_level_apart_from_cells_held_above_it():
    # r0's P10 is 95% of its P50 (a floor above the common level); the rest sit at one stretch.
    f, r = make_inputs([[100] * 4, [100] * 4, [100] * 4])
    f.loc[f["rep_id"] == "r0", "q10"] = 95.0
    p = plan(f, r, target=960, floor_quantile=0.1, phasing_band=None, max_increase=None)
    level = p.summary.level
    assert level.kind == "stretch"
    assert level.value == pytest.approx((960 - 380) / 800, rel=1e-7)  # r1, r2 share the rest
    assert level.held_above == {"floor": HeldAbove(4, 1, pytest.approx(0.95))}
    assert p.summary.max_stretch == pytest.approx(0.95)  # the extreme cell, said apart
    # 1% more moves the common level (0.725 -> 0.737), not the floor-held cells.
    assert p.summary.marginal.max_stretch_per_1pct_more == pytest.approx(9.6 / 800, rel=1e-6)


def test_without_hipo_the_general_model_still_plans_and_says_why(monkeypatch):
    """HiPO (highspy-extras) missing: each stage runs HiGHS's other algorithm, the plan is the
    same, and the summary and the headline say what ran instead and why."""
    import optimizer.highs as highs
    from optimizer.wording import headline

    f, r = make_inputs([[50, 100, 150, 300], [100, 100, 100, 100], [80, 90, 100, 120]], spread=0.9)
    spec = PlanSpec(f, r, 900, "equal-stretch", Limits(smoothness=0.2, **FREE))
    fast = solve_plan(spec)
    assert fast.summary.solver.stages["plan"].algorithms == {"HiPO interior point (QP)": 1}
    monkeypatch.setattr(highs, "hipo", lambda: (False, "HiPO is unavailable: testing"))
    slow = solve_plan(spec)
    stages, notes = slow.summary.solver.stages, slow.summary.solver.notes
    assert stages["plan"].algorithms == {"active-set QP": 1}
    assert all("HiPO" not in a for st in stages.values() for a in st.algorithms)
    assert notes and all(n.startswith("HiPO is unavailable: testing; ran ") for n in notes)
    assert any("HiPO is unavailable: testing" in line for line in headline(slow.summary))
    np.testing.assert_allclose(quotas(slow), quotas(fast), rtol=1e-6)
    assert all(st.status == "optimal" for k, st in stages.items() if k in ("level", "plan"))


def test_a_level_lp_on_the_edge_of_its_caps_plans():
    """Found by the diagnosis property (its first fix did not plan): a 6-rep plan with
    smoothness 0, a lock at zero and team A's target, feasible only with the level near the
    caps. HiPO's interior point called the level LP infeasible, and so did the dual simplex
    at HiGHS's default tolerances with presolve; at the plan's tolerances it is optimal. The
    exact method now checks an interior point's verdict at the same tolerances."""
    f, r = inputs(
        [
            [105.68937107626103, 280.99497536502054, 331.47021820513766, 90.32118790261995],
            [24.841789086128653, 464.3776625194585, 142.71883335097425, 221.01083233400593],
            [443.28988508770794, 10.0, 310.1507244346437, 189.72995902223315],
            [159.47200479089082, 367.2717683827435, 238.5158805133231, 357.2299356473656],
            [201.58216847411458, 81.00619879660613, 393.2876917104907, 499.99999999999994],
            [10.0, 103.16812005670688, 237.62412497021657, 371.5522555422373],
        ],
        q10=[
            [53.09042629207337, 141.15083547327845, 166.50581802534742, 45.370601793973634],
            [18.331817265298262, 342.68411272143635, 105.31832325907324, 163.09333349347182],
            [370.23902198054265, 8.352074667963343, 259.0402008801067, 158.46387845033166],
            [57.403743263621585, 132.20360732195152, 85.85647610837287, 128.58893659028467],
            [126.90019961152325, 50.995099789196296, 247.5828440610573, 314.76047849891705],
            [6.332623197192303, 65.33248302818225, 150.47840459989163, 235.29004324158942],
        ],
        q90=[
            [158.28831586044868, 420.83911525676257, 496.43461838492783, 135.27177401126627],
            [31.351760906959043, 586.0712123174807, 180.11934344287528, 278.92833117454],
            [516.3407481948732, 11.647925332036657, 361.2612479891807, 220.99603959413463],
            [261.54026631816004, 602.3399294435355, 391.17528491827335, 585.8709347044465],
            [276.2641373367059, 111.01729780401597, 538.9925393599242, 685.2395215010829],
            [13.667376802807695, 141.0037570852315, 324.7698453405415, 507.8144678428851],
        ],
        team=["A", "B", "A", "A", "B", "A"],
        last_year_quota=np.nan,
    )
    limits = Limits(
        phasing_band=None,
        smoothness=0.0,
        group_targets={("team", "A"): 2659.584987424564},
        locks={("r5", None): 0.0},
    )
    plan = solve_plan(PlanSpec(f, r, 4483.0, "equal-stretch", limits))
    assert plan.summary.objective.max_stretch == pytest.approx(1.6395549214, rel=1e-8)
    assert plan.quotas["quota"].sum() == pytest.approx(4483.0, rel=1e-9)


def test_a_cell_smoothness_ties_above_the_rest_is_not_the_headline():
    """A ramping hire (P50 5 then 10, then 200 and 400 with a floor of 160 in Q4): smoothness
    pulls their first quarters up to their caps at stretch 3, the least highest stretch of the
    plan, while everyone else sits at 1.30. The headline is the 1.30 the plan gives the free
    cells, the hire's two cells are held above it by smoothness, and the cost of 1% more is in
    that common stretch and equals the plan at 1% more (the level itself does not move: 0)."""
    p50 = np.array([[5, 10, 200, 400]] + [[100, 110, 120, 130]] * 3, float)
    f, r = inputs(p50, q10=p50 * 0.4, q90=p50 * 3)
    limits = Limits(floor_quantile=0.1, phasing_band=None, max_increase=None, smoothness=0.3)
    total = 1.05 * p50.sum()
    s = solve_plan(PlanSpec(f, r, total, "equal-stretch", limits)).summary
    assert s.max_stretch == pytest.approx(3.0, rel=1e-5)
    assert s.level.value == pytest.approx(1.3005, rel=1e-4)
    assert s.level.held_above["smoothness"].cells == 2
    assert s.level.held_above["smoothness"].reps == 1
    ahead = solve_plan(PlanSpec(f, r, total * 1.01, "equal-stretch", limits)).summary
    assert s.marginal.max_stretch_at_plus_1pct == pytest.approx(ahead.level.value, rel=1e-6)
    assert s.marginal.max_stretch_per_1pct_more == pytest.approx(
        ahead.level.value - s.level.value, rel=1e-4
    )
    assert s.marginal.max_stretch_per_1pct_more > 0.01


def test_a_reps_range_of_years_under_smoothness_is_the_lps():
    """``year_range`` (Newton's method on the lattice's members) against the two LPs per rep
    (lowest and highest year) on random cells, years, steps and allowances; and the quarters
    ``quarters`` builds for a year in the range hold every limit and add up to it."""
    from scipy.optimize import linprog

    from optimizer.smoothness import quarters, year_range

    rng = np.random.default_rng(7)
    seen = {True: 0, False: 0}
    for _ in range(60):
        n, T = 6, int(rng.choice([2, 3, 4, 12]))
        lower = rng.uniform(0, 50, (n, T)) * (rng.random((n, T)) < 0.7)
        upper = lower + rng.uniform(0, 100, (n, T)) * (rng.random((n, T)) < 0.9)
        lo = np.where(rng.random(n) < 0.3, rng.uniform(0, 300, n), -np.inf)
        hi = np.where(rng.random(n) < 0.3, rng.uniform(100, 400, n), np.inf)
        k = float(rng.choice([0.0, 0.02, 0.075, 0.2, 0.5]))
        extra = np.where(rng.random(n) < 0.3, rng.uniform(0, 20, n), 0.0)
        least, most = year_range(lower, upper, lo, hi, k, extra)
        for i in range(n):
            rows, rhs = [], []
            for t in range(1, T):
                for sign in (1, -1):
                    row = -k * np.ones(T)
                    row[t] += sign
                    row[t - 1] -= sign
                    rows.append(row)
                    rhs.append(extra[i])
            if np.isfinite(hi[i]):
                rows.append(np.ones(T))
                rhs.append(hi[i])
            if np.isfinite(lo[i]):
                rows.append(-np.ones(T))
                rhs.append(-lo[i])
            cells = list(zip(lower[i], upper[i], strict=True))
            a, b = (
                linprog(c * np.ones(T), A_ub=np.array(rows), b_ub=rhs, bounds=cells)
                for c in (1, -1)
            )
            fits = a.status == 0
            seen[fits] += 1
            assert (least[i] <= most[i] + 1e-9 * upper[i].max()) == fits
            if fits:
                assert least[i] == pytest.approx(a.fun, rel=1e-9, abs=1e-9)
                assert most[i] == pytest.approx(-b.fun, rel=1e-9, abs=1e-9)
        ok = least <= most
        year = least[ok] + rng.random(ok.sum()) * (most[ok] - least[ok])
        q = quarters(lower[ok], upper[ok], k, extra[ok], year)
        tol = 1e-9 * upper[ok].max(axis=1, keepdims=True)
        assert (q >= lower[ok] - tol).all() and (q <= upper[ok] + tol).all()
        np.testing.assert_allclose(q.sum(axis=1), year, rtol=1e-12, atol=1e-9)
        step = k * year + extra[ok]
        assert (np.abs(np.diff(q, axis=1)) <= step[:, None] + tol).all()
    assert min(seen.values()) > 20  # both kinds of rep were tried


def test_smoothness_that_sets_the_level_is_solved_without_a_level_lp():
    """Every rep's last quarter is held back by smoothness (P50 100, 100, 100, 160 at 30%: a
    step of 34 at most), which sets the level; the phasing band does not bind. The level is
    the reps' own (a plan constructed there holds every row), no LP runs for it, and it is
    the level LP's: the highest year at stretch s is 100s + 100s + 100s + (100s + 0.075 x
    year), so year = 400s / 0.925, and 4 reps x that = the number."""
    p50 = np.array([[100, 100, 100, 160]] * 4, float)
    f, r = inputs(p50, q10=p50 * 0.5, q90=p50 * 2)
    limits = Limits(floor_quantile=0.1, phasing_band=0.5, max_increase=None, smoothness=0.3)
    total = 1600.0
    s = solve_plan(PlanSpec(f, r, total, "equal-stretch", limits)).summary
    assert s.max_stretch == pytest.approx(total / 4 * 0.925 / 400, rel=1e-8)
    assert list(s.solver.stages["level check"].algorithms) == [OWN_POINT.name]
    assert "level" not in s.solver.stages and "marginal" not in s.solver.stages
    assert s.marginal.max_stretch_at_plus_1pct == pytest.approx(s.max_stretch * 1.01, rel=1e-8)


def test_the_closeness_objective_is_the_pyomo_expression_it_is_compiled_from():
    """The plan's objective is an ordinary Pyomo expression: its value at any quotas is the one
    the compiler's numbers give, sum((quota - reference)^2 / (2 weight))."""
    import pyomo.environ as pyo

    from optimizer.inputs import prepare
    from optimizer.model import build_plan_model, closeness_value, declare_closeness

    p50 = np.array([[100, 110, 120, 130], [50, 60, 70, 80]], float)
    f, r = inputs(p50)
    spec = PlanSpec(f, r, 900.0, "equal-stretch", Limits(**FREE))
    data = prepare(spec)
    m = build_plan_model(data, spec.limits, spec.total)
    ref, w = p50 * 0.9, p50
    declare_closeness(m, ref, w)
    x = np.random.default_rng(3).uniform(0, 200, p50.shape)
    for v, value in zip(m.cells, (x / m.unit).ravel().tolist(), strict=True):
        v.set_value(value)
    want = (((x - ref) / m.unit) ** 2 / (2 * w / m.unit)).sum()
    assert pyo.value(m.closeness) == pytest.approx(want, rel=1e-12)
    assert closeness_value(m) == pytest.approx(want, rel=1e-12)


def test_a_common_stretch_few_reps_are_at_says_how_few():
    # r0 and r1 are capped 10% over their P50; r2 takes the rest of 1500 at stretch 1.55.
    p50 = np.full((3, 4), 100.0)
    q90 = np.array([[110.0] * 4, [110.0] * 4, [300.0] * 4])
    f, r = inputs(p50, q10=p50 * 0.5, q90=q90)
    s = plan(f, r, target=1500, **FREE).summary
    assert s.level.value == pytest.approx(1.55)
    assert s.level.reps_at_level == 1
    assert "Common stretch (quota / P50): 1.55 (at it: 1 of 3 reps;" in "\n".join(headline(s))
    # Everyone free: the level is everyone's, and the headline says no more.
    even = plan(f, r, target=900, **FREE).summary
    assert even.level.reps_at_level == 3
    assert "at it" not in "\n".join(headline(even))

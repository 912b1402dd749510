"""In-year flags: records computed for every rep at once, worded in one place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import QUARTERS, make_inputs

from inyear.actuals import by_quarter, plan_actuals
from inyear.flags import FLAGS, Flag, Thresholds, reason
from inyear.pacing import elapsed, plan_days, quota_matrix, standing
from inyear.tracking import track
from optimizer import Limits, PlanSpec
from optimizer.inputs import prepare, quantile_at
from optimizer.wording import money

FREE = Limits(floor_quantile=None, phasing_band=None, max_increase=None)


def company(n, quota=100.0, spread=0.5):
    f, r = make_inputs([[quota] * 4] * n, spread=spread)
    spec = PlanSpec(f, r, 4 * quota * n, "equal-stretch", FREE)
    q = pd.DataFrame(
        [{"rep_id": f"r{i}", "period": p, "quota": quota} for i in range(n) for p in QUARTERS]
    )
    return spec, q


@pytest.mark.parametrize(
    "kind, figures, words",
    [
        ("at_risk", {"chance": 0.12, "threshold": 0.2, "booked": 1500.0, "due": 2.5e6},
         "at risk: 12% chance of reaching the annual quota (under 20%); 1.50k booked of 2.50M "
         "due so far"),
        ("out_of_reach", {"need": 400.0, "level": 0.9, "top": 0.0},
         "out of reach: needs 400 more; even at P90 the rest of the year brings 0"),
        ("missed_quarters", {"quarters": (("2026Q1", 0.9), ("2026Q2", 0.95))},
         "missed 2 quarters in a row (2026Q1 at 90%, 2026Q2 at 95%)"),
        ("pull_forward", {"quarter": "2026Q1", "share": 1.5, "next_quarter": "2026Q2",
                          "next_share": 0.31},
         "pull-forward: 2026Q1 at 150% of quota, then 2026Q2 projected at 31%"),
        ("overload", {"need": 100.0, "quarter": "2026Q2", "cap_quantile": 0.9, "cap": 60.0},
         "overload: needs 100 in the rest of 2026Q2, more than the cap (P90) of what remains: 60"),
    ],
)  # fmt: skip
def test_each_kind_is_worded_from_its_figures(kind, figures, words):
    flag = Flag(0, "r0", kind, figures)
    assert reason(flag) == flag.reason == words


def test_the_rep_table_is_made_from_the_records():
    spec, q = company(3)
    a = pd.DataFrame(
        [{"rep_id": "r0", "period": f"2026-{m:02d}", "revenue": 0.0} for m in range(1, 6)]
        + [{"rep_id": "r2", "period": "2026-01", "revenue": 50.0}]
    )
    p = track(spec, q, a)
    reps = p.reps.set_index("rep_id")
    assert p.flags and all(isinstance(f, Flag) and f.kind in FLAGS for f in p.flags)
    assert [f.rep_id for f in p.flags] == sorted(f.rep_id for f in p.flags)
    for rep in reps.index:
        mine = [f for f in p.flags if f.rep_id == rep]
        assert reps.loc[rep, "flags"] == "; ".join(f.reason for f in mine)
        for k in FLAGS:
            assert reps.loc[rep, k] == any(f.kind == k for f in mine)
    assert p.summary.flagged == {k: int(reps[k].sum()) for k in FLAGS}


def test_two_pulled_forward_quarters_are_two_flags_in_quarter_order():
    spec, q = company(1)
    months = {"2026-03": 150, "2026-06": 50, "2026-09": 150, "2026-10": 1, "2026-11": 1}
    a = pd.DataFrame([{"rep_id": "r0", "period": m, "revenue": v} for m, v in months.items()])
    p = track(spec, q, a)
    pulled = [f for f in p.flags if f.kind == "pull_forward"]
    assert [f.figures["quarter"] for f in pulled] == ["2026Q1", "2026Q3"]
    assert pulled[0].figures["next_share"] == pytest.approx(0.5)  # Q2 closed at 50
    text = p.reps["flags"].iloc[0]
    assert text.index("pull-forward: 2026Q1") < text.index("pull-forward: 2026Q3")


def rep_by_rep(s, data, th, cap_quantile):
    """Every rep's reasons worked out one rep at a time (how flags were raised before they
    were vectorised): the reference the records must match."""
    Q, A, e, closed, current = s.quota, s.booked_by_quarter, s.elapsed, s.closed, s.current
    levels, label = data.levels, [str(p) for p in data.periods]
    top = s.rest.sum(axis=1)[:, -1]
    out = []
    for i in range(len(data.reps)):
        why = []
        behind = s.booked[i] < s.due[i] * (1 - 1e-9)
        if behind and s.p_year[i] < th.at_risk_below:
            why.append(f"at risk: {s.p_year[i]:.0%} chance of reaching the annual quota "
                       f"(under {th.at_risk_below:.0%}); {money(s.booked[i])} booked of "
                       f"{money(s.due[i])} due so far")  # fmt: skip
        if behind and s.need[i] > top[i] * (1 + 1e-9) and s.need[i] > 0:
            why.append(f"out of reach: needs {money(s.need[i])} more; even at "
                       f"P{levels[-1] * 100:g} the rest of the year brings {money(top[i])}")  # fmt: skip
        missed = 0
        for t in range(len(e) - 1, -1, -1):
            if not closed[t]:
                continue
            if A[i, t] < Q[i, t] * (1 - 1e-9):
                missed += 1
            else:
                break
        if missed >= th.missed_quarters:
            last = [t for t in range(len(e)) if closed[t]][-missed:]
            detail = ", ".join(f"{label[t]} at {A[i, t] / Q[i, t]:.0%}" for t in last)
            why.append(f"missed {missed} quarters in a row ({detail})")
        for t in range(len(e) - 1):
            if not closed[t] or Q[i, t] <= 0 or A[i, t] < Q[i, t] * (1 + th.pull_forward_above):
                continue
            nxt = A[i, t + 1] + float(quantile_at(levels, s.rest[i, t + 1], 0.5))
            if Q[i, t + 1] > 0 and nxt < Q[i, t + 1] * (1 - th.shortfall_after):
                why.append(f"pull-forward: {label[t]} at {A[i, t] / Q[i, t]:.0%} of quota, then "
                           f"{label[t + 1]} projected at {nxt / Q[i, t + 1]:.0%}")  # fmt: skip
        if behind and e[current] < 1 and s.need_quarter[i] > s.cap_rest[i] * (1 + 1e-9):
            why.append(f"overload: needs {money(s.need_quarter[i])} in the rest of "
                       f"{label[current]}, more than the cap (P{cap_quantile * 100:g}) of what "
                       f"remains: {money(s.cap_rest[i])}")  # fmt: skip
        out.append("; ".join(why))
    return out


def test_the_flags_for_every_rep_at_once_are_those_worked_out_rep_by_rep():
    rng = np.random.default_rng(3)
    spec, q = company(60, spread=0.3)
    rows = pd.DataFrame(
        [
            {"rep_id": f"r{i}", "period": f"2026-{m:02d}",
             "revenue": float(rng.choice([0, 5, 20, 40, 70, 150]))}
            for i in range(60) for m in range(1, 12)
        ]
    )  # fmt: skip
    th = Thresholds(missed_quarters=1)
    data = prepare(spec)
    booked = plan_actuals(rows, data, 1)
    days = plan_days(data.periods, 1, np.array([0.15, 0.25, 0.6]))
    kinds = set()
    for as_of in ("2026-02-14", "2026-05-31", "2026-08-20", "2026-11-30"):
        p = track(spec, q, rows, as_of=as_of, thresholds=th)
        at = pd.Timestamp(as_of)
        A = by_quarter(
            booked.rows[booked.rows["date"] <= at], days.set_index("date")["t"], data.reps
        )
        s = standing(data, quota_matrix(q, data), A, elapsed(days, at, 4), 0.9)
        assert p.reps["flags"].tolist() == rep_by_rep(s, data, th, 0.9), as_of
        kinds |= {f.kind for f in p.flags}
    assert kinds == set(FLAGS)  # the reference was put to work on every kind

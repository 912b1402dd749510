"""What the tests build their inputs from: small forecasts and rosters, random instances
(hypothesis strategies), HTTP request bodies and the checks of a problem answer. One home, so
no test module imports another."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

QUARTERS = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]

#: The limits the property tests plan within.
LIMITS = dict(floor_quantile=0.1, cap_quantile=0.9, phasing_band=0.2, max_increase=0.3)

#: Limits off, for cases worked by hand.
FREE = dict(floor_quantile=None, phasing_band=None, max_increase=None)


def inputs(p50, spread=0.5, q10=None, q90=None, **roster):
    """A forecast (reps ``r0, r1, ...`` x QUARTERS) and its roster: q10/q90 = p50 x (1 -/+
    ``spread``) unless given; ``roster`` columns per rep (team ``T``, region ``R``, active
    unless given)."""
    p50 = np.asarray(p50, float)
    q10 = p50 * (1 - spread) if q10 is None else np.asarray(q10, float)
    q90 = p50 * (1 + spread) if q90 is None else np.asarray(q90, float)
    reps = [f"r{i}" for i in range(len(p50))]
    rows = [
        {"rep_id": r, "period": q, "q10": q10[i, t], "q50": p50[i, t], "q90": q90[i, t]}
        for i, r in enumerate(reps)
        for t, q in enumerate(QUARTERS)
    ]
    base = {"rep_id": reps, "team": "T", "region": "R", "active": True}
    return pd.DataFrame(rows), pd.DataFrame({**base, **roster})


def make_inputs(p50, spread=0.5, team=None, last_year=None, ote=None):
    """:func:`inputs` with the roster's optional columns always present (NaN when not given)."""
    n = len(p50)
    return inputs(
        p50,
        spread,
        team=team or ["T"] * n,
        last_year_quota=last_year if last_year is not None else np.nan,
        ote=ote if ote is not None else np.nan,
    )


def actuals(values, quarters=("2026Q1",)):
    """Rows rep_id, period, revenue from reps x closed quarters."""
    return pd.DataFrame(
        [
            {"rep_id": f"r{i}", "period": q, "revenue": v}
            for i, row in enumerate(np.atleast_2d(values))
            for q, v in zip(quarters, row, strict=True)
        ]
    )


def quotas(p) -> np.ndarray:
    """A plan's quotas as reps x quarters."""
    return matrix(p).to_numpy()


def matrix(p) -> pd.DataFrame:
    return p.quotas.pivot(index="rep_id", columns="period", values="quota")


@st.composite
def instances(draw):
    """A random small company (2-7 reps, one team) and a number around its P50 total."""
    n = draw(st.integers(2, 7))
    p50 = np.array(
        draw(
            st.lists(st.lists(st.floats(10, 1000), min_size=4, max_size=4), min_size=n, max_size=n)
        )
    )
    spread = np.array(draw(st.lists(st.floats(0.2, 0.8), min_size=n, max_size=n)))[:, None]
    has_ly = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    ly_factor = np.array(draw(st.lists(st.floats(0.8, 1.5), min_size=n, max_size=n)))
    factor = draw(st.floats(0.75, 1.15))
    f, r = inputs(
        p50,
        q10=p50 * (1 - spread),
        q90=p50 * (1 + spread),
        last_year_quota=np.where(has_ly, p50.sum(axis=1) * ly_factor, np.nan),
        ote=np.nan,
    )
    return f, r, factor * p50.sum()


# --- the HTTP API ------------------------------------------------------------------------------


def tables(n: int = 6, names=None):
    """A forecast (P10/P50/P90) and roster of ``n`` reps in two teams, as JSON rows."""
    rng = np.random.default_rng(0)
    reps = names or [f"R{i:03d}" for i in range(n)]
    p50 = rng.uniform(80, 120, (len(reps), 4)) * 1000
    forecast = [
        {"rep_id": r, "period": q, "q10": v * 0.6, "q50": v, "q90": v * 1.5}
        for r, row in zip(reps, p50, strict=True)
        for q, v in zip(QUARTERS, row, strict=True)
    ]
    roster = [
        {"rep_id": r, "team": "A" if i % 2 else "B", "region": "EU", "active": True}
        for i, r in enumerate(reps)
    ]
    return forecast, roster, float(p50.sum())


def plan_body(**over):
    forecast, roster, total = tables()
    return {"scenario": "FY26", "target": total, "forecast": forecast, "roster": roster, **over}


def problem(resp, status):
    """The answer is a problem (RFC 9457) with ``status``, a title and a detail: its body."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def history(n: int = 6, start: int = 2024, years: int = 2):
    """A small quarterly history of ``n`` reps (those of :func:`tables`) as JSON rows, and the
    roster: enough to forecast ``start + years`` quickly."""
    rng = np.random.default_rng(1)
    _, roster, _ = tables(n)
    rows = [
        {
            "rep_id": r["rep_id"],
            "period": f"{y}Q{q}",
            "revenue": round(rng.uniform(60, 140) * 1e3, 2),
        }
        for r in roster
        for y in range(start, start + years)
        for q in range(1, 5)
    ]
    return rows, roster


def app_with_people(tmp_path, people: dict):
    """The HTTP API on a fresh SQLite file with a token per person: ``people`` maps a name to
    (role, scope); the token of ``name`` is ``s-<name>`` (see :func:`bearer`)."""
    from api.app import create_app
    from api.auth import digest

    lines = [
        f"{role} {name} sha256:{digest('s-' + name)}" + (f" {scope}" if scope else "")
        for name, (role, scope) in people.items()
    ]
    (tmp_path / "tokens.txt").write_text("\n".join(lines) + "\n")
    return create_app(
        {"DATABASE": str(tmp_path / "q.db"), "TOKENS_FILE": str(tmp_path / "tokens.txt")}
    )


def bearer(name: str) -> dict:
    """The headers of a request made with ``name``'s token (:func:`app_with_people`)."""
    return {"Authorization": f"Bearer s-{name}"}

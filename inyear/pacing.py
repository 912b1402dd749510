"""Pacing: the quota due by a day and where each rep is heading.

- **Due to date**: each quarter's quota phased inside the quarter by the within-quarter shape
  (months in the proportions learned from monthly history by
  :func:`datasets.history.month_shape`, or the common 15/25/60 hockey stick; days within a
  month evenly), never flat.
- **Projection**: the forecast of what remains, scaled by the rep's pace against their own
  forecast so far, trusted in proportion to the share of the year gone (credibility
  weighting), plus what has been booked; and the chance of reaching the annual and the current
  quarter's quota under it.

All of it for every rep at once, as arrays (reps x quarters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.periods import quarter_freq
from optimizer.errors import SpecError
from optimizer.explain import attain_probability
from optimizer.inputs import PlanData, quantile_at


def plan_days(periods, fiscal_year_start: int, shape=None) -> pd.DataFrame:
    """Every day of the plan's quarters: ``date``, quarter index ``t`` and, given the month
    ``shape``, ``weight``: the day's share of its quarter (its month's share spread evenly over
    the month's days)."""
    freq = quarter_freq(fiscal_year_start)
    frames = []
    for t, label in enumerate(periods):
        q = pd.Period(label, freq=freq)
        start, end = q.start_time.normalize(), q.end_time.normalize()
        days = pd.date_range(start, end, freq="D")
        frames.append(pd.DataFrame({"date": days, "t": t}))
    days = pd.concat(frames, ignore_index=True)
    if shape is not None:
        month_of = days["date"].dt.to_period("M")
        q_start = days.groupby("t")["date"].transform("min").dt.to_period("M")
        pos = np.asarray((month_of - q_start).map(lambda d: d.n), int)
        per_month = days.groupby([days["t"], pos])["date"].transform("count").to_numpy()
        days["weight"] = shape[pos] / per_month
    return days


def month_shares(shape) -> np.ndarray:
    """The within-quarter shape as three month shares adding to 1 (refused otherwise)."""
    shape = np.asarray(shape, float)
    if shape.shape != (3,) or (shape < 0).any() or not np.isclose(shape.sum(), 1):
        raise SpecError(f"shape must be three month shares adding to 1, got {shape}")
    return shape


def quota_matrix(quotas: pd.DataFrame, data: PlanData) -> np.ndarray:
    """The plan's quotas (``rep_id, period, quota``) as reps x quarters, every cell given."""
    need = {"rep_id", "period", "quota"} - set(quotas.columns)
    if need:
        raise SpecError(f"the plan's quotas lack column(s) {', '.join(sorted(need))}")
    m = quotas.assign(rep_id=quotas["rep_id"].astype(str)).pivot_table(
        index="rep_id", columns="period", values="quota", aggfunc="sum"
    )
    m = m.reindex(index=data.reps, columns=data.periods)
    if m.isna().any().any():
        holes = m.isna().stack()
        where = [f"{r} {p}" for (r, p), v in holes.items() if v][:5]
        raise SpecError(
            f"the plan has no quota for {', '.join(where)}: track the plan made from this forecast"
        )
    return m.to_numpy(float)


def elapsed(days: pd.DataFrame, as_of: pd.Timestamp, quarters: int) -> np.ndarray:
    """The share of each quarter gone by ``as_of`` (by the days' weights), in [0, 1]."""
    gone = days[days["date"] <= as_of].groupby("t")["weight"].sum().reindex(range(quarters))
    return np.clip(gone.fillna(0.0).to_numpy(), 0.0, 1.0)


@dataclass(frozen=True)
class Standing:
    """Where every rep stands (arrays over reps, or reps x quarters).

    ``quota`` and ``booked_by_quarter`` (reps x quarters); ``elapsed`` (per quarter, the share
    gone), ``closed`` and ``current`` (the quarter in progress, or the last); ``gone`` (the
    share of the year's forecast gone); per rep ``due``, ``booked``, ``annual``, ``pace``
    (booked / due), ``projected`` (year-end), ``p_year`` and ``p_quarter`` (chances of the
    annual and the current quarter's quota), ``need`` and ``need_quarter`` (what is left to
    reach them), ``rest`` (reps x quarters x levels: the quantiles of what is still to come),
    ``cap_rest`` (the cap quantile of what remains of the current quarter)."""

    quota: np.ndarray
    booked_by_quarter: np.ndarray
    elapsed: np.ndarray
    closed: np.ndarray
    current: int
    gone: float
    due: np.ndarray
    booked: np.ndarray
    annual: np.ndarray
    pace: np.ndarray
    projected: np.ndarray
    p_year: np.ndarray
    p_quarter: np.ndarray
    need: np.ndarray
    need_quarter: np.ndarray
    rest: np.ndarray
    cap_rest: np.ndarray

    @property
    def behind(self) -> np.ndarray:
        """Reps who have booked less than their phased quota so far."""
        return self.booked < self.due * (1 - 1e-9)


def standing(
    data: PlanData, Q: np.ndarray, A: np.ndarray, e: np.ndarray, cap_quantile: float
) -> Standing:
    """Pacing and projection from the quotas ``Q``, the bookings ``A`` (reps x quarters) and
    the share ``e`` of each quarter gone; ``cap_quantile``: the plan's cap."""
    T = len(e)
    closed = e >= 1 - 1e-12
    current = int(np.argmax(e < 1 - 1e-12)) if (~closed).any() else T - 1
    levels, quant = data.levels, data.quantiles  # (n, T, L)
    p50 = data.p50
    due = Q @ e  # phased quota to date
    booked = A.sum(axis=1)
    annual = Q.sum(axis=1)
    ratio = np.nan_to_num(ratio_of(booked, p50 @ e), nan=1.0)
    # Credibility: the pace against the rep's own forecast counts as much as the year is gone.
    gone = float((p50.sum(axis=0) * e).sum() / max(p50.sum(), 1e-300))
    factor = np.maximum(1 + gone * (ratio - 1), 0.0)
    rest = quant * (1 - e)[None, :, None] * factor[:, None, None]  # (n, T, L) still to come
    rest_year = rest.sum(axis=1)  # comonotone quarters: quantiles add up
    need = annual - booked
    need_quarter = Q[:, current] - A[:, current]
    return Standing(
        quota=Q,
        booked_by_quarter=A,
        elapsed=e,
        closed=closed,
        current=current,
        gone=gone,
        due=due,
        booked=booked,
        annual=annual,
        pace=ratio_of(booked, due),
        projected=booked + quantile_at(levels, rest_year, 0.5),
        p_year=attain_probability(need, levels, rest_year),
        p_quarter=attain_probability(need_quarter, levels, rest[:, current, :]),
        need=need,
        need_quarter=need_quarter,
        rest=rest,
        cap_rest=data.quantile(cap_quantile)[:, current] * (1 - e[current]),
    )


def ratio_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b where b > 0, NaN elsewhere."""
    return np.divide(a, b, out=np.full(np.shape(a), np.nan), where=np.asarray(b) > 0)


def phased(Q, days: pd.DataFrame, data: PlanData, booked: pd.DataFrame, grain: str):
    """Per rep and month (or week): the phased quota and what was booked in it."""
    freq = "M" if grain == "month" else "W-SUN"
    bucket = days["date"].dt.to_period(freq).astype(str)
    w = days.assign(bucket=bucket).groupby(["t", "bucket"])["weight"].sum().reset_index()
    rows = []
    for t, g in w.groupby("t"):
        part = np.outer(Q[:, t], g["weight"].to_numpy())  # (n, buckets)
        rows.append(
            pd.DataFrame(
                {
                    "rep_id": np.repeat(data.reps, len(g)),
                    "period": data.periods[t],
                    grain: np.tile(g["bucket"].to_numpy(), len(data.reps)),
                    "quota": part.ravel(),
                }
            )
        )
    # A week across a quarter's end is split: a row in each quarter.
    table = pd.concat(rows).sort_values(["rep_id", "period", grain], kind="stable")
    t_of = days.set_index("date")["t"]
    b = booked.assign(
        period=data.periods[t_of.loc[booked["date"]].to_numpy()],
        **{grain: booked["date"].dt.to_period(freq).astype(str)},
    )
    sold = b.groupby(["rep_id", "period", grain])["revenue"].sum().rename("actual")
    return table.join(sold, on=["rep_id", "period", grain]).reset_index(drop=True)

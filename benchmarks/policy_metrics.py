"""How good a set of quotas was, judged by what the reps then sold.

``score(quotas, actuals, ...)`` takes a plan (``rep_id, period, quota``) and the year's actual
bookings (``rep_id, period, revenue``) and returns one row of metrics: the share of reps
attaining their annual quota and each quarter's, company attainment, quota-vs-actual WAPE, the
spread of attainment across reps (std and Gini), reps whose quota exceeded their realistic cap,
ratchet violations and quarters where the company total was pulled forward.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A rep whose annual quota is under this share of the median rep's is not on quota (a hire
#: starting in the plan year's last weeks): left out of the per-rep attainment metrics, where a
#: quota of a few dollars would read as an attainment in the thousands.
ON_QUOTA_SHARE = 0.01

#: A quarter is pulled forward when its share of the year's quota is this much (relative)
#: above its share of what was actually sold, in any quarter but the last.
PULL_FORWARD_TOLERANCE = 0.10


def gini(values) -> float:
    """Gini coefficient of non-negative values (0: all equal; 1: one has everything)."""
    x = np.sort(np.asarray(values, float))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def score(
    quotas: pd.DataFrame,
    actuals: pd.DataFrame,
    *,
    caps: pd.DataFrame | None = None,
    last_year_quota: pd.Series | None = None,
    max_increase: float | None = None,
) -> dict:
    """Metrics of one plan against one year's actuals.

    Parameters
    ----------
    quotas : ``rep_id, period, quota`` (every rep the plan covers, every quarter).
    actuals : ``rep_id, period, revenue``; a planned rep-quarter missing here sold nothing.
    caps : ``rep_id, period, cap``: the realistic cap (forecast's high quantile) per cell; a rep
        is over their cap when any quarter's quota exceeds it.
    last_year_quota : per rep (index rep_id); with ``max_increase``, a rep whose annual quota
        rose by more than that is a ratchet violation.

    The shares attaining and the spread of attainment count the reps on quota only (see
    :data:`ON_QUOTA_SHARE`; how many were not is ``reps_not_on_quota``); company attainment,
    WAPE, caps and ratchets count everyone.
    """
    q = quotas[["rep_id", "period", "quota"]].merge(
        actuals[["rep_id", "period", "revenue"]], on=["rep_id", "period"], how="left"
    )
    q["revenue"] = q["revenue"].fillna(0.0)
    everyone = q.groupby("rep_id")[["quota", "revenue"]].sum()
    on_quota = everyone["quota"] >= ON_QUOTA_SHARE * everyone["quota"].median()
    annual = everyone[on_quota & (everyone["quota"] > 0)]
    att = annual["revenue"] / annual["quota"]
    hit_q = q[q["rep_id"].isin(annual.index) & (q["quota"] > 0)]
    hit_q = hit_q.assign(hit=hit_q["revenue"] >= hit_q["quota"])
    out = {
        "reps": int(len(everyone)),
        "reps_not_on_quota": int(len(everyone) - len(annual)),
        "share_attaining_annual": float((annual["revenue"] >= annual["quota"]).mean()),
        "share_attaining_quarter": float(hit_q["hit"].mean()) if len(hit_q) else float("nan"),
        "company_attainment": float(everyone["revenue"].sum() / everyone["quota"].sum()),
        "wape": float((q["quota"] - q["revenue"]).abs().sum() / q["revenue"].sum()),
        "attainment_std": float(att.std(ddof=0)),
        "attainment_gini": gini(att.dropna().clip(lower=0)),
        "reps_over_cap": float("nan"),  # not measured without caps
        "ratchet_violations": float("nan"),  # nor without last year's quotas
    }
    for period, g in hit_q.groupby("period"):
        out[f"share_attaining_{period}"] = float(g["hit"].mean())
    if caps is not None:
        c = q.merge(caps[["rep_id", "period", "cap"]], on=["rep_id", "period"], how="left")
        over = c["quota"] > c["cap"] * (1 + 1e-9)
        out["reps_over_cap"] = int(c.loc[over, "rep_id"].nunique())
    if last_year_quota is not None and max_increase is not None:
        ly = last_year_quota.reindex(everyone.index)
        known = ly.notna() & (ly > 0)
        out["ratchet_violations"] = int(
            (everyone["quota"][known] > ly[known] * (1 + max_increase) * (1 + 1e-9)).sum()
        )
    by_q = q.groupby("period")[["quota", "revenue"]].sum().sort_index()
    share_q = by_q["quota"] / by_q["quota"].sum()
    share_a = by_q["revenue"] / by_q["revenue"].sum()
    early = share_q.index[:-1]
    out["quarters_pulled_forward"] = int(
        (share_q[early] > share_a[early] * (1 + PULL_FORWARD_TOLERANCE)).sum()
    )
    return out

"""How two plans of the same company differ, rep by rep: the one comparison behind a re-plan's
``change`` column, an adjustment's moves, a relief proposal and ``GET /v1/plans/{a}/compare/{b}``.
"""

from __future__ import annotations

import pandas as pd


def annual_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Every rep of either rep table (``rep_id``, ``annual_quota``), sorted by rep: ``before``,
    ``after`` (NaN where the rep is not in that plan), ``change`` (after minus before) and
    ``relative`` (the change over a positive ``before``, else NaN)."""
    a = before.set_index("rep_id")["annual_quota"].astype(float).rename("before")
    b = after.set_index("rep_id")["annual_quota"].astype(float).rename("after")
    out = pd.concat([a, b], axis=1).sort_index()
    out.index.name = "rep_id"
    out["change"] = out["after"] - out["before"]
    out["relative"] = out["change"] / out["before"].where(out["before"] > 0)
    return out

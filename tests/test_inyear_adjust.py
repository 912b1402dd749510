"""inyear.adjust's record of what an adjustment moves."""

import pandas as pd

from inyear.adjust import QuotaChange, changes


def test_a_stored_change_reads_back_as_the_change_it_was():
    before = pd.DataFrame({"rep_id": ["a", "b", "c"], "annual_quota": [100.0, 200.0, 300.0]})
    after = before.assign(annual_quota=[120.0, 180.0, 300.0], team="T1")
    moved = changes(before, after)
    assert [c.rep_id for c in moved] == ["a", "b"]  # c did not move
    assert moved[1].delta == -20.0 and moved[1].team == "T1"
    assert tuple(QuotaChange.from_dict(c.to_dict()) for c in moved) == moved
    # what an older adjustment stored: rep, before and after only
    old = QuotaChange.from_dict({"rep_id": "a", "before": 100, "after": 120})
    assert old.delta == 20.0 and old.team is None and old.binding is None

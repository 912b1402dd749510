"""Policy metrics on tiny cases computed by hand."""

import pandas as pd
import pytest

from benchmarks.policy_metrics import gini, score

Q = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]


def table(rows: dict, col: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"rep_id": r, "period": p, col: v}
            for r, vals in rows.items()
            for p, v in zip(Q, vals, strict=True)
        ]
    )


def test_gini_by_hand():
    assert gini([1, 1, 1, 1]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)  # (n-1)/n with one holder
    assert gini([1, 3]) == pytest.approx(0.25)  # mean abs difference 2 / (2 x 2 x mean 2)


def test_score_by_hand():
    quotas = table({"a": [10, 10, 10, 10], "b": [20, 20, 20, 20]}, "quota")
    # a sells 51 (attains 127.5%), b sells 60 (75%); b's Q4 row is missing: it sold nothing.
    actuals = table({"a": [5, 16, 10, 20], "b": [30, 10, 20, 0]}, "revenue")
    actuals = actuals[~((actuals["rep_id"] == "b") & (actuals["period"] == "2025Q4"))]
    caps = table({"a": [12, 12, 12, 12], "b": [25, 25, 19, 25]}, "cap")
    m = score(
        quotas,
        actuals,
        caps=caps,
        last_year_quota=pd.Series({"a": 40.0, "b": 50.0}),
        max_increase=0.25,
    )
    assert m["reps"] == 2
    assert m["share_attaining_annual"] == 0.5  # a only
    # Quarters hit: a Q2, Q3, Q4; b Q1, Q3 -> 5 of 8.
    assert m["share_attaining_quarter"] == pytest.approx(5 / 8)
    assert m["share_attaining_2025Q1"] == 0.5 and m["share_attaining_2025Q4"] == 0.5
    assert m["company_attainment"] == pytest.approx(111 / 120)
    # |10-5|+|10-16|+0+|10-20| + |20-30|+|20-10|+0+|20-0| = 21 + 40 = 61 over 111 sold.
    assert m["wape"] == pytest.approx(61 / 111)
    assert m["attainment_std"] == pytest.approx(0.2625)  # 1.275 and 0.75
    # Gini of two values: |x1 - x2| / (4 x mean) = 0.525 / (4 x 1.0125).
    assert m["attainment_gini"] == pytest.approx(0.525 / (4 * 1.0125))
    assert m["reps_over_cap"] == 1  # b's Q3 quota 20 > cap 19
    assert m["ratchet_violations"] == 1  # b: 80 > 50 x 1.25; a: 40 = 40
    # Quota shares are 1/4 each; actual shares 35/111, 26/111, 30/111, 20/111: the first three
    # quarters' shares x 1.1 are all above 0.25, so none is pulled forward.
    assert m["quarters_pulled_forward"] == 0


def test_front_loaded_quotas_are_pulled_forward():
    quotas = table({"a": [40, 30, 20, 10]}, "quota")
    actuals = table({"a": [25, 25, 25, 25]}, "revenue")
    m = score(quotas, actuals)
    assert m["quarters_pulled_forward"] == 2  # Q1 0.4 and Q2 0.3 > 0.25 x 1.1; Q3 0.2 is not


def test_a_rep_with_a_token_quota_is_not_on_quota():
    # c starts in the year's last weeks: a quota of 0.04 (under 1% of the median 80) and 9 sold.
    quotas = table({"a": [10, 10, 10, 10], "b": [20, 20, 20, 20], "c": [0, 0, 0, 0.04]}, "quota")
    actuals = table({"a": [10, 10, 10, 10], "b": [10, 10, 10, 10], "c": [0, 0, 0, 9]}, "revenue")
    m = score(quotas, actuals)
    assert m["reps"] == 3 and m["reps_not_on_quota"] == 1
    assert m["attainment_std"] == pytest.approx(0.25)  # a 1.0, b 0.5; not c's 225
    assert m["share_attaining_annual"] == 0.5
    assert m["share_attaining_2025Q4"] == 0.5
    assert m["company_attainment"] == pytest.approx(89 / 120.04)  # everyone

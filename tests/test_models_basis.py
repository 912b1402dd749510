"""models.basis: the words of a forecast's basis column."""

import numpy as np
import pytest

from datasets import load_company
from datasets.adventureworks import load_adventureworks_oltp
from models import QuantileForecaster
from models.basis import basis_words


def test_a_blend_with_the_team_says_first_quarters_only_for_a_recent_start():
    # Both reps' levels are 84% their own; one started years ago (a noisy history), one lately.
    words = basis_words(
        has_history=np.array([True, True]),
        hire_date=np.array(["2011-05-31", "2013-05-30"], dtype=object),
        inferred=np.array([False, False]),
        own_share=np.array([0.84, 0.84]),
        exposure=np.ones((2, 1)),
        recent=np.array([False, True]),
    )
    assert words[0, 0] == "own history (84%) blended with the team median"
    assert (
        words[1, 0]
        == "first quarters since the start on 2013-05-30 (84%) blended with the team median"
    )


@pytest.mark.slow
def test_adventureworks_reps_of_two_years_standing_are_not_called_new(shared_data):
    # FY2014 forecast from FY2011-FY2013: 275 sold from 2011, 288 started on 2013-05-30.
    aw = load_adventureworks_oltp(shared_data)
    history = aw.history[aw.history["period"] <= "2013Q4"]
    company = load_company(history, aw.roster, fiscal_year_start=aw.fiscal_year_start)
    f = QuantileForecaster(random_state=0).fit(company).predict(2014)
    basis = f[f["period"] == "2014Q1"].set_index("rep_id")["basis"]
    assert not basis["275"].startswith("first quarters")
    assert basis["275"].startswith("own history")
    assert basis["288"].startswith("first quarters since the start on 2013-05-30")

"""Planning again without fitting again: a plan from a stored forecast (another number, other
limits) fits nothing and answers well under a second on the bundled sample; a plan made from
history is rebuilt (re-plan, adjustment preview, tracking) from the forecast it was made with,
and gives what fitting again gives."""

from __future__ import annotations

import io
import json
import statistics
import time

import pandas as pd
import pytest
from builders import history

from api import work
from api.app import create_app
from api.storage import ForecastMemo
from datasets.bundled import HISTORY_CSV, ROSTER_CSV


@pytest.fixture
def app(tmp_path):
    return create_app({"DATABASE": str(tmp_path / "q.db")})


@pytest.fixture
def fits(monkeypatch):
    """How many times the forecaster is fitted (each call of ``api.work.forecast_table``)."""
    calls = []
    real = work.forecast_table

    def counted(*args, **kwargs):
        calls.append(args[2] if len(args) > 2 else kwargs.get("year"))
        return real(*args, **kwargs)

    monkeypatch.setattr(work, "forecast_table", counted)
    return calls


@pytest.mark.slow
def test_plans_from_a_stored_forecast_of_the_sample_fit_nothing_and_are_quick(app, fits):
    c = app.test_client()
    files = {
        "history": (io.BytesIO(HISTORY_CSV.read_bytes()), "history.csv"),
        "roster": (io.BytesIO(ROSTER_CSV.read_bytes()), "roster.csv"),
    }
    fc = c.post("/v1/forecasts", data=files, content_type="multipart/form-data")
    assert fc.status_code == 201, fc.get_data(as_text=True)
    assert len(fits) == 1
    roster = json.loads(pd.read_csv(ROSTER_CSV).to_json(orient="records"))
    roster = [{k: v for k, v in r.items() if not k.startswith("fte_")} for r in roster]
    seconds = []
    for i, (target, over) in enumerate([("80M", 0.05), ("78M", 0.05), ("82M", 0.06),
                                        ("79M", 0.04), ("81M", 0.07), ("80.5M", 0.05)]):  # fmt: skip
        body = {"scenario": "FY26", "target": target, "forecast_id": fc.get_json()["id"],
                "roster": roster, "limits": {"over_assignment": over, "max_increase": 0.3}}  # fmt: skip
        start = time.perf_counter()
        resp = c.post("/v1/plans", json=body)
        seconds.append(time.perf_counter() - start)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        assert resp.get_json()["version"] == i + 1
    assert len(fits) == 1  # nothing fitted again
    median = statistics.median(seconds[1:])  # the first warms the process up
    print(f"plans from the stored forecast: median {median:.3f} s of {seconds[1:]}")
    assert median < 10.0  # generous: a sanity bound, not a speed target (benchmarks time it)


@pytest.mark.slow
def test_a_plan_from_history_is_rebuilt_from_the_forecast_it_was_made_with(app, fits):
    c = app.test_client()
    rows, roster = history()
    body = {"scenario": "h", "target": "2.4M", "history": rows, "roster": roster, "year": 2026}
    plan = c.post("/v1/plans", json=body)
    assert plan.status_code == 201, plan.get_data(as_text=True)
    plan = plan.get_json()
    assert fits == [2026]
    # The same history again with another number: not fitted again.
    again = c.post("/v1/plans", json={**body, "target": "2.3M"})
    assert again.status_code == 201 and fits == [2026]
    rep = plan["reps"][1]
    adjust = {"rep_id": rep["rep_id"], "annual_quota": rep["annual_quota"] * 0.98, "reason": "x y"}
    preview = c.post(f"/v1/plans/{plan['id']}/adjustments/preview", json=adjust)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    q1 = [{"rep_id": q["rep_id"], "period": q["period"], "revenue": q["quota"] * 0.9}
          for q in plan["quotas"] if q["period"] == "2026Q1"]  # fmt: skip
    memo = c.post(f"/v1/plans/{plan['id']}/replan", json={"actuals": q1})
    assert memo.status_code == 201, memo.get_data(as_text=True)
    assert fits == [2026]  # rebuilt three times, fitted once
    # What the remembered forecast gives is what fitting again gives.
    with app.extensions["quotaplan.store"].writing.begin() as s:
        s.query(ForecastMemo).delete()
    fresh = c.post(f"/v1/plans/{plan['id']}/replan", json={"actuals": q1})
    assert fresh.status_code == 201 and fits == [2026, 2026]
    a, b = memo.get_json(), fresh.get_json()
    assert [q["quota"] for q in a["quotas"]] == pytest.approx(
        [q["quota"] for q in b["quotas"]], rel=1e-9
    )
    assert [r["binding"] for r in a["reps"]] == [r["binding"] for r in b["reps"]]
    preview_fresh = c.post(f"/v1/plans/{plan['id']}/adjustments/preview", json=adjust)
    for x, y in zip(preview_fresh.get_json()["changes"], preview.get_json()["changes"],
                    strict=True):  # fmt: skip
        assert (x["rep_id"], x["binding"]) == (y["rep_id"], y["binding"])
        assert x["after"] == pytest.approx(y["after"], rel=1e-9)


def test_a_remembered_forecast_is_keyed_by_the_forecasters_code(tmp_path, monkeypatch):
    """A change to the code that makes a forecast (not only a new release) keys a new memo."""
    from api.service.forecasts import FORECAST_CODE, forecaster_code_version

    package = tmp_path / "fakeforecaster"
    package.mkdir()
    (package / "__init__.py").write_text("LEVEL = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = forecaster_code_version(("fakeforecaster",))
    forecaster_code_version.cache_clear()
    assert forecaster_code_version(("fakeforecaster",)) == first  # the same code, the same key
    (package / "__init__.py").write_text("LEVEL = 2\n")
    forecaster_code_version.cache_clear()
    assert forecaster_code_version(("fakeforecaster",)) != first
    assert set(FORECAST_CODE) == {"datasets", "models"}
    assert len(forecaster_code_version()) == 16

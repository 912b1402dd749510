"""Storage on a real SQLite file, and on PostgreSQL where ``QUOTAPLAN_TEST_POSTGRES_URL`` names one
(``.ci/run`` starts a local server and sets it)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.storage import Base, Store, VersionConflict

POSTGRES = os.environ.get("QUOTAPLAN_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path / 'quotaplan.db'}")
        return
    if not POSTGRES:
        pytest.skip("set QUOTAPLAN_TEST_POSTGRES_URL to run the storage tests on PostgreSQL")
    s = Store(POSTGRES)
    Base.metadata.drop_all(s.engine)
    Base.metadata.create_all(s.engine)
    yield s
    s.engine.dispose()


def add(store, scenario="FY26", **kw):
    return store.add_plan(
        scenario,
        kind="plan",
        created_by="test",
        request={"target": 100.0, "roster": [{"rep_id": "R1"}]},
        summary={"policy": "equal-stretch", "total_quota": 100.0, "nested": {"a": [1, None]}},
        quotas=[{"rep_id": "R1", "period": "2026Q1", "quota": 25.0}],
        reps=[{"rep_id": "R1", "annual_quota": 100.0}],
        **kw,
    )


def test_plans_are_versioned_and_never_overwritten(store):
    a, b = add(store), add(store)
    assert (a.version, b.version) == (1, 2)
    got = store.plan(a.id)
    assert got.scenario_name == "FY26" and got.summary["nested"] == {"a": [1, None]}
    assert got.request["roster"] == [{"rep_id": "R1"}]
    assert [p.version for p in store.plans("FY26")] == [1, 2]
    assert store.plans("none") is None and store.plan(999) is None
    assert store.scenarios()[0][:2] == ("FY26", 2)


def test_a_stale_base_version_is_a_conflict_and_stores_nothing(store):
    add(store)
    add(store, base_version=1)
    with pytest.raises(VersionConflict, match="at version 2, not 1"):
        add(store, base_version=1)
    assert len(store.plans("FY26")) == 2


def test_concurrent_writers_get_distinct_versions(store):
    with ThreadPoolExecutor(max_workers=8) as pool:
        recs = list(pool.map(lambda _: add(store, scenario="race"), range(40)))
    assert sorted(r.version for r in recs) == list(range(1, 41))
    assert len(store.plans("race")) == 40

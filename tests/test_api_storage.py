"""Storage on a real SQLite file, and on PostgreSQL where ``QUOTAPLAN_TEST_POSTGRES_URL`` names one
(``.ci/run`` starts a local server and sets it)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.storage import Base, StateConflict, Store, VersionConflict, _append_only

POSTGRES = os.environ.get("QUOTAPLAN_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path / 'quotaplan.db'}")
        return
    if not POSTGRES:
        pytest.skip("set QUOTAPLAN_TEST_POSTGRES_URL to run the storage tests on PostgreSQL")
    # One database for every test: tests on other xdist workers wait their turn (two at once
    # dropped and created the same tables: a duplicate pg_type row).
    lock = sqlalchemy.create_engine(POSTGRES, poolclass=sqlalchemy.pool.NullPool)
    with lock.connect() as turn:
        turn.exec_driver_sql("SELECT pg_advisory_lock(4242)")
        try:
            s = Store(POSTGRES)
            Base.metadata.drop_all(s.engine)
            Base.metadata.create_all(s.engine)
            _append_only(s.engine)
            yield s
        finally:
            turn.exec_driver_sql("SELECT pg_advisory_unlock(4242)")
            turn.commit()
    s.engine.dispose()
    lock.dispose()


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


def test_reads_do_not_wait_for_a_writer(store):
    """A read (health's ping, a GET) answers while another process's write transaction holds
    the write lock; on SQLite every read used to begin with BEGIN IMMEDIATE and waited."""
    rec = add(store)
    done = threading.Event()

    def reads():
        store.ping()
        assert store.plan(rec.id).version == 1 and len(store.plans("FY26")) == 1
        assert store.has_tokens() is False and store.scenarios()[0][0] == "FY26"
        done.set()

    with store.writing.begin() as s:
        s.execute(text("UPDATE plans SET content_rev = content_rev WHERE id = :i"), {"i": rec.id})
        reader = threading.Thread(target=reads, daemon=True)
        reader.start()
        waited = done.wait(timeout=10)
    reader.join(timeout=30)
    assert waited, "a read waited for the write transaction to end"


def test_a_token_added_while_serving_closes_open_mode_and_revoking_it_does_not_reopen(store):
    """has_tokens is asked again while false (a token made with `quotaplan token new` while the
    server runs ends open mode at once) and kept once true (revoked tokens count)."""
    other = Store(store.url)  # another worker process's store
    assert store.has_tokens() is False and other.has_tokens() is False
    other.add_token(name="pat", role="planner", digest="d" * 64)
    assert store.has_tokens() is True
    assert store.revoke_token("pat") == 1 and store.has_tokens() is True
    assert store.token("d" * 64).revoked_at is not None
    other.engine.dispose()


def test_the_audit_log_is_append_only_and_written_with_the_change(store):
    rec = add(store)
    moved = store.move(rec.id, "draft", "in_review", "pat", "ready")
    assert moved.state == "in_review"
    log = store.audit([rec.id])
    assert [e.action for e in log] == ["plan:plan", "state:in_review"]
    assert (log[1].who, log[1].before, log[1].after, log[1].why) == (
        "pat", {"state": "draft"}, {"state": "in_review"}, "ready",
    )  # fmt: skip
    with pytest.raises(StateConflict):  # someone moved it first: nothing written
        store.move(rec.id, "draft", "in_review", "sam", "me too")
    assert len(store.audit([rec.id])) == 2
    for sql in ("UPDATE audit SET who = 'x'", "DELETE FROM audit"):
        with pytest.raises(DBAPIError, match="append-only"):
            with store.engine.begin() as conn:
                conn.execute(text(sql))
    assert len(store.audit([rec.id])) == 2


def test_a_database_from_before_plan_states_is_upgraded(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    first = Store(f"sqlite:///{path}")
    add(first)
    first.engine.dispose()
    conn = sqlite3.connect(path)  # as the first release left it: no state columns
    conn.execute("ALTER TABLE plans DROP COLUMN state")
    conn.execute("ALTER TABLE plans DROP COLUMN content_rev")
    conn.commit()
    conn.close()
    again = Store(f"sqlite:///{path}")
    rec = again.plan(1)
    assert (rec.state, rec.content_rev) == ("draft", 0)
    assert again.move(1, "draft", "in_review", "pat", "").state == "in_review"

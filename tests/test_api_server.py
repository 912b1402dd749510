"""The API on its production server: a real ``quotaplan serve`` process on a loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.app import create_app
from api.serve import check_binding, is_loopback
from benchmarks.bench_api import call, plan_request, sample_plan, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``quotaplan serve`` on a free loopback port, with its own SQLite file."""
    with serve(tmp_path_factory.mktemp("serve") / "quotaplan.db") as url:
        yield url


@pytest.mark.slow
def test_the_real_server_plans_and_stores_50_concurrent_requests_of_500_reps(server):
    status, body = call(server, "GET", "/v1/health")
    assert status == 200 and body["database"] == "ok"
    requests = [plan_request(500, f"load-{i % 5}", seed=i) for i in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda b: call(server, "POST", "/v1/plans", b), requests))
    assert [s for s, _ in results] == [201] * 50, [b.get("detail") for s, b in results if s != 201]
    for scenario in (f"load-{k}" for k in range(5)):
        status, listed = call(server, "GET", f"/v1/scenarios/{scenario}/plans")
        assert status == 200
        assert [p["version"] for p in listed["plans"]] == list(range(1, 11))
    ids = {b["id"] for _, b in results}
    assert len(ids) == 50
    status, one = call(server, "GET", f"/v1/plans/{min(ids)}")
    assert status == 200 and len(one["reps"]) == 500


@pytest.mark.slow
def test_health_answers_while_the_server_plans_from_history(server):
    """The suite checks only that it answers (generously); benchmarks/bench_api.py measures how
    fast under load."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        plans = [pool.submit(sample_plan, server, "busy")]
        answered = []
        while not all(p.done() for p in plans):
            t0 = time.perf_counter()
            status, body = call(server, "GET", "/v1/health")
            answered.append((status, time.perf_counter() - t0))
            time.sleep(0.2)
    assert [p.result()[0] for p in plans] == [201]
    assert answered and all(s == 200 for s, _ in answered)
    assert max(t for _, t in answered) < 10.0, answered


@pytest.mark.slow
def test_without_tokens_the_server_listens_only_on_loopback(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "q.db")})
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    check_binding(app, "127.0.0.1")
    with pytest.raises(ValueError, match="without tokens"):
        check_binding(app, "0.0.0.0")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--database",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "refusing to listen on 0.0.0.0" in done.stderr

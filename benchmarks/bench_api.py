"""Throughput and latency of the HTTP API: plan requests of 500 reps against one
``quotaplan serve`` process (waitress, 8 threads, SQLite file), at 1, 8 and 32 concurrent
clients.

Each level sends ``--requests`` plans (every one stored as a new version), ``--repeats`` times;
figures are medians over the repeats. The baseline in the same run is one client: the ratio
column is throughput against it (on 2 cores, planning is CPU-bound, so more clients mostly
queue). Latency is per request, from send to the full response.

Run: ``python -m benchmarks.bench_api [--requests 64] [--repeats 3] [--clients 1 8 32]``
Writes ``benchmarks/results/api_throughput.md`` and ``api_throughput.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
QUARTERS = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]


def plan_request(n: int, scenario: str, seed: int = 0) -> dict:
    """A plan request body: a forecast of ``n`` reps (P10/P50/P90), roster, number at 95% of P50."""
    rng = np.random.default_rng(seed)
    p50 = rng.lognormal(np.log(100_000), 0.4, (n, 4))
    reps = [f"R{i:04d}" for i in range(n)]
    forecast = [
        {"rep_id": r, "period": q, "q10": v * 0.6, "q50": v, "q90": v * 1.5}
        for r, row in zip(reps, p50, strict=True)
        for q, v in zip(QUARTERS, row, strict=True)
    ]
    roster = [{"rep_id": r, "team": f"T{i // 10}", "region": "EU"} for i, r in enumerate(reps)]
    return {
        "scenario": scenario,
        "target": float(p50.sum() * 0.95),
        "forecast": forecast,
        "roster": roster,
    }


def call(base: str, method: str, path: str, body: dict | None = None):
    """One request; returns (status, parsed JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def start(
    database: Path | str, *args: str, env: dict | None = None
) -> tuple[subprocess.Popen, str]:
    """Start ``quotaplan serve`` on a free loopback port, in its own process group (so the
    master, its workers and their helpers can be stopped or killed together); returns the
    process and its URL. ``database``: a SQLite file or any SQLAlchemy URL."""
    env = {**os.environ, **(env or {})}
    if "://" in str(database):
        env["QUOTAPLAN_DATABASE_URL"] = str(database)
    else:
        env["QUOTAPLAN_DATABASE"] = str(database)
        env.pop("QUOTAPLAN_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    seen = []
    for line in proc.stderr:
        seen.append(line)
        match = re.search(r"quotaplan API on http://127\.0\.0\.1:(\d+)", line)
        if match:
            proc.drain = threading.Thread(target=_drain, args=(proc.stderr,), daemon=True)
            proc.drain.start()
            return proc, f"http://127.0.0.1:{match[1]}"
    proc.wait(timeout=30)
    proc.stderr.close()
    raise RuntimeError("quotaplan serve did not start:\n" + "".join(seen))


def _drain(stream) -> None:
    for line in stream:  # keep the pipe from filling; show what the server logs
        sys.stderr.write(line)


def stop(proc: subprocess.Popen, kill: bool = False) -> None:
    """Stop (SIGTERM: gunicorn's graceful stop) or kill (SIGKILL, every process of the group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    proc.wait(timeout=60)
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # workers still exiting
    drain = getattr(proc, "drain", None)
    if drain is not None:
        drain.join(timeout=10)
    proc.stderr.close()


@contextlib.contextmanager
def serve(database: Path | str, *args: str, env: dict | None = None):
    """``quotaplan serve`` with its own database; yields the URL."""
    proc, url = start(database, *args, env=env)
    try:
        yield url
    finally:
        stop(proc)


def run_level(base: str, bodies: list[dict], clients: int) -> dict:
    def one(body):
        t0 = time.perf_counter()
        status, _ = call(base, "POST", "/v1/plans", body)
        return status, time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one, bodies))
    wall = time.perf_counter() - t0
    lat = np.array([t for _, t in results])
    return {
        "ok": sum(s == 201 for s, _ in results),
        "throughput_rps": len(bodies) / wall,
        "p50_s": float(np.percentile(lat, 50)),
        "p95_s": float(np.percentile(lat, 95)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp) / "bench.db") as base:
        bodies = [plan_request(args.reps, f"bench-{i % 8}", seed=i) for i in range(args.requests)]
        run_level(base, bodies[:4], 4)  # warm up (imports, first plans)
        for clients in args.clients:
            runs = [run_level(base, bodies, clients) for _ in range(args.repeats)]
            row = {"clients": clients, "requests": args.requests, "reps": args.reps}
            row |= {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            row["failed"] = sum(args.requests - r["ok"] for r in runs)
            rows.append(row)
            print(row, flush=True)
        stored = sum(
            len(call(base, "GET", f"/v1/scenarios/bench-{k}/plans")[1]["plans"]) for k in range(8)
        )
    base_rps = rows[0]["throughput_rps"]
    for r in rows:
        r["vs_one_client"] = r["throughput_rps"] / base_rps
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api_throughput.json").write_text(json.dumps(rows, indent=2))
    sent = args.repeats * len(args.clients) * args.requests + 4  # + the warm-up
    lines = [
        "# HTTP API: throughput and latency",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores; one "
        "`quotaplan serve` process (waitress, 8 threads, SQLite file). Command: "
        f"`python -m benchmarks.bench_api --requests {args.requests} --repeats {args.repeats} "
        f"--clients {' '.join(map(str, args.clients))}`. Each request plans {args.reps} reps "
        "(equal-stretch, default limits) and stores the plan; medians of "
        f"{args.repeats} runs of {args.requests} requests per level. Plans stored at the end: "
        f"{stored} of {sent} sent.",
        "",
        "| concurrent clients | throughput (plans/s) | vs 1 client | p50 latency (s) | p95 latency (s) | failed |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clients']} | {r['throughput_rps']:.2f} | {r['vs_one_client']:.2f}x | "
            f"{r['p50_s']:.3f} | {r['p95_s']:.3f} | {r['failed']} |"
        )
    (RESULTS / "api_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

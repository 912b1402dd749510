"""Throughput and latency of the HTTP API: plan requests of 500 reps against ``quotaplan
serve`` (gunicorn, its default workers), at 1, 8 and 32 concurrent clients, on a SQLite file and
on PostgreSQL (``--postgres URL``, or ``QUOTAPLAN_TEST_POSTGRES_URL``).

Each level sends ``--requests`` plans (every one stored as a new version), ``--repeats`` times,
the levels taking turns (a round of every level per repeat, so the machine's drift falls on
them alike); figures are medians over the repeats. The baseline in the same run is one
client: the ratio column is the median of each round's throughput against that round's one
client. Latency is per request, from send to the full response (the
bodies are encoded before the clock starts and answers parsed only when they are errors: the
clients run on the server's cores). While
each level runs, a probe asks ``/v1/health`` every 100 ms and records how long it took; a last
run sends plans that forecast from the bundled sample's history (the heavy kind) from 4 clients
and probes health meanwhile.

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

from .report import table, write

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
    process and its URL. ``database``: a SQLite file or any SQLAlchemy URL.

    The server runs in a directory of its own: ``python -m`` puts its working directory first
    on ``sys.path``, ahead of ``PYTHONPATH``, so a server started from a source tree ran that
    tree's code whatever ``env={"PYTHONPATH": ...}`` said (two "variants" compared that way were
    one code, and their differences noise)."""
    env = {**os.environ, **(env or {})}
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parent.parent))  # this tree's code
    if "://" in str(database):
        env["QUOTAPLAN_DATABASE_URL"] = str(database)
    else:
        env["QUOTAPLAN_DATABASE"] = str(Path(database).resolve())
        env.pop("QUOTAPLAN_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
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


def _probe(base: str, every: float, stop, out) -> None:
    """The probe's loop, in its own process: its timings are the server's, not this process's
    (whose client threads and garbage collector would otherwise delay the probe itself)."""
    latencies = []
    while not stop.is_set():
        t0 = time.perf_counter()
        status, _ = call(base, "GET", "/v1/health")
        if status == 200:
            latencies.append(time.perf_counter() - t0)
        stop.wait(every)
    out.send(latencies)


class HealthProbe:
    """Asks /v1/health every ``every`` seconds from a separate process; ``.latencies`` in
    seconds once stopped."""

    def __init__(self, base: str, every: float = 0.1):
        import multiprocessing

        self.latencies: list[float] = []
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_probe, args=(base, every, self._stop, send), daemon=True)

    def __enter__(self):
        self._proc.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.latencies = self._recv.recv()
        self._proc.join()

    def summary(self) -> dict:
        lat = np.array(self.latencies or [np.nan])
        return {
            "health_n": len(self.latencies),
            "health_p50_ms": float(np.percentile(lat, 50) * 1000),
            "health_p95_ms": float(np.percentile(lat, 95) * 1000),
            "health_max_ms": float(lat.max() * 1000),
        }


def post_plan(base: str, data: bytes) -> int:
    """One plan request of a body encoded beforehand; its status. The answer is read in full
    but parsed only when it is an error: the clients share the server's two cores, and
    encoding and parsing 500-rep plans in them is the clients' cost, not the server's."""
    req = urllib.request.Request(
        base + "/v1/plans", data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        print(f"plan refused ({exc.code}): {json.loads(exc.read())}", file=sys.stderr)
        return exc.code


def run_level(base: str, bodies: list[dict], clients: int, send=None) -> dict:
    if send is None:
        encoded = {id(b): json.dumps(b).encode() for b in bodies}
        send = lambda body: (post_plan(base, encoded[id(body)]), None)  # noqa: E731

    def one(body):
        t0 = time.perf_counter()
        status, _ = send(body)
        return status, time.perf_counter() - t0

    with HealthProbe(base) as probe:
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
        **probe.summary(),
    }


def sample_plan(base: str, scenario: str):
    """A plan forecast from the bundled sample's history and roster (multipart upload)."""
    import uuid

    from datasets.bundled import HISTORY_CSV, ROSTER_CSV

    b = uuid.uuid4().hex
    parts = [
        f'--{b}\r\nContent-Disposition: form-data; name="settings"\r\n\r\n'.encode()
        + json.dumps({"scenario": scenario, "target": "80M"}).encode()
        + b"\r\n"
    ]
    for name, path in (("history", HISTORY_CSV), ("roster", ROSTER_CSV)):
        parts.append(
            f'--{b}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
            + Path(path).read_bytes()
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{b}--\r\n".encode()
    req = urllib.request.Request(
        base + "/v1/plans",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={b}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def bench(database: str, label: str, args) -> list[dict]:
    rows = []
    with serve(database, *args.serve) as base:
        bodies = [plan_request(args.reps, f"bench-{i % 8}", seed=i) for i in range(args.requests)]
        run_level(base, bodies[:8], 8)  # warm up (every worker's first plans)
        # The levels take turns, a round each repeat, so that the machine's drift over the run
        # (other work on shared cores) falls on every level alike; each level's ratio to one
        # client is the median of its rounds' ratios to that round's one-client run.
        runs: dict[int, list[dict]] = {c: [] for c in args.clients}
        for _ in range(args.repeats):
            for clients in args.clients:
                runs[clients].append(run_level(base, bodies, clients))
        for clients, level in runs.items():
            row = {"database": label, "clients": clients, "requests": args.requests}
            row |= {k: statistics.median(r[k] for r in level) for k in level[0]}
            row["failed"] = sum(args.requests - r["ok"] for r in level)
            row["health_worst_ms"] = max(r["health_max_ms"] for r in level)  # of every probe
            if 1 in runs:
                row["vs_one_client"] = statistics.median(
                    r["throughput_rps"] / one["throughput_rps"]
                    for r, one in zip(level, runs[1], strict=True)
                )
            rows.append(row)
            print(row, flush=True)
        heavy = run_level(base, list(range(4)), 4, send=lambda i: sample_plan(base, f"heavy-{i}"))
        rows.append(
            {
                "database": label,
                "clients": 4,
                "requests": 4,
                "kind": "history",
                **heavy,
                "failed": 4 - heavy["ok"],
            }  # fmt: skip
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--postgres", default=os.environ.get("QUOTAPLAN_TEST_POSTGRES_URL"))
    ap.add_argument("--serve", nargs="*", default=[], help="extra quotaplan serve options")
    args = ap.parse_args()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench(str(Path(tmp) / "bench.db"), "SQLite", args)
    if args.postgres:
        from sqlalchemy import create_engine, text

        engine = create_engine(args.postgres)
        with engine.begin() as conn:  # a clean database for the run
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        rows += bench(args.postgres, "PostgreSQL", args)
    load_after = os.getloadavg()
    cmd = " ".join(sys.argv[1:]) or "(defaults)"
    lines = [
        "# HTTP API: throughput, latency, and /v1/health under load",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, shared with other work (load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after). `quotaplan serve` with its "
        "defaults (gunicorn, one worker process per core and at least 2, 32 threads each). "
        f"Command: `python -m benchmarks.bench_api {cmd}`. Each request plans {args.reps} reps "
        "(equal-stretch, default limits) from forecast rows and stores the plan (bodies encoded "
        "before the clock starts, answers read in full and parsed only if errors: the clients "
        "share the server's cores); medians of "
        f"{args.repeats} runs of {args.requests} requests per level, the levels taking turns "
        "(a round of every level per repeat); `vs 1 client` is the median of each round's "
        "throughput against that round's one client. Health: `/v1/health` asked "
        "every 100 ms during each level from a process of its own (p50, p95 and max: medians "
        "over the runs; worst: the slowest answer of every run). The `history` rows: 4 clients each sending a plan "
        "that forecasts from the bundled sample's history first (CSV upload).",
        "",
        *table(
            [
                "database",
                "concurrent clients",
                "throughput (plans/s)",
                "vs 1 client",
                "p50 latency (s)",
                "p95 latency (s)",
                "health p50 / p95 / max (ms)",
                "health worst (ms)",
                "failed",
            ],
            (
                [
                    r["database"],
                    f"{r['clients']} (history)" if r.get("kind") else str(r["clients"]),
                    f"{r['throughput_rps']:.2f}",
                    f"{r['vs_one_client']:.2f}x" if "vs_one_client" in r else "-",
                    f"{r['p50_s']:.3f}",
                    f"{r['p95_s']:.3f}",
                    f"{r['health_p50_ms']:.0f} / {r['health_p95_ms']:.0f} / "
                    f"{r['health_max_ms']:.0f}",
                    f"{r.get('health_worst_ms', r['health_max_ms']):.0f}",
                    str(r["failed"]),
                ]
                for r in rows
            ),
            text=[0],
        ),
    ]
    write("api_throughput", rows, lines)


if __name__ == "__main__":
    main()

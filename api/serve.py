"""Running the API on a production server: gunicorn, several worker processes, never Flask's
development server.

Why gunicorn: planning is CPU-bound Python, so one process (one interpreter lock) plans one
request at a time however many threads it has; gunicorn's pre-fork workers each plan on their
own core. It is the best-kept pre-fork WSGI server for Python (waitress, used before, is
single-process by design). Workers are ``gthread`` (threads inside each worker), so a quick
request such as ``/v1/health`` is answered while the worker's other threads plan, and each
worker solves its plans in a planning process of its own (``api.work.planned``), so its
interpreter lock is free meanwhile. The app is
loaded once in the master before forking (the schema is created or upgraded once, tokens files
imported once); each worker then opens its own database connections. SQLite writers across
processes take turns through the file lock (``BEGIN IMMEDIATE`` with a busy timeout, see
``api.storage``); PostgreSQL through row locks.

Before forking, the master collects garbage once and freezes what is left (``gc.freeze``): the
app and every library it imports (some 250,000 objects) then sit outside the collector, so a
worker's full collections no longer walk them. Unfrozen, one such collection held a worker's
interpreter lock for about 150 ms, and ``/v1/health`` waited behind it; frozen, about 2 ms. It
also keeps the workers' copies of those pages shared (the collector no longer writes to them).

Each worker also collects its youngest objects less often (:data:`GC_THRESHOLDS`): a plan
request makes tens of thousands of short-lived objects (rows, frames), and at Python's default
(a young collection every 700 allocations) those of the requests still in flight were promoted
until full collections walked them all. Measured at 32 clients (a garbage
collector callback counting in each worker, 128 plans of 500 reps): at the defaults a worker
ran 2,300-4,800 young and 17-37 full collections, 0.5-0.85 s in all; at 20,000 it ran 40-75
young ones and no full one, 0.12-0.25 s, none over 40 ms.
"""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
import sys

from flask import Flask

from . import work

LOCAL_NAMES = {"localhost", "localhost.localdomain"}

#: A web worker's garbage collector thresholds (``gc.set_threshold``; Python's are 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 10)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def check_binding(app: Flask, host: str) -> None:
    """Without tokens the API is open, so it may only listen on this machine."""
    if not app.extensions["quotaplan.store"].has_tokens() and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host} without tokens: anyone who can reach it could read "
            "and change quotas. Configure tokens (quotaplan token new), or listen on 127.0.0.1"
        )


def default_workers() -> int:
    """One worker per core, at least two (so one slow request never holds the whole API)."""
    return max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)


def run(app: Flask, host: str, port: int, workers: int, threads: int, banner) -> None:
    """Serve ``app`` with gunicorn until stopped; ``banner(port)`` is printed once listening."""
    from gunicorn.app.base import BaseApplication

    check_binding(app, host)

    def when_ready(server):
        bound = server.LISTENERS[0].sock.getsockname()[1]
        print(banner(bound), file=sys.stderr, flush=True)

    def post_fork(server, worker):
        # Connections opened in the master (schema set-up) are not shared with the children.
        app.extensions["quotaplan.store"].engine.dispose(close=False)
        # The worker's planning process, ready before its first plan, niced (see work.warm).
        work.warm(app.config["PLANNER_NICE"])
        gc.set_threshold(*GC_THRESHOLDS)  # see the module's docstring

    options = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "preload_app": True,
        "timeout": 600,  # a worker silent this long is restarted (requests are bounded sooner)
        "graceful_timeout": 30,
        "keepalive": 5,
        "loglevel": "warning",
        "errorlog": "-",
        "accesslog": None,
        "proc_name": "quotaplan",
        "when_ready": when_ready,
        "post_fork": post_fork,
    }

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    gc.collect()
    gc.freeze()  # see the module's docstring
    Server().run()

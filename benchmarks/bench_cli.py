"""Start-up time of the ``quotaplan`` command: ``quotaplan --version``, ``quotaplan --help`` and
``quotaplan plan --help``, each run as a whole process, against ``python -c pass`` (the
interpreter's own start) in the same run.

The four commands take turns, ``--runs`` rounds of one each (after one warm-up round that is not
counted, so the files are in the page cache), so a change of load during the run falls on all of
them alike. Figures are medians of the rounds. The load average is sampled before, between the
rounds and after; the report gives it, since other work on the machine slows every start (while
it runs the benchmark keeps up to one core busy itself, which a long run adds to the load).

Run: ``python -m benchmarks.bench_cli [--runs 15] [--code DIR] [--out DIR]``. ``--code`` times
another checkout's ``api.cli`` (it is put first on PYTHONPATH; default: this one). Writes
``cli_startup.md`` and ``cli_startup.json`` to ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .report import RESULTS, table

ROOT = Path(__file__).resolve().parent.parent
#: The target for every start of the command line (whole process, idle machine).
TARGET_S = 0.5
COMMANDS = {
    "quotaplan --version": ["--version"],
    "quotaplan --help": ["--help"],
    "quotaplan plan --help": ["plan", "--help"],
}
BASELINE = "python -c pass"


def quotaplan() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m api.cli``."""
    script = Path(sys.executable).with_name("quotaplan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def once(argv: list[str], env: dict) -> float:
    """Seconds from start to exit of one process (its output discarded; it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    return seconds


def measure(code: Path, runs: int) -> tuple[dict[str, list[float]], list[float]]:
    """Seconds per run of each command and of the baseline; the load averages seen meanwhile."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]),
    }
    argvs = {name: [*quotaplan(), *args] for name, args in COMMANDS.items()}
    argvs[BASELINE] = [sys.executable, "-c", "pass"]
    times: dict[str, list[float]] = {name: [] for name in argvs}
    loads = [os.getloadavg()[0]]
    for round_ in range(runs + 1):
        for name, argv in argvs.items():
            seconds = once(argv, env)
            if round_:  # round 0 warms the page cache
                times[name].append(seconds)
        loads.append(os.getloadavg()[0])
    return times, loads


def summary(times: dict[str, list[float]]) -> list[dict]:
    base = statistics.median(times[BASELINE])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append(
            {
                "command": name,
                "median_s": median,
                "min_s": min(values),
                "max_s": max(values),
                "over_interpreter_s": median - base,
                "runs": len(values),
                "within_target": None if name == BASELINE else median < TARGET_S,
            }
        )
    return rows


def report(rows: list[dict], loads: list[float], runs: int, code: Path, argv: str) -> str:
    load = (
        f"load average (1 min) {loads[0]:.2f} before, {max(loads):.2f} at most, "
        f"{loads[-1]:.2f} after; while it runs, the benchmark keeps up to one core busy itself"
    )
    lines = [
        "# Command-line start-up",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} "
        f"cores, shared with other work ({load}). Each command run as a whole process, "
        f"{runs} rounds after one warm-up round, the commands taking turns; medians. "
        f"The command: `{argv}` with `{code.name}` first on PYTHONPATH. "
        f"Target: every start under {TARGET_S} s. "
        f"Command: `python -m benchmarks.bench_cli {' '.join(sys.argv[1:]) or '(defaults)'}`.",
        "",
        *table(
            [
                "command",
                "median (s)",
                "min (s)",
                "max (s)",
                "over the interpreter's start (s)",
                f"under {TARGET_S} s",
            ],
            (
                [
                    f"`{r['command']}`",
                    *(f"{r[k]:.3f}" for k in ("median_s", "min_s", "max_s", "over_interpreter_s")),
                    "-" if r["within_target"] is None else "yes" if r["within_target"] else "no",
                ]
                for r in rows
            ),
            text=[0, 5],
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="Rounds counted (default 15).")
    ap.add_argument("--code", type=Path, default=ROOT, help="Checkout whose api.cli is timed.")
    ap.add_argument("--out", type=Path, default=RESULTS, help="Where the results go.")
    args = ap.parse_args()
    times, loads = measure(args.code.resolve(), args.runs)
    rows = summary(times)
    argv = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(quotaplan()))
    text = report(rows, loads, args.runs, args.code.resolve(), argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "load_average_1min": {
            "before": loads[0],
            "max": max(loads),
            "after": loads[-1],
            "samples": loads,
        },  # fmt: skip
        "command": argv,
        "code": str(args.code.resolve()),
        "runs": args.runs,
        "target_s": TARGET_S,
        "results": rows,
        "seconds": times,
    }
    (args.out / "cli_startup.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "cli_startup.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""The command line starts without the heavy libraries: every ``--help``, ``--version`` and a
usage error import none of them (what they import is checked, not how long they take; the
timing is ``benchmarks/bench_cli.py``). And the packages that import their names on demand
still give every public name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.cli.options import SETTINGS
from api.schemas import PlanChoices, PlanLimits

#: What a start of ``quotaplan`` must not import (each costs a tenth of a second or more).
HEAVY = ("pandas", "numpy", "sklearn", "scipy", "pyomo", "highspy", "sqlalchemy", "flask",
         "werkzeug", "dask", "distributed", "matplotlib", "pyarrow", "tabulate")  # fmt: skip

EVERY_HELP = """
import sys
from click.testing import CliRunner
from api.cli import main

def walk(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, [*path, name])

runner = CliRunner()
for args in [["--version"], *([*path, "--help"] for path in walk(main, []))]:
    result = runner.invoke(main, args)
    assert result.exit_code == 0, (args, result.output)
usage = runner.invoke(main, ["plan", "--history", "h.csv", "--roster", "r.csv", "--target", "x"])
assert usage.exit_code == 2 and "cannot read the amount 'x'" in usage.output, usage.output
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))))
"""


def test_every_help_and_a_usage_error_import_no_heavy_library():
    out = subprocess.run(
        [sys.executable, "-c", EVERY_HELP, *HEAVY], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [], f"imported at start: {out.stdout}"


def imported(*args: str) -> set[str]:
    """The top-level packages ``python -X importtime -m api.cli ARGS`` imports."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "click" in names, out.stderr  # the listing is there
    return names


def test_the_real_command_imports_no_heavy_library_for_help_or_a_usage_error():
    assert imported("--version") & set(HEAVY) == set()
    assert imported("plan", "--help") & set(HEAVY) == set()
    usage = imported("plan", "--forecast", "f.csv", "--roster", "r.csv", "--target", "1M",
                     "--lock", "R1=lots")  # fmt: skip
    assert usage & set(HEAVY) == set()
    # ... and a command that reads a table does import them: the check can fail.
    roster = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "roster.csv"
    assert "pandas" in imported("data", "check", str(roster))


PUBLIC_NAMES = """
import importlib, pkgutil, types
for package in ("optimizer", "models", "datasets"):
    pkg = importlib.import_module(package)
    for sub in pkgutil.iter_modules(pkg.__path__):  # every submodule first, then the names
        importlib.import_module(f"{package}.{sub.name}")
    for name in pkg.__all__:
        value = getattr(pkg, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"
    assert set(pkg.__all__) <= set(dir(pkg))
"""


@pytest.mark.slow
def test_every_public_name_is_what_it_names_whatever_was_imported_first():
    out = subprocess.run(
        [sys.executable, "-c", PUBLIC_NAMES], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr


def test_the_model_names_offered_are_the_models():
    from models import MODEL_NAMES, MODELS

    assert tuple(MODELS) == MODEL_NAMES


def test_every_plan_flag_is_a_setting_of_the_api():
    for path in SETTINGS.values():
        model = PlanLimits if path[0] == "limits" else PlanChoices
        assert path[-1] in model.model_fields, path

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from datasets.adventureworks import shared_data_dir

# `pytest --hypothesis-profile=no-shrink`: report a property's first failing example at once
# (shrinking a failure of a solver-backed property can take many minutes on a busy machine).
settings.register_profile(
    "no-shrink", phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.explain]
)

# CI machines can be very busy (a 4-minute suite once took 57): the servers under test get a
# forecast time limit that only a hang reaches. Tests of the limit itself set their own.
os.environ.setdefault("QUOTAPLAN_FORECAST_TIME_LIMIT", "3600")


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a small CSV from an indented string and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def forecast_columns() -> list[str]:
    """A forecast table's columns, in their order, at the default quantile levels (what
    ``quotaplan forecast`` writes and a forecaster's ``predict`` returns)."""
    return ["rep_id", "period", "q10", "q50", "q90", "basis", "fiscal_year_start"]


@pytest.fixture
def app(tmp_path: Path):
    """The HTTP API on a fresh SQLite file, open (no tokens). Modules with people and roles
    make their own with :func:`builders.app_with_people`."""
    from api.app import create_app

    return create_app({"DATABASE": str(tmp_path / "q.db")})


@pytest.fixture
def client(app):
    """A test client of ``app``: real requests through the real Flask app."""
    return app.test_client()


@pytest.fixture(scope="session")
def sample_forecast(tmp_path_factory) -> Path:
    """The bundled sample's forecast (``quotaplan forecast --out``), fitted once per test
    process for every test that plans from it."""
    from click.testing import CliRunner

    from api.cli import main
    from datasets.bundled import HISTORY_CSV, ROSTER_CSV

    path = tmp_path_factory.mktemp("sample") / "forecast.csv"
    args = ["forecast", "--history", HISTORY_CSV, "--roster", ROSTER_CSV, "--out", path]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public datasets in ../shared/data; tests that need them skip where they are absent."""
    root = shared_data_dir()
    if not (root / "adventureworks_oltp").is_dir():
        pytest.skip(
            f"public datasets not found at {root} (set QUOTAPLAN_SHARED_DATA to run these tests)"
        )
    return root

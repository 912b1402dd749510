"""How the commands report what the library refuses: bad data exits 1 with every problem, an
impossible plan exits 3 with its diagnosis, any other refusal exits 1 with its message."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import NoReturn

import click

from datasets.errors import DataValidationError
from optimizer.errors import PlanInfeasibleError, SolverLimitError

from ..service.errors import NotFound


def fail(exc: DataValidationError) -> NoReturn:
    click.echo(f"quotaplan: {exc}", err=True)
    sys.exit(1)


@contextmanager
def bad_data():
    """Data the library cannot use: every problem, exit 1."""
    try:
        yield
    except DataValidationError as exc:
        fail(exc)


@contextmanager
def reported(*also: type[Exception]):
    """A plan's errors: bad data (exit 1), an impossible plan with its diagnosis (exit 3), a
    refused request or a solver out of time (exit 1); ``also``: more error types shown so."""
    try:
        yield
    except DataValidationError as exc:
        fail(exc)
    except PlanInfeasibleError as exc:
        click.echo(f"quotaplan: {exc}", err=True)
        sys.exit(3)
    except (ValueError, SolverLimitError, NotFound, *also) as exc:
        raise click.ClickException(str(exc)) from exc

"""In-year tracking of a plan and quota relief, for ``quotaplan track`` and
``POST /v1/plans/{id}/progress`` and ``/relief``: the settings are the API's schemas
(:class:`api.schemas.ProgressSettings`, :class:`api.schemas.ReliefSettings`) at both edges."""

from __future__ import annotations

import pandas as pd

from datasets.history import DEFAULT_MONTH_SHAPE
from inyear.flags import Thresholds
from inyear.relief import Relief, relief
from inyear.tracking import Progress, track
from optimizer import PlanSpec

from ..schemas import ProgressSettings, ReliefSettings
from .plans import PlanInputs


def progress(
    inputs: PlanInputs, quotas: pd.DataFrame, actuals, settings: ProgressSettings
) -> Progress:
    """Where each rep and team stands against the plan ``quotas`` (made from ``inputs``) given
    the bookings ``actuals`` (rows, or a file as read: its lines are named in errors). A
    quarter's quota is phased into months by the shape of the plan's history where it was
    monthly, else the default (15/25/60)."""
    shape = inputs.company.month_shape if inputs.company is not None else DEFAULT_MONTH_SHAPE
    return track(
        inputs.spec,
        quotas,
        actuals,
        as_of=settings.as_of,
        fiscal_year_start=settings.fiscal_year_start,
        shape=shape,
        thresholds=Thresholds(
            at_risk_below=settings.at_risk_below, missed_quarters=settings.missed_quarters
        ),
        grain=settings.grain,
    )


def relief_proposal(
    spec: PlanSpec, quotas: pd.DataFrame, actuals, settings: ReliefSettings
) -> Relief:
    """The rest of the year re-planned from the quarters closed by ``settings.as_of``."""
    return relief(
        spec, quotas, actuals, as_of=settings.as_of, fiscal_year_start=settings.fiscal_year_start
    )

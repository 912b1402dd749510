"""The canonical tables quotaplan reads, column by column.

Every loader turns its input into these tables; every later stage reads only these.
Headers are matched after normalising case and spaces (``"Rep ID"`` reads as ``rep_id``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

#: What to do with a quarter the monthly data covers only in part (an export taken part-way
#: through a quarter, or a first month missing): ``complete`` it from the within-quarter shape
#: (its months' revenue divided by their share of a quarter), or ``drop`` it.
PARTIAL_QUARTERS = ("complete", "drop")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str
    #: Other names people give this column; used to suggest a rename, never applied silently.
    aliases: tuple[str, ...] = ()


HISTORY = (
    Column(
        "rep_id",
        True,
        "Sales rep identifier (text; matches the roster).",
        (
            "rep",
            "rep_name",
            "salesperson",
            "sales_person",
            "salesperson_id",
            "employee_id",
            "employee",
            "owner",
        ),
    ),
    Column(
        "period",
        True,
        "Quarter (2024Q3) or month (2024-07); monthly rows are summed into quarters.",
        ("quarter", "month", "date", "order_date", "close_date", "booking_date"),
    ),
    Column(
        "revenue",
        True,
        "Amount booked by the rep in the period (>= 0).",
        ("amount", "sales", "bookings", "booked", "revenue_usd", "sales_amount", "acv"),
    ),
)

ROSTER = (
    Column("rep_id", True, "Sales rep identifier, unique and not blank.", HISTORY[0].aliases),
    Column("team", False, "Team the rep belongs to (blank: 'unassigned').", ("team_name", "squad")),
    Column(
        "region",
        False,
        "Region above the team (blank: 'unassigned').",
        ("territory", "geo", "area"),
    ),
    Column(
        "hire_date",
        False,
        "Date the rep started (ISO, 2024-03-01): the ramp runs from that day, nothing before it. "
        "Blank: fully ramped if the rep has history; a roster rep with no history and no hire "
        "date is planned at zero, with a warning.",
        ("start_date", "hired", "hiredate", "date_hired"),
    ),
    Column(
        "leave_date",
        False,
        "The rep's last day on the team, past or planned (ISO). Blank: staying. A rep who has "
        "left is not planned; one leaving during the plan year has no capacity after the date.",
        ("end_date", "exit_date", "termination_date", "left_on"),
    ),
    Column(
        "fte",
        False,
        "Standing capacity 0..1 (0.5 = half time), as in the rep's history. Blank: 1. "
        "Add fte_2026Q1 ... for planned capacity in a quarter (leave: 0; forecasts scale by fte_Q / fte); "
        "the same columns for past quarters (recorded leave) let the forecaster read the history.",
        ("capacity", "fte_pct"),
    ),
    Column(
        "last_year_quota",
        False,
        "Last year's annual quota (>= 0), for anti-ratchet and growth guardrails. A quota that "
        "covered part of the year (a hire during it) is annualised before the growth limits apply.",
        ("prior_quota", "quota_last_year", "ly_quota", "previous_quota"),
    ),
    Column(
        "last_year_quota_months",
        False,
        "Months of last year (0-12) that last_year_quota covered. Blank: from hire_date (a hire "
        "during last year covered the rest of it), else 12.",
        ("quota_months", "months_on_quota"),
    ),
    Column(
        "ote",
        False,
        "On-target earnings (> 0), for the quota-to-OTE check.",
        ("on_target_earnings", "target_earnings"),
    ),
    Column(
        "manager_id",
        False,
        "The rep's manager (for the hierarchy).",
        ("manager", "reports_to", "parent_id"),
    ),
    Column(
        "active",
        False,
        "Whether the rep is on the team (true/false). Blank: true.",
        ("is_active", "employed"),
    ),
)

#: Per-quarter capacity columns in the roster: ``fte_2026Q1`` and so on.
FTE_QUARTER_PREFIX = "fte_"

UNASSIGNED = "unassigned"


def describe(columns: tuple[Column, ...]) -> str:
    """A Markdown table of a schema (used by the README and ``quotaplan data schema``)."""
    rows = ["| column | required | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{c.name}` | {'yes' if c.required else 'no'} | {c.description} |" for c in columns]
    return "\n".join(rows)


def table_kind(columns) -> str | None:
    """``"history"`` or ``"roster"`` from a table's (normalised) headers, or None if unclear."""
    cols = set(columns)
    history_marks = {"revenue", "period", *HISTORY[1].aliases, *HISTORY[2].aliases}
    roster_marks = {c.name for c in ROSTER[1:]} | {a for c in ROSTER[1:] for a in c.aliases}
    is_history = bool(cols & history_marks)
    is_roster = bool(cols & roster_marks) or cols == {"rep_id"}
    if is_history == is_roster:
        return None
    return "history" if is_history else "roster"


#: A forecast table's quantile column: ``q`` and the level in percent (``q10``, ``q50``,
#: ``q97.5``), the one pattern the data layer, the API's schema and the renderers read.
QUANTILE_COLUMN = r"^q[0-9]{1,2}(\.[0-9]+)?$"
_QUANTILE = re.compile(QUANTILE_COLUMN)


@functools.lru_cache(maxsize=1024)
def is_quantile_column(name: str) -> bool:
    """Whether ``name`` is a quantile column (:data:`QUANTILE_COLUMN`); remembered, as a
    forecast's rows ask it of the same few names thousands of times."""
    return _QUANTILE.fullmatch(name) is not None

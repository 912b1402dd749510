"""The one error type for bad input data, and the problems it carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

#: How many offending rows a message names before it says "and N more".
MAX_ROWS_SHOWN = 5


def row_refs(
    positions, *, lines: bool, labels=None, unit: str = "line"
) -> tuple[tuple[str, ...], int]:
    """Where rows are, as the user will find them, for the first :data:`MAX_ROWS_SHOWN` of
    ``positions`` (0-based positions of records), and how many there are in all.

    ``lines``: the rows came from a file (CSV line numbers, or a sheet's rows with ``unit``
    ``row``: the header is line 1, so record 0 is line 2); otherwise they are named by ``labels[position]`` (a DataFrame's index) or, with
    no labels, as JSON rows (``row 0``: the position in the list sent).
    """
    pos = [int(p) for p in positions]
    shown = pos[:MAX_ROWS_SHOWN]
    if lines:
        refs = tuple(f"{unit} {p + 2}" for p in shown)
    elif labels is not None:
        refs = tuple(f"index {labels[p]}" for p in shown)
    else:
        refs = tuple(f"row {p}" for p in shown)
    return refs, len(pos)


def more(items, n_total: int | None = None, shown: int = MAX_ROWS_SHOWN) -> str:
    """``"a, b, c and 12 more"``: a few items of a list and how many are left out."""
    items = [str(i) for i in items]
    total = len(items) if n_total is None else n_total
    head = ", ".join(items[:shown])
    rest = total - min(len(items), shown)
    return head + (f" and {rest:,} more" if rest > 0 else "")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one table.

    Attributes
    ----------
    table : the table at fault (``"history"``, ``"roster"``, or a file name).
    columns : the columns at fault (empty for a problem with the whole table).
    what : what is wrong, in the planner's words.
    fix : what to do about it.
    rows : where it is, as the user will find it (CSV line numbers or DataFrame index labels).
    """

    table: str
    columns: tuple[str, ...]
    what: str
    fix: str
    rows: tuple[str, ...] = field(default=())
    n_rows: int = 0

    def __str__(self) -> str:
        where = ""
        if self.columns:
            cols = ", ".join(f"'{c}'" for c in self.columns)
            where = f" column{'s' if len(self.columns) > 1 else ''} {cols}"
        at = f" at {more(self.rows, max(self.n_rows, len(self.rows)))}" if self.rows else ""
        return f"{self.table}{where}: {self.what}{at}. {self.fix}"


class DataValidationError(ValueError):
    """Input data that quotaplan cannot use, with every problem found and how to fix it."""

    def __init__(self, problems: Sequence[Problem]):
        if not problems:
            raise ValueError("DataValidationError needs at least one problem")
        self.problems = tuple(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n > 1 else ''} in the input data:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))

    def to_dict(self) -> list[dict]:
        """The problems as plain data (for JSON error bodies)."""
        return [
            {
                "table": p.table,
                "columns": list(p.columns),
                "what": p.what,
                "fix": p.fix,
                "rows": list(p.rows),
                "n_rows": p.n_rows,
            }
            for p in self.problems
        ]

"""pydantic's validation errors in words: the field at fault (without the types pydantic tried)
and the message. The HTTP API answers its 422 problems with them (``api.problems``); the command
line names its flags with them (``api.cli.options``). Imports no web framework.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from datasets.errors import more, row_refs

#: The parts of a pydantic error location that name a type tried, not a field.
_TYPE_TAG = re.compile(r"^(constrained-|function-|json-or-python)|\[|^(float|int|str|bool|none)$")


def field_path(loc) -> tuple:
    """An error's location without the types pydantic tried: ``("target",)``, not
    ``("target", "str")``."""
    return tuple(p for p in loc if not _TYPE_TAG.search(str(p)))


def message(error: dict) -> str:
    """An error's message as it is shown: ``"cannot read the amount ..."``, not ``"Value error,
    cannot read ..."``."""
    return error["msg"].removeprefix("Value error, ")


def errors(exc: ValidationError) -> list[tuple[tuple, str]]:
    """Each error once, in order: its field path and its message."""
    found = []
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        item = (field_path(e["loc"]), message(e))
        if item not in found:
            found.append(item)
    return found


def _field(loc) -> str:
    return ".".join(str(p) for p in field_path(loc)) or "body"


#: Request fields that hold a table's rows: their errors are grouped by column, not listed by row.
TABLES = ("history", "roster", "forecast", "actuals")


def _is_row(loc) -> bool:
    return len(loc) >= 2 and loc[0] in TABLES and isinstance(loc[1], int)


def validation_detail(exc: ValidationError) -> tuple[str, list[dict]]:
    """pydantic's errors in words: 'target: Input should be ...'; errors on table rows grouped
    by table, column and message (a few rows named and how many more), never one per row."""
    found, rows = [], {}
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        loc, said = e["loc"], message(e)
        if not _is_row(loc):
            item = {"field": _field(loc), "message": said}
            if item not in found:
                found.append(item)
            continue
        field = ".".join([f"{loc[0]}[]", *(str(p) for p in loc[2:])])
        key = (field, said)
        if key not in rows:
            rows[key] = []
            found.append({"field": field, "message": said, "rows": rows[key]})
        rows[key].append(loc[1])
    words = []
    for e in found:
        if "rows" in e:
            refs, n = row_refs(sorted(set(e["rows"])), lines=False)
            e["rows"], e["n_rows"] = list(refs), n
        at = f" (at {more(e['rows'], e['n_rows'])})" if "rows" in e else ""
        words.append(f"{e['field']}: {e['message']}{at}")
    detail = "; ".join(words[:5]) + (f"; and {len(words) - 5} more" if len(words) > 5 else "")
    return detail, found

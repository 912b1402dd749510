"""What every endpoint shares: the store, reading a body, and tables in and out."""

from __future__ import annotations

import functools
import io
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from flask import current_app, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.utils import secure_filename

from datasets import DataValidationError
from datasets.errors import Problem
from datasets.tables import SUFFIXES, Table, read_table

from ..auth import identify, open_mode
from ..fastjson import records
from ..problems import ApiProblem, problem
from ..schemas import MAX_ID
from ..storage import Store
from ..work import busy
from .limits import check_tables

#: The URL converter for database ids: larger numbers are no id (404), not a database error.
ID = f"int(max={MAX_ID})"


def store() -> Store:
    return current_app.extensions["quotaplan.store"]


#: The ids a URL may hold, and what they name.
ID_KINDS = {"plan_id": "plan", "other_id": "plan", "adjustment_id": "adjustment",
            "forecast_id": "forecast", "job_id": "job"}  # fmt: skip


def _unknown(view_args: dict) -> str | None:
    if not (open_mode() or _token_ok()):
        return None  # the view answers 401 first: ids are not probed without a token
    for arg, kind in ID_KINDS.items():
        if arg in view_args and not store().exists(kind, view_args[arg]):
            return f"no {kind} {view_args[arg]}"
    return None


def _token_ok() -> bool:
    who = identify(request.headers.get("Authorization"))
    return who is not None and who.status() == "active"


def register_lookups(app) -> None:
    """An unknown id in the URL is a 404 on every path, whatever the method or the body: looked
    up before the body is read (and before a 405 for a method the path does not take)."""

    @app.before_request
    def _known_ids():
        if request.view_args and (missing := _unknown(request.view_args)):
            raise ApiProblem(404, "Not found", f"{missing}; list what there is first")

    @app.errorhandler(MethodNotAllowed)
    def _method(exc: MethodNotAllowed):
        adapter = app.url_map.bind_to_environ(request.environ)
        for method in exc.valid_methods or ():
            try:
                _, view_args = adapter.match(method=method)
            except HTTPException:
                continue
            if missing := _unknown(view_args):
                return problem(404, "Not found", f"{missing}; list what there is first")
            break
        resp = problem(405, exc.name, "this endpoint does not take that method; see /openapi.json")
        resp.headers["Allow"] = ", ".join(exc.valid_methods or ())
        return resp


#: How deeply a JSON body may nest (a plan request needs 4 levels; no request needs 32).
MAX_JSON_DEPTH = 32


def parse_json(raw: bytes | str, where: str = "the body"):
    """JSON text as data; malformed or too deeply nested JSON is a 400 naming ``where``.

    Parsed by orjson (a fifth of the standard library's time, and so of the interpreter lock the
    web worker's other threads wait for); what orjson refuses is read by the standard library,
    which takes what it always took (``NaN``, integers beyond 64 bits, lone surrogates: the
    request's schema answers those with a 422 naming the field) and words the errors."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            data = json.loads(raw)
        except RecursionError:  # deeper than Python's parser goes: deeper than allowed
            raise _too_deep(where) from None
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            raise ApiProblem(
                400,
                "Malformed JSON",
                f"{where} is not valid JSON ({exc}); check quotes, commas and brackets",
            ) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise _too_deep(where)
    return data


def _too_deep(where: str) -> ApiProblem:
    return ApiProblem(
        400,
        "JSON nested too deeply",
        f"{where} nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; quotaplan's "
        "requests need at most 4 (see /openapi.json)",
    )


def _depth(data) -> int:
    """How deeply ``data`` nests, up to one past :data:`MAX_JSON_DEPTH`: level by level (a
    hostile body cannot exhaust the stack), each level's containers in one pass."""
    level, deepest = ([data] if isinstance(data, dict | list) else []), 0
    while level and deepest <= MAX_JSON_DEPTH:
        deepest += 1
        level = [
            v
            for item in level
            for v in (item.values() if isinstance(item, dict) else item)
            if isinstance(v, dict | list)
        ]
    return deepest


def json_body(model: type[BaseModel]):
    """The request's JSON body validated as ``model`` (400 if it is not JSON at all; 422 if it
    is JSON of the wrong shape, ``null`` included)."""
    raw = _json_bytes()
    return _validated(model, raw)


def checked_json_body(model: type[BaseModel]) -> Callable[[], BaseModel]:
    """The request's JSON body checked as ``model`` now, as :func:`json_body` (a bad request is
    answered at once), and a function that validates it again when it is needed (in the
    request's turn to plan, :func:`api.work.turn`).

    Meanwhile the request holds its body as one bytes object, not thousands of validated rows:
    a web worker with many plans waiting holds little for the garbage collector to walk. With
    32 clients each waiting request's 2,500 rows of models kept some 150,000 objects alive per
    worker, and every full collection over them held the worker's interpreter lock for 50 to
    100 ms (``/v1/health`` waited behind it); validating a body again costs a few ms."""
    raw = _json_bytes()
    _validated(model, raw)
    context = validation_context()
    return lambda: model.model_validate_json(raw, context=context)


def _json_bytes() -> bytes:
    if not request.is_json:
        raise ApiProblem(
            415,
            "Not JSON",
            f"send the body as JSON with 'Content-Type: application/json' (got "
            f"{request.mimetype or 'no content type'!r})",
        )
    return request.get_data(cache=True)  # the network's part, outside the turn to read


def _validated(model: type[BaseModel], raw: bytes):
    with busy():
        data = parse_json(raw)
        if isinstance(data, dict):  # bounds first: validating a million rows is work too
            check_tables({k: v for k, v in data.items() if isinstance(v, list)})
        # Validated as JSON (strictly: "5" is no number, but "2026-04-17" is a date).
        return model.model_validate_json(raw, context=validation_context())


def validation_context() -> dict:
    """What the request schemas check against the operator's settings."""
    return {"max_value": current_app.config["MAX_VALUE"]}


def uploaded_table(field: str, required: bool = True) -> Table | None:
    """A file uploaded as multipart field ``field``: CSV, Excel (.xlsx) or Parquet, told apart
    by its content, read like a file on disk (``datasets.tables.read_table``: the same parsing,
    and errors that name the file's lines or the sheet's rows)."""
    f = request.files.get(field)
    if f is None or not f.filename:
        if required:
            raise ApiProblem(
                422, "Missing file", f"upload the {field} table as the multipart field {field!r}"
            )
        return None
    name = secure_filename(f.filename) or f"{field}.csv"
    if Path(name).suffix.lower() not in SUFFIXES:  # decided by its content, else CSV
        name += ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        f.save(path)
        with busy():
            return read_table(path, field)


def check_uploads(
    tables: dict[str, Table], *, fiscal_year_start: int = 1, partial_quarters: str = "complete"
) -> dict[str, list[dict]]:
    """Uploaded tables checked by the data layer, the one check of every upload (forecast and
    plan alike, so a file's problem is worded the same whichever endpoint reads it): its errors
    name the files' lines, a few per problem ("and N more"), never one per row. Returns the
    tables as request rows (a history's three columns, revenue as numbers)."""
    from datasets.forecasts import validate_forecast
    from datasets.history import validate_history
    from datasets.roster import validate_roster
    from datasets.tables import to_number

    rows, problems = {}, []
    for name, t in tables.items():
        rows[name] = records(t.frame)
        try:
            if name == "history":
                validate_history(
                    t, fiscal_year_start=fiscal_year_start, partial_quarters=partial_quarters
                )
                f = t.frame
                rows[name] = records(
                    f[["rep_id", "period", "revenue"]].assign(revenue=to_number(f["revenue"])[0])
                )
            elif name == "roster":
                validate_roster(t)
            else:
                validate_forecast(t)
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataValidationError(problems)
    return rows


def file_problems(exc: ValidationError, tables: dict) -> DataValidationError:
    """Validation errors in uploaded files' cells as the data layer reports them: per file,
    column and problem, with the file's line numbers (the header is line 1) or the sheet's
    rows (``tables``: the files as read, :class:`datasets.tables.Table`)."""
    found: dict[tuple, list[int]] = {}
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = e["loc"]
        if len(loc) == 1 and loc[0] in tables:  # the table as a whole: no rows
            found.setdefault((loc[0], "", "has no rows"), [])
        elif len(loc) >= 2 and loc[0] in tables and isinstance(loc[1], int):
            column = next((str(p) for p in loc[2:] if isinstance(p, str) and "-" not in p), "")
            what = e["msg"].removeprefix("Value error, ")
            found.setdefault((loc[0], column, what), []).append(loc[1])
    if not found:
        return exc
    problems = []
    for (name, column, what), records_at in found.items():
        table = tables[name]
        at = np.zeros(len(table.frame), dtype=bool)
        at[sorted(set(records_at))] = True
        shown, n = table.rows(at)
        fix = (
            "Add the rows below the header"
            if not column
            else f"Add a '{column}' column"
            if what == "Field required"
            else f"Correct the {column} cells"
        )
        problems.append(Problem(table.name, (column,) if column else (), what, fix + ".", shown, n))
    return DataValidationError(problems)


def frame(rows: list[BaseModel]) -> pd.DataFrame:
    """Validated rows (all of one model) as a table: dumped in one call of pydantic's
    serializer, not one per row."""
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(_rows_of(type(rows[0])).dump_python(rows))


@functools.lru_cache(maxsize=32)
def _rows_of(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(list[model])


def plain(value):
    """Summaries as JSON-ready data: numpy scalars as numbers, NaN and inf as null."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def neutral(v):
    """Text a spreadsheet would run as a formula, with a leading quote; anything else as it is."""
    return "'" + v if isinstance(v, str) and v.startswith(_FORMULA) else v


def neutralised(df: pd.DataFrame) -> pd.DataFrame:
    """A table for spreadsheets: text that a spreadsheet would run as a formula (cells, column
    names, index labels) is prefixed with a quote; numbers stay numbers."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutral)
    out.columns = [neutral(c) for c in out.columns]
    if out.index.dtype == object or pd.api.types.is_string_dtype(out.index):
        out.index = out.index.map(neutral)
    return out


def safe_csv(df: pd.DataFrame) -> str:
    """CSV for spreadsheets (see :func:`neutralised`)."""
    buf = io.StringIO()
    neutralised(df).to_csv(buf, index=False, float_format="%.4f")
    return buf.getvalue()


def write_sheets(writer: pd.ExcelWriter, sheets: dict[str, pd.DataFrame], index=()) -> None:
    """Tables as sheets of a workbook being written, in the same neutralised form as the CSV:
    every text cell is written as text, never as a formula (``index``: the sheets whose index
    is written)."""
    for name, df in sheets.items():
        neutralised(df).to_excel(writer, sheet_name=name, index=name in index)


def safe_xlsx(sheets: dict[str, pd.DataFrame], index: tuple[str, ...] = ()) -> bytes:
    """An Excel workbook of ``sheets`` (see :func:`write_sheets`)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as book:
        write_sheets(book, sheets, index)
    return buf.getvalue()

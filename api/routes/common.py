"""What every endpoint shares: the store, reading a body, and tables in and out."""

from __future__ import annotations

import io
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from flask import current_app, request
from pydantic import BaseModel
from werkzeug.utils import secure_filename

from datasets.tables import read_table

from ..problems import ApiProblem
from ..schemas import MAX_ID
from ..storage import Store

#: The URL converter for database ids: larger numbers are no id (404), not a database error.
ID = f"int(max={MAX_ID})"


def store() -> Store:
    return current_app.extensions["quotaplan.store"]


def json_body(model: type[BaseModel]):
    """The request's JSON body validated as ``model`` (400 if it is not JSON at all)."""
    if not request.is_json:
        raise ApiProblem(
            400 if request.mimetype != "multipart/form-data" else 415,
            "Not JSON",
            f"send the body as JSON with 'Content-Type: application/json' (got "
            f"{request.mimetype or 'no content type'!r})",
        )
    data = request.get_json(silent=True)
    if data is None:
        raise ApiProblem(
            400,
            "Malformed JSON",
            "the body is not valid JSON; check quotes, commas and brackets",
        )
    return model.model_validate(data)


def uploaded_table(field: str, required: bool = True) -> pd.DataFrame | None:
    """A CSV (or Parquet) file uploaded as multipart field ``field``, read like a file on disk
    (same parsing, and errors that name the file's lines)."""
    f = request.files.get(field)
    if f is None or not f.filename:
        if required:
            raise ApiProblem(
                422, "Missing file", f"upload the {field} table as the multipart field {field!r}"
            )
        return None
    name = secure_filename(f.filename) or f"{field}.csv"
    if Path(name).suffix.lower() not in (".csv", ".txt", ".tsv", ".parquet", ".pq"):
        name += ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        f.save(path)
        return read_table(path, field)


def frame(rows: list[BaseModel]) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in rows])


def records(df: pd.DataFrame) -> list[dict]:
    """A table as JSON-ready rows (NaN as null)."""
    return json.loads(df.to_json(orient="records", date_format="iso"))


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


def safe_csv(df: pd.DataFrame) -> str:
    """CSV for spreadsheets: text cells that a spreadsheet would run as a formula are prefixed
    with a quote; numbers stay numbers."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA) else v
            )
    buf = io.StringIO()
    out.to_csv(buf, index=False, float_format="%.4f")
    return buf.getvalue()

"""JSON in and out of storage and responses, with orjson.

The standard library's encoder and decoder are C code that holds the interpreter lock for the
whole value: a stored plan of 500 reps (2,000 quota rows) took 20 ms to write and up to 50 ms to
read back, and every other thread of the web worker (``/v1/health`` among them) waited that
long. orjson does the same work in a tenth of the time. Differences from ``json`` that matter
here: NaN and infinities become ``null`` (valid JSON, which PostgreSQL's JSON type and browsers
require), numpy numbers are written as numbers, non-string keys become strings (as ``json``
does), and datetimes are ISO 8601.
"""

from __future__ import annotations

import json

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps(value) -> str:
    """``value`` as JSON text (for SQLAlchemy's JSON columns)."""
    return orjson.dumps(value, option=OPTIONS).decode()


def loads(text: str | bytes):
    """JSON text as values. A database written before orjson may hold the standard library's
    ``NaN`` or ``Infinity`` tokens, which orjson refuses: those values are read as it wrote
    them."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class JSONProvider(DefaultJSONProvider):
    """Flask's provider with orjson writing the responses (indented or with sorted keys where
    Flask asks for them, as orjson's own options)."""

    sort_keys = False

    def dumps(self, obj, **kwargs) -> str:
        option = OPTIONS
        if kwargs.get("indent"):
            option |= orjson.OPT_INDENT_2
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        return orjson.dumps(obj, default=self.default, option=option).decode()


def records(df) -> list[dict]:
    """A table (a DataFrame) as JSON-ready rows: NaN as null, dates as ISO 8601."""
    return json.loads(df.to_json(orient="records", date_format="iso"))

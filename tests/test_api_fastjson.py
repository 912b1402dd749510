"""The JSON codec of storage and responses (orjson, api.fastjson): the same values as the
standard library's, valid JSON where the standard library's is not."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from api import fastjson
from api.app import create_app


def strict_loads(text: str):
    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_values_read_back_as_the_standard_library_reads_them():
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": "é"}, 3: "int key"}
    assert strict_loads(fastjson.dumps(value)) == json.loads(json.dumps(value))


def test_numpy_numbers_and_non_finite_values():
    text = fastjson.dumps({"n": np.int64(7), "f": np.float64(0.25), "nan": math.nan})
    assert strict_loads(text) == {"n": 7, "f": 0.25, "nan": None}
    with pytest.raises(ValueError):
        strict_loads(json.dumps({"nan": math.nan}))  # what the standard library wrote


def test_a_value_the_standard_library_stored_reads_back():
    old = json.dumps({"q": [1.0, math.nan]})  # what a database written before orjson may hold
    value = fastjson.loads(old)
    assert value["q"][0] == 1.0 and math.isnan(value["q"][1])
    assert fastjson.loads(b'{"a": 1}') == {"a": 1}


def test_responses_and_stored_rows_go_through_it(tmp_path):
    app = create_app({"DATABASE": tmp_path / "q.db"})
    assert isinstance(app.json, fastjson.JSONProvider)
    with app.test_request_context():
        body = app.json.response({"x": math.inf, "k": [np.float64(1.5)]}).get_data(as_text=True)
    assert strict_loads(body) == {"x": None, "k": [1.5]}
    engine = app.extensions["quotaplan.store"].engine
    assert engine.dialect._json_serializer is fastjson.dumps

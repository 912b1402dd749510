"""``Idempotency-Key`` on the POSTs that create (plans, re-plans, adjustments, forecasts,
tracking snapshots): a client that lost the reply retries with the same key and gets the first
result, not a second copy.

The key is written in the same database transaction as what the request created
(``Store._remember``), so even a server killed between its commit and its reply answers the retry
with what it had made. Keys belong to the token that sent them; the same key with a different
request is refused (422). Without the header a POST is carried out every time, as before.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request

from .problems import ApiProblem
from .storage import AlreadyDone, Idempotency

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID) per intended creation: a retry with the same key "
    "returns the first result (header Idempotent-Replayed: true) instead of creating again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def request_key() -> str | None:
    """The request's Idempotency-Key (400 if it is not 1-255 visible ASCII characters)."""
    key = request.headers.get(HEADER)
    if key is not None and not _KEY.match(key):
        raise ApiProblem(
            400,
            "Bad Idempotency-Key",
            f"{HEADER} must be 1-255 visible ASCII characters (a UUID, say)",
        )
    return key


def reused(key: str, what: str) -> ApiProblem:
    """The answer to a key sent again with another request."""
    return ApiProblem(
        422,
        "Idempotency-Key reused",
        f"{HEADER} {key!r} was used for another request (it made {what}); use a new key for a "
        "new request",
    )


def fingerprint() -> str:
    """What the request asks, independent of how it was encoded (JSON key order, multipart
    boundaries)."""
    h = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.is_json:
        try:
            h.update(json.dumps(json.loads(request.get_data(cache=True)), sort_keys=True).encode())
        except (ValueError, RecursionError):
            h.update(request.get_data(cache=True))
    elif request.mimetype == "multipart/form-data":
        for k in sorted(request.form, key=str):
            h.update(f"{k}={request.form.getlist(k)}\n".encode())
        for k in sorted(request.files, key=str):
            f = request.files[k]
            h.update(f"{k}:{f.filename}\n".encode())
            h.update(f.stream.read())
            f.stream.seek(0)
    else:
        h.update(request.get_data(cache=True))
    return h.hexdigest()


def idempotent(resource: str, replay: Callable[[int], object]):
    """Decorator (under :func:`api.auth.requires`): honour an ``Idempotency-Key`` header.
    ``replay(resource_id)`` answers a retry the way the first request was answered."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            key = request_key()
            if key is None:
                return view(*args, **kwargs)
            made = fingerprint()
            done = current_app.extensions["quotaplan.store"].remembered(g.user, key)
            if done is not None:
                return _replay(done, made, resource, replay)
            g.idempotency = Idempotency(g.user, key, made)
            try:
                return view(*args, **kwargs)
            except AlreadyDone as exc:  # a twin with the same key committed first
                return _replay(exc.record, made, resource, replay)

        spec = getattr(inner, "openapi", None)
        if spec is not None:
            spec["params"] = (*spec["params"], PARAMETER)
        return inner

    return wrap


def _replay(record, fingerprint: str, resource: str, replay):
    if record.fingerprint != fingerprint or record.resource != resource:
        raise reused(record.key, f"{record.resource} {record.resource_id}")
    body, status, *headers = replay(record.resource_id)
    out = dict(headers[0]) if headers else {}
    out["Idempotent-Replayed"] = "true"
    return body, status, out

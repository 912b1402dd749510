"""Bearer tokens with roles: viewers read, planners write.

The operator configures tokens as lines ``<role> <name> sha256:<hex>`` in a file
(``QUOTAPLAN_TOKENS_FILE``); only the hash is ever stored. ``quotaplan token new`` makes a token
and prints the line to add. Tokens are long random strings (``secrets.token_urlsafe``), so one
SHA-256 is the right hash (a slow password hash guards guessable secrets; these are not).
Without any configured token the API is open, and ``quotaplan serve`` refuses to listen on
anything but localhost.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from flask import current_app, g, request

ROLES = ("viewer", "planner")  # each role can do what the ones before it can


@dataclass(frozen=True)
class Token:
    role: str
    name: str
    digest: str  # sha256 hex of the token


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(role: str, name: str) -> tuple[str, str]:
    """A fresh token and the line for the tokens file."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"a token's name is one word (who holds it), got {name!r}")
    token = "qp_" + secrets.token_urlsafe(32)
    return token, f"{role} {name} sha256:{digest(token)}"


def read_tokens(path: str | Path) -> tuple[Token, ...]:
    """The tokens file: ``<role> <name> sha256:<hex>`` per line; # comments."""
    out = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if (
            len(parts) != 3
            or parts[0] not in ROLES
            or not parts[2].startswith("sha256:")
            or len(parts[2]) != 7 + 64
        ):
            raise ValueError(
                f"{path}, line {n}: expected '<role> <name> sha256:<64 hex digits>' with role "
                f"{' or '.join(ROLES)}; make lines with `quotaplan token new`"
            )
        out.append(Token(parts[0], parts[1], parts[2][7:].lower()))
    return tuple(out)


def identify(tokens: tuple[Token, ...], header: str | None) -> Token | None:
    """The token a request's ``Authorization: Bearer ...`` header holds, if it is configured."""
    if not header or not header.startswith("Bearer "):
        return None
    d = digest(header[7:].strip())
    found = None
    for t in tokens:  # compare with every token, in constant time each
        if hmac.compare_digest(t.digest, d):
            found = t
    return found


def requires(role: str):
    """Decorator: the request needs a token with at least ``role`` (when tokens are configured)."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            from .problems import ApiProblem

            tokens = current_app.config["TOKENS"]
            if not tokens:
                g.user = "anonymous"
                return view(*args, **kwargs)
            who = identify(tokens, request.headers.get("Authorization"))
            if who is None:
                raise ApiProblem(
                    401,
                    "Unauthorized",
                    "send a token: 'Authorization: Bearer <token>' (ask the operator for one)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if ROLES.index(who.role) < ROLES.index(role):
                raise ApiProblem(
                    403,
                    "Forbidden",
                    f"this needs the {role} role; the token '{who.name}' is a {who.role}",
                )
            g.user = who.name
            return view(*args, **kwargs)

        inner.required_role = role
        return inner

    return wrap

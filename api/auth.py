"""Bearer tokens with roles: a rep reads their own quota, viewers read, planners draft and
adjust, approvers also approve at their level of the hierarchy.

Tokens live in the API's database (table ``tokens``): ``quotaplan token new`` makes one (with an
optional expiry) and prints the secret once; ``quotaplan token list`` shows names, roles,
scopes, expiry and last use; ``quotaplan token revoke`` takes effect on the next request, without
a restart. Only the SHA-256 of a secret is stored. Tokens are long random strings
(``secrets.token_urlsafe``), so one SHA-256 is the right hash (a slow password hash guards
guessable secrets; these are not).

A tokens file (``QUOTAPLAN_TOKENS_FILE``, lines ``<role> <name> sha256:<hex> [<scope>]``, the
configuration of earlier releases) still works: its tokens are imported into the database when
the server starts, once (a token revoked in the database stays revoked).

Without any token ever configured the API is open (one anonymous user who may do everything),
and ``quotaplan serve`` refuses to listen on anything but localhost (see ``api.security``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from flask import current_app, g, request

ROLES = ("rep", "viewer", "planner", "approver")  # each can do what the ones before it can


@dataclass(frozen=True)
class Token:
    role: str
    name: str
    digest: str  # sha256 hex of the token
    scope: str | None = None  # an approver's level: "team:<name>", "region:<name>", "company"


def check_scope(role: str, scope: str | None) -> None:
    """An approver needs a scope (team:X, region:Y or company); nobody else has one."""
    if role == "approver":
        kind, _, name = (scope or "").partition(":")
        if not (scope == "company" or (kind in ("team", "region") and name)):
            raise ValueError(
                f"an approver's scope is team:<team>, region:<region> or company, got {scope!r}"
            )
    elif scope is not None:
        raise ValueError(f"only approvers have a scope; a {role} has none")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(role: str, name: str, scope: str | None = None) -> tuple[str, str]:
    """A fresh token and the line for the tokens file."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"a token's name is one word (who holds it), got {name!r}")
    check_scope(role, scope)
    token = "qp_" + secrets.token_urlsafe(32)
    return token, f"{role} {name} sha256:{digest(token)}" + (f" {scope}" if scope else "")


def read_tokens(path: str | Path) -> tuple[Token, ...]:
    """The tokens file: ``<role> <name> sha256:<hex>`` per line; # comments."""
    out = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if (
            len(parts) not in (3, 4)
            or parts[0] not in ROLES
            or not parts[2].startswith("sha256:")
            or len(parts[2]) != 7 + 64
        ):
            raise ValueError(
                f"{path}, line {n}: expected '<role> <name> sha256:<64 hex digits> [<scope>]' "
                f"with role {', '.join(ROLES)}; make lines with `quotaplan token new`"
            )
        scope = parts[3] if len(parts) == 4 else None
        try:
            check_scope(parts[0], scope)
        except ValueError as exc:
            raise ValueError(f"{path}, line {n}: {exc}") from None
        out.append(Token(parts[0], parts[1], parts[2][7:].lower(), scope))
    return tuple(out)


def _store():
    return current_app.extensions["quotaplan.store"]


def open_mode() -> bool:
    """No token was ever configured for this database: the API is open (loopback only)."""
    if "open_mode" not in g:
        g.open_mode = not _store().has_tokens()
    return g.open_mode


def identify(header: str | None):
    """The stored token a request's ``Authorization: Bearer ...`` header holds (active or not),
    or None."""
    if not header or not header.startswith("Bearer "):
        return None
    d = digest(header[7:].strip())
    rec = _store().token(d)  # looked up by the hash of a 256-bit secret: nothing to time
    return rec if rec is not None and hmac.compare_digest(rec.digest, d) else None


def _refusal(who) -> str:
    if who is None:
        return "send a token: 'Authorization: Bearer <token>' (ask the operator for one)"
    if who.status() == "revoked":
        return f"the token '{who.name}' was revoked; ask the operator for a new one"
    return (
        f"the token '{who.name}' expired at {who.expires_at.isoformat()}; ask the operator "
        "for a new one"
    )


def requires(role: str):
    """Decorator: the request needs a token with at least ``role`` (when tokens are configured)."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            from .problems import ApiProblem

            if open_mode():  # open (localhost only): a planner who may approve at every level
                g.user, g.role, g.scope = "anonymous", "approver", "company"
                return view(*args, **kwargs)
            who = identify(request.headers.get("Authorization"))
            status = who.status() if who is not None else None
            if status != "active":
                raise ApiProblem(
                    401, "Unauthorized", _refusal(who), headers={"WWW-Authenticate": "Bearer"}
                )
            _store().token_used(who.id)
            if ROLES.index(who.role) < ROLES.index(role):
                raise ApiProblem(
                    403,
                    "Forbidden",
                    f"this needs the {role} role; the token '{who.name}' is a {who.role}",
                )
            g.user, g.role, g.scope = who.name, who.role, who.scope
            return view(*args, **kwargs)

        inner.required_role = role
        return inner

    return wrap

"""What every response carries, and what the API refuses in open mode.

Headers: a Content-Security-Policy that allows only the page's own files (no inline script, no
other origin, never framed), ``nosniff``, no referrer, and ``Cache-Control: no-store`` on API
data (quotas are not for shared caches or the browser's disk).

Open mode (no tokens configured) trusts whoever can reach the server, which is why it listens on
loopback only. A browser on that machine can still be made to reach it: by another site's page
posting to ``127.0.0.1`` (cross-site request) or by a host name that an attacker points at
``127.0.0.1`` (DNS rebinding). So in open mode a write must come from the API's own origin, and
every request must name a loopback host. With tokens, requests carry a bearer token that another
site's page cannot read, and nothing changes.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import Flask, request

from .auth import open_mode
from .problems import ApiProblem

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def loopback_name(host: str) -> bool:
    """Whether a Host header's name is this machine by itself: ``localhost`` or a loopback
    address. Never resolved through DNS (a rebinding attacker controls that answer)."""
    name = host.lower()
    if name.startswith("["):  # [::1]:8000
        name = name[1:].split("]", 1)[0]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return (
        parts.scheme in ("http", "https")
        and parts.scheme == request.scheme
        and parts.netloc.lower() == request.host.lower()
    )


def _refuse(detail: str):
    raise ApiProblem(403, "Forbidden", detail)


def register(app: Flask) -> None:
    @app.before_request
    def _open_mode_guard():
        if not open_mode():
            return
        if not loopback_name(request.host):
            _refuse(
                f"this server has no tokens, so it answers only requests to a loopback name "
                f"(localhost, 127.0.0.1), not {request.host!r}; configure tokens (quotaplan token "
                "new) to serve other names"
            )
        if request.method in SAFE_METHODS:
            return
        origin = request.headers.get("Origin")
        cross = request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site")
        if cross or (origin is not None and not _same_origin(origin)):
            _refuse(
                f"a write from another site ({origin or 'cross-site'}) is refused: this server has "
                "no tokens, so only its own page may write; configure tokens (quotaplan token "
                "new) for other clients"
            )

    @app.after_request
    def _headers(resp):
        for k, v in HEADERS.items():
            resp.headers.setdefault(k, v)
        if request.path.startswith("/v1/") or request.path == "/openapi.json":
            resp.headers["Cache-Control"] = "no-store"
        return resp

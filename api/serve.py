"""Running the API on a production WSGI server (waitress), never Flask's development server."""

from __future__ import annotations

import ipaddress
import socket

from flask import Flask

LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def check_binding(app: Flask, host: str) -> None:
    """Without tokens the API is open, so it may only listen on this machine."""
    if not app.config["TOKENS"] and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host} without tokens: anyone who can reach it could read "
            "and change quotas. Configure tokens (quotaplan token new; QUOTAPLAN_TOKENS_FILE), "
            "or listen on 127.0.0.1"
        )


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 8000, threads: int = 8):
    """A waitress server for ``app`` (call ``.run()``; ``.effective_port`` is the port bound,
    useful with port 0)."""
    from waitress import create_server

    check_binding(app, host)
    return create_server(app, host=host, port=port, threads=threads, ident="quotaplan")

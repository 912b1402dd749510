"""The service's own refusals, with no heavy imports (the command line maps them in
``api.cli.errors``, the HTTP API in ``api.problems``, each once)."""

from __future__ import annotations


class NotFound(LookupError):
    """A plan, a rep in it, or an adjustment that is not there (404 over HTTP)."""


class StaleAdjustment(Exception):
    """An approved adjustment set aside, not applied: its plan changed since it was proposed
    (409)."""

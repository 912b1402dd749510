"""How a plan's figures are written: money and shares, the same everywhere (CLI, API, errors)."""

from __future__ import annotations


def money(x: float) -> str:
    """``1234567`` -> ``"1.23M"``; ``980`` -> ``"980"``."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:,.2f}{unit}"
    return f"{x:,.0f}"


def share(x: float) -> str:
    """A share as a percentage, with a decimal only where it matters: ``0.0042`` -> ``"0.42%"``,
    ``0.196`` -> ``"19.6%"``."""
    return f"{x:.2%}" if abs(x) < 0.01 else f"{x:.1%}"

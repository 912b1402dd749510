"""Writing a benchmark's results: its markdown tables, and the results as JSON and markdown in
``benchmarks/results`` (``<name>.json`` and ``<name>.md``, the markdown also printed)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, text: Collection[int] = ()
) -> list[str]:
    """A markdown table's lines: the header, the alignment row (numbers to the right, the
    columns numbered in ``text`` to the left) and a line per row of cells, formatted."""
    align = ["---" if k in text else "---:" for k in range(len(header))]
    return [_row(header), _row(align), *(_row(cells) for cells in rows)]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def write(name: str, results, lines: Sequence[str], *, default=None) -> None:
    """``results`` as ``<name>.json`` (``default``: as for :func:`json.dumps`) and ``lines``
    as ``<name>.md`` in :data:`RESULTS`; the markdown printed."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, default=default))
    text = "\n".join(lines)
    (RESULTS / f"{name}.md").write_text(text + "\n")
    print(text)

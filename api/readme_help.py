"""The README's command-line help, kept true: in every console block, each ``$ quotaplan ...
--help`` is followed by the CLI's help as it is now.

``python -m api.readme_help`` rewrites those in README.md; a test fails when they are out of date.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from click.testing import CliRunner

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def help_text(command: str) -> str:
    """What ``command`` (``quotaplan ... --help``) prints, at a width of 100 columns."""
    from .cli import main

    args = shlex.split(command)[1:]
    result = CliRunner().invoke(main, args, terminal_width=100, prog_name="quotaplan")
    if result.exit_code != 0:
        raise RuntimeError(f"{command} failed: {result.output}")
    return result.output


def _refresh_block(body: str) -> str:
    """One console block: each help command's output replaced, other commands left as they are."""
    out, lines = [], body.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        command = line[2:].strip() if line.startswith("$ ") else ""
        if command.startswith("quotaplan") and command.endswith("--help"):
            while i < len(lines) and not lines[i].startswith("$ "):
                i += 1  # the old output
            text = help_text(command)
            if i < len(lines):  # another command follows: keep a blank line between them
                text = text.rstrip("\n") + "\n\n"
            out.append(text)
    return "".join(out)


def refresh(text: str) -> str:
    """``text`` with every help command's output replaced by the current help."""
    return _BLOCK.sub(lambda m: f"```console\n{_refresh_block(m[1])}```", text)


if __name__ == "__main__":
    README.write_text(refresh(README.read_text()))
    print(f"refreshed the help blocks in {README}", file=sys.stderr)

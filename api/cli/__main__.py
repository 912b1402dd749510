"""``python -m api.cli``: the ``quotaplan`` command."""

from . import main

main()

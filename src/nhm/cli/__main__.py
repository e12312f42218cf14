"""``python -m nhm.cli ...``: the same as the ``nhm`` command."""

from nhm.cli import main

main()
